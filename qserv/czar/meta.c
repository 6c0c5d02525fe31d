/* meta.c: snapshots of qservMeta (see meta.h). */
#include "meta.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

struct meta *meta_new(void)
{
	struct meta *m = calloc(1, sizeof(*m));

	if (m)
		m->refs = 1;
	return m;
}

struct meta *meta_ref(struct meta *m)
{
	__atomic_add_fetch(&m->refs, 1, __ATOMIC_SEQ_CST);
	return m;
}

void meta_unref(struct meta *m)
{
	size_t i;

	if (!m || __atomic_sub_fetch(&m->refs, 1, __ATOMIC_SEQ_CST) > 0)
		return;
	for (i = 0; i < m->ndbs; i++) {
		size_t k;
		for (k = 0; k < m->dbs[i].ntables; k++) {
			size_t c;
			for (c = 0; c < m->dbs[i].tables[k].ncols; c++)
				free(m->dbs[i].tables[k].cols[c]);
			free(m->dbs[i].tables[k].cols);
			free(m->dbs[i].tables[k].schema_json);
		}
		qchunk_free(m->dbs[i].chunker);
		free(m->dbs[i].tables);
		free(m->dbs[i].chunks);
	}
	free(m->dbs);
	free(m->workers);
	free(m);
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

struct meta_db *meta_add_db(struct meta *m, const char *name, int32_t s, int32_t ss, double overlap,
			    char *err, size_t errlen)
{
	struct meta_db *v = realloc(m->dbs, (m->ndbs + 1) * sizeof(*v)), *d;
	char why[256];

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->dbs = v;
	d = &v[m->ndbs];
	memset(d, 0, sizeof(*d));
	copy(d->name, sizeof(d->name), name);
	d->num_stripes = s;
	d->num_sub_stripes = ss;
	d->overlap = overlap;
	if (qchunk_new(s, ss, overlap, &d->chunker, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "database %s: %s", name, why);
		return NULL;
	}
	m->ndbs++;
	return d;
}

struct meta_table *meta_add_table(struct meta_db *d, const char *name)
{
	struct meta_table *v = realloc(d->tables, (d->ntables + 1) * sizeof(*v)), *t;

	if (!v)
		return NULL;
	d->tables = v;
	t = &v[d->ntables++];
	memset(t, 0, sizeof(*t));
	copy(t->name, sizeof(t->name), name);
	copy(t->chunk_key, sizeof(t->chunk_key), "chunkId");
	copy(t->sub_chunk_key, sizeof(t->sub_chunk_key), "subChunkId");
	return t;
}

int meta_table_schema(struct meta_table *t, const char *schema_json)
{
	json_error_t je;
	json_t *j = json_loads(schema_json, 0, &je), *c;
	size_t i;

	if (!j || !json_is_array(j)) {
		json_decref(j);
		return -EINVAL;
	}
	t->schema_json = strdup(schema_json);
	t->cols = calloc(json_array_size(j) + 1, sizeof(*t->cols));
	if (!t->schema_json || !t->cols) {
		json_decref(j);
		return -ENOMEM;
	}
	json_array_foreach(j, i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		if (!name)
			continue;
		if (!(t->cols[t->ncols] = strdup(name))) {
			json_decref(j);
			return -ENOMEM;
		}
		t->ncols++;
	}
	json_decref(j);
	return 0;
}

int meta_add_worker(struct meta *m, const char *id, const char *host, int port)
{
	struct meta_worker *v = realloc(m->workers, (m->nworkers + 1) * sizeof(*v)), *w;

	if (!v)
		return -ENOMEM;
	m->workers = v;
	w = &v[m->nworkers++];
	memset(w, 0, sizeof(*w));
	copy(w->id, sizeof(w->id), id);
	copy(w->host, sizeof(w->host), host);
	w->query_port = port;
	return 0;
}

int meta_add_chunk(struct meta_db *d, int32_t chunk, unsigned worker)
{
	struct meta_chunk *v;
	size_t i;

	/* replicas of a chunk arrive together (meta_load orders by chunk):
	 * only the last entry can be the same chunk */
	i = d->nchunks;
	if (i > 0 && d->chunks[i - 1].id == chunk) {
		if (d->chunks[i - 1].nworkers < 4)
			d->chunks[i - 1].worker[d->chunks[i - 1].nworkers++] = worker;
		return 0;
	}
	if (d->nchunks == d->cchunks) {
		size_t cap = d->cchunks ? 2 * d->cchunks : 256;
		v = realloc(d->chunks, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->chunks = v;
		d->cchunks = cap;
	}
	v = d->chunks;
	memset(&v[d->nchunks], 0, sizeof(*v));
	v[d->nchunks].id = chunk;
	v[d->nchunks].worker[0] = worker;
	v[d->nchunks].nworkers = 1;
	d->nchunks++;
	return 0;
}

int meta_add_lost_chunk(struct meta_db *d, int32_t chunk)
{
	size_t i = d->nchunks;
	int rc;

	if (i > 0 && d->chunks[i - 1].id == chunk)
		return 0;                     /* it has a replica after all */
	if ((rc = meta_add_chunk(d, chunk, 0)) < 0)
		return rc;
	d->chunks[d->nchunks - 1].nworkers = 0;
	return 0;
}

static int cmp_chunk(const void *a, const void *b)
{
	int32_t x = ((const struct meta_chunk *)a)->id, y = ((const struct meta_chunk *)b)->id;
	return (x > y) - (x < y);
}

void meta_finish(struct meta *m)
{
	size_t i;

	for (i = 0; i < m->ndbs; i++)
		if (m->dbs[i].nchunks)
			qsort(m->dbs[i].chunks, m->dbs[i].nchunks, sizeof(struct meta_chunk), cmp_chunk);
}

const struct meta_db *meta_find_db(const struct meta *m, const char *name)
{
	size_t i;

	for (i = 0; m && i < m->ndbs; i++)
		if (!strcmp(m->dbs[i].name, name))
			return &m->dbs[i];
	return NULL;
}

const struct meta_table *meta_find_table(const struct meta_db *d, const char *name)
{
	size_t i;

	for (i = 0; d && i < d->ntables; i++)
		if (!strcmp(d->tables[i].name, name))
			return &d->tables[i];
	return NULL;
}

const struct meta_chunk *meta_find_chunk(const struct meta_db *d, int32_t id)
{
	struct meta_chunk key = { .id = id };

	if (!d->nchunks)
		return NULL;
	return bsearch(&key, d->chunks, d->nchunks, sizeof(key), cmp_chunk);
}

static MYSQL_RES *query(MYSQL *my, const char *sql, char *err, size_t errlen)
{
	MYSQL_RES *r;

	if (mysql_query(my, sql) != 0 || !(r = mysql_store_result(my))) {
		snprintf(err, errlen, "qservMeta: %s", mysql_error(my));
		return NULL;
	}
	return r;
}

static size_t worker_index(const struct meta *m, const char *id)
{
	size_t i;

	for (i = 0; i < m->nworkers; i++)
		if (!strcmp(m->workers[i].id, id))
			return i;
	return (size_t)-1;
}

/* Each loader reads one qservMeta table into m: 0, -EIO (err filled by
 * the query) or -ENOMEM. */
static int nomem(char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

/* Every worker, drained ones too: enabled = 0 only stops new chunks from
 * being placed there, its chunks are still served from it. */
static int load_workers(MYSQL *my, struct meta *m, char *err, size_t errlen)
{
	MYSQL_RES *r = query(my, "SELECT id, host, COALESCE(query_port, 0) FROM qservMeta.workers ORDER BY id",
			     err, errlen);
	MYSQL_ROW row;
	int rc = 0;

	if (!r)
		return -EIO;
	while (rc == 0 && (row = mysql_fetch_row(r)))
		if (meta_add_worker(m, row[0], row[1], atoi(row[2])) < 0)
			rc = nomem(err, errlen);
	mysql_free_result(r);
	return rc;
}

static int load_dbs(MYSQL *my, struct meta *m, char *err, size_t errlen)
{
	MYSQL_RES *r = query(my, "SELECT name, num_stripes, num_sub_stripes, overlap FROM qservMeta.dbs "
			     "WHERE published = 1 ORDER BY name", err, errlen);
	MYSQL_ROW row;
	int rc = 0;

	if (!r)
		return -EIO;
	while (rc == 0 && (row = mysql_fetch_row(r)))
		if (!meta_add_db(m, row[0], atoi(row[1]), atoi(row[2]), atof(row[3]), err, errlen))
			rc = -EIO;
	mysql_free_result(r);
	return rc;
}

/* One row of qservMeta.tables into a table of a published database. */
static int table_row(struct meta *m, MYSQL_ROW row)
{
	struct meta_db *d = (struct meta_db *)meta_find_db(m, row[0]);
	struct meta_table *t;

	if (!d)
		return 0;             /* unpublished database */
	if (!(t = meta_add_table(d, row[1])))
		return -ENOMEM;
	t->partitioned = atoi(row[2]);
	t->director = atoi(row[3]);
	copy(t->director_table, sizeof(t->director_table), row[4]);
	copy(t->director_key, sizeof(t->director_key), row[5]);
	copy(t->lat_key, sizeof(t->lat_key), row[6]);
	copy(t->lon_key, sizeof(t->lon_key), row[7]);
	if (row[8] && *row[8])
		copy(t->chunk_key, sizeof(t->chunk_key), row[8]);
	if (row[9] && *row[9])
		copy(t->sub_chunk_key, sizeof(t->sub_chunk_key), row[9]);
	if (row[10] && meta_table_schema(t, row[10]) == -ENOMEM)
		return -ENOMEM;
	if (t->director && !t->director_table[0])
		copy(t->director_table, sizeof(t->director_table), t->name);
	if (row[11] && atoi(row[11])) {     /* the match columns, when present */
		t->match = 1;
		t->director = 0;
		copy(t->director_table2, sizeof(t->director_table2), row[12]);
		copy(t->director_key2, sizeof(t->director_key2), row[13]);
		copy(t->flag_key, sizeof(t->flag_key), row[14]);
		t->ang_sep = row[15] ? atof(row[15]) : 0;
	}
	return 0;
}

/* have_match: the match columns exist (controllers before them lack
 * them: every table reads as not a match table). */
static int load_tables(MYSQL *my, struct meta *m, int have_match, char *err, size_t errlen)
{
	MYSQL_RES *r = query(my, have_match ?
			     "SELECT db, name, is_partitioned, is_director, director_table, director_key, "
			     "latitude_key, longitude_key, chunk_id_key, sub_chunk_id_key, schema_json, is_match, "
			     "director_table2, director_key2, flag_key, ang_sep FROM qservMeta.tables ORDER BY db, name" :
			     "SELECT db, name, is_partitioned, is_director, director_table, director_key, "
			     "latitude_key, longitude_key, chunk_id_key, sub_chunk_id_key, schema_json, NULL, NULL, NULL, "
			     "NULL, NULL FROM qservMeta.tables ORDER BY db, name", err, errlen);
	MYSQL_ROW row;
	int rc = 0;

	if (!r)
		return -EIO;
	while (rc == 0 && (row = mysql_fetch_row(r)))
		if (table_row(m, row) < 0)
			rc = nomem(err, errlen);
	mysql_free_result(r);
	return rc;
}

static int load_chunks(MYSQL *my, struct meta *m, char *err, size_t errlen)
{
	MYSQL_RES *r = query(my, "SELECT db, chunk, worker_id FROM qservMeta.chunks ORDER BY db, chunk, worker_id",
			     err, errlen);
	MYSQL_ROW row;
	int rc = 0;

	if (!r)
		return -EIO;
	while (rc == 0 && (row = mysql_fetch_row(r))) {
		struct meta_db *d = (struct meta_db *)meta_find_db(m, row[0]);
		size_t w = worker_index(m, row[2]);
		if (!d || w == (size_t)-1)
			continue;             /* unpublished, or a worker not in the table */
		if (meta_add_chunk(d, atoi(row[1]), (unsigned)w) < 0)
			rc = nomem(err, errlen);
	}
	mysql_free_result(r);
	return rc;
}

/* Chunks whose only worker was removed by force: kept, without a replica,
 * so a query that needs one fails instead of silently missing rows. */
static int load_lost_chunks(MYSQL *my, struct meta *m, char *err, size_t errlen)
{
	MYSQL_RES *r = query(my, "SELECT l.db, l.chunk FROM qservMeta.lost_chunks l WHERE NOT EXISTS "
			     "(SELECT 1 FROM qservMeta.chunks c WHERE c.db = l.db AND c.chunk = l.chunk) "
			     "ORDER BY l.db, l.chunk", err, errlen);
	MYSQL_ROW row;
	int rc = 0;

	if (!r)
		return -EIO;
	while (rc == 0 && (row = mysql_fetch_row(r))) {
		struct meta_db *d = (struct meta_db *)meta_find_db(m, row[0]);
		if (d && meta_add_lost_chunk(d, atoi(row[1])) < 0)
			rc = nomem(err, errlen);
	}
	mysql_free_result(r);
	return rc;
}

int meta_load(MYSQL *my, struct meta **ret, char *err, size_t errlen)
{
	struct meta *m = meta_new();
	MYSQL_RES *r;
	MYSQL_ROW row;
	int rc, published, have_lost, have_match;

	if (!m)
		return nomem(err, errlen);
	if (!(r = query(my, "SELECT COALESCE(SUM(TABLE_NAME IN ('workers', 'dbs', 'tables', 'chunks')), 0), "
			    "COALESCE(SUM(TABLE_NAME = 'lost_chunks'), 0), (SELECT COUNT(*) FROM information_schema.COLUMNS "
			    "WHERE TABLE_SCHEMA = 'qservMeta' AND TABLE_NAME = 'tables' AND COLUMN_NAME = 'is_match') "
			    "FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'qservMeta'", err, errlen))) {
		meta_unref(m);
		return -EIO;
	}
	row = mysql_fetch_row(r);
	published = row && strcmp(row[0], "4") == 0;   /* else no controller yet: nothing published */
	have_lost = published && strcmp(row[1], "0") != 0;   /* controllers before decommissioning lack it */
	have_match = published && row[2] && strcmp(row[2], "0") != 0;   /* and before match tables, these */
	mysql_free_result(r);
	rc = 0;
	if (published && (rc = load_workers(my, m, err, errlen)) == 0 && (rc = load_dbs(my, m, err, errlen)) == 0 &&
	    (rc = load_tables(my, m, have_match, err, errlen)) == 0 && (rc = load_chunks(my, m, err, errlen)) == 0 && have_lost)
		rc = load_lost_chunks(my, m, err, errlen);
	if (rc < 0) {
		meta_unref(m);
		return rc;
	}
	if (published)
		meta_finish(m);
	*ret = m;
	return 0;
}

/* FNV-1a over n bytes, continuing h. */
static uint64_t fnv_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--)
		h = (h ^ *b++) * 1099511628211ull;
	return h;
}

uint64_t meta_fingerprint(const struct meta *m)
{
	uint64_t h = 1469598103934665603ull;
	size_t i, k;

	for (i = 0; i < m->ndbs; i++) {
		const struct meta_db *d = &m->dbs[i];
		h = fnv_add(h, d->name, strlen(d->name) + 1);
		h = fnv_add(h, &d->num_stripes, sizeof(d->num_stripes));
		h = fnv_add(h, &d->num_sub_stripes, sizeof(d->num_sub_stripes));
		for (k = 0; k < d->ntables; k++)
			h = fnv_add(h, d->tables[k].name, strlen(d->tables[k].name) + 1);
		for (k = 0; k < d->nchunks; k++)
			h = fnv_add(h, &d->chunks[k].id, sizeof(d->chunks[k].id));
	}
	return h;
}
