/* loader.c: qloader_run(), one ingest from start to end: the dataset's
 * name and state file resolved, the dataset read (dataset.c), the
 * database registered, the journal replayed (journal.c), the files loaded
 * (contrib.c), published and validated (publish.c).  Also the one way to
 * the controller's API (ldr_api) and to the caller's callback (ldr_emit). */
#include "internal.h"

#include "errbuf.h"
#include "qserv/common/qhttpc.h"
#include "qserv/common/qjson.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int ldr_api(struct ing *g, const char *method, const char *path, json_t *body, json_t **ret, char *err,
	    size_t errlen)
{
	char *url;
	if (asprintf(&url, "%s%s", g->o.url, path) < 0) {
		errbuf_printf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int r = qhttpc_json(method, url, body, ret, err, errlen);
	free(url);
	return r;
}

void ldr_emit(struct ing *g, const struct qloader_event *ev)
{
	if (g->report)
		g->report(g->ctx, ev);
}

/* g->dir: o->dir without trailing slashes; g->state_path: o->state_path,
 * else DIR/.qservctl-ingest.state, else (a URL cannot hold the state)
 * ./.qservctl-ingest-<URL with non-alphanumerics as _>.state. */
static int resolve_paths(struct ing *g, const struct qloader_opts *o, char *err, size_t errlen)
{
	char *sp = g->state_path;
	size_t splen = sizeof g->state_path;
	if (snprintf(g->dir, sizeof g->dir, "%s", o->dir) >= (int)sizeof g->dir)
		goto too_long;
	for (size_t n = strlen(g->dir); n > 1 && g->dir[n - 1] == '/'; n--)
		g->dir[n - 1] = '\0';
	if (o->state_path) {
		if (snprintf(sp, splen, "%s", o->state_path) >= (int)splen)
			goto too_long;
	} else if (ldr_is_url(g->dir)) {
		size_t n = (size_t)snprintf(sp, splen, ".qservctl-ingest-");
		for (const char *c = g->dir; *c && n + 7 < splen; c++)
			sp[n++] = isalnum((unsigned char)*c) ? *c : '_';
		snprintf(sp + n, splen - n, ".state");
	} else if (snprintf(sp, splen, "%s/.qservctl-ingest.state", g->dir) >= (int)splen) {
		goto too_long;
	}
	g->o.dir = g->dir;
	g->o.state_path = g->state_path;
	return 0;
too_long:
	errbuf_printf(err, errlen, "%s: path too long", o->state_path ? o->state_path : o->dir);
	return -ENAMETOOLONG;
}

/* Loads (resuming what the state file recorded) and publishes a database
 * not yet published. */
static int ingest(struct ing *g, char *err, size_t errlen)
{
	int r = ldr_register_all(g, err, errlen);
	if (r || (r = ldr_journal_open(g, err, errlen)))
		return r;
	if ((r = ldr_journal_resume(g, err, errlen)) || (r = ldr_load_all(g, err, errlen)))
		return r;
	return g->o.publish ? ldr_publish(g, err, errlen) : 0;
}

static int run(struct ing *g, char *err, size_t errlen)
{
	int r = ldr_read_dataset(g, err, errlen);
	bool published = false;
	if (r || (r = ldr_is_published(g, &published, err, errlen)))
		return r;
	json_t *rep = NULL;
	if ((r = ldr_api(g, "GET", "/ingest/regular", NULL, &rep, err, errlen)))
		return r;
	g->regular = json_incref(json_object_get(rep, "locations"));
	json_decref(rep);
	if (!published) {
		if ((r = ingest(g, err, errlen)))
			return r;
	} else {
		ldr_emit(g, &(struct qloader_event){ .kind = QLOADER_EV_ALREADY_PUBLISHED, .db = g->db });
		/* the loaded row counts of earlier runs are in the state file */
		if (g->o.validate == QLOADER_VALIDATE_LOADED && access(g->state_path, F_OK) == 0) {
			if ((r = ldr_journal_open(g, err, errlen)) || (r = ldr_journal_resume(g, err, errlen)))
				return r;
		}
	}
	return ldr_validate(g, err, errlen);
}

static void ing_free(struct ing *g)
{
	if (g->state)
		fclose(g->state);
	for (size_t i = 0; i < g->nt; i++)
		json_decref(g->t[i].json);
	free(g->t);
	for (size_t i = 0; i < g->nj; i++)
		free(g->j[i].rel), free(g->j[i].path);
	free(g->j);
	free(g->batch_v);
	json_decref(g->meta);
	json_decref(g->dbjson);
	json_decref(g->regular);
	json_decref(g->chunk_loc);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

int qloader_run(const struct qloader_opts *o, qloader_report_fn report, void *ctx, char *err, size_t errlen)
{
	if (!o->url || !*o->url || !o->dir || o->jobs < 1 || o->jobs > QLOADER_MAX_JOBS || o->batch < 1 ||
	    o->num_retries < QLOADER_NO_RETRIES || o->num_retries > QLOADER_MAX_RETRIES) {
		errbuf_printf(err, errlen, "invalid options");
		return -EINVAL;
	}
	struct ing *g = calloc(1, sizeof *g);
	if (!g) {
		errbuf_printf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	g->o = *o;
	g->report = report;
	g->ctx = ctx;
	pthread_mutex_init(&g->mu, NULL);
	g->chunk_loc = json_object();
	int r = resolve_paths(g, o, err, errlen);
	if (!r)
		r = run(g, err, errlen);
	ing_free(g);
	return r;
}
