/* fuzz_wcopy.c: libFuzzer target for the chunk-copy stream decoder
 * (wcopy_fmt.c), the part of a copy that reads another node's bytes.  The
 * input is fed in pieces whose sizes come from the first byte, so control
 * lines and rows split anywhere.  Invariants: a table callback gets a plain
 * name of at most 64 bytes, \#end only follows a \#table, the row count it
 * reports is the number of newline-ended rows fed for that table, rows
 * only arrive inside a table, and finish succeeds only after \#done. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qserv/worker/wcopy.h"

struct st {
	int in_table;
	unsigned long long newlines;
};

static void need(int ok)
{
	if (!ok)
		abort();
}

static int on_table(void *ud, const char *name)
{
	struct st *s = ud;
	size_t n = strlen(name);
	need(!s->in_table && n >= 1 && n <= 64);
	s->in_table = 1;
	s->newlines = 0;
	return 0;
}

static int on_rows(void *ud, const char *p, size_t n)
{
	struct st *s = ud;
	need(s->in_table && n > 0);
	for (size_t i = 0; i < n; i++)
		s->newlines += p[i] == '\n';
	return 0;
}

static int on_end(void *ud, const char *name, unsigned long long rows, unsigned long long sum)
{
	struct st *s = ud;
	(void)name, (void)sum;
	need(s->in_table && rows == s->newlines);
	s->in_table = 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct st s = { 0 };
	struct wcopy_dec d;
	if (size < 1)
		return 0;
	size_t piece = (size_t)data[0] % 17 + 1;
	wcopy_dec_init(&d, err, sizeof err);
	d.on_table = on_table, d.on_rows = on_rows, d.on_end = on_end, d.ud = &s;
	int r = 0;
	for (size_t off = 1; !r && off < size; off += piece)
		r = wcopy_dec_feed(&d, (const char *)data + off, off + piece <= size ? piece : size - off);
	if (!r && wcopy_dec_finish(&d) == 0)
		need(d.done && !s.in_table);
	need(strnlen(err, sizeof err) < sizeof err);
	return 0;
}
