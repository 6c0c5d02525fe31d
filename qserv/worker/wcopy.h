/* wcopy.h: worker-to-worker copy of a replica, a chunk or a database's
 * regular tables (wcopy.c, wcopy_in.c), and its stream format
 * (wcopy_fmt.c, no MariaDB, fuzz target wcopy).
 *
 * The stream a source worker sends for GET /replica/chunk?database=&chunk=
 * is one LZ4 frame whose plain text is, for every partitioned table's
 * chunk table (T_<chunk>, and TFullOverlap_<chunk> for directors):
 *
 *   \#chunk <db> <chunk>\n                        once, first
 *   \#table <name>\n                              then its rows, one a line,
 *   <field>\t<field>...\n                         LOAD DATA's default escapes
 *   \#end <rows> <checksum>\n                     (\N NULL, \\ \t \n \0)
 *   ...
 *   \#done <tables>\n                             last: a stream without it
 *                                                 was cut short
 *
 * For ?database=&regular=1 the first line is "\#regular <db>" and the
 * tables are the database's regular tables (T); the rest is the same, and
 * a database without a regular table is "\#regular <db>", "\#done 0".
 * A row never starts with the two bytes "\#" (a backslash in a field is
 * always doubled), so control lines need no length prefix.  <checksum> is
 * MariaDB's CHECKSUM TABLE of the table on the source, read under LOCK
 * TABLES ... READ together with the rows: a sum of per-row CRCs, so it does
 * not depend on row order, and the target compares it with CHECKSUM TABLE
 * of its staging copy (same definition, same MyISAM row format). */
#ifndef QSERV_WCOPY_H
#define QSERV_WCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <mariadb/mysql.h>

#define WCOPY_CTL_MAX 256
#define WCOPY_REGULAR (-2)     /* the chunk of a \#regular stream (WREQ_REGULAR) */

/* The decoder of the plain stream: fed bytes in any pieces, calls back
 * once per control line and for every piece of row bytes (whole lines
 * split anywhere, newline included).  Callbacks return 0 or a negative
 * errno that stops the stream (their message in err). */
struct wcopy_dec {
	int (*on_table)(void *ud, const char *name);
	int (*on_rows)(void *ud, const char *p, size_t n);
	int (*on_end)(void *ud, const char *name, unsigned long long rows, unsigned long long checksum);
	void *ud;
	char *err;
	size_t errlen;
	/* state (zeroed by wcopy_dec_init) */
	int st;
	char ctl[WCOPY_CTL_MAX];
	size_t nctl;
	char db[65], table[65];
	int32_t chunk;          /* -1 before the first line; WCOPY_REGULAR for \#regular */
	bool in_table, started, done;
	unsigned ntables;
	unsigned long long rows;
};

void wcopy_dec_init(struct wcopy_dec *d, char *err, size_t errlen);
/* 0, or -EPROTO (err says what was wrong) or a callback's error. */
int wcopy_dec_feed(struct wcopy_dec *d, const char *p, size_t n);
/* At the end of the stream: 0 when "\#done" came and matched, else -EPROTO. */
int wcopy_dec_finish(struct wcopy_dec *d);

/* Appends field p[0..n) escaped for LOAD DATA (NULL p: \N) to out, which
 * must have room for 2 * n + 2 bytes; returns the bytes written. */
size_t wcopy_escape(const char *p, size_t n, char *out);

struct worker;
struct qhttp_req;
struct wreq_replica;
/* GET /replica/chunk?database=&chunk= or ?database=&regular=1 (source
 * side; callers: a worker certificate or the admin key, the route's policy
 * QHTTP_KEY_OR_WORKER). */
void wcopy_export(struct worker *w, struct qhttp_req *r, const char *rest);
/* POST /worker/replica (target side), on the caller's connection m; on
 * success *ret is {"database","chunk","source_id","bytes","plain_bytes",
 * "rows","tables","seconds","checksums":[{"table","rows","checksum"}...]},
 * with "regular": true instead of "chunk" when q->chunk is WREQ_REGULAR. */
int wcopy_import(struct worker *w, MYSQL *m, const struct wreq_replica *q, json_t **ret, char *err,
		 size_t errlen);
/* The replicas being copied into (or dropped on) this worker, one request
 * per chunk, or per database for its regular tables (chunk WREQ_REGULAR,
 * which no real chunk is): take is 0, or -EBUSY when the slot is taken (or
 * all 64 are); give frees it.  A slot, not a lock: nothing waits on it. */
int wcopy_busy_take(const char *db, int32_t chunk);
void wcopy_busy_give(const char *db, int32_t chunk);
/* The client side of a pull of url from another worker on curl (a CURL
 * *): bounded (10 s to connect, QSERV_COPY_TIMEOUT_S (default 3600) in
 * all, at most 600 s without a byte), curl's message into cerr
 * (CURL_ERROR_SIZE), this node's certificate and the pinned CA (mutual
 * TLS), or on plain-HTTP development clusters the admin key as a header
 * appended to *h (the caller frees *h after the transfer).  wcopy_in.c
 * and wbackup.c. */
struct curl_slist;
void wcopy_curl_peer(const struct worker *w, void *curl, const char *url, char *cerr, struct curl_slist **h);
/* The first step of such a pull's write callback: the source's HTTP status
 * read once into *http; unless it is 200 the n bytes at p are the start of
 * a refusal's body, kept NUL-terminated (what fits in reply[cap]) after
 * *nreply, and the answer is true.  False: the bytes are data. */
bool wcopy_refusal(void *curl, long *http, char *reply, size_t cap, size_t *nreply, const char *p, size_t n);
/* At start: drops the staging tables (<chunk table>__copy / __old, and
 * <regular table>__copy / __old) that a crash in the middle of a copy
 * left. */
int wcopy_cleanup(MYSQL *m, char *err, size_t errlen);

#endif
