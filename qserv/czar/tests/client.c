/* client.c: a Connector/C client for the czar's integration tests.
 *
 *   czar-client [conn] query SQL         prints columns (name type charset
 *                                        flags decimals) and rows, values
 *                                        hex-escaped, NULL as \N
 *   czar-client [conn] concurrent N R    N sessions connected at once, each
 *                                        running R checked queries; prints
 *                                        "ok N" or the first failure
 * conn: -h HOST -P PORT -u USER -p PASSWORD [-S SOCKET] [-D DB] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mariadb/mysql.h>

static const char *host = "127.0.0.1", *user = "root", *pass = NULL, *sock = NULL, *db = NULL;
static unsigned port = 0;

static MYSQL *connect_one(char *err, size_t errlen)
{
	MYSQL *my = mysql_init(NULL);
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
	static char fail[512];
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

int main(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "+h:P:u:p:S:D:")) != -1) {
		switch (c) {
		case 'h': host = optarg; break;
		case 'P': port = (unsigned)atoi(optarg); break;
		case 'u': user = optarg; break;
		case 'p': pass = optarg; break;
		case 'S': sock = optarg; break;
		case 'D': db = optarg; break;
		default: return 2;
		}
	}
	if (mysql_library_init(0, NULL, NULL))
		return 1;
	if (argc - optind == 2 && !strcmp(argv[optind], "query"))
		return run_query(argv[optind + 1]);
	if (argc - optind == 3 && !strcmp(argv[optind], "concurrent"))
		return run_concurrent(atol(argv[optind + 1]), (unsigned)atoi(argv[optind + 2]));
	fprintf(stderr, "usage: czar-client [-h H -P P -u U -p PW -S SOCK -D DB] query SQL | concurrent N ROUNDS\n");
	return 2;
}
