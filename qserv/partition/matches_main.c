/* matches_main.c: qserv-partition-matches, sph-partition-matches'
 * command-line form (cli.c; placement in match.c).
 *
 *   qserv-partition-matches --config-file=F ... --in.path=P ... --out.dir=D
 *       --part.pos1=RA1,DEC1 --part.pos2=RA2,DEC2 [--part.flags=NAME] [--KEY=VALUE ...]
 *
 * On success a JSON summary goes to stdout.  Exit status: 0 ok, 1 bad
 * rows / I/O error, 2 usage or configuration error. */
#include <stdio.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: qserv-partition-matches [--config-file=FILE]... --in.path=PATH... --out.dir=DIR\n"
		"           --part.pos1=LON1,LAT1 --part.pos2=LON2,LAT2 [--part.flags=NAME]\n"
		"           [--part.num-stripes=N] [--part.num-sub-stripes=N] [--part.overlap=DEG]\n"
		"           [--in.csv.field=A,B,...] [--KEY=VALUE]...\n"
		"  Partitions a match table (two positions per row) into Qserv chunks: each row\n"
		"  goes to DIR/chunk_<id>.txt of the chunk of each non-NULL position, with chunkId,\n"
		"  subChunkId and the flags column (default partitioningFlags) appended:\n"
		"  1 = position 1 is in this chunk, 2 = position 2, 3 = both (one row).\n"
		"  Positions further apart than part.overlap (default 0.01 deg) are bad rows.\n"
		"  No overlap files.  Other keys as qserv-partition's.  See docs/ingest.md.\n");
}

int main(int argc, char **argv)
{
	struct qpart_config *cfg;
	int r = qpart_cli_config(argc, argv, "qserv-partition-matches", usage, &cfg);
	if (r)
		return r == 1 ? 0 : r;
	return qpart_cli_run(cfg, "qserv-partition-matches", true);
}
