/* main.c: qserv-gen, deterministic Object/Source-like catalogs.
 *
 *   qserv-gen --objects N [--sources-per-object M] --out-dir D [--format tsv|csv]
 *             [--seed S] [--first-id ID] [--ra MIN,MAX] [--dec MIN,MAX]
 *             [--clusters K] [--cluster-frac F] [--null-frac F]
 *             [--num-stripes S] [--num-sub-stripes SS] [--overlap R]
 *
 * Writes D/Object.<fmt> (objectId unique: first-id, first-id+1, ...) and,
 * with M > 0, D/Source.<fmt> (sourceId unique, every objectId an existing
 * object, 0..2M sources per object, mean M, each carrying its object's
 * position in objectRa/objectDecl), plus for each table a sph-partition
 * config D/<T>.json and a column list D/<T>.schema.json.  NULL is written
 * as \N.  The same arguments always produce the same bytes. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sky.h"

struct opts {
	long long objects, first_id;
	double sources_per_object;
	unsigned long long seed;
	const char *out_dir;
	bool csv;
	double null_frac;
	long stripes, sub_stripes;
	double overlap;
	struct qgen_sky sky;
};

static const char *const object_cols[][2] = {
	{ "objectId", "BIGINT NOT NULL" }, { "ra", "DOUBLE NOT NULL" }, { "decl", "DOUBLE NOT NULL" },
	{ "raErr", "FLOAT" }, { "declErr", "FLOAT" }, { "g_psFlux", "DOUBLE" },
	{ "r_psFlux", "DOUBLE" }, { "i_psFlux", "DOUBLE" }, { "r_psFluxErr", "DOUBLE" },
	{ "r_extendedness", "FLOAT" }, { "nSources", "INT NOT NULL" },
};
static const char *const source_cols[][2] = {
	{ "sourceId", "BIGINT NOT NULL" }, { "objectId", "BIGINT NOT NULL" },
	{ "ra", "DOUBLE NOT NULL" }, { "decl", "DOUBLE NOT NULL" },
	{ "objectRa", "DOUBLE NOT NULL" }, { "objectDecl", "DOUBLE NOT NULL" },
	{ "midPointTai", "DOUBLE NOT NULL" }, { "filterName", "CHAR(1) NOT NULL" },
	{ "psFlux", "DOUBLE" }, { "psFluxErr", "DOUBLE" },
};
#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: qserv-gen --objects N [--sources-per-object M] --out-dir DIR\n"
		   "                 [--format tsv|csv] [--seed S] [--first-id ID]\n"
		   "                 [--ra MIN,MAX] [--dec MIN,MAX] [--clusters K] [--cluster-frac F]\n"
		   "                 [--null-frac F] [--num-stripes S] [--num-sub-stripes SS] [--overlap R]\n");
}

static bool num(const char *s, double lo, double hi, double *ret)
{
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(d) || d < lo || d > hi)
		return false;
	*ret = d;
	return true;
}

static bool pair(const char *s, double lo, double hi, double *a, double *b)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", s);
	char *comma = strchr(buf, ',');
	if (!comma)
		return false;
	*comma = '\0';
	return num(buf, lo, hi, a) && num(comma + 1, lo, hi, b);
}

static int parse(int argc, char **argv, struct opts *o)
{
	o->objects = -1;
	o->first_id = 1;
	o->seed = 1;
	o->null_frac = 0.01;
	o->stripes = 85;
	o->sub_stripes = 12;
	o->overlap = 0.01667;
	o->sky = (struct qgen_sky){ .ra_min = 0, .ra_max = 360, .dec_min = -65, .dec_max = 5,
				    .plane_keep = 0.3, .cluster_frac = 0.2, .cluster_sigma = 0.05,
				    .ncluster = 50 };
	for (int i = 1; i < argc; ++i) {
		const char *a = argv[i], *v = NULL;
		char key[64];
		const char *eq = strchr(a, '=');
		if (eq) {
			snprintf(key, sizeof(key), "%.*s", (int)(eq - a), a);
			v = eq + 1;
		} else {
			snprintf(key, sizeof(key), "%s", a);
			if (i + 1 < argc)
				v = argv[++i];
		}
		/* a numeric option's value: 0 when num() refused it (then ok is false
		 * and the option is an error; never an indeterminate double cast) */
		double d = 0;
		if (!strcmp(key, "-h") || !strcmp(key, "--help")) {
			usage(stdout);
			exit(0);
		}
		if (!v) {
			fprintf(stderr, "qserv-gen: %s needs a value\n", key);
			return -1;
		}
		bool ok = true;
		if (!strcmp(key, "--objects"))
			ok = num(v, 0, 1e12, &d), o->objects = (long long)d;
		else if (!strcmp(key, "--sources-per-object"))
			ok = num(v, 0, 1e4, &o->sources_per_object);
		else if (!strcmp(key, "--seed"))
			ok = num(v, 0, 1.8e19, &d), o->seed = (unsigned long long)d;
		else if (!strcmp(key, "--first-id"))
			ok = num(v, 0, 9e16, &d), o->first_id = (long long)d;
		else if (!strcmp(key, "--out-dir"))
			o->out_dir = v;
		else if (!strcmp(key, "--format"))
			ok = !strcmp(v, "csv") || !strcmp(v, "tsv"), o->csv = !strcmp(v, "csv");
		else if (!strcmp(key, "--ra"))
			ok = pair(v, 0, 360, &o->sky.ra_min, &o->sky.ra_max);
		else if (!strcmp(key, "--dec"))
			ok = pair(v, -90, 90, &o->sky.dec_min, &o->sky.dec_max) &&
			     o->sky.dec_min < o->sky.dec_max;
		else if (!strcmp(key, "--clusters"))
			ok = num(v, 1, 1e6, &d), o->sky.ncluster = (int)d;
		else if (!strcmp(key, "--cluster-frac"))
			ok = num(v, 0, 1, &o->sky.cluster_frac);
		else if (!strcmp(key, "--null-frac"))
			ok = num(v, 0, 1, &o->null_frac);
		else if (!strcmp(key, "--num-stripes"))
			ok = num(v, 1, 1e5, &d), o->stripes = (long)d;
		else if (!strcmp(key, "--num-sub-stripes"))
			ok = num(v, 1, 1e5, &d), o->sub_stripes = (long)d;
		else if (!strcmp(key, "--overlap"))
			ok = num(v, 0, 10, &o->overlap);
		else {
			fprintf(stderr, "qserv-gen: unknown option %s\n", key);
			return -1;
		}
		if (!ok) {
			fprintf(stderr, "qserv-gen: bad value for %s: '%s'\n", key, v);
			return -1;
		}
	}
	if (o->objects < 0 || !o->out_dir) {
		fprintf(stderr, "qserv-gen: --objects and --out-dir are required\n");
		return -1;
	}
	return 0;
}

static FILE *create(const struct opts *o, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", o->out_dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "qserv-gen: %s: %s\n", path, strerror(errno));
	else
		setvbuf(f, NULL, _IOFBF, 1 << 20);
	return f;
}

/* Writes the sph-partition config and the column list of a table. */
static int write_meta(const struct opts *o, const char *table, const char *const (*cols)[2],
		      size_t ncols, const char *pos, double overlap)
{
	char name[128];
	snprintf(name, sizeof(name), "%s.json", table);
	FILE *f = create(o, name);
	if (!f)
		return -1;
	fprintf(f, "{\n  \"part\": {\"num-stripes\": %ld, \"num-sub-stripes\": %ld, \"overlap\": %g,\n"
		   "           \"pos\": \"%s\", \"chunk\": \"chunkId\", \"sub-chunk\": \"subChunkId\"},\n"
		   "  \"in\": {\"csv\": {\"delimiter\": \"%s\", \"null\": \"\\\\N\", \"escape\": \"\\\\\",\n"
		   "                   \"no-quote\": true,\n                   \"field\": [",
		o->stripes, o->sub_stripes, overlap, pos, o->csv ? "," : "\\t");
	for (size_t i = 0; i < ncols; ++i)
		fprintf(f, "%s\"%s\"", i ? ", " : "", cols[i][0]);
	fprintf(f, "]}},\n  \"out\": {\"csv\": {\"delimiter\": \"%s\", \"null\": \"\\\\N\", "
		   "\"escape\": \"\\\\\", \"no-quote\": true}}\n}\n", o->csv ? "," : "\\t");
	if (fclose(f) != 0)
		return -1;
	snprintf(name, sizeof(name), "%s.schema.json", table);
	if (!(f = create(o, name)))
		return -1;
	fprintf(f, "{\"table\": \"%s\", \"schema\": [\n", table);
	for (size_t i = 0; i < ncols; ++i)
		fprintf(f, "  {\"name\": \"%s\", \"type\": \"%s\"}%s\n", cols[i][0], cols[i][1],
			i + 1 < ncols ? "," : "");
	fprintf(f, "]}\n");
	return fclose(f) != 0 ? -1 : 0;
}

static void put_opt(FILE *f, struct qgen_rng *r, const struct opts *o, char sep, const char *fmt,
		    double v)
{
	fputc(sep, f);
	if (qgen_rng_unit(r) < o->null_frac)
		fputs("\\N", f);
	else
		fprintf(f, fmt, v);
}

static double r_mag(struct qgen_rng *r)
{
	/* counts rise towards the faint end, 17..26.5 */
	return 26.5 - 9.5 * pow(qgen_rng_unit(r), 0.4);
}

static double mag_to_njy(double m)
{
	return pow(10.0, (31.4 - m) / 2.5);
}

static int generate(struct opts *o)
{
	struct qgen_rng pos_rng, val_rng;
	qgen_rng_seed(&pos_rng, o->seed);
	qgen_rng_seed(&val_rng, o->seed ^ 0x5eed5eedull);
	if (qgen_sky_init(&o->sky, &pos_rng) < 0)
		return -1;
	const char *ext = o->csv ? "csv" : "tsv";
	char sep = o->csv ? ',' : '\t', name[64];
	snprintf(name, sizeof(name), "Object.%s", ext);
	FILE *obj = create(o, name), *src = NULL;
	if (!obj)
		return -1;
	if (o->sources_per_object > 0) {
		snprintf(name, sizeof(name), "Source.%s", ext);
		if (!(src = create(o, name)))
			return -1;
	}
	long long source_id = o->first_id * 100;
	static const char filters[] = "ugrizy";
	for (long long i = 0; i < o->objects; ++i) {
		double ra, dec;
		qgen_sky_draw(&o->sky, &pos_rng, &ra, &dec);
		long long id = o->first_id + i;
		int nsrc = 0;
		if (src)
			nsrc = (int)floor(qgen_rng_unit(&val_rng) * (2.0 * o->sources_per_object + 1.0));
		double rm = r_mag(&val_rng), color = 0.6 + 0.3 * qgen_rng_normal(&val_rng);
		double rflux = mag_to_njy(rm);
		fprintf(obj, "%lld%c%.10f%c%.10f", id, sep, ra, sep, dec);
		put_opt(obj, &val_rng, o, sep, "%.3e", 1e-5 * (1 + qgen_rng_unit(&val_rng)));
		put_opt(obj, &val_rng, o, sep, "%.3e", 1e-5 * (1 + qgen_rng_unit(&val_rng)));
		put_opt(obj, &val_rng, o, sep, "%.6g", rflux * pow(10.0, -0.4 * color));
		put_opt(obj, &val_rng, o, sep, "%.6g", rflux);
		put_opt(obj, &val_rng, o, sep, "%.6g", rflux * pow(10.0, 0.4 * 0.3 * color));
		put_opt(obj, &val_rng, o, sep, "%.6g", sqrt(rflux) * 3.0);
		put_opt(obj, &val_rng, o, sep, "%.0f", qgen_rng_unit(&val_rng) < 0.3 ? 1.0 : 0.0);
		fprintf(obj, "%c%d\n", sep, nsrc);
		for (int k = 0; k < nsrc; ++k) {
			double c = cos(dec * M_PI / 180.0);
			double sdec = dec + 0.1 / 3600 * qgen_rng_normal(&val_rng);
			double sra = ra + 0.1 / 3600 * qgen_rng_normal(&val_rng) / (c > 0.01 ? c : 0.01);
			sra = fmod(sra + 360.0, 360.0);
			if (sdec > 90)
				sdec = 90;
			if (sdec < -90)
				sdec = -90;
			double flux = rflux * (1 + 0.05 * qgen_rng_normal(&val_rng));
			fprintf(src, "%lld%c%lld%c%.10f%c%.10f%c%.10f%c%.10f%c%.6f%c%c", source_id++, sep,
				id, sep, sra, sep, sdec, sep, ra, sep, dec, sep,
				60000.0 + 3650.0 * qgen_rng_unit(&val_rng), sep,
				filters[(int)(qgen_rng_unit(&val_rng) * 6)]);
			put_opt(src, &val_rng, o, sep, "%.6g", flux);
			put_opt(src, &val_rng, o, sep, "%.6g", sqrt(fabs(flux)) * 3.0);
			fputc('\n', src);
		}
	}
	int r = 0;
	if (fclose(obj) != 0 || (src && fclose(src) != 0)) {
		fprintf(stderr, "qserv-gen: writing %s: %s\n", o->out_dir, strerror(errno));
		r = -1;
	}
	qgen_sky_free(&o->sky);
	return r;
}

int main(int argc, char **argv)
{
	struct opts o;
	memset(&o, 0, sizeof(o));
	if (parse(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	if (mkdir(o.out_dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "qserv-gen: %s: %s\n", o.out_dir, strerror(errno));
		return 1;
	}
	if (write_meta(&o, "Object", object_cols, NCOLS(object_cols), "ra,decl", o.overlap) < 0)
		return 1;
	if (o.sources_per_object > 0 &&
	    write_meta(&o, "Source", source_cols, NCOLS(source_cols), "objectRa,objectDecl", 0.0) < 0)
		return 1;
	return generate(&o) < 0 ? 1 : 0;
}
