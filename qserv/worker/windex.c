/* windex.c: MariaDB indexes on this worker's tables (Qserv's
 * /replication/sql/index, the controller's csqlidx.c, one worker's part).
 *
 *   POST   /worker/sqlindex {database, table, index, spec, comment, columns, [overlap]}
 *   GET    /worker/sqlindex?database=&table=[&overlap=0|1]
 *   DELETE /worker/sqlindex?database=&table=&index=[&overlap=0|1]
 *
 * Which tables: a POST goes on the prototype `<T>` (so chunk tables made
 * later LIKE it, copies of a chunk included, carry the index) and every
 * chunk table `<T>_<n>` (the dummy chunk too), with "overlap": 1 on the
 * `<T>FullOverlap_<n>` tables as well, or on a regular table itself; only
 * where no index of that name exists yet (a re-publish rebuilds nothing).
 * GET and DELETE take Qserv's selector: overlap 0 the chunk tables (DELETE:
 * and the prototype), 1 the FullOverlap tables; a regular table is itself.
 *
 * MyISAM: the controller asks when a table is registered (an ALTER of the
 * empty prototype), so chunk tables are created with the index and the
 * first LOAD DATA into each builds it by sorting the keys; an ALTER TABLE
 * on a loaded table (publish, for tables made without it) copies the data
 * file, about twice the cost.
 * Every name was checked by sqlid (wreq_index, or here for GET/DELETE). */
#include "worker.h"
#include "qserv/common/sqlid.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The WHERE part naming t's tables: kind 'a' (add: prototype, chunks,
 * overlap too when ov), 'g' (get: chunks or overlaps), 'd' (delete: as
 * get, plus the prototype with the chunks). */
static void tables_where(char *w, size_t n, const char *t, bool partitioned, bool ov, char kind)
{
	if (!partitioned)
		snprintf(w, n, "TABLE_NAME='%s'", t);
	else if (kind == 'a')
		snprintf(w, n, "(TABLE_NAME='%s' OR TABLE_NAME REGEXP '^%s%s_[0-9]+$')", t, t, ov ? "(FullOverlap)?" : "");
	else if (ov)
		snprintf(w, n, "TABLE_NAME REGEXP '^%sFullOverlap_[0-9]+$'", t);
	else
		snprintf(w, n, "(TABLE_NAME REGEXP '^%s_[0-9]+$'%s%s%s)", t, kind == 'd' ? " OR TABLE_NAME='" : "",
			 kind == 'd' ? t : "", kind == 'd' ? "'" : "");
}

static int table_kind(MYSQL *m, const char *db, const char *t, bool *ret_partitioned, char *err, size_t errlen)
{
	struct wtable wt;
	int r = wmeta_table(m, db, t, &wt, err, errlen);
	if (r)
		return r;
	*ret_partitioned = wt.partitioned;
	free(wt.cols);
	return 0;
}

int windex_add(MYSQL *m, const struct wreq_index *q, char *err, size_t errlen)
{
	const char *db = q->db, *t = q->table;
	bool part = true;
	char where[512];
	long long have = 0;
	int r = table_kind(m, db, t, &part, err, errlen);
	if (r == -ENOENT)
		part = true;   /* not registered here (older callers): by the names present */
	else if (r)
		return r;
	tables_where(where, sizeof where, t, part, q->overlap, 'a');
	char *qc = qsql_quote(m, q->comment);
	if (!qc) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (qsql_int(m, &have, err, errlen, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='%s'"
		     " AND %s", db, where)) {
		free(qc);
		return -EIO;
	}
	/* overlap tables only on request: an object is in a chunk's overlap once
	 * per neighbouring sub-chunk, so a UNIQUE key would not hold there */
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA='%s' AND %s AND TABLE_NAME NOT IN"
		" (SELECT TABLE_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='%s' AND INDEX_NAME='%s')",
		db, where, db, q->index);
	r = res ? 0 : -EIO;
	MYSQL_ROW row;
	while (!r && res && (row = mysql_fetch_row(res)))
		r = qsql_exec(m, err, errlen, "ALTER TABLE `%s`.`%s` ADD %sINDEX IF NOT EXISTS `%s` (%s) COMMENT '%s'",
			      db, row[0], q->kind, q->index, q->list, qc);
	mysql_free_result(res);
	free(qc);
	if (!r && !have) {
		snprintf(err, errlen, "table %s.%s does not exist on this worker", db, t);
		r = -ENOENT;
	}
	return r;
}

/* One (table, index) seen whole: merged into idx by name. */
static void index_done(json_t *idx, const char *name, json_t *one, const char *def)
{
	json_t *e = json_object_get(idx, name);
	if (!e) {
		json_object_set_new(one, "def", json_string(def));
		json_object_set_new(one, "tables", json_integer(1));
		json_object_set_new(one, "consistent", json_true());
		json_object_set_new(idx, name, one);
		return;
	}
	json_object_set_new(e, "tables", json_integer(json_integer_value(json_object_get(e, "tables")) + 1));
	if (strcmp(json_string_value(json_object_get(e, "def")), def))
		json_object_set_new(e, "consistent", json_false());
	json_decref(one);
}

static const char *collation(const char *c)
{
	return !c || !c[0] ? "NOT_SORTED" : c[0] == 'D' ? "DESC" : "ASC";
}

/* Reads STATISTICS rows (table, index, non_unique, type, comment, seq,
 * column, sub_part, collation) ordered by table, index, seq into idx. */
static void index_rows(MYSQL_RES *res, json_t *idx)
{
	char cur_t[65] = "", cur_i[65] = "", def[2048] = "";
	json_t *one = NULL;
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res))) {
		if (!one || strcmp(cur_t, row[0]) || strcmp(cur_i, row[1])) {
			if (one)
				index_done(idx, cur_i, one, def);
			snprintf(cur_t, sizeof cur_t, "%s", row[0]);
			snprintf(cur_i, sizeof cur_i, "%s", row[1]);
			one = json_pack("{s:s, s:i, s:s, s:s, s:[]}", "name", row[1], "unique", atoi(row[2]) ? 0 : 1,
					"type", row[3], "comment", row[4] ? row[4] : "", "columns");
			snprintf(def, sizeof def, "%s|%s", row[2], row[3]);
		}
		json_array_append_new(json_object_get(one, "columns"),
				      json_pack("{s:s, s:i, s:i, s:s}", "name", row[6], "seq", atoi(row[5]), "sub_part",
						atoi(row[7]), "collation", collation(row[8])));
		size_t l = strlen(def);
		snprintf(def + l, sizeof def - l, "|%s:%s:%s", row[6], row[7], collation(row[8]));
	}
	if (one)
		index_done(idx, cur_i, one, def);
}

int windex_get(MYSQL *m, const char *db, const char *t, bool ov, json_t **ret, char *err, size_t errlen)
{
	bool part;
	char where[512];
	long long n = 0;
	int r = table_kind(m, db, t, &part, err, errlen);
	if (r)
		return r;
	tables_where(where, sizeof where, t, part, ov, 'g');
	if (qsql_int(m, &n, err, errlen, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='%s'"
		     " AND %s", db, where))
		return -EIO;
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, INDEX_TYPE, INDEX_COMMENT, SEQ_IN_INDEX, COLUMN_NAME,"
		" IFNULL(SUB_PART, 0), COLLATION FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='%s' AND %s"
		" ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX", db, where);
	if (!res)
		return -EIO;
	json_t *idx = json_object();
	index_rows(res, idx);
	mysql_free_result(res);
	*ret = json_pack("{s:s, s:s, s:i, s:I, s:o}", "database", db, "table", t, "overlap", ov, "tables",
			 (json_int_t)n, "indexes", idx);
	return 0;
}

int windex_drop(MYSQL *m, const char *db, const char *t, const char *index, bool ov, json_t **ret, char *err,
		size_t errlen)
{
	bool part;
	char where[512];
	if (sqlid_check(SQLID_INDEX, "index", index, err, errlen))
		return -EINVAL;
	int r = table_kind(m, db, t, &part, err, errlen);
	if (r)
		return r;
	tables_where(where, sizeof where, t, part, ov, 'd');
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT DISTINCT TABLE_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='%s' AND %s"
		" AND INDEX_NAME='%s'", db, where, index);
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	long long n = 0;
	while (!r && (row = mysql_fetch_row(res))) {
		r = qsql_exec(m, err, errlen, "ALTER TABLE `%s`.`%s` DROP INDEX IF EXISTS `%s`", db, row[0], index);
		n += !r;
	}
	mysql_free_result(res);
	if (!r)
		*ret = json_pack("{s:I}", "tables", (json_int_t)n);
	return r;
}
