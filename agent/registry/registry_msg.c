/* registry_msg.c: framing + JSON of registry messages (see registry_msg.h).
 * The decoder is the only place that turns network bytes into objects: it
 * refuses non-objects, duplicate keys and NULs inside the payload, and the
 * string getter enforces each field's size, so handlers can copy into fixed
 * buffers without further checks. */
#include "registry_msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *reg_msg_name(int type)
{
	static const char *const names[] = { "?", "JOIN", "JOINED", "ERROR", "HELLO", "WELCOME",
					     "HEARTBEAT", "ACK", "ADMIN", "ADMIN_OK", "CHALLENGE", "PROOF" };
	return type > 0 && type <= REG_MSG_LAST ? names[type] : "?";
}

int reg_msg_decode(const void *payload, size_t len, json_t **ret_obj, char *err, size_t errlen)
{
	json_error_t je;
	if (memchr(payload, '\0', len)) {
		snprintf(err, errlen, "message holds a NUL byte");
		return -EBADMSG;
	}
	json_t *obj = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &je);
	if (!obj) {
		snprintf(err, errlen, "malformed JSON at byte %d: %s", je.position, je.text);
		return -EBADMSG;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		snprintf(err, errlen, "message is not a JSON object");
		return -EBADMSG;
	}
	*ret_obj = obj;
	return 0;
}

int reg_msg_str(json_t *obj, const char *key, char *buf, size_t size, int required,
		char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	if (!v) {
		buf[0] = '\0';
		if (!required)
			return 0;
		snprintf(err, errlen, "missing field '%s'", key);
		return -ENOENT;
	}
	if (!json_is_string(v) || json_string_length(v) >= size) {
		snprintf(err, errlen, "field '%s' is not a string of at most %zu bytes", key, size - 1);
		return -EBADMSG;
	}
	const char *s = json_string_value(v);
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\n') {
			snprintf(err, errlen, "field '%s' holds a control character", key);
			return -EBADMSG;
		}
	}
	memcpy(buf, s, json_string_length(v) + 1);
	return 0;
}

int reg_msg_send(frame_write_fn wr, void *ctx, int type, json_t *obj, size_t max, int timeout_ms)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (!text)
		return -ENOMEM;
	int r = frame_write(wr, ctx, (uint8_t)type, 0, text, strlen(text), max, timeout_ms);
	free(text);
	return r;
}

int reg_msg_recv(frame_read_fn rd, void *ctx, size_t max, int timeout_ms,
		 int *ret_type, json_t **ret_obj, char *err, size_t errlen)
{
	struct frame_hdr h;
	void *buf;
	int r = frame_read(rd, ctx, max, timeout_ms, &h, &buf);
	if (r < 0) {
		if (r == -EMSGSIZE)
			snprintf(err, errlen, "message larger than %zu bytes", max);
		else if (r == -EPROTO)
			snprintf(err, errlen, "not a qserv frame (bad magic)");
		else if (r == -ENODATA)
			snprintf(err, errlen, "connection closed");
		else
			snprintf(err, errlen, "%s", strerror(-r));
		return r;
	}
	if (h.type < REG_MSG_JOIN || h.type > REG_MSG_LAST) {
		free(buf);
		snprintf(err, errlen, "unknown message type %d", h.type);
		return -EBADMSG;
	}
	r = reg_msg_decode(buf, h.len, ret_obj, err, errlen);
	free(buf);
	if (r == 0)
		*ret_type = h.type;
	return r;
}

void reg_msg_send_error(frame_write_fn wr, void *ctx, const char *code, const char *message)
{
	reg_msg_send(wr, ctx, REG_MSG_ERROR, json_pack("{s:s, s:s}", "code", code, "message", message),
		     REG_MSG_MAX_REPLY, 2000);
}
