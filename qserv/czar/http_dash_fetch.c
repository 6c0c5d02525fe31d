/* http_dash_fetch.c: the dashboard's outbound GETs (http_dash.h) to the
 * controller, the registry's agent and qserv-mobu.  One libcurl easy
 * handle per call, every call bounded as a whole (DASH_FETCH_TIMEOUT_MS
 * from connect to the last byte, DASH_FETCH_MAX_BYTES of reply): a page
 * refresh never waits on a stuck service.  No credentials are sent (the
 * routes read are open ones); an https:// URL is checked against the
 * cluster CA (the node certificates name no host, so the host is not). */
#include "http_dash.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t n = size * nmemb;

	if (b->len + n > DASH_FETCH_MAX_BYTES || buf_reserve(b, n + 1) < 0)
		return 0;   /* too big: libcurl stops with a write error */
	buf_put(b, data, n);
	b->data[b->len] = '\0';
	return n;
}

int dash_fetch(const char *base, const char *path, const char *ca_file, char **ret_body, long *ret_status, char *err,
	       size_t errlen)
{
	char url[1024], cerr[CURL_ERROR_SIZE] = "";
	struct buf b;
	CURL *c;
	CURLcode rc;

	if ((size_t)snprintf(url, sizeof(url), "%s%s", base, path) >= sizeof(url)) {
		snprintf(err, errlen, "URL too long");
		return -ENAMETOOLONG;
	}
	if (!(c = curl_easy_init())) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	buf_init(&b);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, DASH_FETCH_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, DASH_FETCH_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (ca_file) {
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	rc = curl_easy_perform(c);
	*ret_status = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK || b.oom) {
		snprintf(err, errlen, "%s: %s", url, b.oom ? "out of memory" : cerr[0] ? cerr : curl_easy_strerror(rc));
		buf_free(&b);
		return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	}
	*ret_body = b.len ? buf_steal(&b) : strdup("");
	buf_free(&b);
	return *ret_body ? 0 : -ENOMEM;
}

int dash_fetch_json(const char *base, const char *path, const char *ca_file, json_t **ret, char *err, size_t errlen)
{
	json_error_t je;
	char *body = NULL;
	long status;
	int rc = dash_fetch(base, path, ca_file, &body, &status, err, errlen);

	if (rc < 0)
		return rc;
	*ret = json_loads(body, 0, &je);
	free(body);
	if (!json_is_object(*ret) || status != 200) {
		const char *e = json_string_value(json_object_get(*ret, "error"));
		snprintf(err, errlen, "%s%s: HTTP %ld%s%s", base, path, status, e ? ": " : "", e ? e : "");
		json_decref(*ret);
		*ret = NULL;
		return -EPROTO;
	}
	return 0;
}
