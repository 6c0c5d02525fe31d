/* fuzz_wmultipart.c: libFuzzer target for POST /ingest/csv's form parser
 * (wreq_boundary, wreq_multipart in wreq.c).  Input: the Content-Type
 * header up to the first '\n', then the body.  Checks: a parsed form's
 * file part lies inside the body, its fields are strings within their
 * caps, and a refusal leaves no fields and names a cause. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qserv/worker/wreq.h"

static void need(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	char ct[512], b[WREQ_BOUNDARY], err[512] = "";
	size_t cn = nl ? (size_t)(nl - (const char *)data) : size;
	if (cn >= sizeof ct)
		return 0;
	memcpy(ct, data, cn);
	ct[cn] = '\0';
	if (wreq_boundary(ct, b, err, sizeof err)) {
		need(err[0] != '\0');
		return 0;
	}
	need(strlen(b) >= 1 && strlen(b) <= 70);
	size_t n = nl ? size - cn - 1 : 0;
	/* a copy of exactly n bytes, so ASan sees any read past the body */
	char *body = malloc(n ? n : 1);
	if (!body)
		return 0;
	if (n)
		memcpy(body, nl + 1, n);
	json_t *f = NULL;
	size_t off = 0, len = 0;
	err[0] = '\0';
	if (wreq_multipart(body, n, b, &f, &off, &len, err, sizeof err)) {
		need(f == NULL && err[0] != '\0');
	} else {
		const char *k;
		json_t *v;
		need(f != NULL && off <= n && len <= n - off);
		need(json_object_size(f) <= 32);
		json_object_foreach(f, k, v)
			need(json_is_string(v) && json_string_length(v) <= 1024 && strlen(k) <= 64);
		struct wreq_contrib c;
		wreq_contrib(f, &c, err, sizeof err);
	}
	json_decref(f);
	free(body);
	need(strnlen(err, sizeof err) < sizeof err);
	return 0;
}
