/* qlz4_test.c: LZ4-framed contributions decode to the exact bytes, also as
 * concatenated frames (qserv-partition writes one frame per block), and a
 * truncated or corrupt file is an error, never silently short data. */
#include <errno.h>
#include <lz4frame.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kselftest_harness.h>

#include "../qlz4.h"

static int tmpfile_with(const void *data, size_t n)
{
	char path[] = "/tmp/qlz4_test.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	if (write(fd, data, n) != (ssize_t)n)
		return -1;
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* Two frames of plain text: "rows 0..N/2" and "rows N/2..N". */
static size_t make_frames(char **ret_z, char **ret_plain, size_t *ret_plain_len)
{
	size_t n = 0, cap = 1 << 20;
	char *plain = malloc(cap);
	for (int i = 0; i < 20000; i++)
		n += (size_t)snprintf(plain + n, cap - n, "%d\t%.6f\tname_%d\n", i, i * 0.25, i % 97);
	size_t half = n / 2;
	size_t zcap = LZ4F_compressFrameBound(n, NULL) * 2;
	char *z = malloc(zcap);
	size_t a = LZ4F_compressFrame(z, zcap, plain, half, NULL);
	size_t b = LZ4F_compressFrame(z + a, zcap - a, plain + half, n - half, NULL);
	*ret_z = z;
	*ret_plain = plain;
	*ret_plain_len = n;
	return a + b;
}

TEST(concatenated_frames_decode_exactly)
{
	char *z, *plain;
	size_t plen, zlen = make_frames(&z, &plain, &plen);
	int in = tmpfile_with(z, zlen);
	ASSERT_GE(in, 0);
	ASSERT_TRUE(qlz4_is_frame(in));
	int out = tmpfile_with("", 0);
	unsigned long long got = 0;
	char err[128] = "";
	ASSERT_EQ(0, qlz4_decompress_fd(in, out, &got, err, sizeof err)) TH_LOG("%s", err);
	ASSERT_EQ(plen, got);
	char *back = malloc(plen);
	ASSERT_EQ((ssize_t)plen, pread(out, back, plen, 0));
	EXPECT_EQ(0, memcmp(back, plain, plen));
	free(back), free(z), free(plain);
	close(in), close(out);
}

TEST(truncated_file_is_an_error)
{
	char *z, *plain;
	size_t plen, zlen = make_frames(&z, &plain, &plen);
	int in = tmpfile_with(z, zlen - 7);
	int out = tmpfile_with("", 0);
	char err[128] = "";
	EXPECT_EQ(-EBADMSG, qlz4_decompress_fd(in, out, NULL, err, sizeof err));
	EXPECT_NE(NULL, strstr(err, "truncated"));
	free(z), free(plain);
	close(in), close(out);
}

TEST(corrupt_data_is_an_error)
{
	char *z, *plain;
	size_t plen, zlen = make_frames(&z, &plain, &plen);
	for (size_t i = 64; i < zlen; i += 97)
		z[i] ^= 0x5a;
	int in = tmpfile_with(z, zlen);
	int out = tmpfile_with("", 0);
	char err[128] = "";
	EXPECT_EQ(-EBADMSG, qlz4_decompress_fd(in, out, NULL, err, sizeof err));
	free(z), free(plain);
	close(in), close(out);
}

TEST(plain_text_is_not_a_frame)
{
	int fd = tmpfile_with("1\t2\n", 4);
	EXPECT_FALSE(qlz4_is_frame(fd));
	EXPECT_EQ(0, lseek(fd, 0, SEEK_CUR));
	close(fd);
}

TEST_HARNESS_MAIN
