/* selector_test.c: qserv.disks= expressions: valid ones evaluated against
 * sample disks, invalid ones rejected with the right position. */
/* the harness compares int literals with size_t */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <kselftest_harness.h>

#include "../qstorage.h"

static struct qstorage_disk nvme = { .name = "nvme0n1", .id = "eui.01", .size_bytes = 960000000000ull,
				     .rotational = false, .transport = "nvme",
				     .model = "INTEL_SSDPE2KX010T8", .serial = "PHLJ1",
				     .logical_sector = 512, .physical_sector = 4096 };
static struct qstorage_disk hdd = { .name = "sda", .id = "naa.5000", .size_bytes = 4000000000000ull,
				    .rotational = true, .transport = "sata", .model = "ST4000NM0035",
				    .serial = "Z1", .logical_sector = 512, .physical_sector = 4096 };
static struct qstorage_disk usb = { .name = "sdc", .id = "serial-Ultra_1", .size_bytes = 32000000000ull,
				    .rotational = false, .removable = true, .transport = "usb",
				    .model = "Ultra", .logical_sector = 512, .physical_sector = 512 };

/* "nhu": does it match nvme, hdd, usb? as a 3-char string of 0/1 */
static int matches(const char *expr, char out[4])
{
	struct qstorage_selector *s;
	char err[256];
	size_t pos;
	int r = qstorage_selector_parse(expr, &s, &pos, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "# %s: %s\n", expr, err);
		return r;
	}
	out[0] = '0' + qstorage_selector_match(s, &nvme);
	out[1] = '0' + qstorage_selector_match(s, &hdd);
	out[2] = '0' + qstorage_selector_match(s, &usb);
	out[3] = '\0';
	qstorage_selector_free(s);
	return 0;
}

TEST(valid_expressions)
{
	static const struct { const char *expr, *want; } cases[] = {
		{ "rotational == false", "101" },
		{ "rotational == false && size >= 100G", "100" },
		{ "transport == \"nvme\"", "100" },
		{ "model ~ \"INTEL*\"", "100" },
		{ "model !~ \"INTEL*\"", "011" },
		{ "size > 1T", "010" },
		{ "size >= 960G && size <= 960G", "100" },
		{ "size < 1Ti", "101" },
		{ "size > 29GiB && size < 30GiB", "001" },
		{ "size == 32000000000", "001" },
		{ "size >= 32GB", "111" },
		{ "!removable", "" /* not a comparison: rejected below */ },
		{ "!(removable == true)", "110" },
		{ "removable == false && (transport == \"nvme\" || rotational == true)", "110" },
		{ "transport == \"nvme\" || transport == \"sata\" && size < 1G", "100" },
		{ "(transport == \"nvme\" || transport == \"sata\") && size > 1G", "110" },
		{ "  name==\"sda\"  ", "010" },
		{ "id != \"eui.01\"", "011" },
		{ "serial ~ \"Z?\"", "010" },
		{ "physical_sector == 4096 && logical_sector == 512", "110" },
		{ "wwid == \"\"", "111" },
		{ "read_only == false", "111" },
		{ "model == \"a\\\"b\"", "000" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char got[4];
		if (!cases[i].want[0])
			continue;
		ASSERT_EQ(0, matches(cases[i].expr, got)) TH_LOG("%s", cases[i].expr);
		EXPECT_STREQ(cases[i].want, got) TH_LOG("%s", cases[i].expr);
	}
}

TEST(invalid_expressions_report_position)
{
	static const struct { const char *expr; size_t pos; const char *what; } cases[] = {
		{ "", 0, "unexpected end" },
		{ "rotational", 10, "operator" },
		{ "rotational == maybe", 14, "true or false" },
		{ "rotational == truex", 14, "true or false" },
		{ "speed > 3", 0, "unknown field 'speed'" },
		{ "size >= 100X", 11, "unit" },
		{ "size >= \"big\"", 8, "number" },
		{ "size ~ \"1*\"", 5, "string field" },
		{ "model < \"x\"", 6, "number field" },
		{ "model == INTEL", 9, "string" },
		{ "model == \"INTEL", 9, "unterminated" },
		{ "(size > 1G", 10, "')'" },
		{ "size > 1G &&", 12, "unexpected end" },
		{ "size > 1G & rotational == true", 10, "unexpected '&" },
		{ "size > 99999999999999999999", 7, "too large" },
		{ "size > 99999999P", 7, "too large" },
		{ "!removable", 10, "operator" },
		{ "transport = \"nvme\"", 10, "operator" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct qstorage_selector *s = (void *)1;
		char err[256] = "";
		size_t pos = 999;
		EXPECT_EQ(-EINVAL, qstorage_selector_parse(cases[i].expr, &s, &pos, err, sizeof(err)))
			TH_LOG("%s", cases[i].expr);
		EXPECT_EQ(cases[i].pos, pos) TH_LOG("'%s': %s", cases[i].expr, err);
		EXPECT_NE(NULL, strstr(err, cases[i].what)) TH_LOG("'%s': %s", cases[i].expr, err);
		EXPECT_EQ((void *)1, s);
	}
}

TEST(deep_nesting_is_rejected_not_crashing)
{
	char expr[4096];
	struct qstorage_selector *s;
	size_t pos;
	size_t n = 0;
	for (int i = 0; i < 1000; i++)
		expr[n++] = '(';
	strcpy(expr + n, "size > 1");
	EXPECT_EQ(-EINVAL, qstorage_selector_parse(expr, &s, &pos, NULL, 0));
	memset(expr, '!', 2000);
	strcpy(expr + 2000, "size > 1");
	EXPECT_EQ(-EINVAL, qstorage_selector_parse(expr, &s, &pos, NULL, 0));
}

/* Mutations of valid expressions: parse must succeed or fail with a
 * position inside the string, never crash (run under ASan/UBSan). */
TEST(mutations_never_crash)
{
	static const char *seeds[] = {
		"rotational == false && size >= 100G",
		"(transport == \"nvme\" || model ~ \"INTEL*\") && !(size < 1Ti)",
		"serial != \"a\\\"b\" || physical_sector == 4096",
	};
	static const char alphabet[] = "()!&|=<>~\"\\ azG0159iTB_.*";
	unsigned seed = 12345;
	char buf[128];

	for (int i = 0; i < 20000; i++) {
		const char *s = seeds[i % 3];
		size_t len = strlen(s);
		memcpy(buf, s, len + 1);
		for (int m = 0; m < 1 + (i % 4); m++) {
			seed = seed * 1103515245 + 12345;
			size_t at = (seed >> 8) % len;
			seed = seed * 1103515245 + 12345;
			buf[at] = alphabet[(seed >> 8) % (sizeof(alphabet) - 1)];
		}
		seed = seed * 1103515245 + 12345;
		if ((seed >> 8) % 5 == 0)
			buf[(seed >> 12) % len] = '\0'; /* truncate */
		struct qstorage_selector *sel;
		size_t pos = 0;
		int r = qstorage_selector_parse(buf, &sel, &pos, NULL, 0);
		if (r == 0) {
			qstorage_selector_match(sel, &nvme);
			qstorage_selector_free(sel);
		} else {
			ASSERT_EQ(-EINVAL, r) TH_LOG("%s", buf);
			ASSERT_LE(pos, strlen(buf)) TH_LOG("%s", buf);
		}
	}
}

TEST(null_selector_matches_everything)
{
	EXPECT_TRUE(qstorage_selector_match(NULL, &hdd));
	qstorage_selector_free(NULL);
}

TEST_HARNESS_MAIN
