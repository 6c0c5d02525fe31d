/* contrib.c: loading the files: transactions of up to `batch` files, each
 * file one contribution sent by one of `jobs` loader threads to the worker
 * the controller places its chunk on (every worker for a regular table).
 *
 * A contribution goes as a file:// URL the worker reads itself when the
 * worker is on this host (or the dataset is a URL the worker fetches),
 * else the rows are uploaded in the request body.  The CSV dialect of a
 * file: its table JSON's, else metadata.json's "formats" entry for its
 * extension, else metadata.json's own, else the worker's default (TSV).
 *
 * A contribution failing for a transient reason is sent again (up to
 * num_retries times, Qserv's default 1, with a growing pause); the first
 * contribution that fails for good stops the batch; its transaction is
 * aborted (no row of it stays) and the run fails. */
#include "internal.h"

#include "buf.h"
#include "errbuf.h"
#include "parallel.h"
#include "qserv/common/qhttpc.h"
#include "qserv/common/qjson.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool local_host(const char *h)
{
	return !strncmp(h, "127.", 4) || !strcmp(h, "localhost") || !strcmp(h, "::1");
}

/* A CSV dialect key for a file: the table JSON's, else metadata.json's
 * "formats" entry for the file's extension (qserv-ingest: "formats":
 * {"txt": {"fields_terminated_by": ","}}), else metadata.json's own, else
 * unset (the worker's default: Qserv's TSV). */
static const char *dialect(struct ing *g, struct tbl *t, struct job *j, const char *key)
{
	const char *v = qjson_str(t->json, key, NULL);
	if (v)
		return v;
	char ext[16] = "";
	const char *name = strrchr(j->rel, '/') ? strrchr(j->rel, '/') + 1 : j->rel;
	size_t n = strlen(name);
	if (n > 4 && !strcmp(name + n - 4, ".lz4"))
		n -= 4;
	for (size_t i = n; i-- > 0;)
		if (name[i] == '.') {
			if (n - i - 1 < sizeof ext)
				snprintf(ext, sizeof ext, "%.*s", (int)(n - i - 1), name + i + 1);
			break;
		}
	json_t *fmt = json_object_get(json_object_get(g->meta, "formats"), ext);
	v = qjson_str(fmt, key, NULL);
	return v ? v : qjson_str(g->meta, key, NULL);
}

static const char *const dialect_keys[] = { "fields_terminated_by", "fields_enclosed_by", "fields_escaped_by",
					    "lines_terminated_by" };

int ldr_dialect(struct ing *g, struct job *j, struct csvd *ret, char *err, size_t errlen)
{
	struct tbl *t = &g->t[j->t];
	const char *v[4];
	for (int i = 0; i < 4; i++)
		v[i] = dialect(g, t, j, dialect_keys[i]);
	return csvd_parse(ret, v[0], v[1], v[2], v[3], err, errlen);
}

/* POST /ingest/file: the worker reads (or fetches) the file itself. */
static int send_url(struct ing *g, struct job *j, const char *host, int port, json_t **rep, char *e,
		    size_t elen)
{
	struct tbl *t = &g->t[j->t];
	json_t *body = json_pack("{s:I, s:s, s:i, s:i, s:s, s:s}", "transaction_id", (json_int_t)g->trans,
				 "table", t->name, "chunk", j->chunk, "overlap", j->overlap ? 1 : 0,
				 "charset_name", g->charset, "database", g->db);
	struct buf fu, url;
	buf_init(&fu), buf_init(&url);
	buf_printf(&fu, "%s%s", ldr_is_url(j->path) ? "" : "file://", j->path);
	json_object_set_new(body, "url", json_string(buf_str(&fu)));
	for (int i = 0; i < 4; i++) {
		const char *v = dialect(g, t, j, dialect_keys[i]);
		if (v)
			json_object_set_new(body, dialect_keys[i], json_string(v));
	}
	buf_printf(&url, "http://%s:%d/ingest/file", host, port);
	int r;
	if (fu.oom || url.oom || !body) {
		errbuf_printf(e, elen, "out of memory");
		r = -ENOMEM;
	} else {
		r = qhttpc_json("POST", buf_str(&url), body, rep, e, elen);
	}
	json_decref(body);
	buf_free(&fu), buf_free(&url);
	return r;
}

/* POST /ingest/csv: the rows in the request body. */
static int send_upload(struct ing *g, struct job *j, const char *host, int port, json_t **rep, char *e,
		       size_t elen)
{
	struct tbl *t = &g->t[j->t];
	struct buf url;
	buf_init(&url);
	buf_printf(&url,
		   "http://%s:%d/ingest/csv?transaction_id=%lld&table=%s&chunk=%d&overlap=%d&database=%s&charset_name=%s",
		   host, port, g->trans, t->name, j->chunk, j->overlap ? 1 : 0, g->db, g->charset);
	for (int i = 0; i < 4; i++) {
		const char *v = dialect(g, t, j, dialect_keys[i]);
		char *ev = v ? qhttpc_escape(v) : NULL;
		if (ev)
			buf_printf(&url, "&%s=%s", dialect_keys[i], ev);
		free(ev);
	}
	int r;
	if (url.oom) {
		errbuf_printf(e, elen, "out of memory");
		r = -ENOMEM;
	} else {
		r = qhttpc_post_file(buf_str(&url), j->path, rep, e, elen);
	}
	buf_free(&url);
	return r;
}

/* Whether a failed contribution may succeed if sent again: nothing
 * reached the worker or the worker said it could not take it now
 * (connection refused or reset, timeout, no reply, HTTP 5xx), as opposed
 * to a refusal of the request or its data (4xx), sent again in vain.
 * qhttpc says which by its errno (-ECONNREFUSED, -ECONNRESET, -ETIMEDOUT,
 * -EHOSTUNREACH; -EAGAIN for a JSON 5xx); a 5xx that is not Qserv's JSON
 * comes back as -EPROTO ("HTTP 503, reply is not ..."), and curl's
 * messages on -EIO are still read for a transport failure qhttpc does not
 * map. */
bool ldr_transient(int r, const char *e)
{
	static const char *const marks[] = {
		"Connection refused", "Couldn't connect", "Failed to connect", "Connection reset",
		"Recv failure", "Send failure", "Empty reply from server", "timed out", "Timeout was reached",
		"Failure when receiving data", "Server returned nothing", ": HTTP 5",
	};
	if (r == -ECONNREFUSED || r == -ECONNRESET || r == -ETIMEDOUT || r == -EAGAIN || r == -ECONNABORTED ||
	    r == -EHOSTUNREACH || r == -ENETUNREACH || r == -EPIPE)
		return true;
	if (r != -EIO && r != -EPROTO)
		return false;
	for (size_t i = 0; i < sizeof marks / sizeof *marks; i++)
		if (strstr(e, marks[i]))
			return true;
	return false;
}

/* The pause before attempt n + 1: 1 s, 2 s, 4 s ... at most 30 s. */
static void backoff(int n)
{
	long ms = n >= 6 ? 30000 : 1000L << (n - 1);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int retries(const struct ing *g)
{
	int n = g->o.num_retries;
	return n == QLOADER_NO_RETRIES ? 0 : n == 0 ? QLOADER_DEFAULT_RETRIES : n;
}

/* Sends one file to one worker location, once. */
static int contribute_once(struct ing *g, struct job *j, json_t *loc, unsigned long long *ret_rows,
			   unsigned long long *ret_bytes, char *err, size_t errlen)
{
	const char *host = qjson_str(loc, "http_host", qjson_str(loc, "host", ""));
	int port = (int)qjson_int(loc, "http_port", qjson_int(loc, "port", 0));
	enum qloader_transfer tr = g->o.transfer;
	bool upload = !ldr_is_url(j->path) &&
		      (tr == QLOADER_TRANSFER_UPLOAD || (tr == QLOADER_TRANSFER_AUTO && !local_host(host)));
	json_t *rep = NULL;
	char e[1500];
	int r = upload ? send_upload(g, j, host, port, &rep, e, sizeof e)
		       : send_url(g, j, host, port, &rep, e, sizeof e);
	if (r)
		errbuf_printf(err, errlen, "%s (table %s) -> %s: %s", j->rel, g->t[j->t].name,
			      qjson_str(loc, "worker", host), e);
	json_t *c = json_object_get(rep, "contrib");
	long long nw = r ? 0 : qjson_int(c, "num_warnings", 0);
	if (nw > g->o.max_warnings) {
		/* the rows are in, some not as sent: the batch is aborted (the
		 * operator raises --max-warnings to accept them) */
		const char *first = qjson_str(json_array_get(json_object_get(c, "warnings"), 0), "message", "");
		errbuf_printf(err, errlen, "%s (table %s) -> %s: %lld MariaDB warning(s) while loading%s%s (at most"
			      " %lld allowed: --max-warnings)", j->rel, g->t[j->t].name, qjson_str(loc, "worker", host),
			      nw, *first ? ", the first: " : "", first, g->o.max_warnings);
		r = -EBADMSG;
	} else if (!r) {
		*ret_rows = (unsigned long long)qjson_int(json_object_get(rep, "contrib"), "num_rows", 0);
		*ret_bytes = (unsigned long long)qjson_int(json_object_get(rep, "contrib"), "num_bytes", 0);
	}
	json_decref(rep);
	return r;
}

/* Sends one file to one worker location, again after a transient failure
 * up to num_retries times with a growing pause; each retry is an event
 * and a "retry T table ATTEMPT path" line of the state file.  A retry
 * cannot load rows twice unnoticed: a worker that failed in the middle
 * of a load marks the transaction failed (the retry and the commit are
 * refused, the batch is aborted), and validation compares the rows. */
static int contribute(struct ing *g, struct job *j, json_t *loc, unsigned long long *ret_rows,
		      unsigned long long *ret_bytes, char *err, size_t errlen)
{
	const char *worker = qjson_str(loc, "worker", qjson_str(loc, "http_host", ""));
	for (int attempt = 1;; attempt++) {
		int r = contribute_once(g, j, loc, ret_rows, ret_bytes, err, errlen);
		if (!r || attempt > retries(g) || !ldr_transient(r, err))
			return r;
		pthread_mutex_lock(&g->mu);
		if (g->failed) { /* another file failed the batch: it is aborted anyway */
			pthread_mutex_unlock(&g->mu);
			return r;
		}
		ldr_journal_note(g, "retry %lld %s %d %s\n", g->trans, g->t[j->t].name, attempt, j->rel);
		ldr_emit(g, &(struct qloader_event){ .kind = QLOADER_EV_RETRY, .table = g->t[j->t].name,
						     .worker = worker, .text = err, .attempt = attempt,
						     .trans = g->trans });
		pthread_mutex_unlock(&g->mu);
		backoff(attempt);
	}
}

/* Where chunk c goes (cached: placement is stable). */
static json_t *chunk_location(struct ing *g, int32_t c, char *err, size_t errlen)
{
	char key[16];
	snprintf(key, sizeof key, "%d", c);
	pthread_mutex_lock(&g->mu);
	json_t *loc = json_object_get(g->chunk_loc, key);
	json_incref(loc);
	pthread_mutex_unlock(&g->mu);
	if (loc)
		return loc;
	json_t *body = json_pack("{s:I, s:i}", "transaction_id", (json_int_t)g->trans, "chunk", c), *rep = NULL;
	int r = ldr_api(g, "POST", "/ingest/chunk", body, &rep, err, errlen);
	json_decref(body);
	if (r)
		return NULL;
	loc = json_incref(json_object_get(rep, "location"));
	json_decref(rep);
	pthread_mutex_lock(&g->mu);
	json_object_set(g->chunk_loc, key, loc);
	pthread_mutex_unlock(&g->mu);
	return loc;
}

/* One job: to its chunk's worker, or to every worker for a regular table. */
static int load_job(struct ing *g, struct job *j, unsigned long long *ret_rows, unsigned long long *ret_bytes,
		    char *err, size_t errlen)
{
	int r = 0;
	if (g->t[j->t].partitioned) {
		json_t *loc = chunk_location(g, j->chunk, err, errlen);
		r = loc ? contribute(g, j, loc, ret_rows, ret_bytes, err, errlen) : -EIO;
		json_decref(loc);
		return r;
	}
	size_t i;
	json_t *loc;
	unsigned long long n;
	json_array_foreach(g->regular, i, loc) {
		if ((r = contribute(g, j, loc, &n, ret_bytes, err, errlen)))
			break;
		*ret_rows = n; /* the same rows on every worker */
	}
	return r;
}

/* Records a job's outcome (under g->mu): the first failure stops the batch. */
static void job_done(struct ing *g, struct job *j, int r, unsigned long long rows, unsigned long long bytes,
		     const char *err)
{
	if (r && !g->failed) {
		g->failed = true;
		snprintf(g->err, sizeof g->err, "%s", err);
	} else if (!r) {
		g->progress.files_done++;
		g->progress.rows += rows;
		j->loaded_rows = (long long)rows;
		/* informational (a lost line only means counting that file):
		 * flushed, not fsync'd, so loaders do not queue on the disk */
		ldr_journal_note(g, "rows %lld %s %llu %s\n", g->trans, g->t[j->t].name, rows, j->rel);
		g->progress.bytes += j->bytes ? j->bytes : bytes;
		ldr_emit(g, &(struct qloader_event){ .kind = QLOADER_EV_PROGRESS, .progress = g->progress });
	}
}

static void *loader_thread(void *arg)
{
	struct ing *g = arg;
	for (;;) {
		pthread_mutex_lock(&g->mu);
		if (g->failed || g->next >= g->batch_n) {
			pthread_mutex_unlock(&g->mu);
			return NULL;
		}
		struct job *j = &g->j[g->batch_v[g->next++]];
		pthread_mutex_unlock(&g->mu);
		char err[2048] = "";
		unsigned long long rows = 0, bytes = 0;
		int r = load_job(g, j, &rows, &bytes, err, sizeof err);
		pthread_mutex_lock(&g->mu);
		job_done(g, j, r, rows, bytes, err);
		pthread_mutex_unlock(&g->mu);
	}
}

/* Creates the batch's transaction, announced in the state file ("begin
 * TOKEN") before it exists and created with context {"qservctl": TOKEN},
 * so a run killed between the two can still find and abort it; then
 * records it and its files. */
static int open_batch(struct ing *g, char *err, size_t errlen)
{
	char token[128], host[64] = "";
	static unsigned seq;
	gethostname(host, sizeof host - 1);
	snprintf(token, sizeof token, "%s-%d-%lld-%u", host, (int)getpid(), (long long)time(NULL), ++seq);
	int r = ldr_journal_write(g, "begin %s\n", token);
	if (r)
		goto write_failed;
	json_t *body = json_pack("{s:s, s:{s:s}}", "database", g->db, "context", "qservctl", token), *rep = NULL;
	r = ldr_api(g, "POST", "/ingest/trans", body, &rep, err, errlen);
	json_decref(body);
	if (r)
		return r;
	g->trans = qjson_int(json_object_get(rep, "transaction"), "id", 0);
	json_decref(rep);
	if ((r = ldr_journal_write(g, "open %lld %s\n", g->trans, token)))
		goto write_failed;
	for (size_t i = 0; i < g->batch_n; i++) {
		struct job *j = &g->j[g->batch_v[i]];
		if ((r = ldr_journal_write(g, "file %lld %s %s\n", g->trans, g->t[j->t].name, j->rel)))
			goto write_failed;
	}
	return 0;
write_failed:
	errbuf_printf(err, errlen, "%s: %s", g->state_path, strerror(-r));
	return r;
}

/* The batch's files through min(jobs, files) loader threads. */
static void run_threads(struct ing *g)
{
	g->next = 0;
	g->failed = false;
	parallel_run(loader_thread, g, (size_t)g->o.jobs < g->batch_n ? (size_t)g->o.jobs : g->batch_n);
}

/* One transaction over the files batch_v[0..batch_n): committed, or
 * aborted when a contribution failed. */
static int run_batch(struct ing *g, char *err, size_t errlen)
{
	int r = open_batch(g, err, errlen);
	if (r)
		return r;
	run_threads(g);
	char path[80];
	if (g->failed) {
		errbuf_printf(err, errlen, "%s", g->err);
		snprintf(path, sizeof path, "/ingest/trans/%lld?abort=1", g->trans);
		char e2[512];
		if (!ldr_api(g, "PUT", path, NULL, NULL, e2, sizeof e2))
			ldr_journal_write(g, "abort %lld\n", g->trans);
		else
			ldr_emit(g, &(struct qloader_event){ .kind = QLOADER_EV_ABORT_FAILED, .trans = g->trans,
							     .text = e2 });
		return -EIO;
	}
	snprintf(path, sizeof path, "/ingest/trans/%lld?abort=0", g->trans);
	if ((r = ldr_api(g, "PUT", path, NULL, NULL, err, errlen)))
		return r;
	for (size_t i = 0; i < g->batch_n; i++)
		g->j[g->batch_v[i]].done = true;
	if ((r = ldr_journal_write(g, "commit %lld\n", g->trans)))
		errbuf_printf(err, errlen, "%s: %s", g->state_path, strerror(-r));
	return r;
}

int ldr_load_all(struct ing *g, char *err, size_t errlen)
{
	if (!(g->batch_v = calloc(g->nj ? g->nj : 1, sizeof *g->batch_v))) {
		errbuf_printf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g->progress.files_total = 0;
	for (size_t i = 0; i < g->nj; i++)
		g->progress.files_total += !g->j[i].done;
	size_t i = 0;
	int r = 0;
	while (!r) {
		g->batch_n = 0;
		for (; i < g->nj && g->batch_n < (size_t)g->o.batch; i++)
			if (!g->j[i].done)
				g->batch_v[g->batch_n++] = i;
		if (!g->batch_n)
			break;
		r = run_batch(g, err, errlen);
	}
	ldr_emit(g, &(struct qloader_event){ .kind = QLOADER_EV_LOADED, .progress = g->progress });
	return r;
}
