/* match.c: match-table placement (match.h): the position columns of
 * qserv-partition-matches and where a match row goes.  The flags column
 * and the chunk/sub-chunk columns are resolved with the other output
 * columns (spec.c); rows are emitted by the streaming run (run.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "qserv/chunk/chunk.h"
#include "config.h"
#include "match.h"
#include "partition.h"

/* Qserv's EPSILON_DEG (src/partition/Constants.h): 1 milli-arcsecond. */
#define MATCH_EPSILON_DEG (0.001 / 3600.0)

int qpart_match_columns(const struct qpart_config *cfg, struct qpart_spec *s, char *err,
			size_t errlen)
{
	bool has1 = qpart_config_has(cfg, "part.pos1"), has2 = qpart_config_has(cfg, "part.pos2");
	s->id_idx = -1;
	s->lon_idx = s->lat_idx = s->lon2_idx = s->lat2_idx = -1;
	if (!has1 && !has2) {
		if (qpart_config_has(cfg, "part.id1") || qpart_config_has(cfg, "part.id2"))
			snprintf(err, errlen, "--part.id1/--part.id2 (placement through the directors' "
				 "object indexes) is not supported: give --part.pos1 and --part.pos2");
		else
			snprintf(err, errlen, "--part.pos1 and --part.pos2 are required (each "
				 "LON,LAT: the input fields of a match's two positions)");
		return -EINVAL;
	}
	if (has1 != has2) {
		snprintf(err, errlen, "Both options --part.pos1 and --part.pos2 should be specified "
			 "if either was provided.");
		return -EINVAL;
	}
	int r = qpart_spec_pos(cfg, s, "part.pos1", &s->lon_idx, &s->lat_idx, err, errlen);
	if (r == 0)
		r = qpart_spec_pos(cfg, s, "part.pos2", &s->lon2_idx, &s->lat2_idx, err, errlen);
	return r;
}

int qpart_match_place(const struct qchunk *c, const struct qpart_match_pos *p1,
		      const struct qpart_match_pos *p2, struct qpart_match_place ret[2],
		      size_t *ret_n, double *ret_sep)
{
	struct qchunk_loc l1 = { 0 }, l2 = { 0 };
	if (!p1->valid && !p2->valid)
		return -EINVAL;
	if ((p1->valid && qchunk_locate(c, p1->lon, p1->lat, &l1) < 0) ||
	    (p2->valid && qchunk_locate(c, p2->lon, p2->lat, &l2) < 0))
		return -EDOM;
	if (p1->valid && p2->valid) {
		double sep = qchunk_ang_sep(p1->lon, p1->lat, p2->lon, p2->lat);
		if (sep > qchunk_overlap(c) - MATCH_EPSILON_DEG) {
			*ret_sep = sep;
			return -ERANGE;
		}
	}
	size_t n = 0;
	if (p1->valid && p2->valid && l1.chunk_id == l2.chunk_id) {
		ret[n++] = (struct qpart_match_place){ l1.chunk_id, l1.sub_chunk_id,
						       QPART_MATCH_FLAG1 | QPART_MATCH_FLAG2 };
	} else {
		if (p1->valid)
			ret[n++] = (struct qpart_match_place){ l1.chunk_id, l1.sub_chunk_id,
							       QPART_MATCH_FLAG1 };
		if (p2->valid)
			ret[n++] = (struct qpart_match_place){ l2.chunk_id, l2.sub_chunk_id,
							       QPART_MATCH_FLAG2 };
	}
	*ret_n = n;
	return 0;
}
