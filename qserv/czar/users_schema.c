/* users_schema.c: what a restricted user (users.h) reads of
 * information_schema.  The MariaDB account local statements run as can
 * see every catalog's tables and columns, so for a restricted user without
 * SELECT ON *.*: the tables naming other databases' objects (SCHEMATA,
 * TABLES, COLUMNS, STATISTICS, VIEWS, ...) get a condition added to the
 * statement's WHERE, `<table>.<its schema column> IN ('information_schema',
 * <the databases it reads>)` (rows of a LEFT JOIN's right side too: fewer
 * rows, never more); tables that name nothing of a database (CHARACTER_SETS,
 * COLLATIONS, ENGINES, KEYWORDS, variables, status, ...) are read as they
 * are; any other information_schema table is refused (1142), so a table a
 * newer MariaDB adds is closed until listed here. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <mariadb/mysqld_error.h>

#include "myproto.h"
#include "session.h"
#include "sql.h"
#include "users.h"

static const struct { const char *table, *col; } filtered[] = {
	{ "SCHEMATA", "SCHEMA_NAME" }, { "SCHEMA_PRIVILEGES", "TABLE_SCHEMA" }, { "TABLES", "TABLE_SCHEMA" },
	{ "COLUMNS", "TABLE_SCHEMA" }, { "STATISTICS", "TABLE_SCHEMA" }, { "VIEWS", "TABLE_SCHEMA" },
	{ "PARTITIONS", "TABLE_SCHEMA" }, { "TABLE_CONSTRAINTS", "TABLE_SCHEMA" },
	{ "KEY_COLUMN_USAGE", "TABLE_SCHEMA" }, { "TABLE_PRIVILEGES", "TABLE_SCHEMA" },
	{ "COLUMN_PRIVILEGES", "TABLE_SCHEMA" }, { "TRIGGERS", "TRIGGER_SCHEMA" },
	{ "ROUTINES", "ROUTINE_SCHEMA" }, { "PARAMETERS", "SPECIFIC_SCHEMA" }, { "EVENTS", "EVENT_SCHEMA" },
	{ "REFERENTIAL_CONSTRAINTS", "CONSTRAINT_SCHEMA" }, { "CHECK_CONSTRAINTS", "CONSTRAINT_SCHEMA" },
	{ "FILES", "TABLE_SCHEMA" },
};

static const char *const open_tables[] = { "CHARACTER_SETS", "COLLATIONS",
	"COLLATION_CHARACTER_SET_APPLICABILITY", "ENGINES", "KEYWORDS", "SQL_FUNCTIONS", "PLUGINS",
	"ALL_PLUGINS", "GLOBAL_VARIABLES", "SESSION_VARIABLES", "SYSTEM_VARIABLES", "GLOBAL_STATUS",
	"SESSION_STATUS", "PROFILING", "USER_PRIVILEGES", "APPLICABLE_ROLES", "ENABLED_ROLES", NULL };

/* The schema column of an information_schema table to filter on, "" for
 * a table read as it is, NULL for one refused. */
static const char *schema_column(const char *table)
{
	for (size_t i = 0; i < sizeof(filtered) / sizeof(filtered[0]); i++)
		if (!strcasecmp(table, filtered[i].table))
			return filtered[i].col;
	for (size_t i = 0; open_tables[i]; i++)
		if (!strcasecmp(table, open_tables[i]))
			return "";
	return NULL;
}

static int in_schema(const struct sess *s, const struct sql_table *t)
{
	const char *db = t->db ? t->db : s->db[0] ? s->db : NULL;

	return db && t->name && !strcasecmp(db, "information_schema");
}

/* The quoted names s's user reads ("'information_schema', 'a', ...") into
 * out: 1, or 0 when nothing is to be filtered (not restricted, or *.*). */
static int readable(struct sess *s, struct buf *out)
{
	if (!users_restricted(s->cz, s->user))
		return 0;
	buf_puts(out, "'information_schema'");
	return !users_granted_dbs(s->cz, s->user, out);
}

int users_check_schema(struct sess *s, const struct sql_stmt *st)
{
	struct buf names;
	int restricted;

	buf_init(&names);
	restricted = readable(s, &names);
	buf_free(&names);
	for (size_t i = 0; restricted && st->select && i < st->select->nfrom; i++) {
		const struct sql_table *t = &st->select->from[i];
		if (in_schema(s, t) && !schema_column(t->name)) {
			myp_err(&s->conn, ER_TABLEACCESS_DENIED_ERROR, "42000", "SELECT command denied to user '%s'@'%%' "
				"for table 'information_schema.%.64s'", s->user, t->name);
			return 1;
		}
	}
	return 0;
}

/* `<t>.<col> IN (<names>)`, names split from "'a', 'b'". */
static struct sql_expr *in_names(struct sql_arena *a, const struct sql_table *t, const char *col, char *names)
{
	size_t n = 1, i;
	struct sql_expr *in, *c;
	char *save = NULL, *x;

	for (x = names; *x; x++)
		n += *x == ',';
	if (!(in = sql_expr_new(a, SQL_E_IN, n + 1)) || !(c = sql_expr_new(a, SQL_E_COL, 0)))
		return NULL;
	c->table = t->alias ? t->alias : t->name;
	c->name = col;
	in->args[0] = c;
	for (i = 1, x = strtok_r(names, ", ", &save); x && i <= n; x = strtok_r(NULL, ", ", &save), i++) {
		if (!(in->args[i] = sql_expr_new(a, SQL_E_STR, 0)) || !(in->args[i]->text = sql_strdup(a, x)))
			return NULL;
	}
	in->nargs = i;
	return in;
}

int users_filter_schema(struct sess *s, struct sql_stmt *st)
{
	struct sql_select *sel = st->select;
	struct buf names;
	int rc = 0;

	buf_init(&names);
	if (!sel || !readable(s, &names)) {
		buf_free(&names);
		return 0;
	}
	for (size_t i = 0; rc == 0 && i < sel->nfrom; i++) {
		const struct sql_table *t = &sel->from[i];
		const char *col = in_schema(s, t) ? schema_column(t->name) : NULL;
		struct sql_expr *in, *and;
		char *copy;
		if (!col || !col[0])
			continue;
		if (names.oom || !(copy = sql_strdup(st->arena, buf_str(&names))) ||
		    !(in = in_names(st->arena, t, col, copy))) {
			rc = -ENOMEM;
		} else if (!sel->where) {
			sel->where = in;
		} else if (!(and = sql_expr_new(st->arena, SQL_E_BINARY, 2))) {
			rc = -ENOMEM;
		} else {
			and->text = "AND";
			and->args[0] = sel->where;
			and->args[1] = in;
			sel->where = and;
		}
	}
	buf_free(&names);
	return rc;
}
