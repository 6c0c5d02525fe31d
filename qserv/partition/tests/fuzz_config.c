/* fuzz_config.c: libFuzzer target for the partitioner's configuration:
 * arbitrary bytes as a JSON config file (qpart_config_merge_text, merged
 * twice: merge-patch onto itself), then resolved into a run specification
 * (qpart_spec_from_config: dialects, fields, chunker parameters, outputs),
 * and again as qserv-partition-matches resolves it (part.pos1/pos2, the
 * flags column).
 * The input paths are pinned to one file (out.dir defaults to a missing
 * directory, never created here) and an index URL to a missing file, so a config cannot make the target scan or load anything. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qserv/partition/config.h"
#include "qserv/partition/partition.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qpart_config *cfg;
	struct qpart_spec spec;
	char err[512], *text = strndup((const char *)data, size);

	if (!text || qpart_config_new(&cfg) < 0)
		abort();
	if (qpart_config_merge_text(cfg, text, err, sizeof(err)) == 0 &&
	    qpart_config_merge_text(cfg, text, err, sizeof(err)) == 0 &&
	    qpart_config_set(cfg, "in.path", "/proc/self/exe", false) == 0 &&
	    (qpart_config_has(cfg, "out.dir") || qpart_config_set(cfg, "out.dir", "/nonexistent/out", false) == 0) &&
	    (!qpart_config_has(cfg, "part.id-url") ||
	     qpart_config_set(cfg, "part.id-url", "/nonexistent/fuzz-index", false) == 0)) {
		memset(&spec, 0, sizeof(spec));
		qpart_spec_from_config(cfg, &spec, err, sizeof(err));
		qpart_spec_free(&spec);
		memset(&spec, 0, sizeof(spec));
		qpart_spec_resolve(cfg, true, &spec, err, sizeof(err));
		qpart_spec_free(&spec);
	}
	qpart_config_free(cfg);
	free(text);
	return 0;
}
