/* plan_nn.c: the sub-chunks of a near-neighbour plan.  As in Qserv, a
 * near-neighbour self-join runs per sub-chunk S of each candidate chunk C:
 * the first instance reads the rows of <T>_C with sub-chunk key S, the
 * second those UNION the rows of <T>FullOverlap_C with S (plan_rewrite.c
 * writes the FROM list; the default index qserv_sub_chunk serves both), so
 * the cost is rows per sub-chunk squared instead of rows per chunk squared.
 * Every sub-chunk of C runs, or only those a director restrictor's region
 * may intersect (qchunk_sub_chunks_in): the first instance's rows lie in
 * the region, so the others hold none of its rows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mariadb/mysqld_error.h>

#include "plan_internal.h"

static int has_id(const struct qchunk_ids *ids, int32_t v)
{
	size_t lo = 0, hi = ids->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (ids->v[mid] == v)
			return 1;
		if (ids->v[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* The sub-chunks of chunk to run into ret (ascending, at most ret->cap,
 * never empty: a chunk the regions miss keeps its first sub-chunk, which
 * the restrictor tests leave without rows).  0 or a negative errno. */
static int chunk_subs(struct ctx *c, int32_t chunk, struct qchunk_ids *ret)
{
	const struct qchunk *ck = c->db->chunker;
	struct qchunk_ids all = { 0 }, in[4] = { { 0 } };
	size_t i;
	int r, rc = qchunk_all_sub_chunks(ck, chunk, &all);

	for (r = 0; !rc && r < c->nn_nreg; r++)
		rc = qchunk_sub_chunks_in(ck, &c->nn_reg[r], chunk, &in[r]);
	for (i = 0; !rc && i < all.n && ret->n < ret->cap; i++) {
		int keep = 1;
		for (r = 0; keep && r < c->nn_nreg; r++)
			keep = has_id(&in[r], all.v[i]);
		if (keep)
			ret->v[ret->n++] = all.v[i];
	}
	if (!rc && !ret->n && all.n)
		ret->v[ret->n++] = all.v[0];
	qchunk_ids_free(&all);
	for (r = 0; r < c->nn_nreg; r++)
		qchunk_ids_free(&in[r]);
	return rc;
}

int plan_nn_subchunks(struct ctx *c)
{
	struct plan *p = c->p;
	int32_t mx = qchunk_max_sub_chunks_per_chunk(c->db->chunker);
	size_t i, cap = p->nchunks * (size_t)(mx > 0 ? mx * qchunk_num_sub_stripes(c->db->chunker) : 1) + 1;

	p->nn_table = strdup(c->refs[c->nn_second].mt->name);
	p->nn_off = malloc((p->nchunks + 1) * sizeof(*p->nn_off));
	p->nn_sub = malloc(cap * sizeof(*p->nn_sub));
	if (!p->nn_table || !p->nn_off || !p->nn_sub)
		return plan_enomem(c);
	p->nn_off[0] = 0;
	for (i = 0; i < p->nchunks; i++) {
		struct qchunk_ids ids = { .v = p->nn_sub + p->nn_off[i], .n = 0, .cap = cap - p->nn_off[i] };
		int rc = chunk_subs(c, p->chunks[i], &ids);
		if (rc == -ENOMEM)
			return plan_enomem(c);
		if (rc < 0)
			return plan_fail(c, ER_NOT_SUPPORTED_YET, "Qserv cannot list the sub-chunks of chunk %d",
					 (int)p->chunks[i]);
		p->nn_off[i + 1] = p->nn_off[i] + ids.n;
	}
	return 0;
}

const int32_t *plan_nn_sub_chunks(const struct plan *p, int32_t chunk, uint32_t *ret_n)
{
	size_t lo = 0, hi = p->nchunks;

	*ret_n = 0;
	if (!p->nn_table)
		return NULL;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (p->chunks[mid] == chunk) {
			*ret_n = (uint32_t)(p->nn_off[mid + 1] - p->nn_off[mid]);
			return p->nn_sub + p->nn_off[mid];
		}
		if (p->chunks[mid] < chunk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
