/* fuzz_mpart.c: libFuzzer target for the multipart/form-data parser
 * (qserv/common/mpart.c: mpart_boundary, mpart_form as the worker's
 * POST /ingest/csv uses it, mpart_parse as the czar's).  Input: the
 * Content-Type header up to the first '\n', then the body.  Checks: every
 * part's content lies inside the body, a form's fields are strings within
 * their caps, and a refusal leaves no fields and names a cause. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qserv/common/mpart.h"

static void need(int ok)
{
	if (!ok)
		abort();
}

static void check_parse(const char *body, size_t n, const char *b)
{
	struct mpart_part parts[8];
	size_t np = 9, i;
	char err[512] = "";

	if (mpart_parse(body, n, b, parts, 8, &np, err, sizeof err)) {
		need(err[0] != '\0' && np <= 8);
		return;
	}
	need(np <= 8);
	for (i = 0; i < np; i++)
		need(parts[i].off <= n && parts[i].len <= n - parts[i].off && parts[i].name[0] &&
		     strlen(parts[i].name) < MPART_NAME);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	char ct[512], b[MPART_BOUNDARY], err[512] = "";
	size_t cn = nl ? (size_t)(nl - (const char *)data) : size;
	if (cn >= sizeof ct)
		return 0;
	memcpy(ct, data, cn);
	ct[cn] = '\0';
	if (mpart_boundary(ct, b, err, sizeof err)) {
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
	if (mpart_form(body, n, b, &f, &off, &len, err, sizeof err)) {
		need(f == NULL && err[0] != '\0');
	} else {
		const char *k;
		json_t *v;
		need(f != NULL && off <= n && len <= n - off);
		need(json_object_size(f) <= MPART_FIELDS);
		json_object_foreach(f, k, v)
			need(json_is_string(v) && json_string_length(v) <= MPART_VALUE && strlen(k) <= 64);
	}
	json_decref(f);
	check_parse(body, n, b);
	free(body);
	need(strnlen(err, sizeof err) < sizeof err);
	return 0;
}
