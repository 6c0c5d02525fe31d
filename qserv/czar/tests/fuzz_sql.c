/* fuzz_sql.c: libFuzzer target for the czar's SQL lexer and parser
 * (sql_parse) and printer (sql_print_stmt): arbitrary bytes as one
 * statement.  Invariant checked (sql.h's promise): a statement that parses
 * prints as SQL that parses again and prints the same, for every kind whose
 * print is SQL (SHOW, SET and account statements print a summary with
 * "...": never a password).  The input is
 * copied to an exact-size heap block so ASan sees any read past its end.
 * Tolerated: the printer parenthesises every compound operand, so a long
 * operator chain (- - - x, a - b - c - ...) the parser accepts can print
 * deeper than its 200-level limit and be refused when parsed again.
 * Found here and fixed (50e641e): a back-quoted function name was printed
 * raw, `LOAD_FILE(..) + ABS`(1) printing as a LOAD_FILE call (corpus/sql/
 * quoted-function-name-*). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qserv/czar/sql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sql_stmt *st, *st2;
	struct sql_error err;
	struct buf p1, p2;
	char *sql = malloc(size ? size : 1);

	if (!sql)
		return 0;
	memcpy(sql, data, size);
	if (sql_parse(sql, size, &st, &err) != 0) {
		free(sql);
		return 0;
	}
	buf_init(&p1);
	buf_init(&p2);
	sql_print_stmt(&p1, st);
	if (st->kind != SQL_SHOW && st->kind != SQL_SET && st->kind != SQL_USER && !p1.oom) {
		if (sql_parse(buf_str(&p1), p1.len, &st2, &err) != 0) {
			if (strstr(err.msg, "nested deeper than"))
				goto out;
			fprintf(stderr, "printed SQL does not parse: %s\n%s\n", err.msg, buf_str(&p1));
			abort();
		}
		sql_print_stmt(&p2, st2);
		if (!p2.oom && strcmp(buf_str(&p1), buf_str(&p2)) != 0) {
			fprintf(stderr, "print not stable:\n%s\n%s\n", buf_str(&p1), buf_str(&p2));
			abort();
		}
		sql_stmt_free(st2);
	}
out:
	buf_free(&p1);
	buf_free(&p2);
	sql_stmt_free(st);
	free(sql);
	return 0;
}
