/* wmeta.c: the worker's tables in its local MariaDB.
 *
 * Owns the SQL for databases, prototype tables `<db>.<T>`, chunk tables
 * `<T>_<chunk>` / `<T>FullOverlap_<chunk>` (created LIKE the prototype, so
 * they inherit its MyISAM engine and its last column qserv_trans_id), and
 * the bookkeeping database `qservWorker`: tables, placed chunks,
 * transactions, and trans_tables, the tables each transaction wrote to
 * (recorded before the first load of a transaction into a table, so a crash
 * cannot hide rows from an abort).
 *
 * Trade-off: an abort is DELETE ... WHERE qserv_trans_id = T on exactly the
 * tables the transaction touched, instead of Qserv's one MySQL partition
 * per transaction.  Measured on MariaDB 10.11: ALTER TABLE ADD PARTITION
 * costs ~12 ms and a partitioned CREATE ~9 ms against ~4 ms for a plain
 * one, and every chunk table of every transaction needed one; with chunk
 * files of a few MB that DDL was most of the ingest time, while aborts are
 * rare.  Plain tables also keep the czar's queries from opening one file
 * pair per partition.  Every name reaching a statement was checked by
 * qserv/common/sqlid.h here or by the caller; a column type goes into
 * CREATE TABLE as the canonical text of sqlid's grammar, never as sent. */
#include "worker.h"
#include "query.h"
#include "qserv/common/csvd.h"
#include "qserv/common/sqlid.h"
#include "buf.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const schema_sql[] = {
	"CREATE DATABASE IF NOT EXISTS qservWorker",
	"CREATE TABLE IF NOT EXISTS qservWorker.tables (db VARCHAR(64) NOT NULL, name VARCHAR(64) NOT NULL,"
	" is_partitioned TINYINT NOT NULL, is_director TINYINT NOT NULL, director_key VARCHAR(64) NOT NULL,"
	" chunk_key VARCHAR(64) NOT NULL, sub_chunk_key VARCHAR(64) NOT NULL, ncols INT NOT NULL,"
	" cols TEXT NOT NULL, PRIMARY KEY (db, name)) ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS qservWorker.chunks (db VARCHAR(64) NOT NULL, chunk INT NOT NULL,"
	" PRIMARY KEY (db, chunk)) ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS qservWorker.trans (id INT UNSIGNED NOT NULL PRIMARY KEY,"
	" db VARCHAR(64) NOT NULL, state TINYINT NOT NULL, poisoned TINYINT NOT NULL) ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS qservWorker.trans_tables (trans INT UNSIGNED NOT NULL,"
	" db VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL, PRIMARY KEY (trans, db, tbl)) ENGINE=InnoDB",
	/* wstore.c: contribution records and published databases */
	"CREATE TABLE IF NOT EXISTS qservWorker.contribs (id INT UNSIGNED NOT NULL PRIMARY KEY,"
	" trans INT UNSIGNED NOT NULL, db VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL, chunk INT NOT NULL,"
	" overlap TINYINT NOT NULL, url VARCHAR(1024) NOT NULL, status TINYINT NOT NULL, loading TINYINT NOT NULL,"
	" num_bytes BIGINT UNSIGNED NOT NULL, num_rows BIGINT UNSIGNED NOT NULL, create_ms BIGINT NOT NULL,"
	" start_ms BIGINT NOT NULL, read_ms BIGINT NOT NULL, load_ms BIGINT NOT NULL,"
	" error VARCHAR(1024) NOT NULL, http_status INT NOT NULL, KEY (trans)) ENGINE=InnoDB",
	"CREATE TABLE IF NOT EXISTS qservWorker.dbs (db VARCHAR(64) NOT NULL PRIMARY KEY,"
	" published TINYINT NOT NULL) ENGINE=InnoDB",
};

int wmeta_init(MYSQL *m, struct worker *w, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof schema_sql / sizeof *schema_sql; i++)
		if (qsql_exec(m, err, errlen, "%s", schema_sql[i]))
			return -EIO;
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT id, db, state, poisoned FROM qservWorker.trans");
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res))) {
		if (w->ntrans == w->ctrans) {
			size_t c = w->ctrans ? 2 * w->ctrans : 16;
			struct wtrans *t = realloc(w->trans, c * sizeof *t);
			if (!t)
				break;
			w->trans = t, w->ctrans = c;
		}
		struct wtrans *t = &w->trans[w->ntrans++];
		memset(t, 0, sizeof *t);
		t->id = (uint32_t)strtoul(row[0], NULL, 10);
		snprintf(t->db, sizeof t->db, "%s", row[1]);
		t->state = (enum wtrans_state)atoi(row[2]);
		t->poisoned = atoi(row[3]) != 0;
	}
	mysql_free_result(res);
	return wstore_load(m, w, err, errlen);
}

int wmeta_save_trans(MYSQL *m, const struct wtrans *t, char *err, size_t errlen)
{
	return qsql_exec(m, err, errlen, "REPLACE INTO qservWorker.trans VALUES (%u, '%s', %d, %d)",
			 t->id, t->db, (int)t->state, t->poisoned ? 1 : 0);
}

int wmeta_create_db(MYSQL *m, const char *db, char *err, size_t errlen)
{
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen))
		return -EINVAL;
	if (qsql_exec(m, err, errlen, "CREATE DATABASE IF NOT EXISTS `%s`", db))
		return -EIO;
	return query_acct_grant(m, db, err, errlen);
}

int wmeta_drop_db(MYSQL *m, const char *db, char *err, size_t errlen)
{
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen))
		return -EINVAL;
	int r = wguard_writable(m, db, err, errlen);
	if (r)
		return r;
	if (qsql_exec(m, err, errlen, "DROP DATABASE IF EXISTS `%s`", db) ||
	    qsql_exec(m, err, errlen, "DELETE FROM qservWorker.tables WHERE db='%s'", db) ||
	    qsql_exec(m, err, errlen, "DELETE FROM qservWorker.chunks WHERE db='%s'", db) ||
	    wstore_set_published(m, db, false, err, errlen))
		return -EIO;
	return 0;
}

/* Chunk data directories: with several disks in MariaDB's pool, chunk
 * tables are spread over them, chunk id modulo the count, through MyISAM's
 * DATA/INDEX DIRECTORY; none = tables live in MariaDB's own data directory.
 * Either fixed at start (--chunk-dir DIR...) or listed in a file, one a
 * line (--chunk-dirs-file), read again whenever it changes: a disk the
 * agent adds to the pool then takes new chunk tables without a restart.
 * Tables already made stay where they are (MariaDB finds them by name);
 * only where new ones go follows the list. */
#define MAX_CHUNK_DIRS 16
static pthread_mutex_t dirs_mu = PTHREAD_MUTEX_INITIALIZER;
static char chunk_dirs[MAX_CHUNK_DIRS][520];
static size_t n_chunk_dirs;
static const char *dirs_file;
static struct stat dirs_seen;    /* the file as last read (inode, size, mtime) */

static int dir_ok(const char *d, char *err, size_t errlen)
{
	if (d[0] == '/' && !strpbrk(d, "'\\`") && strlen(d) < sizeof(chunk_dirs[0]))
		return 0;
	snprintf(err, errlen, "chunk directory '%s' must be an absolute path without quotes", d);
	return -EINVAL;
}

/* Reads dirs_file again if it changed since (dirs_mu held).  A missing
 * file is an empty list; a bad line keeps the previous list. */
static int reload_dirs(char *err, size_t errlen)
{
	char line[600], list[MAX_CHUNK_DIRS][520];
	size_t n = 0;
	struct stat st;
	FILE *f;

	if (stat(dirs_file, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (st.st_ino == dirs_seen.st_ino && st.st_size == dirs_seen.st_size &&
	    st.st_mtim.tv_sec == dirs_seen.st_mtim.tv_sec && st.st_mtim.tv_nsec == dirs_seen.st_mtim.tv_nsec)
		return 0;
	if ((f = fopen(dirs_file, "r"))) {
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\r\n")] = 0;
			if (!line[0] || line[0] == '#')
				continue;
			if (n == MAX_CHUNK_DIRS || dir_ok(line, err, errlen) < 0) {
				if (n == MAX_CHUNK_DIRS)
					snprintf(err, errlen, "%s: more than %d chunk directories", dirs_file, MAX_CHUNK_DIRS);
				fclose(f);
				return -EINVAL;
			}
			snprintf(list[n++], sizeof(list[0]), "%s", line);
		}
		fclose(f);
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", dirs_file, strerror(errno));
		return -errno;
	}
	memcpy(chunk_dirs, list, sizeof(list));
	n_chunk_dirs = n;
	dirs_seen = st;
	log_info("chunk tables go to %zu director%s from %s", n, n == 1 ? "y" : "ies", dirs_file);
	return 0;
}

int wmeta_set_chunk_dirs(const char *const *dirs, size_t n, const char *file, char *err, size_t errlen)
{
	int r = 0;

	if (n > MAX_CHUNK_DIRS) {
		snprintf(err, errlen, "more than %d chunk directories", MAX_CHUNK_DIRS);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (dir_ok(dirs[i], err, errlen) < 0)
			return -EINVAL;
		snprintf(chunk_dirs[i], sizeof(chunk_dirs[0]), "%s", dirs[i]);
	}
	n_chunk_dirs = n;
	if (file) {
		pthread_mutex_lock(&dirs_mu);
		dirs_file = file;
		memset(&dirs_seen, 0xff, sizeof(dirs_seen));   /* read it now */
		r = reload_dirs(err, errlen);
		pthread_mutex_unlock(&dirs_mu);
	}
	return r;
}

/* The directory for a new table of chunk into ret ("" = MariaDB's own). */
static int chunk_dir_of(int32_t chunk, char *ret, size_t size, char *err, size_t errlen)
{
	int r = 0;

	pthread_mutex_lock(&dirs_mu);
	if (dirs_file)
		r = reload_dirs(err, errlen);
	if (!r)
		snprintf(ret, size, "%s", n_chunk_dirs ? chunk_dirs[(uint32_t)chunk % n_chunk_dirs] : "");
	pthread_mutex_unlock(&dirs_mu);
	return r;
}

/* <chunk dir>/<db>: MyISAM puts a table's files directly in its DATA
 * DIRECTORY, so each database gets its own, owned like the chunk directory
 * (MariaDB's user) for mariadbd to write into. */
static int chunk_db_dir(const char *dir, const char *db, char *ret_path, size_t size, char *err, size_t errlen)
{
	struct stat st;

	snprintf(ret_path, size, "%s/%s", dir, db);
	if (stat(dir, &st) < 0 || (mkdir(ret_path, 0750) < 0 && errno != EEXIST) ||
	    chown(ret_path, st.st_uid, st.st_gid) < 0) {
		snprintf(err, errlen, "chunk directory %s: %s", ret_path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* CREATE TABLE name LIKE proto, but in the chunk's data directory: LIKE
 * takes no DATA DIRECTORY, so the prototype's own CREATE statement (with its
 * indexes) is reused under the new name. */
static int create_like(MYSQL *m, const char *db, const char *proto, const char *name, int32_t chunk,
		       char *err, size_t errlen)
{
	const char *body;
	char base[520], dir[600];
	MYSQL_RES *res;
	MYSQL_ROW row;
	int r;

	if (chunk == WREQ_REGULAR)
		base[0] = '\0';       /* a regular table's twin lives where the table does */
	else if (chunk_dir_of(chunk, base, sizeof(base), err, errlen) != 0)
		return -EIO;
	if (!base[0])
		return qsql_exec(m, err, errlen, "CREATE TABLE IF NOT EXISTS `%s`.`%s` LIKE `%s`.`%s`",
				 db, name, db, proto) ? -EIO : 0;
	if (chunk_db_dir(base, db, dir, sizeof(dir), err, errlen) < 0)
		return -EIO;
	res = qsql_query(m, err, errlen, "SHOW CREATE TABLE `%s`.`%s`", db, proto);
	if (!res)
		return -EIO;
	row = mysql_fetch_row(res);
	body = row && row[1] ? strchr(row[1], '(') : NULL;
	if (!body) {
		snprintf(err, errlen, "cannot read the definition of %s.%s", db, proto);
		mysql_free_result(res);
		return -EIO;
	}
	r = qsql_exec(m, err, errlen, "CREATE TABLE IF NOT EXISTS `%s`.`%s` %s DATA DIRECTORY='%s' INDEX DIRECTORY='%s'",
		      db, name, body, dir, dir) ? -EIO : 0;
	mysql_free_result(res);
	return r;
}

int wmeta_create_like(MYSQL *m, const char *db, const char *proto, const char *name, int32_t chunk,
		      char *err, size_t errlen)
{
	return create_like(m, db, proto, name, chunk, err, errlen);
}

/* Creates the chunk tables of one partitioned table for one chunk. */
static int create_chunk_tables(MYSQL *m, const char *db, const char *t, bool director, int32_t chunk,
			       char *err, size_t errlen)
{
	char name[160];

	snprintf(name, sizeof(name), "%s_%d", t, chunk);
	if (create_like(m, db, t, name, chunk, err, errlen) < 0)
		return -EIO;
	snprintf(name, sizeof(name), "%sFullOverlap_%d", t, chunk);
	if (director && create_like(m, db, t, name, chunk, err, errlen) < 0)
		return -EIO;
	return 0;
}

/* POST /worker/table, its body parsed by wreq_table. */
int wmeta_create_table(MYSQL *m, const struct wreq_table *q, char *err, size_t errlen)
{
	const char *db = q->db, *t = q->table;
	bool part = q->partitioned, director = q->director;
	struct wtable want = { .partitioned = part, .director = director, .ncols = q->ncols,
			       .cols = (char *)buf_str(&q->cols) };
	snprintf(want.db, sizeof want.db, "%s", db);
	snprintf(want.name, sizeof want.name, "%s", t);
	snprintf(want.director_key, sizeof want.director_key, "%s", q->director_key);
	snprintf(want.chunk_key, sizeof want.chunk_key, "%s", q->chunk_key);
	snprintf(want.sub_chunk_key, sizeof want.sub_chunk_key, "%s", q->sub_chunk_key);
	int ret;
	if ((ret = wguard_keys(&want, err, errlen)) || (ret = wguard_writable(m, db, err, errlen)) ||
	    (ret = wguard_table(m, &want, err, errlen)))
		return ret;
	if (qsql_exec(m, err, errlen, "CREATE DATABASE IF NOT EXISTS `%s`", db) ||
	    query_acct_grant(m, db, err, errlen) ||
	    qsql_exec(m, err, errlen,
		      "CREATE TABLE IF NOT EXISTS `%s`.`%s` (%s `qserv_trans_id` INT NOT NULL) ENGINE=MyISAM",
		      db, t, buf_str(&q->defs)) ||
	    qsql_exec(m, err, errlen,
		      "INSERT IGNORE INTO qservWorker.tables VALUES ('%s','%s',%d,%d,'%s','%s','%s',%u,'%s')",
		      db, t, part, director, q->director_key, q->chunk_key, q->sub_chunk_key, q->ncols,
		      buf_str(&q->cols))) {
		snprintf(err, errlen, "cannot create table %s.%s: the database refused the statement", db, t);
		return -EIO;
	}
	if (!part)
		return 0;
	MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT chunk FROM qservWorker.chunks WHERE db='%s'", db);
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	int r = 0;
	while (!r && (row = mysql_fetch_row(res)))
		r = create_chunk_tables(m, db, t, director, atoi(row[0]), err, errlen);
	mysql_free_result(res);
	return r ? -EIO : 0;
}

/* Runs fn(name) for every table of db named t, t_<n> or tFullOverlap_<n>. */
static int drop_family(MYSQL *m, const char *db, const char *t, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA='%s' AND"
		" (TABLE_NAME='%s' OR TABLE_NAME REGEXP '^%s(FullOverlap)?_[0-9]+$')", db, t, t);
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	int r = 0;
	while (!r && (row = mysql_fetch_row(res)))
		r = qsql_exec(m, err, errlen, "DROP TABLE IF EXISTS `%s`.`%s`", db, row[0]);
	mysql_free_result(res);
	return r;
}

int wmeta_drop_table(MYSQL *m, const char *db, const char *t, char *err, size_t errlen)
{
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen) ||
	    sqlid_check(SQLID_TABLE, "table", t, err, errlen))
		return -EINVAL;
	int r = wguard_writable(m, db, err, errlen);
	if (r)
		return r;
	if (drop_family(m, db, t, err, errlen) ||
	    qsql_exec(m, err, errlen, "DELETE FROM qservWorker.tables WHERE db='%s' AND name='%s'", db, t))
		return -EIO;
	return 0;
}

/* Creates chunk `chunk`'s tables for every partitioned table of db. */
static int chunk_tables_all(MYSQL *m, const char *db, int32_t chunk, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT name, is_director FROM qservWorker.tables WHERE db='%s' AND is_partitioned=1", db);
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	int r = 0;
	while (!r && (row = mysql_fetch_row(res)))
		r = create_chunk_tables(m, db, row[0], atoi(row[1]) != 0, chunk, err, errlen);
	mysql_free_result(res);
	return r;
}

int wmeta_add_chunk(MYSQL *m, const char *db, int32_t chunk, char *err, size_t errlen)
{
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen))
		return -EINVAL;
	if (chunk < 0) {
		snprintf(err, errlen, "chunk: must be a chunk number (0 or more)");
		return -EINVAL;
	}
	int r = wguard_writable(m, db, err, errlen);
	if (r)
		return r;
	if (chunk_tables_all(m, db, chunk, err, errlen) ||
	    qsql_exec(m, err, errlen, "INSERT IGNORE INTO qservWorker.chunks VALUES ('%s', %d)", db, chunk))
		return -EIO;
	return 0;
}

bool wmeta_has_chunk(MYSQL *m, const char *db, int32_t chunk)
{
	char err[256];
	long long n = 0;
	return qsql_int(m, &n, err, sizeof err,
			"SELECT COUNT(*) FROM qservWorker.chunks WHERE db='%s' AND chunk=%d", db, chunk) == 0 && n > 0;
}

int wmeta_publish(MYSQL *m, const char *db, char *err, size_t errlen)
{
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen))
		return -EINVAL;
	if (chunk_tables_all(m, db, WORKER_DUMMY_CHUNK, err, errlen) ||
	    wstore_set_published(m, db, true, err, errlen))
		return -EIO;
	return 0;
}

int wmeta_unpublish(MYSQL *m, const char *db, char *err, size_t errlen)
{
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen))
		return -EINVAL;
	return wstore_set_published(m, db, false, err, errlen) ? -EIO : 0;
}

int wmeta_table(MYSQL *m, const char *db, const char *table, struct wtable *ret, char *err, size_t errlen)
{
	if (sqlid_check(SQLID_DATABASE, "database", db, err, errlen) ||
	    sqlid_check(SQLID_TABLE, "table", table, err, errlen))
		return -EINVAL;
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT is_partitioned, is_director, director_key, chunk_key, sub_chunk_key, ncols, cols"
		" FROM qservWorker.tables WHERE db='%s' AND name='%s'", db, table);
	if (!res)
		return -EIO;
	MYSQL_ROW row = mysql_fetch_row(res);
	int r = -ENOENT;
	if (!row) {
		snprintf(err, errlen, "table %s.%s is not registered on this worker", db, table);
	} else {
		struct wtable t = { 0 };
		snprintf(t.db, sizeof t.db, "%s", db);
		snprintf(t.name, sizeof t.name, "%s", table);
		t.partitioned = atoi(row[0]) != 0;
		t.director = atoi(row[1]) != 0;
		snprintf(t.director_key, sizeof t.director_key, "%s", row[2]);
		snprintf(t.chunk_key, sizeof t.chunk_key, "%s", row[3]);
		snprintf(t.sub_chunk_key, sizeof t.sub_chunk_key, "%s", row[4]);
		t.ncols = (unsigned)atoi(row[5]);
		t.cols = strdup(row[6]);
		*ret = t;
		r = t.cols ? 0 : -ENOMEM;
	}
	mysql_free_result(res);
	return r;
}

int wmeta_touch(MYSQL *m, const char *db, const char *table, uint32_t trans, char *err, size_t errlen)
{
	return qsql_exec(m, err, errlen, "INSERT IGNORE INTO qservWorker.trans_tables VALUES (%u, '%s', '%s')",
			 trans, db, table);
}

int wmeta_drop_trans(MYSQL *m, const char *db, uint32_t trans, char *err, size_t errlen)
{
	MYSQL_RES *res = qsql_query(m, err, errlen,
		"SELECT tt.tbl FROM qservWorker.trans_tables tt JOIN information_schema.TABLES it"
		" ON it.TABLE_SCHEMA=tt.db AND it.TABLE_NAME=tt.tbl WHERE tt.trans=%u AND tt.db='%s'", trans, db);
	if (!res)
		return -EIO;
	MYSQL_ROW row;
	int r = 0;
	while (!r && (row = mysql_fetch_row(res)))
		r = qsql_exec(m, err, errlen, "DELETE FROM `%s`.`%s` WHERE qserv_trans_id=%u", db, row[0], trans);
	mysql_free_result(res);
	return r;
}

int wmeta_index_export(MYSQL *m, const char *db, const char *table, uint32_t trans, int fd,
		       unsigned long long *ret_rows, char *err, size_t errlen)
{
	struct wtable t;
	int r = wmeta_table(m, db, table, &t, err, errlen);
	if (r)
		return r;
	r = -EINVAL;
	if (!t.director || !t.director_key[0]) {
		snprintf(err, errlen, "table %s.%s is not a director table", db, table);
		goto out;
	}
	/* only the registered key columns, and only when they are the table's */
	if (!sqlid_ok(t.director_key) || !sqlid_ok(t.chunk_key) || !sqlid_ok(t.sub_chunk_key) ||
	    wguard_keys(&t, err, errlen)) {
		snprintf(err, errlen, "table %s.%s: its registered key columns are not valid", db, table);
		goto out;
	}
	/* one transaction's rows are only in the tables it touched */
	MYSQL_RES *chunks = trans ?
		qsql_query(m, err, errlen, "SELECT SUBSTRING(tbl, %zu) FROM qservWorker.trans_tables WHERE trans=%u"
			   " AND db='%s' AND tbl REGEXP '^%s_[0-9]+$'", strlen(table) + 2, trans, db, table) :
		qsql_query(m, err, errlen, "SELECT chunk FROM qservWorker.chunks WHERE db='%s'", db);
	r = -EIO;
	if (!chunks)
		goto out;
	FILE *f = fdopen(dup(fd), "w");
	struct buf key;
	buf_init(&key);
	unsigned long long rows = 0;
	MYSQL_ROW crow;
	r = f ? 0 : -errno;
	while (!r && (crow = mysql_fetch_row(chunks))) {
		char where[64] = "";
		if (trans)
			snprintf(where, sizeof where, " WHERE qserv_trans_id=%u", trans);
		char q[512];
		snprintf(q, sizeof q, "SELECT `%s`, `%s`, `%s`, qserv_trans_id FROM `%s`.`%s_%s`%s", t.director_key, t.chunk_key,
			 t.sub_chunk_key, db, table, crow[0], where);
		if (mysql_real_query(m, q, strlen(q))) {
			qsql_note_failure(m, q);
			snprintf(err, errlen, "reading %s.%s_%s: the database refused the query", db, table, crow[0]);
			r = -EIO;
			break;
		}
		MYSQL_RES *res = mysql_use_result(m);
		MYSQL_ROW row;
		while (res && (row = mysql_fetch_row(res))) {
			if (!row[0])
				continue; /* a NULL key cannot be indexed */
			key.len = 0;   /* escaped as the controller reads it (cindex_rows.h) */
			csvd_escape(&key, row[0], mysql_fetch_lengths(res)[0]);
			if (key.oom) {
				snprintf(err, errlen, "out of memory");
				r = -ENOMEM;
				break;
			}
			fwrite(key.data, 1, key.len, f);
			fprintf(f, "\t%s\t%s\t%s\n", row[1] ? row[1] : "\\N", row[2] ? row[2] : "\\N", row[3]);
			rows++;
		}
		if (!res || mysql_errno(m)) {
			qsql_note_failure(m, q);
			snprintf(err, errlen, "reading %s.%s_%s: the database failed the query", db, table, crow[0]);
			r = -EIO;
		}
		mysql_free_result(res);
	}
	mysql_free_result(chunks);
	buf_free(&key);
	if (f && (fclose(f) != 0) && !r) {
		snprintf(err, errlen, "writing the index: %s", strerror(errno));
		r = -EIO;
	}
	if (!r && ret_rows)
		*ret_rows = rows;
out:
	free(t.cols);
	return r;
}

int wmeta_count(MYSQL *m, const char *db, const char *table, json_t **ret, char *err, size_t errlen)
{
	struct wtable t;
	int r = wmeta_table(m, db, table, &t, err, errlen);
	if (r)
		return r;
	free(t.cols);
	long long rows = 0, orows = 0, n;
	json_t *chunks = json_object(), *ochunks = json_object();
	if (!t.partitioned) {
		if ((r = qsql_int(m, &rows, err, errlen, "SELECT COUNT(*) FROM `%s`.`%s`", db, table)))
			goto fail;
	} else {
		MYSQL_RES *res = qsql_query(m, err, errlen, "SELECT chunk FROM qservWorker.chunks WHERE db='%s'", db);
		if (!res) {
			r = -EIO;
			goto fail;
		}
		MYSQL_ROW row;
		while (!r && (row = mysql_fetch_row(res))) {
			r = qsql_int(m, &n, err, errlen, "SELECT COUNT(*) FROM `%s`.`%s_%s`", db, table, row[0]);
			if (r)
				break;
			rows += n;
			json_object_set_new(chunks, row[0], json_integer(n));
			if (t.director) {
				r = qsql_int(m, &n, err, errlen, "SELECT COUNT(*) FROM `%s`.`%sFullOverlap_%s`", db,
					     table, row[0]);
				orows += n;
				json_object_set_new(ochunks, row[0], json_integer(n));
			}
		}
		mysql_free_result(res);
		if (r)
			goto fail;
	}
	*ret = json_pack("{s:I, s:I, s:o, s:o}", "rows", (json_int_t)rows, "overlap_rows", (json_int_t)orows,
			 "chunks", chunks, "overlap_chunks", ochunks);
	return 0;
fail:
	json_decref(chunks);
	json_decref(ochunks);
	return r;
}
