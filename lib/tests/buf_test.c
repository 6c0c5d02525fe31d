/* buf_test.c: lib/buf.h (growth, text appends, steal, oom latch) and
 * lib/fileio.h (full writes, the atomic replace). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "buf.h"
#include "fileio.h"
#include "lebuf.h"

TEST(text_appends_stay_terminated_across_growth)
{
	struct buf b;
	int i;

	buf_init(&b);
	ASSERT_STREQ("", buf_str(&b));
	for (i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i);
	buf_puts(&b, "end");
	ASSERT_EQ(0, b.oom);
	EXPECT_EQ(strlen(buf_str(&b)), b.len);
	EXPECT_EQ(0, strncmp(buf_str(&b), "0,1,2,", 6));
	EXPECT_EQ(0, strcmp(buf_str(&b) + b.len - 8, "998,999,end" + 3));
	buf_free(&b);
	EXPECT_EQ(0, b.len);
	buf_free(NULL);
}

TEST(steal_hands_over_a_c_string)
{
	struct buf b;
	char *s;

	buf_init(&b);
	EXPECT_EQ(NULL, buf_steal(&b));         /* nothing appended */
	lebuf_u16(&b, 0x4241);                  /* bytes without a NUL */
	s = buf_steal(&b);
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("AB", s);
	EXPECT_EQ(NULL, b.data);
	free(s);
}

TEST(oom_latches)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "x");
	EXPECT_EQ(-ENOMEM, buf_reserve(&b, SIZE_MAX - 4));
	EXPECT_EQ(1, b.oom);
	buf_puts(&b, "more");                   /* ignored once latched */
	EXPECT_EQ(1, b.len);
	EXPECT_STREQ("", buf_str(&b));
	EXPECT_EQ(NULL, buf_steal(&b));
}

TEST(atomic_replace_sets_mode_and_leaves_no_temp)
{
	char dir[] = "/tmp/fileio_test.XXXXXX", path[128], *got;
	struct stat st;
	size_t len;

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/secret", dir);
	ASSERT_EQ(0, fileio_write_atomic(path, "old", 3, 0644));
	ASSERT_EQ(0, fileio_write_atomic(path, "new text", 8, 0600));
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
	got = fileio_read_all(path, 100, &len);
	ASSERT_NE(NULL, got);
	EXPECT_STREQ("new text", got);
	free(got);
	unlink(path);
	EXPECT_EQ(0, rmdir(dir));               /* empty: no temporary left */
}

TEST(atomic_replace_failure_leaves_the_old_file)
{
	char path[] = "/tmp/fileio_test_missing_dir/x/file";

	EXPECT_EQ(-ENOENT, fileio_write_atomic(path, "a", 1, 0600));
}

TEST(write_full_writes_everything)
{
	int p[2];
	char in[64] = { 0 };

	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(0, fileio_write_full(p[1], "0123456789", 10));
	close(p[1]);
	EXPECT_EQ(10, read(p[0], in, sizeof(in)));
	EXPECT_STREQ("0123456789", in);
	close(p[0]);
	EXPECT_EQ(-EBADF, fileio_write_full(p[1], "x", 1));
}

TEST_HARNESS_MAIN
