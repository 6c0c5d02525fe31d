/* journal.c: the state file that makes an ingest resumable.
 *
 * Lines, fsync'd before and after each step: "begin TOKEN" (before the
 * transaction exists; TOKEN is also its context at the controller),
 * "open T TOKEN", "file T table path", "commit T" / "abort T"; and,
 * flushed but not fsync'd (informational: a lost one only means counting
 * that file again), "rows T table N path" (rows the worker loaded, for
 * validate loaded).
 *
 * Resuming replays the file: files of committed transactions are done;
 * a transaction left open is asked about at the controller (FINISHED
 * counts as committed, any other is aborted, which removes its rows); a
 * transaction announced ("begin") but never recorded ("open") is found by
 * its context and aborted.  So an interrupted ingest never duplicates or
 * loses rows. */
#include "internal.h"

#include "errbuf.h"
#include "qserv/common/qjson.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ldr_journal_open(struct ing *g, char *err, size_t errlen)
{
	if (!(g->state = fopen(g->state_path, "a"))) {
		int e = errno;
		errbuf_printf(err, errlen, "%s: %s", g->state_path, strerror(e));
		return -e;
	}
	return 0;
}

int ldr_journal_write(struct ing *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(g->state, fmt, ap);
	va_end(ap);
	if (fflush(g->state) || fsync(fileno(g->state)))
		return -errno;
	return 0;
}

void ldr_journal_note(struct ing *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(g->state, fmt, ap);
	va_end(ap);
	fflush(g->state);
}

/* What a replay of the state file found. */
struct replay {
	long long *open;            /* transactions opened: >0 unresolved, -T committed, 0 aborted */
	size_t nopen;
	struct rfile {
		long long tid;
		struct job *j;
		long long rows;
	} *files;
	size_t nfiles;
	char (*begun)[128];         /* tokens announced; "" once their "open" line is seen */
	size_t nbegun;
	json_t *index;              /* "table/rel" -> job index */
};

/* The job of (table, rel) through a hash of "table/rel" -> index (jansson's
 * object), so replaying a state file stays linear in its length. */
static struct job *find_job(struct ing *g, json_t *index, const char *table, const char *rel)
{
	char key[PATH_MAX + 80];
	snprintf(key, sizeof key, "%s/%s", table, rel);
	json_t *v = json_object_get(index, key);
	return v ? &g->j[json_integer_value(v)] : NULL;
}

static json_t *job_index(struct ing *g)
{
	json_t *index = json_object();
	char key[PATH_MAX + 80];
	for (size_t i = 0; i < g->nj; i++) {
		snprintf(key, sizeof key, "%s/%s", g->t[g->j[i].t].name, g->j[i].rel);
		json_object_set_new(index, key, json_integer((json_int_t)i));
	}
	return index;
}

/* Grows an array of n elements by one: the new element, or NULL. */
static void *grow(void *pv, size_t n, size_t size)
{
	void **p = pv;
	void *v = realloc(*p, (n + 1) * size);
	if (!v)
		return NULL;
	*p = v;
	return (char *)v + n * size;
}

/* One line of the state file into rp: 0, or -ENOMEM. */
static int replay_line(struct ing *g, struct replay *rp, const char *line)
{
	long long tid, nrows;
	char table[65], tok[128];
	int off = 0;
	if (sscanf(line, "begin %127s", tok) == 1) {
		char *b = grow(&rp->begun, rp->nbegun, sizeof *rp->begun);
		if (!b)
			return -ENOMEM;
		snprintf(b, sizeof *rp->begun, "%s", tok);
		rp->nbegun++;
		return 0;
	}
	if (sscanf(line, "open %lld %127s", &tid, tok) == 2)
		for (size_t i = 0; i < rp->nbegun; i++)
			if (!strcmp(rp->begun[i], tok))
				rp->begun[i][0] = '\0'; /* it got its id: handled as "open" */
	if (sscanf(line, "open %lld", &tid) == 1) {
		long long *o = grow(&rp->open, rp->nopen, sizeof *rp->open);
		if (!o)
			return -ENOMEM;
		*o = tid;
		rp->nopen++;
	} else if (sscanf(line, "file %lld %64s %n", &tid, table, &off) == 2 && off) {
		struct job *j = find_job(g, rp->index, table, line + off);
		if (j) {
			struct rfile *f = grow(&rp->files, rp->nfiles, sizeof *rp->files);
			if (!f)
				return -ENOMEM;
			f->tid = tid, f->rows = -1, f->j = j;
			rp->nfiles++;
		}
	} else if (sscanf(line, "rows %lld %64s %lld %n", &tid, table, &nrows, &off) == 3 && off) {
		struct job *j = find_job(g, rp->index, table, line + off);
		for (size_t k = rp->nfiles; j && k-- > 0;)
			if (rp->files[k].j == j && rp->files[k].tid == tid) {
				rp->files[k].rows = nrows;
				break;
			}
	} else if (sscanf(line, "commit %lld", &tid) == 1 || sscanf(line, "abort %lld", &tid) == 1) {
		bool commit = line[0] == 'c';
		for (size_t i = 0; i < rp->nopen; i++)
			if (rp->open[i] == tid)
				rp->open[i] = commit ? -tid : 0;
	}
	return 0;
}

static int replay_file(struct ing *g, FILE *f, struct replay *rp, char *err, size_t errlen)
{
	char line[PATH_MAX + 200];
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (replay_line(g, rp, line)) {
			errbuf_printf(err, errlen, "%s: out of memory", g->state_path);
			return -ENOMEM;
		}
	}
	return 0;
}

/* The controller's state of transaction tid ("" when it has none). */
static int trans_state(struct ing *g, long long tid, char *st, size_t stlen, char *err, size_t errlen)
{
	char path[64];
	json_t *rep = NULL;
	snprintf(path, sizeof path, "/ingest/trans/%lld", tid);
	int r = ldr_api(g, "GET", path, NULL, &rep, err, errlen);
	if (r)
		return r;
	snprintf(st, stlen, "%s", qjson_str(json_object_get(rep, "transaction"), "state", ""));
	json_decref(rep);
	return 0;
}

/* A transaction left open by an interrupted run: FINISHED counts as
 * committed; any other is aborted (unless a commit still running at the
 * controller won the race).  *ret_finished says which. */
static int resolve_open(struct ing *g, long long tid, bool *ret_finished, char *err, size_t errlen)
{
	char st[17], path[64];
	int r = trans_state(g, tid, st, sizeof st, err, errlen);
	if (r)
		return r;
	*ret_finished = !strcmp(st, "FINISHED");
	if (*ret_finished)
		return 0;
	snprintf(path, sizeof path, "/ingest/trans/%lld?abort=1", tid);
	if (strcmp(st, "ABORTED") && (r = ldr_api(g, "PUT", path, NULL, NULL, err, errlen))) {
		/* a commit still running at the controller may have won */
		char st2[17];
		if (trans_state(g, tid, st2, sizeof st2, err, errlen) || strcmp(st2, "FINISHED"))
			return r;
		*ret_finished = true;
		return 0;
	}
	ldr_emit(g, &(struct qloader_event){ .kind = QLOADER_EV_RESUME_ABORTED, .trans = tid });
	return 0;
}

/* The files of a committed transaction are done, with the rows recorded. */
static void mark_committed(struct replay *rp, long long tid)
{
	for (size_t k = 0; k < rp->nfiles; k++)
		if (rp->files[k].tid == tid) {
			rp->files[k].j->done = true;
			rp->files[k].j->loaded_rows = rp->files[k].rows;
		}
}

static int resolve_all_open(struct ing *g, struct replay *rp, char *err, size_t errlen)
{
	for (size_t i = 0; i < rp->nopen; i++) {
		long long tid = rp->open[i];
		if (tid > 0) {
			bool finished;
			int r = resolve_open(g, tid, &finished, err, errlen);
			if (r)
				return r;
			ldr_journal_write(g, "%s %lld\n", finished ? "commit" : "abort", tid);
			tid = rp->open[i] = finished ? -tid : 0;
		}
		if (tid < 0)
			mark_committed(rp, -tid);
	}
	return 0;
}

/* Transactions announced but never recorded: found by their context at
 * the controller and aborted. */
static int abort_begun(struct ing *g, struct replay *rp, char *err, size_t errlen)
{
	size_t pending = 0;
	for (size_t i = 0; i < rp->nbegun; i++)
		pending += rp->begun[i][0] != '\0';
	if (!pending)
		return 0;
	char path[160];
	json_t *rep = NULL, *t;
	size_t i;
	snprintf(path, sizeof path, "/ingest/trans?database=%s", g->db);
	int r = ldr_api(g, "GET", path, NULL, &rep, err, errlen);
	json_array_foreach(json_object_get(rep, "transactions"), i, t) {
		const char *tok = qjson_str(json_object_get(t, "context"), "qservctl", "");
		const char *st = qjson_str(t, "state", "");
		long long tid = qjson_int(t, "id", 0);
		for (size_t k = 0; !r && *tok && k < rp->nbegun; k++) {
			if (strcmp(rp->begun[k], tok) || !strcmp(st, "ABORTED") || !strcmp(st, "FINISHED"))
				continue;
			snprintf(path, sizeof path, "/ingest/trans/%lld?abort=1", tid);
			if (!(r = ldr_api(g, "PUT", path, NULL, NULL, err, errlen))) {
				ldr_journal_write(g, "abort %lld\n", tid);
				ldr_emit(g, &(struct qloader_event){ .kind = QLOADER_EV_RESUME_ABORTED, .trans = tid });
			}
		}
	}
	json_decref(rep);
	return r;
}

int ldr_journal_resume(struct ing *g, char *err, size_t errlen)
{
	FILE *f = fopen(g->state_path, "r");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	struct replay rp = { .index = job_index(g) };
	int r = replay_file(g, f, &rp, err, errlen);
	fclose(f);
	json_decref(rp.index);
	if (!r)
		r = resolve_all_open(g, &rp, err, errlen);
	if (!r)
		r = abort_begun(g, &rp, err, errlen);
	free(rp.begun);
	free(rp.open);
	free(rp.files);
	return r;
}
