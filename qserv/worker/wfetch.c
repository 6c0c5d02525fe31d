/* wfetch.c: downloads an http:// or https:// contribution into the
 * staging directory, within limits, so a hung or endless source costs one
 * contribution and never the worker:
 *
 *   - a total time limit (CURLOPT_TIMEOUT), a connect limit and a stall
 *     limit (less than 1 byte/s for WFETCH_STALL_S or the total limit,
 *     whichever is shorter);
 *   - a size limit, both announced (CURLOPT_MAXFILESIZE_LARGE refuses a
 *     Content-Length over it before the body) and counted as the bytes
 *     arrive (a chunked or lying source is cut at the limit);
 *   - http and https only, also after a redirect (at most 5).
 * The limits come from the environment of qserv-worker:
 * QSERV_FETCH_TIMEOUT_S (default 3600) and QSERV_CONTRIB_MAX_BYTES
 * (default 64 GiB), read once; QSERV_INGEST_NUM_RETRIES and
 * QSERV_INGEST_MAX_RETRIES the automatic retries of a transient failure
 * (wfetch_transient: refused, reset, timed out, 5xx; wingest.c retries).  No lock is held here: the caller's
 * contribution thread is the only one waiting. */
#include "worker.h"
#include "fileio.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WFETCH_STALL_S 60L

static struct wfetch_limits limits;
static pthread_once_t limits_once = PTHREAD_ONCE_INIT;

static void limits_init(void)
{
	const char *t = getenv("QSERV_FETCH_TIMEOUT_S"), *b = getenv("QSERV_CONTRIB_MAX_BYTES");
	limits.timeout_s = t && atol(t) > 0 ? atol(t) : 3600;
	limits.max_bytes = b && strtoull(b, NULL, 10) > 0 ? strtoull(b, NULL, 10) : 64ULL << 30;
	const char *n = getenv("QSERV_INGEST_NUM_RETRIES"), *mx = getenv("QSERV_INGEST_MAX_RETRIES");
	long nv = n && *n ? atol(n) : 1, mv = mx && *mx ? atol(mx) : 10;
	limits.max_retries = (unsigned)(mv < 0 ? 0 : mv > WFETCH_RETRIES_CAP ? WFETCH_RETRIES_CAP : mv);
	limits.num_retries = (unsigned)(nv < 0 ? 0 : nv > (long)limits.max_retries ? (long)limits.max_retries : nv);
}

bool wfetch_transient(int rc, long http)
{
	return rc == -ETIMEDOUT || (rc == -EIO && (http == 0 || http >= 500));
}

const struct wfetch_limits *wfetch_limits(void)
{
	pthread_once(&limits_once, limits_init);
	return &limits;
}

struct sink {
	int fd;
	unsigned long long n, max;
	int err;
	bool too_big;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ud)
{
	struct sink *s = ud;
	size_t n = size * nmemb;
	if (s->n + n > s->max) {
		s->too_big = true;
		return 0;                 /* curl stops with CURLE_WRITE_ERROR */
	}
	int r = fileio_write_full(s->fd, data, n);
	if (r < 0) {
		s->err = -r;
		return 0;
	}
	s->n += n;
	return n;
}

static void setup(CURL *c, const char *url, const struct wfetch_limits *lim, struct sink *s, char *cerr)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_TIMEOUT, lim->timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, lim->timeout_s < 30 ? lim->timeout_s : 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, lim->timeout_s < WFETCH_STALL_S ? lim->timeout_s : WFETCH_STALL_S);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)lim->max_bytes);
}

int wfetch(const char *url, int fd, const struct wfetch_limits *lim, unsigned long long *ret_bytes,
	   long *ret_http, char *err, size_t errlen)
{
	long http = 0;
	CURL *c = curl_easy_init();
	char cerr[CURL_ERROR_SIZE] = "";
	struct sink s = { .fd = fd, .max = lim->max_bytes };
	if (!c) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -ENOMEM;
	}
	setup(c, url, lim, &s, cerr);
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
	curl_easy_cleanup(c);
	if (ret_http)
		*ret_http = http;
	if (rc == CURLE_OK) {
		if (ret_bytes)
			*ret_bytes = s.n;
		return 0;
	}
	if (s.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(err, errlen, "url: the source is larger than the worker's limit of %llu bytes"
			 " (QSERV_CONTRIB_MAX_BYTES)", lim->max_bytes);
		return -EFBIG;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(err, errlen, "url: the download did not finish within %ld s (QSERV_FETCH_TIMEOUT_S,"
			 " or it stalled): %s", lim->timeout_s, cerr[0] ? cerr : curl_easy_strerror(rc));
		return -ETIMEDOUT;
	}
	snprintf(err, errlen, "url: %s%s%s", cerr[0] ? cerr : curl_easy_strerror(rc), s.err ? ": " : "",
		 s.err ? strerror(s.err) : "");
	return s.err ? -s.err : -EIO;
}
