/* output.c: chunk file writer (see output.h).
 *
 * One mutex guards the table of chunk files; each entry keeps the row
 * counts and, while cached, an open descriptor.  Writes happen outside the
 * mutex with the entry marked busy (one writer per file, so batches never
 * interleave).  When the number of open descriptors reaches the limit every
 * idle cached descriptor is closed: simple, and with batched writes (many
 * rows per call) and the soft limit raised to the hard one it is rare.  Writes
 * are whole batches of rows, so a reader never sees half a row once the run
 * is finished. */
#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"

struct entry {
	int64_t key;	/* chunk_id * 2 + overlap, -1 when empty */
	int fd;
	bool busy;	/* a thread is writing to fd (outside the lock) */
	uint64_t rows;
};

struct qpart_out {
	pthread_mutex_t lock;
	pthread_cond_t idle;	/* an entry stopped being busy */
	char *dir, *prefix;
	bool lz4;
	uint32_t num_nodes;
	struct entry *tab;
	size_t cap, used;
	int open_fds, max_open;
	int close_err;
};

static int mkdir_p(const char *dir)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + 1; *p; ++p) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

uint32_t qpart_hash32(uint32_t x)
{
	x += x << 16;
	x ^= x >> 13;
	x += x << 4;
	x ^= x >> 7;
	x += x << 10;
	x ^= x >> 5;
	x += x << 8;
	x ^= x >> 16;
	return x;
}

int qpart_out_open(const char *dir, const char *prefix, bool lz4, uint32_t num_nodes,
		   struct qpart_out **ret, char *err, size_t errlen)
{
	int r = mkdir_p(dir);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(-r));
		return r;
	}
	struct qpart_out *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->dir = strdup(dir);
	o->prefix = strdup(prefix);
	o->cap = 1024;
	o->tab = malloc(o->cap * sizeof(*o->tab));
	if (!o->dir || !o->prefix || !o->tab) {
		free(o->dir), free(o->prefix), free(o->tab), free(o);
		return -ENOMEM;
	}
	for (size_t i = 0; i < o->cap; ++i)
		o->tab[i] = (struct entry){ -1, -1, false, 0 };
	/* keep every chunk file open when the limit allows: raise the soft
	 * limit to the hard one and leave 64 descriptors to the rest */
	struct rlimit rl;
	o->max_open = 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur > 128)
			o->max_open = (int)(rl.rlim_cur - 64 < 65536 ? rl.rlim_cur - 64 : 65536);
	}
	o->lz4 = lz4;
	o->num_nodes = num_nodes ? num_nodes : 1;
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->idle, NULL);
	*ret = o;
	return 0;
}

static size_t slot(const struct qpart_out *o, int64_t key)
{
	uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15ull;
	size_t i = (size_t)(h >> 20) & (o->cap - 1);
	while (o->tab[i].key != -1 && o->tab[i].key != key)
		i = (i + 1) & (o->cap - 1);
	return i;
}

static int grow(struct qpart_out *o)
{
	struct entry *old = o->tab;
	size_t oldcap = o->cap;
	struct entry *tab = malloc(oldcap * 2 * sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	o->tab = tab;
	o->cap = oldcap * 2;
	for (size_t i = 0; i < o->cap; ++i)
		tab[i] = (struct entry){ -1, -1, false, 0 };
	for (size_t i = 0; i < oldcap; ++i)
		if (old[i].key != -1)
			tab[slot(o, old[i].key)] = old[i];
	free(old);
	return 0;
}

/* The chunk file of key; with nodes, creates its node directory. */
static void file_name(const struct qpart_out *o, int64_t key, char *buf, size_t len)
{
	char sub[32] = "";
	if (o->num_nodes > 1) {
		uint32_t node = qpart_hash32((uint32_t)(key / 2)) % o->num_nodes;
		snprintf(sub, sizeof(sub), "/node_%05lu", (unsigned long)node);
		snprintf(buf, len, "%s%s", o->dir, sub);
		mkdir(buf, 0755);	/* EEXIST is fine; open() reports real trouble */
	}
	snprintf(buf, len, "%s%s/%s_%lld%s.txt%s", o->dir, sub, o->prefix, (long long)(key / 2),
		 key % 2 ? "_overlap" : "", o->lz4 ? ".lz4" : "");
}

static void close_all(struct qpart_out *o)
{
	for (size_t i = 0; i < o->cap; ++i) {
		if (o->tab[i].fd >= 0 && !o->tab[i].busy) {
			if (close(o->tab[i].fd) < 0 && !o->close_err)
				o->close_err = -errno;
			o->tab[i].fd = -1;
			o->open_fds--;
		}
	}
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Compresses data into one LZ4 frame in a new buffer (*ret, caller
 * frees); returns its size or a negative errno. */
static long lz4_frame(const char *data, size_t len, char **ret)
{
	LZ4F_preferences_t prefs;
	memset(&prefs, 0, sizeof(prefs));
	prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
	size_t bound = LZ4F_compressFrameBound(len, &prefs);
	char *z = malloc(bound);
	if (!z)
		return -ENOMEM;
	size_t n = LZ4F_compressFrame(z, bound, data, len, &prefs);
	if (LZ4F_isError(n)) {
		free(z);
		return -EIO;
	}
	*ret = z;
	return (long)n;
}

/* Finds or creates the entry of key, waits until no other thread writes
 * to it, opens its file if needed and marks it busy.  Called locked;
 * returns the descriptor or a negative errno. */
static int acquire(struct qpart_out *o, int64_t key, char *err, size_t errlen)
{
	char name[4200];
	if ((o->used + 1) * 2 > o->cap && grow(o) < 0)
		return -ENOMEM;
	struct entry *e = &o->tab[slot(o, key)];
	if (e->key == -1) {
		*e = (struct entry){ key, -1, false, 0 };
		o->used++;
	}
	while (e->busy) {
		pthread_cond_wait(&o->idle, &o->lock);
		e = &o->tab[slot(o, key)];	/* the table may have grown */
	}
	if (e->fd < 0) {
		if (o->open_fds >= o->max_open)
			close_all(o);
		file_name(o, key, name, sizeof(name));
		e->fd = open(name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (e->fd < 0) {
			int r = -errno;
			snprintf(err, errlen, "%s: %s", name, strerror(-r));
			return r;
		}
		o->open_fds++;
	}
	e->busy = true;
	return e->fd;
}

/* The write itself runs unlocked, so two workers writing different chunk
 * files proceed in parallel; one file has one writer at a time. */
int qpart_out_write(struct qpart_out *out, int32_t chunk_id, bool overlap, const char *data,
		    size_t len, uint64_t rows, char *err, size_t errlen)
{
	int64_t key = (int64_t)chunk_id * 2 + (overlap ? 1 : 0);
	char *z = NULL;
	if (out->lz4) {
		long n = lz4_frame(data, len, &z);
		if (n < 0) {
			snprintf(err, errlen, "LZ4 compression failed");
			return (int)n;
		}
		data = z;
		len = (size_t)n;
	}
	pthread_mutex_lock(&out->lock);
	int fd = acquire(out, key, err, errlen);
	pthread_mutex_unlock(&out->lock);
	if (fd < 0) {
		free(z);
		return fd;
	}
	int r = write_all(fd, data, len);
	free(z);
	pthread_mutex_lock(&out->lock);
	struct entry *e = &out->tab[slot(out, key)];
	e->busy = false;
	if (r == 0)
		e->rows += rows;
	pthread_cond_broadcast(&out->idle);
	pthread_mutex_unlock(&out->lock);
	if (r < 0) {
		char name[4200];
		file_name(out, key, name, sizeof(name));
		snprintf(err, errlen, "%s: %s", name, strerror(-r));
	}
	return r;
}

size_t qpart_out_num_chunks(const struct qpart_out *out, bool overlap)
{
	size_t n = 0;
	for (size_t i = 0; i < out->cap; ++i)
		n += out->tab[i].key != -1 && (out->tab[i].key % 2 == 1) == overlap;
	return n;
}

static int cmp_key(const void *a, const void *b)
{
	int64_t x = ((const struct entry *)a)->key, y = ((const struct entry *)b)->key;
	return x < y ? -1 : x > y;
}

void qpart_out_foreach(const struct qpart_out *out,
		       void (*fn)(void *ctx, int32_t chunk_id, uint64_t rows, uint64_t overlap_rows),
		       void *ctx)
{
	struct entry *v = malloc((out->used + 1) * sizeof(*v));
	size_t n = 0;
	if (!v)
		return;
	for (size_t i = 0; i < out->cap; ++i)
		if (out->tab[i].key != -1)
			v[n++] = out->tab[i];
	qsort(v, n, sizeof(*v), cmp_key);
	for (size_t i = 0; i < n;) {
		int64_t chunk = v[i].key / 2;
		uint64_t own = 0, ov = 0;
		for (; i < n && v[i].key / 2 == chunk; ++i)
			*(v[i].key % 2 ? &ov : &own) += v[i].rows;
		fn(ctx, (int32_t)chunk, own, ov);
	}
	free(v);
}

int qpart_out_close(struct qpart_out *out, char *err, size_t errlen)
{
	if (!out)
		return 0;
	close_all(out);
	int r = out->close_err;
	if (r < 0)
		snprintf(err, errlen, "%s: closing a chunk file: %s", out->dir, strerror(-r));
	pthread_mutex_destroy(&out->lock);
	pthread_cond_destroy(&out->idle);
	free(out->tab);
	free(out->dir);
	free(out->prefix);
	free(out);
	return r;
}
