/* wcopy_in.c: the target side of a copy of a replica, POST /worker/replica
 * {database, chunk | regular: true, source_id, source_url} (body parsed by
 * wreq_replica; a chunk, or the database's regular tables as the replica
 * WREQ_REGULAR).
 *
 * Steps: the tables this worker expects (wreplica_tables: for a chunk
 * `<T>_<chunk>` (and `<T>FullOverlap_<chunk>`) of its own registered
 * partitioned tables of the database, at least one; for the regular
 * tables its registered regular tables `<T>`, possibly none) get staging
 * twins `<name>__copy` (created like the prototype: in the chunk's data
 * directory, or where MariaDB keeps the regular table); the stream of
 * GET <source_url>/replica/chunk?database=&chunk= (or &regular=1; wcopy.h)
 * is pulled with this node's certificate (mutual TLS, pinned cluster CA,
 * bounded: 10 s to connect, QSERV_COPY_TIMEOUT_S for the whole transfer,
 * 600 s without a byte), decompressed as it arrives and each table's rows
 * written to a plain file in the staging directory (never the replica in
 * memory); after the stream ended with "\#done" (and named the database
 * and chunk, or \#regular, asked for) every file is loaded with LOAD DATA
 * LOCAL INFILE into its staging table, its row count and CHECKSUM TABLE
 * compared with the source's, and only then are all the staging tables
 * swapped in by one RENAME TABLE (an existing table is renamed to `__old`
 * in the same statement and dropped after) and a chunk recorded in
 * qservWorker.chunks (the regular tables are not recorded: they are the
 * database's).  Any failure drops every staging table and file: the
 * target holds the replica completely or not at all.  A crash in the
 * middle leaves staging tables that wcopy_cleanup() drops at the next
 * start.  One copy of a given chunk, or of a database's regular tables,
 * at a time (409 for a second; wcopy_busy_take with the chunk, or
 * WREQ_REGULAR).  A database with no regular table here copies nothing:
 * 200, tables 0, once the source agreed it has none either. */
#include "worker.h"
#include "wcopy.h"
#include "qserv/common/sqlid.h"
#include "monotime.h"

#include <curl/curl.h>
#include <errno.h>
#include <lz4frame.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEC_OUT (1 << 16)   /* plain bytes per LZ4F_decompress call */

_Static_assert(WCOPY_REGULAR == WREQ_REGULAR, "a \\#regular stream is the replica WREQ_REGULAR");

struct itab {
	char proto[65], name[65], stage[65], file[320];
	bool seen, ended, existed;
	unsigned long long rows, sum;
};

struct imp {
	struct worker *w;
	MYSQL *m;
	CURL *curl;
	const struct wreq_replica *q;
	struct itab *t;
	size_t n;
	struct itab *cur;
	FILE *f;
	LZ4F_dctx *dx;
	bool frame_done;
	long http;              /* the source's status, 0 until known */
	char reply[1024];       /* start of a refusal's body */
	size_t nreply;
	struct wcopy_dec dec;
	unsigned long long packed, plain, rows;
	int rc;
	char *err;
	size_t errlen;
};

/* ---- one copy (or drop, wreplica.c) of a replica at a time ---- */

static pthread_mutex_t busy_mu = PTHREAD_MUTEX_INITIALIZER;
static struct { char db[65]; int32_t chunk; } busy[64];

int wcopy_busy_take(const char *db, int32_t chunk)
{
	int r = -EBUSY, slot = -1;
	pthread_mutex_lock(&busy_mu);
	for (int i = 0; i < 64; i++) {
		if (busy[i].db[0] && busy[i].chunk == chunk && !strcmp(busy[i].db, db)) {
			slot = -1;
			break;
		}
		if (!busy[i].db[0] && slot < 0)
			slot = i;
	}
	if (slot >= 0) {
		snprintf(busy[slot].db, sizeof busy[slot].db, "%s", db);
		busy[slot].chunk = chunk;
		r = 0;
	}
	pthread_mutex_unlock(&busy_mu);
	return r;
}

void wcopy_busy_give(const char *db, int32_t chunk)
{
	pthread_mutex_lock(&busy_mu);
	for (int i = 0; i < 64; i++)
		if (busy[i].chunk == chunk && !strcmp(busy[i].db, db))
			busy[i].db[0] = '\0';
	pthread_mutex_unlock(&busy_mu);
}

/* ---- the tables expected ---- */

/* The twin and the staging file of the replica's table r. */
static int add_tab(struct imp *k, const struct wreplica_table *r)
{
	struct itab *t = &k->t[k->n];
	char c[16] = "regular";
	if (k->q->chunk != WREQ_REGULAR)
		snprintf(c, sizeof c, "%d", k->q->chunk);
	snprintf(t->proto, sizeof t->proto, "%s", r->proto);
	snprintf(t->name, sizeof t->name, "%s", r->name);
	if (snprintf(t->stage, sizeof t->stage, "%s__copy", t->name) >= (int)sizeof t->stage) {
		snprintf(k->err, k->errlen, "table %s: the name of its staging copy %s__copy is longer than 64",
			 r->proto, t->name);
		return -ENAMETOOLONG;
	}
	if (snprintf(t->file, sizeof t->file, "%s/copy-in-%d-%s-%s-%zu.tsv", k->w->staging, (int)getpid(),
		     k->q->db, c, k->n) >= (int)sizeof t->file) {
		snprintf(k->err, k->errlen, "staging directory name too long");
		return -ENAMETOOLONG;
	}
	long long n = 0;
	char e[128];
	t->existed = qsql_int(k->m, &n, e, sizeof e, "SELECT COUNT(*) FROM information_schema.TABLES WHERE"
			      " TABLE_SCHEMA='%s' AND TABLE_NAME='%s'", k->q->db, t->name) == 0 && n > 0;
	k->n++;
	return 0;
}

/* The tables of the replica as this worker registers them
 * (wreplica_tables, as the source exports them): a chunk needs at least
 * one; the regular tables may be none (the database must exist). */
static int expect_tables(struct imp *k)
{
	struct wreplica_table *r = NULL;
	size_t n = 0;
	bool regular = k->q->chunk == WREQ_REGULAR;
	if (regular && !wreplica_held(k->m, k->q->db, WREQ_REGULAR)) {
		snprintf(k->err, k->errlen, "this worker has no database %s", k->q->db);
		return -ENOENT;
	}
	int rc = wreplica_tables(k->m, k->q->db, k->q->chunk, &r, &n, k->err, k->errlen);
	if (rc)
		return rc;
	k->t = calloc(n + 1, sizeof *k->t);
	rc = k->t ? 0 : -ENOMEM;
	if (rc)
		snprintf(k->err, k->errlen, "out of memory");
	for (size_t i = 0; !rc && i < n; i++)
		rc = add_tab(k, &r[i]);
	free(r);
	if (!rc && k->n == 0 && !regular) {
		snprintf(k->err, k->errlen, "database %s has no partitioned table registered on this worker", k->q->db);
		rc = -ENOENT;
	}
	return rc;
}

/* Drops every staging table and file (k->t is NULL when no table was
 * expected yet). */
static void drop_staging(struct imp *k)
{
	char e[256];
	if (k->f)
		fclose(k->f);
	k->f = NULL;
	for (size_t i = 0; k->t && i < k->n; i++) {
		qsql_exec(k->m, e, sizeof e, "DROP TABLE IF EXISTS `%s`.`%s`", k->q->db, k->t[i].stage);
		unlink(k->t[i].file);
	}
}

static int create_staging(struct imp *k)
{
	for (size_t i = 0; i < k->n; i++) {
		struct itab *t = &k->t[i];
		if (qsql_exec(k->m, k->err, k->errlen, "DROP TABLE IF EXISTS `%s`.`%s`", k->q->db, t->stage) ||
		    wmeta_create_like(k->m, k->q->db, t->proto, t->stage, k->q->chunk, k->err, k->errlen))
			return -EIO;
	}
	return 0;
}

/* ---- the stream's callbacks ---- */

static int on_table(void *ud, const char *name)
{
	struct imp *k = ud;
	for (size_t i = 0; i < k->n; i++) {
		struct itab *t = &k->t[i];
		if (strcmp(t->name, name))
			continue;
		if (t->seen)
			break;
		t->seen = true;
		k->cur = t;
		k->f = fopen(t->file, "w");
		if (!k->f) {
			snprintf(k->err, k->errlen, "staging file %s: %s", t->file, strerror(errno));
			return -EIO;
		}
		return 0;
	}
	snprintf(k->err, k->errlen, "the source sent table %s, which this worker does not expect (or twice)", name);
	return -EPROTO;
}

static int on_rows(void *ud, const char *p, size_t n)
{
	struct imp *k = ud;
	if (fwrite(p, 1, n, k->f) != n) {
		snprintf(k->err, k->errlen, "writing %s: %s", k->cur->file, strerror(errno));
		return -EIO;
	}
	return 0;
}

static int on_end(void *ud, const char *name, unsigned long long rows, unsigned long long sum)
{
	struct imp *k = ud;
	(void)name;
	k->cur->rows = rows;
	k->cur->sum = sum;
	k->cur->ended = true;
	int r = fclose(k->f);
	k->f = NULL;
	if (r) {
		snprintf(k->err, k->errlen, "writing %s: %s", k->cur->file, strerror(errno));
		return -EIO;
	}
	return 0;
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *ud)
{
	struct imp *k = ud;
	size_t n = size * nmemb, left = n;
	k->packed += n;
	if (wcopy_refusal(k->curl, &k->http, k->reply, sizeof k->reply, &k->nreply, p, n))
		return n;
	char *o = malloc(DEC_OUT);
	if (!o) {
		k->rc = -ENOMEM;
		return 0;
	}
	for (;;) {
		size_t on = DEC_OUT, in = left;
		size_t rc = LZ4F_decompress(k->dx, o, &on, p, &in, NULL);
		if (LZ4F_isError(rc)) {
			snprintf(k->err, k->errlen, "copy stream: not a valid LZ4 frame (%s)", LZ4F_getErrorName(rc));
			k->rc = -EPROTO;
			break;
		}
		p += in, left -= in;
		k->plain += on;
		k->frame_done = rc == 0;
		if (on && (k->rc = wcopy_dec_feed(&k->dec, o, on)) != 0)
			break;
		if (!left && on < DEC_OUT)
			break;
		if (!in && !on) {
			snprintf(k->err, k->errlen, "copy stream: the LZ4 decoder made no progress");
			k->rc = -EPROTO;
			break;
		}
	}
	free(o);
	return k->rc ? 0 : n;
}

/* ---- the transfer ---- */

static long copy_timeout_s(void)
{
	const char *s = getenv("QSERV_COPY_TIMEOUT_S");
	long v = s ? atol(s) : 0;
	return v > 0 ? v : 3600;
}

/* The source's refusal as an error: its "error" text when it sent JSON. */
static int refused(struct imp *k)
{
	json_t *j = json_loads(k->reply, 0, NULL);
	const char *e = json_string_value(json_object_get(j, "error"));
	snprintf(k->err, k->errlen, "source %s answered HTTP %ld: %s", k->q->source_id, k->http,
		 e ? e : "(no error text)");
	json_decref(j);
	return k->http == 404 ? -ENOENT : -EIO;
}

bool wcopy_refusal(void *curl, long *http, char *reply, size_t cap, size_t *nreply, const char *p, size_t n)
{
	if (!*http)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, http);
	if (*http == 200)
		return false;
	size_t room = cap - 1 - *nreply, take = n < room ? n : room;
	memcpy(reply + *nreply, p, take);
	*nreply += take;
	reply[*nreply] = '\0';
	return true;
}

void wcopy_curl_peer(const struct worker *w, void *curl, const char *url, char *cerr, struct curl_slist **h)
{
	CURL *c = curl;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, copy_timeout_s());
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, copy_timeout_s() < 600 ? copy_timeout_s() : 600L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	if (w->tls_ca) {
		struct curl_blob ca = { .data = (void *)w->tls_ca, .len = strlen(w->tls_ca), .flags = CURL_BLOB_COPY };
		struct curl_blob ce = { .data = (void *)w->tls_cert, .len = strlen(w->tls_cert), .flags = CURL_BLOB_COPY };
		struct curl_blob ke = { .data = (void *)w->tls_key, .len = strlen(w->tls_key), .flags = CURL_BLOB_COPY };
		curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
		curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &ce);
		curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &ke);
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L); /* pinned CA; as qhttpc.c */
	} else if (w->auth_key[0]) {
		/* plain-HTTP development clusters only: no certificate to show */
		char hdr[300];
		snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", w->auth_key);
		*h = curl_slist_append(*h, hdr);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, *h);
	}
}

static int fetch(struct imp *k)
{
	struct worker *w = k->w;
	char url[600], cerr[CURL_ERROR_SIZE] = "";
	char bf[200] = "";
	if (k->q->backup_file[0])   /* a backup file of the source (wbackup.c), served under this prefix */
		snprintf(bf, sizeof bf, "/backup/file/%s", k->q->backup_file);
	if (k->q->chunk == WREQ_REGULAR)
		snprintf(url, sizeof url, "%s%s/replica/chunk?database=%s&regular=1", k->q->source_url, bf, k->q->db);
	else
		snprintf(url, sizeof url, "%s%s/replica/chunk?database=%s&chunk=%d", k->q->source_url, bf, k->q->db,
			 k->q->chunk);
	CURL *c = curl_easy_init();
	if (!c || LZ4F_isError(LZ4F_createDecompressionContext(&k->dx, LZ4F_VERSION))) {
		curl_easy_cleanup(c);
		snprintf(k->err, k->errlen, "out of memory");
		return -ENOMEM;
	}
	k->curl = c;
	struct curl_slist *h = NULL;
	wcopy_curl_peer(w, c, url, cerr, &h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, k);
	CURLcode cr = curl_easy_perform(c);
	if (!k->http)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &k->http);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	k->curl = NULL;
	if (k->rc)
		return k->rc;
	if (cr != CURLE_OK) {
		snprintf(k->err, k->errlen, "copy from %s: %s", k->q->source_id, cerr[0] ? cerr : curl_easy_strerror(cr));
		return cr == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	}
	if (k->http != 200)
		return refused(k);
	if (!k->frame_done) {
		snprintf(k->err, k->errlen, "copy stream from %s: the LZ4 frame was cut short", k->q->source_id);
		return -EPROTO;
	}
	int r = wcopy_dec_finish(&k->dec);
	/* a backup restored under another name (--as) names the old database */
	if (!r && ((!k->q->backup_file[0] && strcmp(k->dec.db, k->q->db)) || k->dec.chunk != k->q->chunk)) {
		snprintf(k->err, k->errlen, "copy stream from %s: it is not of the %s asked for", k->q->source_id,
			 k->q->chunk == WREQ_REGULAR ? "regular tables" : "chunk");
		r = -EPROTO;
	}
	return r;
}

/* ---- load, verify, swap ---- */

static int load_one(struct imp *k, struct itab *t)
{
	unsigned long long n = 0, sum = 0;
	const char *db = k->q->db;
	char *qpath = qsql_quote(k->m, t->file);
	int r = qpath ? qsql_exec_n(k->m, &n, k->err, k->errlen,
				    "LOAD DATA LOCAL INFILE '%s' INTO TABLE `%s`.`%s` CHARACTER SET binary", qpath, db,
				    t->stage) : -ENOMEM;
	free(qpath);
	unlink(t->file);
	if (r)
		return -EIO;
	if (mysql_warning_count(k->m) || n != t->rows) {
		snprintf(k->err, k->errlen, "table %s: %llu rows loaded of %llu sent%s", t->name, n, t->rows,
			 mysql_warning_count(k->m) ? ", with warnings" : "");
		return -EIO;
	}
	if (wreplica_checksum(k->m, db, t->stage, &sum, k->err, k->errlen)) {
		snprintf(k->err, k->errlen, "table %s: cannot read the checksum of its copy", t->name);
		return -EIO;
	}
	if (sum != t->sum) {
		snprintf(k->err, k->errlen, "table %s: checksum %llu of the copy differs from the source's %llu",
			 t->name, sum, t->sum);
		return -EIO;
	}
	k->rows += n;
	return 0;
}

/* One RENAME TABLE puts every copy in place (an existing table goes to
 * __old in the same statement), then a chunk is recorded.  No table: no
 * statement. */
static int swap_in(struct imp *k)
{
	const char *db = k->q->db;
	struct buf b;
	bool any_old = false;
	char e[256];
	buf_init(&b);
	buf_puts(&b, "RENAME TABLE ");
	for (size_t i = 0; i < k->n; i++) {
		struct itab *t = &k->t[i];
		if (t->existed) {
			buf_printf(&b, "`%s`.`%s` TO `%s`.`%s__old`, ", db, t->name, db, t->name);
			any_old = true;
		}
		buf_printf(&b, "`%s`.`%s` TO `%s`.`%s`%s", db, t->stage, db, t->name, i + 1 < k->n ? ", " : "");
	}
	int r = b.oom ? -ENOMEM : !k->n ? 0 : qsql_exec(k->m, k->err, k->errlen, "%s", buf_str(&b)) ? -EIO : 0;
	buf_free(&b);
	if (r)
		return r;
	for (size_t i = 0; i < k->n; i++)
		if (k->t[i].existed)
			qsql_exec(k->m, e, sizeof e, "DROP TABLE IF EXISTS `%s`.`%s__old`", db, k->t[i].name);
	if (k->q->chunk == WREQ_REGULAR)
		return 0;       /* regular tables: no sub-chunks, no qservWorker.chunks row */
	if (any_old)
		wsub_drop(k->m, db, k->q->chunk, e, sizeof e); /* its sub-chunk tables are stale */
	return qsql_exec(k->m, k->err, k->errlen, "INSERT IGNORE INTO qservWorker.chunks VALUES ('%s', %d)", db,
			 k->q->chunk) ? -EIO : 0;
}

static int run(struct imp *k)
{
	int r = expect_tables(k);
	if (!r)
		r = create_staging(k);
	if (!r)
		r = fetch(k);
	for (size_t i = 0; !r && i < k->n; i++) {
		if (!k->t[i].ended) {
			snprintf(k->err, k->errlen, "the source sent no table %s", k->t[i].name);
			r = -EPROTO;
		} else {
			r = load_one(k, &k->t[i]);
		}
	}
	if (!r)
		r = swap_in(k);
	return r;
}

/* [{"table", "rows", "checksum"}...] of the tables verified, sorted by
 * name as GET /worker/replica lists them. */
static json_t *checksums(const struct imp *k)
{
	size_t *ix = calloc(k->n + 1, sizeof *ix);
	json_t *a = json_array();
	for (size_t i = 0; ix && i < k->n; i++) {
		size_t j = i;
		for (; j > 0 && strcmp(k->t[ix[j - 1]].name, k->t[i].name) > 0; j--)
			ix[j] = ix[j - 1];
		ix[j] = i;
	}
	for (size_t i = 0; ix && i < k->n; i++) {
		const struct itab *t = &k->t[ix[i]];
		json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "table", t->name, "rows", (json_int_t)t->rows,
						   "checksum", (json_int_t)t->sum));
	}
	free(ix);
	return a;
}

int wcopy_import(struct worker *w, MYSQL *m, const struct wreq_replica *q, json_t **ret, char *err, size_t errlen)
{
	struct imp k = { .w = w, .m = m, .q = q, .err = err, .errlen = errlen };
	if (wcopy_busy_take(q->db, q->chunk)) {
		if (q->chunk == WREQ_REGULAR)
			snprintf(err, errlen, "the regular tables of %s are being copied here", q->db);
		else
			snprintf(err, errlen, "chunk %d of %s is being copied or dropped here", q->chunk, q->db);
		return -EBUSY;
	}
	wcopy_dec_init(&k.dec, err, errlen);
	k.dec.on_table = on_table;
	k.dec.on_rows = on_rows;
	k.dec.on_end = on_end;
	k.dec.ud = &k;
	int64_t t0 = monotime_ms();
	int r = run(&k);
	if (r)
		drop_staging(&k);
	json_t *sums = r ? NULL : checksums(&k);
	LZ4F_freeDecompressionContext(k.dx);
	free(k.t);
	wcopy_busy_give(q->db, q->chunk);
	if (r)
		return r == -EPROTO || r == -ENAMETOOLONG ? -EIO : r;
	double s = (double)(monotime_ms() - t0) / 1000.0;
	*ret = json_pack("{s:s, s:s, s:I, s:I, s:I, s:i, s:f, s:o}", "database", q->db, "source_id", q->source_id,
			 "bytes", (json_int_t)k.packed, "plain_bytes", (json_int_t)k.plain, "rows", (json_int_t)k.rows,
			 "tables", (int)k.n, "seconds", s, "checksums", sums);
	if (q->chunk == WREQ_REGULAR)
		json_object_set_new(*ret, "regular", json_true());
	else
		json_object_set_new(*ret, "chunk", json_integer(q->chunk));
	return 0;
}
