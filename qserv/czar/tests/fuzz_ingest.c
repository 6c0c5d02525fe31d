/* fuzz_ingest.c: libFuzzer target for the HTTP frontend's user-table
 * ingest requests (http_ingest_req.c).  The first byte picks the input:
 * even, an /ingest/data JSON body (checked, then its rows made TSV); odd,
 * an /ingest/csv form (the Content-Type header up to the first '\n', then
 * the body), its fields checked.  Checks: a refusal names a cause, a
 * parsed request has valid names and a canonical schema, the rows part
 * lies inside the body. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qserv/czar/http_ingest.h"

static void need(int ok)
{
	if (!ok)
		abort();
}

static void check(json_t *b, bool admin)
{
	struct ingest_req rq;
	struct buf tsv;
	char err[700] = "";
	int status = 0;

	buf_init(&tsv);
	if (ingest_req_parse(b, "alice", admin, &rq, &status, err, sizeof err) < 0) {
		need(err[0] != '\0');
	} else {
		need(!strncasecmp(rq.db, "user_", 5) && rq.ncols >= 1 && json_array_size(rq.schema) == rq.ncols);
		need(admin || !strcasecmp(rq.db, "user_alice"));
		need(rq.timeout_s >= 1 && rq.timeout_s <= INGEST_TIMEOUT_MAX);
		err[0] = '\0';
		if (ingest_rows_tsv(&rq, json_object_get(b, "rows"), &tsv, err, sizeof err) < 0)
			need(err[0] != '\0' || tsv.oom);
	}
	ingest_req_free(&rq);
	buf_free(&tsv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	char ct[512], err[700] = "";
	size_t off = 0, len = 0;
	json_t *b = NULL;

	if (size < 1)
		return 0;
	if (!(data[0] & 1)) {
		if ((b = json_loadb((const char *)data + 1, size - 1, 0, &je)))
			check(b, data[0] & 2);
		json_decref(b);
		return 0;
	}
	const char *p = (const char *)data + 1, *nl = memchr(p, '\n', size - 1);
	size_t cn = nl ? (size_t)(nl - p) : size - 1;
	if (!nl || cn >= sizeof ct)
		return 0;
	memcpy(ct, p, cn);
	ct[cn] = '\0';
	size_t n = size - 1 - cn - 1;
	char *body = malloc(n ? n : 1);   /* exactly n bytes: ASan sees a read past it */
	if (!body)
		return 0;
	memcpy(body, nl + 1, n);
	if (ingest_form(body, n, ct, &b, &off, &len, err, sizeof err) < 0) {
		need(b == NULL && err[0] != '\0');
	} else {
		need(off <= n && len <= n - off);
		check(b, data[0] & 2);
	}
	json_decref(b);
	free(body);
	return 0;
}
