/* qhttpc.c: libcurl requests with JSON replies (see qhttpc.h).  One easy
 * handle per call: calls are rare next to the loads they start, and a
 * handle per call keeps the functions thread-safe without a pool.  A
 * process that sends many (the loader, the controller) keeps its
 * connections to our own services open between calls through one libcurl
 * share (qhttpc_keep_connections). */
#include "qhttpc.h"

#include "buf.h"
#include "fileio.h"

#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Collects a reply body; kept NUL-terminated so an error can quote it. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct buf *b = ud;
	size_t n = size * nmemb;
	if (buf_reserve(b, n + 1) < 0)
		return 0;
	buf_put(b, data, n);
	b->data[b->len] = '\0';
	return n;
}

static char auth_header[320];
static struct { char *ca, *cert, *key; } tls;   /* qhttpc_set_tls */

/* qhttpc_keep_connections: the connection cache and TLS sessions every
 * request to our own services shares, one lock per kind of shared data */
static CURLSH *share;
static pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *c, curl_lock_data d, curl_lock_access a, void *u)
{
	(void)c, (void)a, (void)u;
	pthread_mutex_lock(&share_mu[d]);
}

static void share_unlock(CURL *c, curl_lock_data d, void *u)
{
	(void)c, (void)u;
	pthread_mutex_unlock(&share_mu[d]);
}

int qhttpc_keep_connections(void)
{
	if (share)
		return 0;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&share_mu[i], NULL);
	CURLSH *s = curl_share_init();
	if (!s || curl_share_setopt(s, CURLSHOPT_LOCKFUNC, share_lock) ||
	    curl_share_setopt(s, CURLSHOPT_UNLOCKFUNC, share_unlock) ||
	    curl_share_setopt(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) ||
	    curl_share_setopt(s, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION)) {
		curl_share_cleanup(s);
		return -ENOMEM;
	}
	share = s;
	return 0;
}

void qhttpc_set_auth_key(const char *key)
{
	if (key && *key)
		snprintf(auth_header, sizeof auth_header, "Authorization: Bearer %s", key);
	else
		auth_header[0] = '\0';
}

int qhttpc_set_tls(const char *ca_pem, const char *cert_pem, const char *key_pem)
{
	free(tls.ca), free(tls.cert), free(tls.key);
	tls.ca = tls.cert = tls.key = NULL;
	if (!ca_pem)
		return 0;
	tls.ca = strdup(ca_pem);
	tls.cert = cert_pem ? strdup(cert_pem) : NULL;
	tls.key = key_pem ? strdup(key_pem) : NULL;
	if (!tls.ca || (cert_pem && !tls.cert) || (key_pem && !tls.key))
		return -ENOMEM;
	return 0;
}

static int read_pem(const char *path, char **ret, char *err, size_t errlen)
{
	*ret = NULL;
	if (!path)
		return 0;
	FILE *f = fopen(path, "r");
	struct buf b;
	char chunk[4096];
	size_t n;
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < (1u << 20))
		if (buf_reserve(&b, n + 1) == 0)
			buf_put(&b, chunk, n);
	fclose(f);
	if (!b.len) {
		buf_free(&b);
		snprintf(err, errlen, "%s: empty", path);
		return -EINVAL;
	}
	b.data[b.len] = '\0';
	*ret = (char *)b.data;
	return 0;
}

int qhttpc_set_tls_files(const char *ca_path, const char *cert_path, const char *key_path,
			 char *err, size_t errlen)
{
	char *ca = NULL, *cert = NULL, *key = NULL;
	int rc = read_pem(ca_path, &ca, err, errlen);
	if (!rc)
		rc = read_pem(cert_path, &cert, err, errlen);
	if (!rc)
		rc = read_pem(key_path, &key, err, errlen);
	if (!rc && (rc = qhttpc_set_tls(ca, cert, key)) < 0)
		snprintf(err, errlen, "out of memory");
	free(ca), free(cert), free(key);
	return rc;
}

static void blob(CURL *c, CURLoption o, char *pem)
{
	struct curl_blob b = { .data = pem, .len = strlen(pem), .flags = CURL_BLOB_COPY };
	curl_easy_setopt(c, o, &b);
}

/* A kept connection to a peer that vanished (powered off, cable pulled)
 * looks alive until a request is sent on it, and then TCP would resend
 * that request for about 15 minutes: bytes sent and not acknowledged for
 * QHTTPC_UNACKED_S end the connection (TCP_USER_TIMEOUT), and the request
 * fails as a connection to a vanished peer always did.  A live peer's
 * kernel acknowledges at once however long its answer takes, so no slow
 * answer is cut. */
#define QHTTPC_UNACKED_S 30
static int unacked_bound(void *u, curl_socket_t fd, curlsocktype purpose)
{
	(void)u;
	unsigned ms = QHTTPC_UNACKED_S * 1000;
	if (purpose == CURLSOCKTYPE_IPCXN)
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms);   /* best effort: AF_UNIX has none */
	return CURL_SOCKOPT_OK;
}

/* An own-service request: HTTPS with the pinned CA when configured. */
static void set_url_ours(CURL *c, const char *url)
{
	curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, unacked_bound);
	if (!tls.ca || strncmp(url, "http://", 7)) {
		curl_easy_setopt(c, CURLOPT_URL, url);
	} else {
		char *u = malloc(strlen(url) + 2);
		if (u) {
			sprintf(u, "https://%s", url + 7);
			curl_easy_setopt(c, CURLOPT_URL, u);   /* libcurl copies it */
			free(u);
		}
	}
	if (share)
		curl_easy_setopt(c, CURLOPT_SHARE, share);
	if (!tls.ca)
		return;
	blob(c, CURLOPT_CAINFO_BLOB, tls.ca);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	if (tls.cert && tls.key) {
		blob(c, CURLOPT_SSLCERT_BLOB, tls.cert);
		blob(c, CURLOPT_SSLKEY_BLOB, tls.key);
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	}
}

static struct curl_slist *with_auth(struct curl_slist *h)
{
	return auth_header[0] ? curl_slist_append(h, auth_header) : h;
}

int qhttpc_init(void)
{
	char err[256];
	const char *ca = getenv("QSERV_CA_FILE");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	if (ca && *ca && qhttpc_set_tls_files(ca, NULL, NULL, err, sizeof err) < 0)
		return -EIO;
	return 0;
}

int qhttpc_client_setup(const char *keyfile, const char *cafile, char *err, size_t errlen)
{
	if (!cafile || !*cafile)
		cafile = getenv("QSERV_CA_FILE");
	if (cafile && *cafile) {
		int rc = qhttpc_set_tls_files(cafile, NULL, NULL, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (!keyfile) {
		qhttpc_set_auth_key(getenv("QSERV_AUTH_KEY"));
		return 0;
	}
	char key[320] = "";
	FILE *f = fopen(keyfile, "r");
	if (!f || !fgets(key, sizeof key, f)) {
		int e = f ? EINVAL : errno;
		snprintf(err, errlen, "%s: %s", keyfile, f ? "no key in it" : strerror(e));
		if (f)
			fclose(f);
		return -e;
	}
	fclose(f);
	key[strcspn(key, "\r\n")] = '\0';
	qhttpc_set_auth_key(key);
	return 0;
}

char *qhttpc_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	if (!e)
		return NULL;
	char *r = strdup(e);
	curl_free(e);
	return r;
}

/* Every request: no signals (threads); TCP keepalive, so a peer that
 * vanished (powered off, cable pulled) while we wait for its answer ends
 * the request within about a minute; and a bound on silence for a peer
 * that is up but never answers (hung, stopped): QHTTPC_SILENCE_S without
 * a byte either way ends it.  The bound is above the longest silence a
 * request of ours may legitimately have (a worker's chunk copy, 3600 s
 * by default; a large load), so no slow answer is cut. */
#define QHTTPC_SILENCE_S 3900L
static void no_signals_keepalive(CURL *c)
{
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, QHTTPC_SILENCE_S);
}

/* A transport failure as an errno a caller can act on: the peer is down
 * or gone (refused, reset, nothing sent back), too slow, or unreachable;
 * anything else (TLS, protocol) -EIO. */
static int transport_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_RECV_ERROR: case CURLE_SEND_ERROR: case CURLE_GOT_NOTHING: return -ECONNRESET;
	case CURLE_COULDNT_RESOLVE_HOST: return -EHOSTUNREACH;
	default: return -EIO;
	}
}

/* Parses the reply in b; 0 when it is a successful Qserv-style reply. */
static int parse_reply(const char *url, long code, struct buf *b, json_t **ret_reply,
		       char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = b->len ? json_loadb((const char *)b->data, b->len, 0, &je) : NULL;
	if (!j || !json_is_object(j)) {
		snprintf(err, errlen, "%s: HTTP %ld, reply is not a JSON object: %.200s", url, code,
			 b->len ? buf_str(b) : "(empty)");
		json_decref(j);
		return -EPROTO;
	}
	json_t *ok = json_object_get(j, "success");
	if (code < 200 || code >= 300 || !ok || (!json_is_true(ok) && json_integer_value(ok) != 1)) {
		const char *e = json_string_value(json_object_get(j, "error"));
		snprintf(err, errlen, "%s", e && *e ? e : "request failed");
		json_decref(j);
		return code == 404 ? -ENOENT : code == 409 ? -EBUSY : code >= 500 ? -EAGAIN : -EIO;
	}
	if (ret_reply)
		*ret_reply = j;
	else
		json_decref(j);
	return 0;
}

static int perform(CURL *c, const char *url, struct buf *b, json_t **ret_reply, char *err, size_t errlen)
{
	char cerr[CURL_ERROR_SIZE] = "";
	set_url_ours(c, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	no_signals_keepalive(c);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", url, cerr[0] ? cerr : curl_easy_strerror(rc));
		return transport_errno(rc);
	}
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	return parse_reply(url, code, b, ret_reply, err, errlen);
}

static size_t discard(char *p, size_t sz, size_t n, void *u)
{
	(void)p, (void)u;
	return sz * n;
}

int qhttpc_probe(const char *url, long timeout_ms, long *ret_code)
{
	CURL *c = curl_easy_init();
	if (!c)
		return -ENOMEM;
	set_url_ours(c, url);
	no_signals_keepalive(c);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	CURLcode rc = curl_easy_perform(c);
	*ret_code = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_code);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : transport_errno(rc);
}

int qhttpc_post_out(const char *url, const char *body, const char *extra_header, long timeout_ms,
		    char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	long code = 0;

	if (h && extra_header)
		h = curl_slist_append(h, extra_header);
	if (!c || !h) {
		curl_easy_cleanup(c);
		curl_slist_free_all(h);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
		return transport_errno(rc);
	}
	if (code < 200 || code > 299) {
		snprintf(err, errlen, "HTTP %ld", code);
		return -EIO;
	}
	return 0;
}

int qhttpc_json(const char *method, const char *url, json_t *body, json_t **ret_reply,
		char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -ENOMEM;
	}
	struct buf b;
	buf_init(&b);
	struct curl_slist *h = NULL;
	char *s = NULL;
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	h = with_auth(h);
	if (body) {
		s = json_dumps(body, JSON_COMPACT);
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, s ? s : "{}");
	}
	if (h)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	int ret = perform(c, url, &b, ret_reply, err, errlen);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(s);
	buf_free(&b);
	return ret;
}

static int seek_file(void *f, curl_off_t off, int origin)
{
	return fseeko(f, (off_t)off, origin) ? CURL_SEEKFUNC_CANTSEEK : CURL_SEEKFUNC_OK;
}

int qhttpc_post_file(const char *url, const char *path, json_t **ret_reply, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	struct stat st;
	fstat(fileno(f), &st);
	CURL *c = curl_easy_init();
	struct buf b;
	buf_init(&b);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: text/plain");
	h = curl_slist_append(h, "Expect:");
	h = with_auth(h);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_READDATA, f);
	curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_file);   /* a kept connection that died: sent again */
	curl_easy_setopt(c, CURLOPT_SEEKDATA, f);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)st.st_size);
	int ret = perform(c, url, &b, ret_reply, err, errlen);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	fclose(f);
	buf_free(&b);
	return ret;
}

struct dl {
	int fd;
	unsigned long long n;
	int err;
};

static size_t on_dl(char *data, size_t size, size_t nmemb, void *ud)
{
	struct dl *d = ud;
	size_t n = size * nmemb;
	int r = fileio_write_full(d->fd, data, n);
	if (r < 0) {
		d->err = -r;
		return 0;
	}
	d->n += n;
	return n;
}

static int download(const char *url, int fd, bool auth, unsigned long long *ret_bytes,
		    char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -ENOMEM;
	}
	char cerr[CURL_ERROR_SIZE] = "";
	struct dl d = { .fd = fd };
	if (auth)
		set_url_ours(c, url);
	else
		curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_dl);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
	no_signals_keepalive(c);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	struct curl_slist *h = auth ? with_auth(NULL) : NULL;
	if (h)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	else
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	CURLcode rc = curl_easy_perform(c);
	curl_slist_free_all(h);
	int ret = 0;
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s%s%s", url, cerr[0] ? cerr : curl_easy_strerror(rc),
			 d.err ? ": " : "", d.err ? strerror(d.err) : "");
		ret = d.err ? -d.err : -EIO;
	} else if (ret_bytes) {
		*ret_bytes = d.n;
	}
	curl_easy_cleanup(c);
	return ret;
}

int qhttpc_download(const char *url, int fd, unsigned long long *ret_bytes, char *err, size_t errlen)
{
	return download(url, fd, false, ret_bytes, err, errlen);
}

int qhttpc_download_ours(const char *url, int fd, unsigned long long *ret_bytes, char *err, size_t errlen)
{
	return download(url, fd, true, ret_bytes, err, errlen);
}
