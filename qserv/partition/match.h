/* match.h: placement of match-table rows (Qserv's sph-partition-matches).
 *
 * A match row links two objects and carries both positions.  It goes to
 * the chunk of each position that is not NULL, once per distinct chunk,
 * with a flags value saying which positions lie in that chunk: bit 0 (1)
 * position 1, bit 1 (2) position 2, 3 both (a single row).  The row's
 * sub-chunk is that of the position lying in the chunk (position 1's for
 * flags 3).  Match tables have no overlap rows.  A row with both positions
 * NULL, or whose positions are part.overlap or more apart, is a bad row
 * (Qserv stops on both; we count and skip them like any bad row). */
#ifndef QPART_MATCH_H
#define QPART_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qchunk;
struct qpart_config;
struct qpart_spec;

#define QPART_MATCH_FLAG1 1
#define QPART_MATCH_FLAG2 2

struct qpart_match_pos {
	bool valid;	/* false: the position is NULL */
	double lon, lat;
};

struct qpart_match_place {
	int32_t chunk_id, sub_chunk_id;
	int flags;
};

/* Resolves part.pos1 and part.pos2 ("LON,LAT" input field names) into
 * spec->lon_idx/lat_idx and lon2_idx/lat2_idx.  0 or -EINVAL with a
 * message naming the option in err. */
int qpart_match_columns(const struct qpart_config *cfg, struct qpart_spec *spec, char *err,
			size_t errlen);

/* Places one match: 0 with 1 or 2 placements in ret (*ret_n, ascending by
 * flags); -EINVAL both positions NULL; -ERANGE positions too far apart
 * (*ret_sep their separation); -EDOM a latitude outside [-90, 90]. */
int qpart_match_place(const struct qchunk *c, const struct qpart_match_pos *p1,
		      const struct qpart_match_pos *p2, struct qpart_match_place ret[2],
		      size_t *ret_n, double *ret_sep);

#endif
