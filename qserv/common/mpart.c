/* mpart.c: multipart/form-data bodies (see mpart.h); moved here from the
 * worker's wreq.c so the worker and the czar share one parser. */
#include "mpart.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int mpart_boundary(const char *content_type, char ret[MPART_BOUNDARY], char *err, size_t errlen)
{
	const char *ct = content_type ? content_type : "";
	size_t n = strcspn(ct, ";");
	while (n && ct[n - 1] == ' ')
		n--;
	if (n != 19 || strncasecmp(ct, "multipart/form-data", 19)) {
		snprintf(err, errlen, "Content-Type: multipart/form-data is required");
		return -EINVAL;
	}
	const char *b = strcasestr(ct, "boundary=");
	if (!b) {
		snprintf(err, errlen, "Content-Type: multipart/form-data without a boundary");
		return -EINVAL;
	}
	b += 9;
	bool quoted = *b == '"';
	b += quoted;
	size_t len = quoted ? strcspn(b, "\"") : strcspn(b, "; \t");
	if (len == 0 || len > 70 || (quoted && b[len] != '"')) {
		snprintf(err, errlen, "Content-Type: the multipart boundary must be 1 to 70 characters");
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++)
		if (b[i] < 0x20 || b[i] > 0x7e) {
			snprintf(err, errlen, "Content-Type: the multipart boundary has a byte that is not printable");
			return -EINVAL;
		}
	memcpy(ret, b, len);
	ret[len] = '\0';
	return 0;
}

/* The next "\r\n--B" in [p, end), or NULL. */
static const char *mp_delim(const char *p, const char *end, const char *b, size_t bn)
{
	while (p + 4 + bn <= end) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));
		if (!cr || cr + 4 + bn > end)
			return NULL;
		if (cr[1] == '\n' && cr[2] == '-' && cr[3] == '-' && !memcmp(cr + 4, b, bn))
			return cr;
		p = cr + 1;
	}
	return NULL;
}

/* The value of parameter key (name, filename) in a Content-Disposition
 * line [h, he): quoted or not, into ret (at most cap-1 bytes); 1 found. */
static int mp_param(const char *h, const char *he, const char *key, char *ret, size_t cap)
{
	size_t kn = strlen(key);
	for (const char *p = h; p + kn + 1 < he; p++) {
		if ((p > h && p[-1] != ';' && p[-1] != ' ') || strncasecmp(p, key, kn) || p[kn] != '=')
			continue;
		const char *v = p + kn + 1;
		bool q = v < he && *v == '"';
		v += q;
		const char *e = v;
		while (e < he && (q ? *e != '"' : (*e != ';' && *e != ' ')))
			e++;
		if ((size_t)(e - v) >= cap || (q && e == he))
			return -1;
		memcpy(ret, v, (size_t)(e - v));
		ret[e - v] = '\0';
		return 1;
	}
	return 0;
}

/* One part's headers [h, he): its field name and whether it is a file. */
static int mp_headers(const char *h, const char *he, char name[MPART_NAME], bool *file, char *err, size_t errlen)
{
	char fname[256];
	bool disp = false;
	*file = false;
	name[0] = '\0';
	while (h < he) {
		const char *eol = h;
		while (eol + 1 < he && !(eol[0] == '\r' && eol[1] == '\n'))
			eol++;
		if (eol + 1 >= he)
			eol = he;
		if ((size_t)(eol - h) > 20 && !strncasecmp(h, "Content-Disposition:", 20)) {
			disp = true;
			if (mp_param(h + 20, eol, "name", name, MPART_NAME) != 1) {
				snprintf(err, errlen, "multipart: a part's name is missing or longer than 64 bytes");
				return -EINVAL;
			}
			int f = mp_param(h + 20, eol, "filename", fname, sizeof fname);
			if (f < 0) {
				snprintf(err, errlen, "multipart: a part's filename is longer than 255 bytes");
				return -EINVAL;
			}
			*file = f == 1;
		}
		h = eol + 2;
	}
	if (!disp || !name[0]) {
		snprintf(err, errlen, "multipart: a part has no Content-Disposition with a name");
		return -EINVAL;
	}
	return 0;
}

/* The part starting after its boundary line's "--B" at *pp: into *part,
 * *pp past it; 1 at the close delimiter. */
static int mp_part(const char *body, const char *end, const char *boundary, size_t bn, const char **pp,
		   struct mpart_part *part, char *err, size_t errlen)
{
	const char *p = *pp + 2 + bn;   /* past "--B" */
	if (end - p >= 2 && p[0] == '-' && p[1] == '-')
		return 1;               /* the close delimiter */
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
		snprintf(err, errlen, "multipart: a boundary line is not followed by CRLF");
		return -EINVAL;
	}
	p += 2;
	const char *hl = end - p > MPART_HEADERS ? p + MPART_HEADERS : end;
	const char *he = p;
	while (he + 4 <= hl && memcmp(he, "\r\n\r\n", 4))
		he++;
	if (p + 2 <= end && !memcmp(p, "\r\n", 2))
		he = p - 2;             /* a part without headers */
	else if (he + 4 > hl) {
		snprintf(err, errlen, "multipart: a part's headers do not end within %d bytes", MPART_HEADERS);
		return -EINVAL;
	}
	if (mp_headers(p, he, part->name, &part->file, err, errlen))
		return -EINVAL;
	const char *v = he + 4, *d = mp_delim(v - 2, end, boundary, bn);
	if (!d) {
		snprintf(err, errlen, "multipart: part %s is not closed by a boundary line", part->name);
		return -EINVAL;
	}
	part->off = (size_t)(v - body);
	part->len = d > v ? (size_t)(d - v) : 0;
	*pp = d + 2;
	return 0;
}

int mpart_parse(const char *body, size_t n, const char *boundary, struct mpart_part *ret, size_t max,
		size_t *ret_n, char *err, size_t errlen)
{
	size_t bn = strlen(boundary);
	const char *end = body + n, *p;
	struct mpart_part part;
	int r;

	*ret_n = 0;
	/* the first delimiter may start the body (no CRLF before it) */
	if (n >= 2 + bn && body[0] == '-' && body[1] == '-' && !memcmp(body + 2, boundary, bn))
		p = body;
	else if ((p = mp_delim(body, end, boundary, bn)))
		p += 2;
	if (!p) {
		snprintf(err, errlen, "multipart: the body has no boundary line");
		return -EINVAL;
	}
	while ((r = mp_part(body, end, boundary, bn, &p, &part, err, errlen)) == 0) {
		if (*ret_n >= max) {
			snprintf(err, errlen, "multipart: more than %zu parts", max);
			return -EINVAL;
		}
		ret[(*ret_n)++] = part;
	}
	return r < 0 ? r : 0;
}

/* One field part: value [v, ve) as a JSON string member of fields. */
static int mp_field(json_t *fields, const char *name, const char *v, const char *ve, char *err, size_t errlen)
{
	if ((size_t)(ve - v) > MPART_VALUE) {
		snprintf(err, errlen, "multipart: field %s: at most %d bytes", name, MPART_VALUE);
		return -EINVAL;
	}
	if (json_object_size(fields) >= MPART_FIELDS || json_object_get(fields, name)) {
		snprintf(err, errlen, "multipart: field %s: repeated, or more than %d fields", name, MPART_FIELDS);
		return -EINVAL;
	}
	/* nocheck: a value that is not UTF-8 reaches the caller's checks, which name it */
	json_object_set_new_nocheck(fields, name, json_stringn_nocheck(v, (size_t)(ve - v)));
	return 0;
}

int mpart_form(const char *body, size_t n, const char *boundary, json_t **ret_fields, size_t *ret_off,
	       size_t *ret_len, char *err, size_t errlen)
{
	struct mpart_part parts[2 * MPART_FIELDS + 2];
	size_t np = 0, files = 0;
	json_t *fields;
	int r;

	*ret_fields = NULL;
	*ret_off = *ret_len = 0;
	if ((r = mpart_parse(body, n, boundary, parts, sizeof parts / sizeof *parts, &np, err, errlen)))
		return r;
	if (!(fields = json_object()))
		return -ENOMEM;
	for (size_t i = 0; i < np && !r; i++) {
		if (parts[i].file && ++files > 1) {
			snprintf(err, errlen, "multipart: exactly one file part is allowed");
			r = -EINVAL;
		} else if (parts[i].file) {
			*ret_off = parts[i].off;
			*ret_len = parts[i].len;
		} else {
			r = mp_field(fields, parts[i].name, body + parts[i].off, body + parts[i].off + parts[i].len,
				     err, errlen);
		}
	}
	if (!r && !files) {
		snprintf(err, errlen, "multipart: the file part (a part with a filename) is missing");
		r = -EINVAL;
	}
	if (r) {
		json_decref(fields);
		return r;
	}
	*ret_fields = fields;
	return 0;
}
