/* main.c: qserv-partition, sph-partition's command-line form (cli.c).
 *
 *   qserv-partition --config-file=F ... --in.path=P ... --out.dir=D [--KEY=VALUE ...]
 *
 * On success a JSON summary goes to stdout.  Exit status: 0 ok, 1 bad
 * rows / I/O error, 2 usage or configuration error. */
#include <stdio.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: qserv-partition [--config-file=FILE]... --in.path=PATH... --out.dir=DIR\n"
		"                       [--part.pos=LON,LAT] [--part.num-stripes=N] [--part.num-sub-stripes=N]\n"
		"                       [--part.overlap=DEG] [--in.csv.field=A,B,...] [--KEY=VALUE]...\n"
		"  Partitions CSV/TSV rows into Qserv chunks: writes DIR/chunk_<id>.txt and\n"
		"  DIR/chunk_<id>_overlap.txt with chunkId and subChunkId appended.\n"
		"  Other keys: in.csv.{delimiter,quote,no-quote,escape,no-escape,null}, out.csv.*,\n"
		"  out.csv.field, part.chunk, part.sub-chunk, part.prefix, out.lz4, mr.num-workers,\n"
		"  mr.block-size (MiB), max-errors.  See docs/partition.md.\n");
}

int main(int argc, char **argv)
{
	struct qpart_config *cfg;
	int r = qpart_cli_config(argc, argv, "qserv-partition", usage, &cfg);
	if (r)
		return r == 1 ? 0 : r;
	return qpart_cli_run(cfg, "qserv-partition", false);
}
