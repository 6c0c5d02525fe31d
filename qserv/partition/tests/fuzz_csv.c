/* fuzz_csv.c: libFuzzer target for the partitioner's CSV dialects and
 * record codec (csv.h).  Input: a first line of JSON configuration (the
 * in.csv.* keys; an unusable one means the defaults), then records, one a
 * line.  Each record is split; each field checked for NULL and decoded.
 * Invariant (what qserv-partition writes reads back): a decoded value the
 * dialect can encode splits as one field that is not NULL and decodes to
 * the same bytes; an encoded SQL NULL reads as NULL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qserv/partition/config.h"
#include "qserv/partition/csv.h"

#define MAXF 64

static void round_trip(const struct qpart_dialect *d, const char *v, size_t n)
{
	char enc[2 * 4096 + 2], dec[4096 + 1];
	struct qpart_field f;
	long k = qpart_csv_encode(d, v, n, enc, sizeof(enc)), m;

	if (k < 0)
		return;
	if (qpart_csv_split(d, enc, (size_t)k, &f, 1) != 1 || qpart_csv_is_null(d, &f) != !v)
		abort();
	if (v && ((m = qpart_csv_decode(d, &f, dec, sizeof(dec))) != (long)n || memcmp(dec, v, n)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl = memchr(p, '\n', size);
	struct qpart_config *cfg;
	struct qpart_dialect d;
	struct qpart_field f[MAXF];
	char err[256], *text = strndup(p, nl ? (size_t)(nl - p) : size), dec[4096 + 1];
	size_t i, n;

	if (!text || qpart_config_new(&cfg) < 0)
		abort();
	if (qpart_config_merge_text(cfg, text, err, sizeof(err)) < 0 ||
	    qpart_dialect_from_config(cfg, "in.csv.", &d, err, sizeof(err)) < 0) {
		qpart_config_free(cfg);
		if (qpart_config_new(&cfg) < 0 || qpart_dialect_from_config(cfg, "in.csv.", &d, err, sizeof(err)) < 0)
			abort();
	}
	round_trip(&d, NULL, 0);
	for (p = nl ? nl + 1 : end; p < end; p = nl ? nl + 1 : end) {
		size_t len = (nl = memchr(p, '\n', (size_t)(end - p))) ? (size_t)(nl - p) : (size_t)(end - p);
		n = qpart_csv_split(&d, p, len, f, MAXF);
		for (i = 0; i < n && i < MAXF; i++) {
			long k = qpart_csv_is_null(&d, &f[i]) ? -1 : qpart_csv_decode(&d, &f[i], dec, sizeof(dec));
			if (k >= 0)
				round_trip(&d, dec, (size_t)k);
		}
	}
	qpart_config_free(cfg);
	free(text);
	return 0;
}
