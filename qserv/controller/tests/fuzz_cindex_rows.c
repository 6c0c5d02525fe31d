/* fuzz_cindex_rows.c: libFuzzer target for the director-index TSV line
 * parser (cindex_rows.c), which turns a worker's reply into SQL.
 * Invariants: an accepted line gives "(" key "," int "," int "," int ")"
 * where the key is an integer or X'<even count of hex digits>' and each
 * int is an optional '-' and digits, so nothing of the input reaches the
 * statement but digits and hex; a refused line leaves the buffer as it
 * was.  A violation aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qserv/controller/cindex_rows.h"

static void need(int ok)
{
	if (!ok)
		abort();
}

/* An optional '-' and 1..20 digits at *p, moved past them. */
static void integer(const char **p)
{
	const char *s = *p + (**p == '-');
	const char *d = s;
	while (*d >= '0' && *d <= '9')
		d++;
	need(d > s && d - s <= 20);
	*p = d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b;
	char err[256];
	buf_init(&b);
	buf_puts(&b, "V");
	int r = cindex_row_values(&b, (const char *)data, size, err, sizeof err);
	const char *s = buf_str(&b);
	need(!b.oom && s[0] == 'V');
	if (r) {
		need(b.len == 1 && strlen(err) < sizeof err);
	} else {
		need(strlen(s) == b.len);
		const char *p = s + 1;
		need(*p++ == '(');
		if (*p == 'X') {
			need(p[1] == '\'');
			p += 2;
			const char *h = p;
			while ((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F'))
				p++;
			need((p - h) % 2 == 0 && *p++ == '\'');
		} else {
			integer(&p);
		}
		for (int i = 0; i < 3; i++) {
			need(*p++ == ',');
			integer(&p);
		}
		need(p[0] == ')' && p[1] == '\0');
	}
	buf_free(&b);
	return 0;
}
