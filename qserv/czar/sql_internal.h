/* sql_internal.h: pieces shared by the SQL lexer, parser and printer only. */
#ifndef QSERV_CZAR_SQL_INTERNAL_H
#define QSERV_CZAR_SQL_INTERNAL_H

#include "sql.h"

struct sql_arena *sql_arena_new(void);
void sql_arena_free(struct sql_arena *a);

enum sql_tok {
	TK_END, TK_IDENT, TK_QIDENT /* `quoted` */, TK_NUM, TK_STR, TK_OP, TK_PARAM /* ? */,
	TK_VAR /* @x, @@x */, TK_ERROR,
};

struct sql_token {
	enum sql_tok kind;
	int pos, len;                 /* in the source */
	char *text;                   /* identifier (unquoted), op, literal as written */
};

struct sql_lexer {
	const char *src;
	size_t len, off;
	struct sql_arena *arena;
	const char *error;            /* TK_ERROR reason */
};

void sql_lex_init(struct sql_lexer *lx, const char *src, size_t len, struct sql_arena *a);
/* Next token (comments and blanks skipped).  TK_ERROR sets lx->error;
 * text NULL on OOM (kind TK_ERROR, error "out of memory"). */
struct sql_token sql_lex_next(struct sql_lexer *lx);

#endif
