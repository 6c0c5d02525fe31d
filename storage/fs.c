/* fs.c: our filesystems: mkfs, fsck, mount, the marker file (replaced
 * durably through fileio_write_atomic), and the mount table.  mkfs/fsck are the distribution's tools (e2fsprogs,
 * xfsprogs) run as child processes with stdin on /dev/null, so any tool that
 * would ask "proceed anyway?" stops instead; mkfs is never forced.  Mounts go
 * through mount(2) with MS_NOATIME, no helper involved. */
#include "internal.h"
#include "util.h"
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PATH "/sbin:/usr/sbin:/bin:/usr/bin"

static void last_line(const char *out, char *err, size_t errlen)
{
	const char *end = out + strlen(out), *start;

	while (end > out && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	start = end;
	while (start > out && start[-1] != '\n')
		start--;
	snprintf(err, errlen, "%.*s", (int)(end - start), start);
}

int qs_run(char *const argv[], char *err, size_t errlen)
{
	char out[4096];
	size_t used = 0;
	int pfd[2], status;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return qs_err(err, errlen, -errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return qs_err(err, errlen, -errno, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		if (!getenv("PATH"))
			setenv("PATH", DEFAULT_PATH, 1);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		char buf[1024];
		ssize_t n = read(pfd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* keep the tail: the last line explains a failure */
		if (used + (size_t)n >= sizeof(out)) {
			size_t drop = used + (size_t)n - sizeof(out) + 1;
			if (drop > used)
				drop = used;
			memmove(out, out + drop, used - drop);
			used -= drop;
		}
		size_t c = (size_t)n < sizeof(out) - 1 - used ? (size_t)n : sizeof(out) - 1 - used;
		memcpy(out + used, buf, c);
		used += c;
	}
	out[used] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return qs_err(err, errlen, -errno, "waitpid: %s", strerror(errno));
	if (err && errlen)
		last_line(out, err, errlen);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int qs_mkfs(const char *dev, const char *fs_type, const char *label, char *err, size_t errlen)
{
	char msg[512] = "";
	int r;

	if (!strcmp(fs_type, "ext4")) {
		/* no reserved blocks: a data disk; lazy init keeps mkfs fast */
		char *argv[] = { "mkfs.ext4", "-q", "-m", "0", "-L", (char *)label, "-E",
				 "lazy_itable_init=1,lazy_journal_init=1", (char *)dev, NULL };
		r = qs_run(argv, msg, sizeof(msg));
	} else if (!strcmp(fs_type, "xfs")) {
		char *argv[] = { "mkfs.xfs", "-q", "-L", (char *)label, (char *)dev, NULL };
		r = qs_run(argv, msg, sizeof(msg));
	} else {
		return qs_err(err, errlen, -EINVAL, "unsupported filesystem '%s' (ext4 or xfs)", fs_type);
	}
	if (r < 0)
		return qs_err(err, errlen, r, "mkfs.%s: %s", fs_type, msg);
	if (r != 0)
		return qs_err(err, errlen, -EIO, "mkfs.%s %s failed (exit %d): %s", fs_type, dev, r, msg);
	return 0;
}

int qs_fsck(const char *dev, const char *fs_type, char *err, size_t errlen)
{
	char msg[512] = "";
	int r;

	if (strcmp(fs_type, "ext4"))
		return 0; /* xfs checks itself at mount (log replay); xfs_repair is manual */
	char *argv[] = { "e2fsck", "-p", (char *)dev, NULL };
	r = qs_run(argv, msg, sizeof(msg));
	if (r < 0)
		return qs_err(err, errlen, r, "e2fsck: %s", msg);
	if (r <= 3) /* 0 clean, 1 fixed, 2 fixed (reboot advised) */
		return 0;
	/* 4: errors left uncorrected; 8: e2fsck gave up (e.g. no root inode) */
	return qs_err(err, errlen, (r & 4) ? -EUCLEAN : -EIO,
		      "filesystem %s (e2fsck -p exit %d: %s); not reformatted, repair by hand "
		      "(e2fsck -f %s)", (r & 4) ? "damaged" : "check failed", r, msg, dev);
}

int qs_mkdir_p(const char *path, unsigned mode)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int qs_mount(const char *dev, const char *mountpoint, const char *fs_type, char *err,
	     size_t errlen)
{
	int r = qs_mkdir_p(mountpoint, 0755);

	if (r < 0)
		return qs_err(err, errlen, r, "mkdir %s: %s", mountpoint, strerror(-r));
	if (qs_is_mountpoint(mountpoint))
		return qs_err(err, errlen, -EBUSY, "%s is already a mount point of another device",
			      mountpoint);
	if (mount(dev, mountpoint, fs_type, MS_NOATIME | MS_NODEV | MS_NOSUID, NULL) < 0)
		return qs_err(err, errlen, -errno, "mount %s on %s (%s): %s", dev, mountpoint, fs_type,
			      strerror(errno));
	return 0;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* Calls fn for each mount; stops when fn returns non-zero, returns that. */
static int each_mount(int (*fn)(unsigned maj, unsigned min, const char *mnt, void *ctx), void *ctx)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];
	int r = 0;

	if (!f)
		return 0;
	while (!r && fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		char mnt[4096];
		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, mnt) != 3)
			continue;
		unescape(mnt);
		r = fn(maj, min, mnt, ctx);
	}
	fclose(f);
	return r;
}

struct find_ctx {
	unsigned maj, min;
	const char *path;
	char *out;
	size_t size;
};

static int match_dev(unsigned maj, unsigned min, const char *mnt, void *ctx)
{
	struct find_ctx *c = ctx;

	if (maj != c->maj || min != c->min)
		return 0;
	qs_strlcpy(c->out, mnt, c->size);
	return 1;
}

int qs_find_mount(unsigned major, unsigned minor, char *ret_mountpoint, size_t size)
{
	struct find_ctx c = { .maj = major, .min = minor, .out = ret_mountpoint, .size = size };

	return each_mount(match_dev, &c);
}

static int match_path(unsigned maj, unsigned min, const char *mnt, void *ctx)
{
	return !strcmp(mnt, ((struct find_ctx *)ctx)->path);
}

bool qs_is_mountpoint(const char *path)
{
	struct find_ctx c = { .path = path };

	return each_mount(match_path, &c) == 1;
}

int qs_marker_write(const char *mnt, const struct qs_marker *m, char *err, size_t errlen)
{
	char path[4200], *text = NULL, *line;
	json_t *o;
	size_t n;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", mnt, QSTORAGE_MARKER) >= (int)sizeof(path))
		return qs_err(err, errlen, -ENAMETOOLONG, "marker: %s: path too long", mnt);
	o = json_pack("{s:s, s:s, s:i, s:s, s:I}", "node", m->node, "pool", m->pool, "index",
		      m->index, "disk", m->disk, "created", (json_int_t)time(NULL));
	if (o)
		text = json_dumps(o, JSON_INDENT(1));
	json_decref(o);
	n = text ? strlen(text) : 0;
	line = text ? realloc(text, n + 2) : NULL;
	if (!line) {
		free(text);
		return qs_err(err, errlen, -ENOMEM, "marker: out of memory");
	}
	memcpy(line + n, "\n", 2);
	r = fileio_write_atomic(path, line, n + 1, 0644);
	free(line);
	if (r < 0)
		return qs_err(err, errlen, r, "%s: %s", path, strerror(-r));
	return 0;
}

int qs_marker_read(const char *mnt, struct qs_marker *ret_m)
{
	char path[4200];
	json_error_t jerr;
	struct qs_marker m;
	json_t *o;
	const char *node = "", *pool = "", *disk = "";
	int index = -1;

	snprintf(path, sizeof(path), "%s/%s", mnt, QSTORAGE_MARKER);
	if (access(path, F_OK) < 0)
		return -errno;
	o = json_load_file(path, 0, &jerr);
	if (!o)
		return -EBADMSG;
	if (json_unpack(o, "{s?s, s?s, s?i, s?s}", "node", &node, "pool", &pool, "index", &index,
			"disk", &disk) < 0) {
		json_decref(o);
		return -EBADMSG;
	}
	memset(&m, 0, sizeof(m));
	qs_strlcpy(m.node, node, sizeof(m.node));
	qs_strlcpy(m.pool, pool, sizeof(m.pool));
	qs_strlcpy(m.disk, disk, sizeof(m.disk));
	m.index = index;
	json_decref(o);
	*ret_m = m;
	return 0;
}
