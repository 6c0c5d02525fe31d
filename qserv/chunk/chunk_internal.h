/* chunk_internal.h: helpers shared by the files of libqchunk.a only
 * (constants, unit vectors, layout accessors); errors go through
 * lib/errbuf.h. */
#ifndef QSERV_CHUNK_INTERNAL_H
#define QSERV_CHUNK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "chunk.h"
#include "errbuf.h"

#define QCHUNK_PI 3.14159265358979323846
#define QCHUNK_RAD (QCHUNK_PI / 180.0)
#define QCHUNK_DEG (180.0 / QCHUNK_PI)

int qchunk__ids_push(struct qchunk_ids *ids, int32_t id);
int32_t qchunk__nss(const struct qchunk *c);
double qchunk__ss_height(const struct qchunk *c);
int32_t qchunk__nsc(const struct qchunk *c, int32_t ss);
double qchunk__scw(const struct qchunk *c, int32_t ss);
int32_t qchunk__chunk_id(const struct qchunk *c, int32_t stripe, int32_t chunk);
int32_t qchunk__sub_chunk_id(const struct qchunk *c, int32_t stripe, int32_t ss, int32_t chunk,
			     int32_t sc);

/* Unit vector of (lon, lat) in degrees. */
void qchunk__vec(double lon, double lat, double v[3]);

#endif
