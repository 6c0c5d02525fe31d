/* partition.h: one qserv-partition run: the resolved job description
 * (spec.c) and the streaming partitioner (run.c).
 *
 * A run reads every input file in blocks that end on a record boundary,
 * hands them to worker threads that split records, locate each row's
 * position (libqchunk, with overlap), append the chunkId and subChunkId
 * columns (or fill them in place when the input already names them) and
 * batch the rows per chunk, then appends the batches to the chunk files.
 * Memory is bounded by (workers + 2) blocks plus one output batch per
 * worker, whatever the input size. */
#ifndef QPART_PARTITION_H
#define QPART_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "csv.h"

struct qchunk;
struct qpart_config;
struct qpart_index;

#define QPART_COL_CHUNK (-1)
#define QPART_COL_SUB (-2)
#define QPART_COL_FLAGS (-3)	/* match tables: the partitioning flags */

struct qpart_spec {
	struct qchunk *chunker;
	struct qpart_dialect in, out;
	char **in_fields;
	size_t nin;
	int lon_idx, lat_idx;	/* position columns (input indexes), -1 in id mode;
				 * a match table's first position */
	bool matches;		/* qserv-partition-matches: two positions, flags (match.h) */
	int lon2_idx, lat2_idx;	/* matches: the second position */
	int id_idx;		/* part.id column, -1 if none */
	bool write_index;	/* part.pos and part.id: write <prefix>_object_index.txt */
	struct qpart_index *index;	/* id mode (part.id-url): the director's index */
	int *out_map;		/* per output column: input index or QPART_COL_* */
	size_t nout;
	bool fast;		/* output == input + chunk + sub, same dialect */
	char **paths;		/* input files (directories expanded) */
	size_t npaths;
	char *out_dir, *prefix;
	bool lz4;
	bool dry_run;		/* part.disable-chunks: check input, write nothing */
	uint32_t num_nodes;	/* out.num-nodes: node_NNNNN sub-directories */
	int workers;
	size_t block_size;	/* bytes */
	long max_errors;	/* bad rows tolerated (skipped, reported) */
};

/* Resolves and checks a configuration (keys as in docs/partition.md).
 * 0 or a negative errno with a message naming the option in err. */
int qpart_spec_from_config(const struct qpart_config *cfg, struct qpart_spec *ret, char *err,
			   size_t errlen);
/* The same for either partitioner: matches selects qserv-partition-matches'
 * keys (part.pos1, part.pos2, part.flags; no part.pos/part.id, no overlap
 * rows).  qpart_spec_from_config(c, ...) is qpart_spec_resolve(c, false, ...). */
int qpart_spec_resolve(const struct qpart_config *cfg, bool matches, struct qpart_spec *ret,
		       char *err, size_t errlen);
void qpart_spec_free(struct qpart_spec *spec);
/* Resolves a "LON,LAT" option (part.pos, part.pos1, part.pos2) into two
 * distinct input field indexes: 0, -ENOENT (absent) or -EINVAL (message
 * naming the option in err). */
int qpart_spec_pos(const struct qpart_config *cfg, const struct qpart_spec *spec, const char *key,
		   int *ret_lon, int *ret_lat, char *err, size_t errlen);

struct qpart_stats {
	uint64_t rows_in;	/* records read */
	uint64_t rows_bad;	/* records rejected */
	uint64_t rows_out;	/* rows written to chunk files */
	uint64_t overlap_out;	/* rows written to overlap files */
	uint64_t bytes_in;
	size_t chunks, overlap_chunks;
};

/* Receives one message per rejected row ("file:line: reason"); called
 * from worker threads, one call at a time. */
typedef void (*qpart_report_fn)(void *ctx, const char *msg);

/* Runs the job.  0; -ECANCELED when more than max_errors rows were bad
 * (the output directory is then incomplete); or another negative errno
 * with the reason in err. */
int qpart_run(const struct qpart_spec *spec, qpart_report_fn report, void *ctx,
	      struct qpart_stats *ret, char *err, size_t errlen);

#endif
