/* sql_lex.c: MySQL-compatible tokenizer for the czar's dialect.
 *
 * Tokens keep their source position for error messages.  Literals keep the
 * text as written (quotes, escapes, introducers such as _binary or X), so
 * the printer reproduces them exactly and MariaDB decodes them, not us.
 * Comments (--, #, C style) are skipped; MySQL's executable comments
 * (slash-star-bang) are refused, since skipping them would change meaning. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "sql_internal.h"

void sql_lex_init(struct sql_lexer *lx, const char *src, size_t len, struct sql_arena *a)
{
	memset(lx, 0, sizeof(*lx));
	lx->src = src;
	lx->len = len;
	lx->arena = a;
}

static int ident_start(int c)
{
	return isalpha(c) || c == '_' || c == '$' || c >= 0x80;
}

static int ident_char(int c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

static struct sql_token tok(struct sql_lexer *lx, enum sql_tok kind, size_t start, size_t end)
{
	struct sql_token t = { .kind = kind, .pos = (int)start, .len = (int)(end - start) };
	char *s = sql_alloc(lx->arena, end - start + 1);

	if (!s) {
		t.kind = TK_ERROR;
		lx->error = "out of memory";
		return t;
	}
	memcpy(s, lx->src + start, end - start);
	s[end - start] = 0;
	t.text = s;
	lx->off = end;
	return t;
}

static struct sql_token lex_error(struct sql_lexer *lx, size_t pos, const char *why)
{
	struct sql_token t = { .kind = TK_ERROR, .pos = (int)pos };

	lx->error = why;
	return t;
}

/* Skips blanks and comments; returns -1 on an unterminated or executable comment. */
static int skip_space(struct sql_lexer *lx, size_t *ret_bad)
{
	const char *s = lx->src;

	while (lx->off < lx->len) {
		size_t i = lx->off;
		if (isspace((unsigned char)s[i])) {
			lx->off++;
		} else if (s[i] == '#' || (s[i] == '-' && i + 1 < lx->len && s[i + 1] == '-' &&
					   (i + 2 >= lx->len || isspace((unsigned char)s[i + 2])))) {
			while (lx->off < lx->len && s[lx->off] != '\n')
				lx->off++;
		} else if (s[i] == '/' && i + 1 < lx->len && s[i + 1] == '*') {
			size_t j;
			if (i + 2 < lx->len && (s[i + 2] == '!' || s[i + 2] == 'M')) {
				*ret_bad = i;
				return -ENOTSUP;
			}
			for (j = i + 2; j + 1 < lx->len && !(s[j] == '*' && s[j + 1] == '/'); j++)
				;
			if (j + 1 >= lx->len) {
				*ret_bad = i;
				return -EINVAL;
			}
			lx->off = j + 2;
		} else {
			break;
		}
	}
	return 0;
}

/* End of a quoted literal starting at i (the quote), or 0 when unterminated. */
static size_t quoted_end(const char *s, size_t len, size_t i, int backslash)
{
	char q = s[i];
	size_t j;

	for (j = i + 1; j < len; j++) {
		if (backslash && s[j] == '\\') {
			j++;
			continue;
		}
		if (s[j] == q) {
			if (j + 1 < len && s[j + 1] == q) {
				j++;
				continue;
			}
			return j + 1;
		}
	}
	return 0;
}

static struct sql_token lex_number(struct sql_lexer *lx, size_t i)
{
	const char *s = lx->src;
	size_t j = i, n = lx->len;

	if (s[j] == '0' && j + 1 < n && (s[j + 1] == 'x' || s[j + 1] == 'b')) {
		int hex = s[j + 1] == 'x';
		j += 2;
		while (j < n && (hex ? isxdigit((unsigned char)s[j]) : (s[j] == '0' || s[j] == '1')))
			j++;
		if (j == i + 2 || (j < n && ident_char((unsigned char)s[j])))
			return lex_error(lx, i, "malformed number");
		return tok(lx, TK_NUM, i, j);
	}
	while (j < n && isdigit((unsigned char)s[j]))
		j++;
	if (j < n && s[j] == '.') {
		j++;
		while (j < n && isdigit((unsigned char)s[j]))
			j++;
	}
	if (j < n && (s[j] == 'e' || s[j] == 'E')) {
		size_t k = j + 1;
		if (k < n && (s[k] == '+' || s[k] == '-'))
			k++;
		if (k < n && isdigit((unsigned char)s[k])) {
			j = k;
			while (j < n && isdigit((unsigned char)s[j]))
				j++;
		}
	}
	if (j < n && ident_char((unsigned char)s[j]) && s[j] != '.')
		return lex_error(lx, i, "malformed number");
	return tok(lx, TK_NUM, i, j);
}

struct sql_token sql_lex_next(struct sql_lexer *lx)
{
	static const char *const ops[] = { "<=>", "<<", ">>", "<=", ">=", "<>", "!=", "&&", "||", ":=", NULL };
	const char *s = lx->src;
	size_t i, j, n = lx->len, bad = 0;
	int rc = skip_space(lx, &bad);

	if (rc == -EINVAL)
		return lex_error(lx, bad, "unterminated comment");
	if (rc == -ENOTSUP)
		return lex_error(lx, bad, "executable comments are not supported");
	i = lx->off;
	if (i >= n) {
		struct sql_token t = { .kind = TK_END, .pos = (int)n, .text = "" };
		return t;
	}
	/* X'..', B'..', N'..' literals */
	if (strchr("xXbBnN", s[i]) && i + 1 < n && s[i + 1] == '\'') {
		j = quoted_end(s, n, i + 1, s[i] == 'n' || s[i] == 'N');
		if (!j)
			return lex_error(lx, i, "unterminated string");
		return tok(lx, TK_STR, i, j);
	}
	if (isdigit((unsigned char)s[i]) || (s[i] == '.' && i + 1 < n && isdigit((unsigned char)s[i + 1])))
		return lex_number(lx, i);
	if (ident_start((unsigned char)s[i])) {
		for (j = i; j < n && ident_char((unsigned char)s[j]); j++)
			;
		return tok(lx, TK_IDENT, i, j);
	}
	if (s[i] == '`') {
		struct sql_token t;
		char *d;
		size_t k;
		j = quoted_end(s, n, i, 0);
		if (!j)
			return lex_error(lx, i, "unterminated quoted identifier");
		if (j - i == 2)
			return lex_error(lx, i, "empty identifier");
		t = tok(lx, TK_QIDENT, i, j);
		if (t.kind == TK_ERROR)
			return t;
		/* unquote: drop the outer quotes, `` -> ` */
		for (d = t.text, k = i + 1; k < j - 1; k++) {
			*d++ = s[k];
			if (s[k] == '`')
				k++;
		}
		*d = 0;
		return t;
	}
	if (s[i] == '\'' || s[i] == '"') {
		j = quoted_end(s, n, i, 1);
		if (!j)
			return lex_error(lx, i, "unterminated string");
		return tok(lx, TK_STR, i, j);
	}
	if (s[i] == '@') {
		for (j = i + 1; j < n && (s[j] == '@' || ident_char((unsigned char)s[j]) || s[j] == '.'); j++)
			;
		return tok(lx, TK_VAR, i, j);
	}
	if (s[i] == '?')
		return tok(lx, TK_PARAM, i, i + 1);
	for (j = 0; ops[j]; j++)
		if (n - i >= strlen(ops[j]) && !memcmp(s + i, ops[j], strlen(ops[j])))
			return tok(lx, TK_OP, i, i + strlen(ops[j]));
	if (strchr("=<>+-*/%&|^~!(),.;{}", s[i]) && s[i])
		return tok(lx, TK_OP, i, i + 1);
	return lex_error(lx, i, "unexpected character");
}
