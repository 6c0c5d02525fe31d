/* client.c: a Connector/C client for the czar's integration tests.
 *
 *   czar-client [conn] query SQL         prints columns (name type charset
 *                                        flags decimals) and rows, values
 *                                        hex-escaped, NULL as \N
 *   czar-client [conn] concurrent N R    N sessions connected at once, each
 *                                        running R checked queries; prints
 *                                        "ok N" or the first failure
 *   czar-client [conn] lookups N SECS MAXID   N sessions doing point lookups
 *                                        of Object.objectId in [1, MAXID] for
 *                                        SECS seconds, each checked to return
 *                                        one row; prints queries, errors, qps
 *   czar-client [conn] latency COUNT MAXID    COUNT sequential lookups on one
 *                                        session; prints the mean in ms
 * conn: -h HOST -P PORT -u USER -p PASSWORD [-S SOCKET] [-D DB] [-C CA.pem]
 * (-C: MySQL protocol SSL, the server's certificate checked against CA). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mariadb/mysql.h>

static const char *host = "127.0.0.1", *user = "root", *pass = NULL, *sock = NULL, *db = NULL, *ssl_ca = NULL;
static unsigned port = 0;

static MYSQL *connect_one(char *err, size_t errlen)
{
	MYSQL *my = mysql_init(NULL);
	if (ssl_ca) {
		my_bool enforce = 1;
		mysql_options(my, MYSQL_OPT_SSL_CA, ssl_ca);
		mysql_options(my, MYSQL_OPT_SSL_ENFORCE, &enforce);
	}
	if (!mysql_real_connect(my, sock ? NULL : host, user, pass, db, port, sock, 0)) {
		snprintf(err, errlen, "connect: %u %s", mysql_errno(my), mysql_error(my));
		mysql_close(my);
		return NULL;
	}
	return my;
}

static int run_query(const char *sql)
{
	char err[512];
	MYSQL *my = connect_one(err, sizeof(err));
	MYSQL_RES *res;
	MYSQL_ROW row;
	unsigned i, n;

	if (!my)
		return fprintf(stderr, "%s\n", err), 1;
	if (mysql_query(my, sql) != 0) {
		printf("ERROR %u (%s): %s\n", mysql_errno(my), mysql_sqlstate(my), mysql_error(my));
		mysql_close(my);
		return 0;
	}
	res = mysql_store_result(my);
	if (!res && mysql_errno(my)) {
		printf("ERROR %u (%s): %s\n", mysql_errno(my), mysql_sqlstate(my), mysql_error(my));
		mysql_close(my);
		return 0;
	}
	if (!res) {
		printf("OK %llu\n", (unsigned long long)mysql_affected_rows(my));
		mysql_close(my);
		return 0;
	}
	n = mysql_num_fields(res);
	for (i = 0; i < n; i++) {
		MYSQL_FIELD *f = mysql_fetch_field_direct(res, i);
		printf("col %s type=%d charset=%u flags=%u decimals=%u\n", f->name, f->type, f->charsetnr,
		       f->flags & (NOT_NULL_FLAG | BINARY_FLAG | UNSIGNED_FLAG | PRI_KEY_FLAG), f->decimals);
	}
	while ((row = mysql_fetch_row(res))) {
		unsigned long *len = mysql_fetch_lengths(res);
		for (i = 0; i < n; i++) {
			unsigned long k;
			if (i)
				putchar('\t');
			if (!row[i]) {
				fputs("\\N", stdout);
				continue;
			}
			for (k = 0; k < len[i]; k++) {
				unsigned char c = (unsigned char)row[i][k];
				if (c < 32 || c > 126 || c == '\\')
					printf("\\x%02x", c);
				else
					putchar(c);
			}
		}
		putchar('\n');
	}
	mysql_free_result(res);
	mysql_close(my);
	return 0;
}

static pthread_barrier_t barrier;
static unsigned rounds;

static void *worker(void *arg)
{
	long id = (long)arg;
	static char fail[600];          /* "session N: " + err */
	char err[512], sql[128], want[64];
	MYSQL *my = connect_one(err, sizeof(err));
	unsigned r;

	pthread_barrier_wait(&barrier);        /* every session is open here */
	if (!my) {
		snprintf(fail, sizeof(fail), "session %ld: %s", id, err);
		return fail;
	}
	for (r = 0; r < rounds; r++) {
		MYSQL_RES *res;
		MYSQL_ROW row;
		snprintf(sql, sizeof(sql), "SELECT %ld * 1000 + %u AS v, NULL AS n", id, r);
		snprintf(want, sizeof(want), "%ld", id * 1000 + r);
		if (mysql_query(my, sql) != 0 || !(res = mysql_store_result(my))) {
			snprintf(fail, sizeof(fail), "session %ld: %s", id, mysql_error(my));
			mysql_close(my);
			return fail;
		}
		row = mysql_fetch_row(res);
		if (!row || strcmp(row[0], want) || row[1]) {
			snprintf(fail, sizeof(fail), "session %ld: wrong answer", id);
			mysql_free_result(res);
			mysql_close(my);
			return fail;
		}
		mysql_free_result(res);
	}
	pthread_barrier_wait(&barrier);        /* all still open while others finish */
	mysql_close(my);
	return NULL;
}

static int run_concurrent(long n, unsigned r)
{
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	pthread_attr_t attr;
	long i, bad = 0;

	rounds = r;
	pthread_barrier_init(&barrier, NULL, (unsigned)n);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], &attr, worker, (void *)i) != 0)
			return fprintf(stderr, "pthread_create failed\n"), 1;
	for (i = 0; i < n; i++) {
		void *ret;
		pthread_join(t[i], &ret);
		if (ret && !bad++)
			printf("FAIL %s\n", (char *)ret);
	}
	if (!bad)
		printf("ok %ld\n", n);
	free(t);
	return bad ? 1 : 0;
}

static long maxid;
static double secs;
static long total_q, total_err;
static pthread_mutex_t tot_lock = PTHREAD_MUTEX_INITIALIZER;
static char first_err[512];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One lookup; 0 when exactly the asked row came back. */
static int lookup(MYSQL *my, long id, char *err, size_t errlen)
{
	char sql[128];
	MYSQL_RES *res;
	MYSQL_ROW row;
	int ok;

	snprintf(sql, sizeof(sql), "SELECT objectId, ra, decl FROM Object WHERE objectId = %ld", id);
	if (mysql_query(my, sql) != 0 || !(res = mysql_store_result(my))) {
		snprintf(err, errlen, "%u %s", mysql_errno(my), mysql_error(my));
		return -1;
	}
	row = mysql_fetch_row(res);
	ok = mysql_num_rows(res) == 1 && row && atol(row[0]) == id;
	if (!ok)
		snprintf(err, errlen, "objectId %ld: %llu rows", id, (unsigned long long)mysql_num_rows(res));
	mysql_free_result(res);
	return ok ? 0 : -1;
}

static void *lookup_worker(void *arg)
{
	unsigned seed = (unsigned)(long)arg * 7919u + 1;
	char err[512];
	long q = 0, e = 0;
	MYSQL *my = connect_one(err, sizeof(err));
	double end;

	pthread_barrier_wait(&barrier);
	end = now_s() + secs;
	if (!my) {
		e++;
	} else {
		while (now_s() < end) {
			long id = 1 + (long)(rand_r(&seed) % (unsigned)maxid);
			if (lookup(my, id, err, sizeof(err)) < 0) {
				e++;
				pthread_mutex_lock(&tot_lock);
				if (!first_err[0])
					snprintf(first_err, sizeof(first_err), "%s", err);
				pthread_mutex_unlock(&tot_lock);
				if (mysql_errno(my) >= 2000)
					break;
			}
			q++;
		}
		mysql_close(my);
	}
	pthread_mutex_lock(&tot_lock);
	total_q += q;
	total_err += e;
	pthread_mutex_unlock(&tot_lock);
	return NULL;
}

static int run_lookups(long n, double s, long max)
{
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	long i;
	double t0;

	secs = s;
	maxid = max;
	pthread_barrier_init(&barrier, NULL, (unsigned)n + 1);
	for (i = 0; i < n; i++)
		pthread_create(&t[i], NULL, lookup_worker, (void *)i);
	pthread_barrier_wait(&barrier);
	t0 = now_s();
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("queries %ld errors %ld seconds %.1f qps %.0f%s%s\n", total_q, total_err, now_s() - t0,
	       total_q / (now_s() - t0), first_err[0] ? " first-error " : "", first_err);
	free(t);
	return total_err ? 1 : 0;
}

static int run_latency(long count, long max)
{
	char err[512];
	MYSQL *my = connect_one(err, sizeof(err));
	unsigned seed = 12345;
	double t0;
	long i;

	if (!my)
		return fprintf(stderr, "%s\n", err), 1;
	lookup(my, 1, err, sizeof(err));            /* warm the connection */
	t0 = now_s();
	for (i = 0; i < count; i++)
		if (lookup(my, 1 + (long)(rand_r(&seed) % (unsigned)max), err, sizeof(err)) < 0)
			return fprintf(stderr, "lookup failed: %s\n", err), 1;
	printf("%.3f\n", (now_s() - t0) * 1000 / count);
	mysql_close(my);
	return 0;
}

int main(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "+h:P:u:p:S:D:C:")) != -1) {
		switch (c) {
		case 'h': host = optarg; break;
		case 'P': port = (unsigned)atoi(optarg); break;
		case 'u': user = optarg; break;
		case 'p': pass = optarg; break;
		case 'S': sock = optarg; break;
		case 'D': db = optarg; break;
		case 'C': ssl_ca = optarg; break;
		default: return 2;
		}
	}
	if (mysql_library_init(0, NULL, NULL))
		return 1;
	if (argc - optind == 2 && !strcmp(argv[optind], "query"))
		return run_query(argv[optind + 1]);
	if (argc - optind == 3 && !strcmp(argv[optind], "concurrent"))
		return run_concurrent(atol(argv[optind + 1]), (unsigned)atoi(argv[optind + 2]));
	if (argc - optind == 4 && !strcmp(argv[optind], "lookups"))
		return run_lookups(atol(argv[optind + 1]), atof(argv[optind + 2]), atol(argv[optind + 3]));
	if (argc - optind == 3 && !strcmp(argv[optind], "latency"))
		return run_latency(atol(argv[optind + 1]), atol(argv[optind + 2]));
	fprintf(stderr, "usage: czar-client [-h H -P P -u U -p PW -S SOCK -D DB -C CA] query SQL | concurrent N ROUNDS\n");
	return 2;
}
