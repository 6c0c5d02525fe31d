/* fuzz_regmsg.c: libFuzzer target for the registry protocol's decoders
 * (registry_msg.h), both directions: arbitrary bytes as a stream of frames
 * read with reg_msg_recv (frame, size cap, JSON object, duplicate keys),
 * then every string field the registry or the join client takes out of a
 * message read with reg_msg_str into buffers of the sizes they use.
 * Invariant: a field reg_msg_str accepts is NUL-terminated in its buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "agent/registry/registry_msg.h"

struct stream { const uint8_t *p; size_t len, off; };

static ssize_t mem_read(void *ctx, void *buf, size_t len, int timeout_ms)
{
	struct stream *s = ctx;
	size_t n = s->len - s->off < len ? s->len - s->off : len;

	(void)timeout_ms;
	memcpy(buf, s->p + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static const struct { const char *key; size_t size; } fields[] = {
	{ "token", 128 }, { "uuid", 64 }, { "role", 16 }, { "csr", 8192 }, { "name", 64 },
	{ "cluster", 64 }, { "cert", 8192 }, { "ca", 8192 }, { "code", 64 }, { "message", 512 },
	{ "cmd", 64 }, { "state", 32 }, { "nonce", 128 }, { "sig", 1024 }, { "addr", 64 },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream s = { data, size, 0 };
	char err[256], *buf = malloc(8192);
	json_t *obj;
	int type;
	size_t i;

	while (buf && reg_msg_recv(mem_read, &s, REG_MSG_MAX_REQ, 1000, &type, &obj, err, sizeof(err)) == 0) {
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (reg_msg_str(obj, fields[i].key, buf, fields[i].size, i & 1, err, sizeof(err)) == 0 &&
			    !memchr(buf, 0, fields[i].size))
				abort();
		json_decref(obj);
	}
	free(buf);
	return 0;
}
