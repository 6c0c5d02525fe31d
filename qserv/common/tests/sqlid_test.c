/* sqlid_test.c: the identifier validator and the column type grammar,
 * table-driven: names and types accepted (with the canonical text the
 * type parser re-emits) and refused (every family of injection payload:
 * quotes, backticks, comments, ';', NUL bytes, Unicode look-alikes,
 * 65-byte names, arguments out of range or overflowing). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <kselftest_harness.h>

#include "../sqlid.h"

static const struct name_case {
	enum sqlid_kind kind;
	const char *name;
	size_t n;       /* 0: strlen(name) */
	int ok;
	const char *why; /* part of the error when refused */
} name_cases[] = {
	{ SQLID_DATABASE, "test101", 0, 1, NULL },
	{ SQLID_DATABASE, "dp02_dc2_catalogs", 0, 1, NULL },
	{ SQLID_DATABASE, "_x", 0, 1, NULL },
	{ SQLID_TABLE, "Object", 0, 1, NULL },
	{ SQLID_COLUMN, "coord_ra", 0, 1, NULL },
	{ SQLID_COLUMN, "chunkId", 0, 1, NULL },
	{ SQLID_COLUMN, "a234567890123456789012345678901234567890123456789012345678901234", 0, 1, NULL },
	{ SQLID_COLUMN, "a2345678901234567890123456789012345678901234567890123456789012345", 0, 0, "64 bytes" },
	{ SQLID_COLUMN, "", 0, 0, "required" },
	{ SQLID_COLUMN, "1abc", 0, 0, "digit" },
	{ SQLID_COLUMN, "9", 0, 0, "digit" },
	{ SQLID_COLUMN, "a$b", 0, 0, "ASCII letters" },
	{ SQLID_COLUMN, "a b", 0, 0, "ASCII letters" },
	{ SQLID_COLUMN, "a.b", 0, 0, "ASCII letters" },
	{ SQLID_COLUMN, "a-b", 0, 0, "ASCII letters" },
	{ SQLID_COLUMN, "x' AND EXTRACTVALUE(1,CONCAT(0x7e,@@version)) AND '", 0, 0, "ASCII letters" },
	{ SQLID_COLUMN, "a`b", 0, 0, "ASCII letters" },
	{ SQLID_COLUMN, "a\"b", 0, 0, "ASCII letters" },
	{ SQLID_COLUMN, "a'b", 0, 0, "ASCII letters" },
	{ SQLID_COLUMN, "a\\b", 0, 0, "ASCII letters" },
	{ SQLID_COLUMN, "a;b", 0, 0, "ASCII letters" },
	{ SQLID_COLUMN, "a/*x*/", 0, 0, "ASCII letters" },
	{ SQLID_COLUMN, "a--", 0, 0, "ASCII letters" },
	{ SQLID_COLUMN, "a#", 0, 0, "ASCII letters" },
	{ SQLID_COLUMN, "a\nb", 0, 0, "ASCII letters" },
	{ SQLID_COLUMN, "ab\0cd", 5, 0, "NUL" },
	{ SQLID_COLUMN, "\xd0\xb0" "bc", 0, 0, "ASCII letters" },            /* Cyrillic a */
	{ SQLID_COLUMN, "ab\xef\xbd\x83", 0, 0, "ASCII letters" },           /* fullwidth c */
	{ SQLID_COLUMN, "a\xc2\xa0" "b", 0, 0, "ASCII letters" },            /* no-break space */
	{ SQLID_COLUMN, "qserv_trans_id", 0, 0, "qserv" },
	{ SQLID_TABLE, "QSERVx", 0, 0, "qserv" },
	{ SQLID_DATABASE, "mysql", 0, 0, "system" },
	{ SQLID_DATABASE, "MySQL", 0, 0, "system" },
	{ SQLID_DATABASE, "information_schema", 0, 0, "system" },
	{ SQLID_DATABASE, "performance_schema", 0, 0, "system" },
	{ SQLID_DATABASE, "sys", 0, 0, "system" },
	{ SQLID_DATABASE, "qservMeta", 0, 0, "qserv" },
	{ SQLID_DATABASE, "qservWorker", 0, 0, "qserv" },
	{ SQLID_DATABASE, "subchunks_x_1", 0, 0, "Subchunks_" },
	{ SQLID_TABLE, "sys", 0, 1, NULL },
	{ SQLID_INDEX, "PRIMARYx", 0, 1, NULL },
	{ SQLID_CHARSET, "utf8mb4", 0, 1, NULL },
	{ SQLID_CHARSET, "latin1' --", 0, 0, "ASCII letters" },
};

TEST(names)
{
	char err[256];
	for (size_t i = 0; i < sizeof name_cases / sizeof *name_cases; i++) {
		const struct name_case *c = &name_cases[i];
		size_t n = c->n ? c->n : strlen(c->name);
		err[0] = '\0';
		int r = sqlid_check_n(c->kind, "the_field", c->name, n, err, sizeof err);
		if (c->ok != (r == 0))
			TH_LOG("case %zu: '%s' -> %d (%s)", i, c->name, r, err);
		EXPECT_EQ(c->ok ? 0 : -EINVAL, r);
		if (!c->ok) {
			EXPECT_TRUE(strstr(err, "the_field") == err);
			EXPECT_TRUE(strstr(err, c->why) != NULL) TH_LOG("case %zu: %s", i, err);
			/* the refused value is never quoted back */
			if (n > 3)
				EXPECT_TRUE(strstr(err, c->name) == NULL) TH_LOG("case %zu echoes: %s", i, err);
		}
	}
	EXPECT_EQ(-EINVAL, sqlid_check(SQLID_TABLE, "table", NULL, err, sizeof err));
	EXPECT_STREQ("table is required", err);
	EXPECT_TRUE(sqlid_ok("abc"));
	EXPECT_FALSE(sqlid_ok(NULL));
	EXPECT_FALSE(sqlid_ok("a$"));
}

static const struct type_case {
	const char *type;
	const char *canon; /* NULL: refused */
	const char *why;   /* part of the error when refused */
} type_cases[] = {
	/* integers */
	{ "INT", "INT", NULL },
	{ "int not null", "INT NOT NULL", NULL },
	{ "BIGINT NOT NULL", "BIGINT NOT NULL", NULL },
	{ "INT(11) UNSIGNED ZEROFILL NOT NULL DEFAULT 0", "INT(11) UNSIGNED ZEROFILL NOT NULL DEFAULT 0", NULL },
	{ "tinyint(1)", "TINYINT(1)", NULL },
	{ "SMALLINT SIGNED", "SMALLINT SIGNED", NULL },
	{ "MEDIUMINT", "MEDIUMINT", NULL },
	{ "INTEGER UNSIGNED", "INTEGER UNSIGNED", NULL },
	{ "INT8", "INT8", NULL },
	{ "INT(0)", NULL, "1..255" },
	{ "INT(256)", NULL, "1..255" },
	{ "INT(99999999999999999999999)", NULL, "1..255" },
	{ "INT(-1)", NULL, "unsigned integer" },
	{ "INT(1.5)", NULL, "unsigned integer" },
	{ "INT UNSIGNED SIGNED", NULL, "repeats" },
	{ "INT NOT NULL NOT NULL", NULL, "twice" },
	{ "INT NULL NOT NULL", NULL, "twice" },
	{ "BOOLEAN", "BOOLEAN", NULL },
	{ "BIT(64)", "BIT(64)", NULL },
	{ "BIT(65)", NULL, "1..64" },
	/* fixed and floating point */
	{ "DECIMAL(10,2)", "DECIMAL(10,2)", NULL },
	{ "decimal ( 65 , 30 ) unsigned", "DECIMAL(65,30) UNSIGNED", NULL },
	{ "NUMERIC(5)", "NUMERIC(5)", NULL },
	{ "DECIMAL(66,2)", NULL, "1..65" },
	{ "DECIMAL(10,39)", NULL, "0..38" },
	{ "DECIMAL(5,6)", NULL, "larger" },
	{ "DOUBLE", "DOUBLE", NULL },
	{ "DOUBLE NOT NULL", "DOUBLE NOT NULL", NULL },
	{ "DOUBLE PRECISION", "DOUBLE PRECISION", NULL },
	{ "DOUBLE(10,4) DEFAULT -1.5e3", "DOUBLE(10,4) DEFAULT -1.5e3", NULL },
	{ "DOUBLE(10)", NULL, "(precision, scale)" },
	{ "FLOAT", "FLOAT", NULL },
	{ "FLOAT(24)", "FLOAT(24)", NULL },
	{ "FLOAT(7,4)", "FLOAT(7,4)", NULL },
	{ "FLOAT(54)", NULL, "0..53" },
	{ "FLOAT(0)", "FLOAT(0)", NULL },
	{ "REAL", "REAL", NULL },
	/* dates and times */
	{ "DATE", "DATE", NULL },
	{ "DATETIME(6)", "DATETIME(6)", NULL },
	{ "TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)",
	  "TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)", NULL },
	{ "TIME(7)", NULL, "0..6" },
	{ "YEAR(4)", "YEAR(4)", NULL },
	{ "YEAR(2)", NULL, "4..4" },
	/* strings */
	{ "CHAR(1)", "CHAR(1)", NULL },
	{ "CHAR(1) NOT NULL", "CHAR(1) NOT NULL", NULL },
	{ "CHAR", "CHAR", NULL },
	{ "CHAR(256)", NULL, "0..255" },
	{ "VARCHAR(32)", "VARCHAR(32)", NULL },
	{ "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT ''",
	  "VARCHAR(255) CHARACTER SET UTF8MB4 COLLATE UTF8MB4_BIN NOT NULL DEFAULT ''", NULL },
	{ "VARCHAR(10) CHARSET latin1", "VARCHAR(10) CHARSET LATIN1", NULL },
	{ "VARCHAR(10) BINARY", "VARCHAR(10) BINARY", NULL },
	{ "CHARACTER VARYING(20)", "CHARACTER VARYING(20)", NULL },
	{ "NATIONAL CHAR(3)", "NATIONAL CHAR(3)", NULL },
	{ "VARCHAR", NULL, "needs a length" },
	{ "VARCHAR(65536)", NULL, "0..65535" },
	{ "VARCHAR(10) CHARACTER SET", NULL, "needs a name" },
	{ "VARCHAR(10) CHARACTER SET `utf8`", NULL, "backticks" },
	{ "VARCHAR(10) COLLATE latin1_bin COLLATE x", NULL, "twice" },
	{ "BINARY(16)", "BINARY(16)", NULL },
	{ "VARBINARY(255)", "VARBINARY(255)", NULL },
	{ "VARBINARY", NULL, "needs a length" },
	{ "BLOB", "BLOB", NULL },
	{ "TINYBLOB", "TINYBLOB", NULL },
	{ "MEDIUMBLOB", "MEDIUMBLOB", NULL },
	{ "LONGBLOB", "LONGBLOB", NULL },
	{ "TEXT", "TEXT", NULL },
	{ "TEXT(1000) CHARACTER SET utf8mb4", "TEXT(1000) CHARACTER SET UTF8MB4", NULL },
	{ "MEDIUMTEXT", "MEDIUMTEXT", NULL },
	{ "LONGTEXT COLLATE utf8mb4_general_ci", "LONGTEXT COLLATE UTF8MB4_GENERAL_CI", NULL },
	{ "ENUM('a','b','it''s')", "ENUM('a','b','it''s')", NULL },
	{ "SET('x', 'y') NOT NULL DEFAULT 'x'", "SET('x','y') NOT NULL DEFAULT 'x'", NULL },
	{ "ENUM()", NULL, "quoted strings" },
	{ "ENUM(1,2)", NULL, "quoted strings" },
	{ "ENUM('a'", NULL, "expected" },
	{ "ENUM('a\\')", NULL, "backslash" },
	{ "ENUM('a')", "ENUM('a')", NULL },
	{ "JSON", "JSON", NULL },
	/* spatial, MariaDB types */
	{ "GEOMETRY", "GEOMETRY", NULL },
	{ "POINT NOT NULL", "POINT NOT NULL", NULL },
	{ "POLYGON", "POLYGON", NULL },
	{ "MULTIPOLYGON", "MULTIPOLYGON", NULL },
	{ "GEOMETRYCOLLECTION", "GEOMETRYCOLLECTION", NULL },
	{ "INET6", "INET6", NULL },
	{ "UUID", "UUID", NULL },
	/* attributes */
	{ "INT NULL DEFAULT NULL COMMENT 'the id'", "INT NULL DEFAULT NULL COMMENT 'the id'", NULL },
	{ "INT DEFAULT +5", "INT DEFAULT +5", NULL },
	{ "BOOL DEFAULT TRUE", "BOOL DEFAULT TRUE", NULL },
	{ "INT DEFAULT 1 DEFAULT 2", NULL, "twice" },
	{ "INT DEFAULT", NULL, "DEFAULT takes" },
	{ "INT DEFAULT (1+1)", NULL, "DEFAULT takes" },
	{ "INT DEFAULT version()", NULL, "DEFAULT takes" },
	{ "INT DEFAULT 1e", NULL, "exponent" },
	{ "INT DEFAULT 1abc", NULL, "runs into a word" },
	{ "INT AUTO_INCREMENT", NULL, "not allowed here" },
	{ "INT PRIMARY KEY", NULL, "not allowed here" },
	{ "INT GENERATED ALWAYS AS (1)", NULL, "not allowed here" },
	{ "INT COMMENT 'a\x01'", NULL, "printable ASCII" },
	{ "INT COMMENT 'caf\xc3\xa9'", NULL, "printable ASCII" },
	/* injection payloads */
	{ "INT); DROP TABLE x; --", NULL, "expected" },
	{ "INT; DROP TABLE x", NULL, "';'" },
	{ "INT -- x", NULL, "comments" },
	{ "INT /* x */", NULL, "comments" },
	{ "INT # x", NULL, "comments" },
	{ "INT`", NULL, "backticks" },
	{ "INT, `evil` TEXT", NULL, "punctuation" },
	{ "INT DEFAULT '1', x INT", NULL, "punctuation" },
	{ "INT DEFAULT 'x' AND EXTRACTVALUE(1,CONCAT(0x7e,@@version))", NULL, "not allowed here" },
	{ "INT DEFAULT ''' OR 1=1", NULL, "not closed" },
	{ "INT DEFAULT \"x\"", NULL, "quotes" },
	{ "INT COMMENT 'x\\' OR 1", NULL, "backslash" },
	{ "INT\xef\xbc\x89", NULL, "ASCII" },
	{ "\xd0\x86NT", NULL, "ASCII" },
	{ "INT @@version", NULL, "unexpected character" },
	{ "DUBLE", NULL, "unknown type DUBLE" },
	{ "", NULL, "required" },
	{ "(INT)", NULL, "start with its name" },
	{ "SELECT", NULL, "unknown type" },
	{ "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcde", NULL, "longer than 64" },
};

TEST(types)
{
	char out[512], err[512];
	for (size_t i = 0; i < sizeof type_cases / sizeof *type_cases; i++) {
		const struct type_case *c = &type_cases[i];
		err[0] = '\0';
		int r = sqlid_type("schema[1].type (column x)", c->type, out, sizeof out, err, sizeof err);
		if (c->canon) {
			EXPECT_EQ(0, r) TH_LOG("case %zu '%s' refused: %s", i, c->type, err);
			if (!r)
				EXPECT_STREQ(c->canon, out);
		} else {
			EXPECT_EQ(-EINVAL, r) TH_LOG("case %zu '%s' accepted as '%s'", i, c->type, out);
			EXPECT_TRUE(strstr(err, "schema[1].type (column x)") == err) TH_LOG("%s", err);
			EXPECT_TRUE(strstr(err, c->why) != NULL) TH_LOG("case %zu '%s': %s", i, c->type, err);
		}
	}
}

TEST(type_limits)
{
	char big[SQLID_TYPE_MAX + 10], out[16], err[256];
	memset(big, ' ', sizeof big - 1);
	memcpy(big, "INT", 3);
	big[sizeof big - 1] = '\0';
	EXPECT_EQ(-ENAMETOOLONG, sqlid_type("t", big, out, sizeof out, err, sizeof err));
	/* an output buffer too small is an error, never a cut type */
	EXPECT_EQ(-ENAMETOOLONG, sqlid_type("t", "VARCHAR(255) NOT NULL DEFAULT 'abc'", out, sizeof out, err,
					    sizeof err));
	EXPECT_EQ(0, sqlid_type("t", "INT", out, sizeof out, err, sizeof err));
	EXPECT_STREQ("INT", out);
}

TEST_HARNESS_MAIN
