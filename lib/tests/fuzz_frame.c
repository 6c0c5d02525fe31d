/* fuzz_frame.c: libFuzzer target for frame_read() (lib/frame.h), the
 * reader of every length-prefixed message between nodes: arbitrary bytes
 * as a stream, read frame after frame until it fails or ends.  Invariants
 * checked: a frame is never longer than the reader's maximum, and its
 * payload is NUL-terminated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "frame.h"

struct stream { const uint8_t *p; size_t len, off; };

static ssize_t mem_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	struct stream *s = ctx;
	size_t n = s->len - s->off < len ? s->len - s->off : len;

	(void)timeout_ms;
	if (n > 7)                       /* short reads: exercise the refill path */
		n = n / 2 + 1;
	memcpy(buf, s->p + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream s = { data, size, 0 };
	size_t max = size ? data[0] * 16u : 0;      /* the first byte picks the limit */

	for (;;) {
		struct frame_hdr h;
		void *payload = NULL;

		if (frame_read(mem_read, &s, max, 1000, &h, &payload) < 0)
			break;
		if (h.len > max || ((char *)payload)[h.len] != '\0')
			abort();
		free(payload);
	}
	return 0;
}
