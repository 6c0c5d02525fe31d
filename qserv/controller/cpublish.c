/* cpublish.c: publishing a database, and the operator's way back.
 *
 *   PUT /ingest/database/<db>                        publish (Qserv's)
 *   PUT /ingest/database/<db> {"publish": false}     un-publish
 *
 * Publish: refused while a transaction of db is open; every chunk is
 * brought to db's replica level (crepl.c: copies worker to worker, each
 * recorded in qservMeta.chunks once verified; a failed copy fails the
 * publish, naming the chunk); its reference checksums are recorded anew
 * (cverify.c: from the copies, else from each chunk's first holder);
 * every worker creates
 * its dummy chunk tables and marks db published (from then on it refuses
 * every write to db: tables, chunks, transactions, contributions, drops),
 * the default indexes on the director keys are built where missing
 * (csqlidx.c), then qservMeta says published and the czar serves it.
 *
 * Un-publish (for an operator who must correct or extend a published
 * catalog): qservMeta first (the czar stops serving db at its next
 * metadata load, so nobody queries a catalog being changed; each chunk
 * keeps only its first holder, the one loads go to, so the replicas the
 * next publish makes are copies of what was loaded; its reference
 * checksums are forgotten), then every
 * worker drops its mark and takes writes again.  Both are idempotent: a
 * failure at a worker leaves an error naming it, and the same call again
 * finishes the job.  With row_counters_deploy_at_qserv, publishing also
 * scans and deploys every table's row counters (cstats.c).  The caller holds the admin credential (capi.c). */
#include "controller.h"
#include "cbackup.h"
#include "qserv/common/sqlid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int publish(struct ctl *c, MYSQL *m, const char *db, json_t **ret_repl, char *err, size_t errlen)
{
	long long open = 0;
	int r = cmeta_open_trans(m, db, &open, err, errlen);
	if (r)
		return r;
	if (open) {
		snprintf(err, errlen, "database %s has %lld open transaction(s): commit or abort them before"
			 " publishing", db, open);
		return -EBUSY;
	}
	/* loads may have changed its chunks: references anew (cverify.c) */
	if ((r = cverify_forget(m, db, err, errlen)) || (r = crepl_bring(c, m, db, ret_repl, err, errlen)))
		return r;
	cverify_record(c, m, db);
	json_t *body = json_pack("{s:s}", "database", db);
	r = ctl_all_workers(m, "POST", "publish", body, err, errlen);
	json_decref(body);
	/* after the dummy chunk exists, before the czar may serve db */
	if (!r)
		r = csqlidx_defaults(c, m, db, NULL, NULL, err, errlen);
	if (!r && (qsql_exec(m, err, errlen, "UPDATE qservMeta.dbs SET published=1 WHERE name='%s'", db) ||
		   qsql_exec(m, err, errlen, "UPDATE qservMeta.tables SET published=1 WHERE db='%s'", db)))
		r = -EIO;
	return r;
}

static int unpublish(MYSQL *m, const char *db, char *err, size_t errlen)
{
	if (qsql_exec(m, err, errlen, "UPDATE qservMeta.dbs SET published=0 WHERE name='%s'", db) ||
	    qsql_exec(m, err, errlen, "UPDATE qservMeta.tables SET published=0 WHERE db='%s'", db) ||
	    cverify_forget(m, db, err, errlen))
		return -EIO;
	/* loads go to a chunk's first holder only (cplace.c): the other
	 * replicas are forgotten, and the next publish copies them again */
	if (qsql_exec(m, err, errlen,
		      "DELETE FROM qservMeta.chunks WHERE db='%s' AND (chunk, worker_id) NOT IN"
		      " (SELECT chunk, MIN(worker_id) FROM qservMeta.chunks WHERE db='%s' GROUP BY chunk)", db, db))
		return -EIO;
	json_t *body = json_pack("{s:s}", "database", db);
	int r = ctl_all_workers(m, "POST", "unpublish", body, err, errlen);
	json_decref(body);
	return r;
}

int cpublish_request(struct ctl *c, MYSQL *m, const char *db, bool want, bool deploy_counters, json_t **ret,
		     char *err, size_t errlen)
{
	struct cdb d;
	json_t *repl = NULL;
	int r = cmeta_db(m, db, &d, err, errlen);
	if (r)
		return r;
	if (!r && !want && cbackup_locked(db)) {   /* an un-published database would take loads */
		snprintf(err, errlen, "database %s is being backed up: un-publish it after the backup", db);
		return -EBUSY;
	}
	r = want ? publish(c, m, db, &repl, err, errlen) : unpublish(m, db, err, errlen);
	if (!r && want && deploy_counters)   /* Qserv's row_counters_deploy_at_qserv */
		r = cstats_deploy_db(c, m, db, err, errlen);
	if (!r)
		cnotify_czar(c, CNOTIFY_CATALOG, want ? "publish" : "un-publish");
	if (!r)
		*ret = json_pack("{s:{s:s, s:b}, s:o?}", "database", "name", db, "is_published", want, "replication",
				 repl);
	else
		json_decref(repl);
	return r;
}
