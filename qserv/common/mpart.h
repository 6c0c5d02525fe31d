/* mpart.h: multipart/form-data (RFC 7578) as Qserv's loaders and curl -F
 * send it, the one parser of it in the tree: the worker's POST /ingest/csv
 * (mpart_form: fields, then exactly one file part) and the czar's HTTP
 * frontend POST /ingest/csv (mpart_parse: every part, several files).
 *
 * The parser works on the whole body in memory (the worker maps its spool
 * file, the czar holds the capped request body): a boundary line is "--B"
 * at the start of the body or after CRLF, followed by CRLF (another part)
 * or "--" (the end); each part's headers end at an empty line and may not
 * exceed MPART_HEADERS bytes; a part needs a Content-Disposition with a
 * name (at most 64 bytes) and may have a filename (at most 255 bytes).
 * No globals, no logging; errors start with "multipart:" or
 * "Content-Type:" and never quote the body. */
#ifndef QSERV_MPART_H
#define QSERV_MPART_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define MPART_BOUNDARY 71      /* a boundary of 1..70 bytes and its NUL */
#define MPART_NAME 65          /* a part name of at most 64 bytes and its NUL */
#define MPART_HEADERS 4096     /* a part's headers */
#define MPART_VALUE 1024       /* a field of mpart_form */
#define MPART_FIELDS 32        /* fields of mpart_form */

/* The boundary of a Content-Type header (multipart/form-data; 1..70
 * printable bytes, quoted or not). */
int mpart_boundary(const char *content_type, char ret[MPART_BOUNDARY], char *err, size_t errlen);

/* One part of a body: its name, whether it had a filename, and where its
 * content lies in the body. */
struct mpart_part {
	char name[MPART_NAME];
	bool file;
	size_t off, len;
};

/* Every part of body[0..n) in order into ret[0..max) (*ret_n of them).
 * -EINVAL, err naming what is wrong, when the body is not such a form or
 * has more than max parts. */
int mpart_parse(const char *body, size_t n, const char *boundary, struct mpart_part *ret, size_t max,
		size_t *ret_n, char *err, size_t errlen);

/* The worker's form: its fields as a JSON object of strings (*ret_fields,
 * caller decrefs; at most MPART_FIELDS fields of MPART_VALUE bytes, each
 * name once) and where the one file part's content lies (*ret_off,
 * *ret_len).  -EINVAL, err naming what is wrong, also for no file part or
 * two. */
int mpart_form(const char *body, size_t n, const char *boundary, json_t **ret_fields, size_t *ret_off,
	       size_t *ret_len, char *err, size_t errlen);

#endif
