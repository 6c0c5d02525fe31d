/* schema.c: mirror of the published schema in the czar MariaDB (see schema.h). */
#include "schema.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static int ident_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '$')
			return 0;
	return i > 0 && i <= 64;
}

static int type_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_ (),'", s[i]))
			return 0;
	return i > 0 && i < 200;
}

/* CREATE TABLE text for t, or NULL when its schema is unusable. */
static char *create_sql(const char *db, const struct meta_table *t)
{
	json_t *j, *c;
	json_error_t je;
	size_t i, cap, n;
	char *sql;

	if (!t->schema_json || !(j = json_loads(t->schema_json, 0, &je)))
		return NULL;
	if (!json_is_array(j) || json_array_size(j) == 0) {
		json_decref(j);
		return NULL;
	}
	cap = 256 + json_array_size(j) * 300;
	sql = malloc(cap);
	if (!sql) {
		json_decref(j);
		return NULL;
	}
	n = (size_t)snprintf(sql, cap, "CREATE TABLE IF NOT EXISTS `%s`.`%s` (", db, t->name);
	json_array_foreach(j, i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *type = json_string_value(json_object_get(c, "type"));
		if (!name || !type || !ident_ok(name) || !type_ok(type)) {
			free(sql);
			json_decref(j);
			return NULL;
		}
		n += (size_t)snprintf(sql + n, cap - n, "%s`%s` %s", i ? ", " : "", name, type);
	}
	snprintf(sql + n, cap - n, ") ENGINE=MyISAM");
	json_decref(j);
	return sql;
}

/* Mirrors carry this database comment (MariaDB 10.5+): the czar drops
 * only what it made, never a database it finds (a test's reference
 * database, a DBA's scratch database). */

static int published(const struct meta *m, const char *name)
{
	size_t d;

	for (d = 0; d < m->ndbs; d++)
		if (!strcmp(m->dbs[d].name, name))
			return 1;
	return 0;
}

/* Drops the mirrors of catalogs no longer published (deleted or
 * un-published on the controller) and marks a database of a published
 * catalog's name that lacks the comment (a mirror made before comments
 * were set).  Counts the drops into *ret_dropped. */
static void prune(MYSQL *my, const struct meta *m, unsigned *ret_dropped, char *err, size_t errlen)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	char sql[200];

	if (mysql_query(my, "SELECT SCHEMA_NAME, SCHEMA_COMMENT = '" SCHEMA_MIRROR_COMMENT "' FROM information_schema.SCHEMATA "
			"WHERE SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys', "
			"'qservMeta', 'qservResult')") != 0 || !(res = mysql_store_result(my))) {
		snprintf(err, errlen, "listing the mirrors: %s", mysql_error(my));
		return;
	}
	while ((row = mysql_fetch_row(res))) {
		int mine = row[1] && !strcmp(row[1], "1"), keep = published(m, row[0]);
		if (!ident_ok(row[0]) || mine == keep)
			continue;
		if (keep)
			snprintf(sql, sizeof(sql), "ALTER DATABASE `%s` COMMENT '" SCHEMA_MIRROR_COMMENT "'", row[0]);
		else
			snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS `%s`", row[0]);
		if (mysql_query(my, sql) != 0)
			snprintf(err, errlen, "%s: %s", row[0], mysql_error(my));
		else if (!keep)
			(*ret_dropped)++;
	}
	mysql_free_result(res);
}

int schema_sync(MYSQL *my, const struct meta *m, unsigned *ret_created, unsigned *ret_dropped, char *err,
		size_t errlen)
{
	size_t d, k;
	int skipped = 0;
	char sql[200];

	*ret_created = 0;
	*ret_dropped = 0;
	prune(my, m, ret_dropped, err, errlen);

	for (d = 0; d < m->ndbs; d++) {
		const struct meta_db *db = &m->dbs[d];
		if (!ident_ok(db->name)) {
			skipped += (int)db->ntables;
			continue;
		}
		snprintf(sql, sizeof(sql), "CREATE DATABASE IF NOT EXISTS `%s` COMMENT '" SCHEMA_MIRROR_COMMENT "'", db->name);
		if (mysql_query(my, sql) != 0) {
			snprintf(err, errlen, "%s: %s", db->name, mysql_error(my));
			skipped += (int)db->ntables;
			continue;
		}
		if (mysql_affected_rows(my) == 1)   /* 0 (and a warning) when it existed */
			(*ret_created)++;
		for (k = 0; k < db->ntables; k++) {
			char *c = ident_ok(db->tables[k].name) ? create_sql(db->name, &db->tables[k]) : NULL;
			if (!c || mysql_query(my, c) != 0) {
				snprintf(err, errlen, "%s.%s: %s", db->name, db->tables[k].name,
					 c ? mysql_error(my) : "unusable schema");
				skipped++;
			}
			free(c);
		}
	}
	return skipped;
}
