/* fakesys.h: builds fake sysfs trees for the storage unit tests.
 * fs_disk() creates <root>/devices/<devpath>/block/<name>/{size,queue/...}
 * and the link <root>/block/<name> -> ../devices/<devpath>/block/<name>,
 * the shape the kernel gives. */
#ifndef FAKESYS_H
#define FAKESYS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline void fs_mkdirs(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	mkdir(tmp, 0755);
}

static inline void fs_write(const char *dir, const char *rel, const char *fmt, ...)
{
	char path[4096], d[4096];
	va_list ap;
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	snprintf(d, sizeof(d), "%s", path);
	*strrchr(d, '/') = '\0';
	fs_mkdirs(d);
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

/* Returns the disk's directory in a static buffer. */
static inline const char *fs_disk(const char *root, const char *devpath, const char *name,
				  unsigned long long sectors, int rotational)
{
	static char dir[4096];
	char link[4096], target[4096];
	snprintf(dir, sizeof(dir), "%s/devices/%s/block/%s", root, devpath, name);
	fs_mkdirs(dir);
	fs_write(dir, "size", "%llu", sectors);
	fs_write(dir, "queue/rotational", "%d", rotational);
	fs_write(dir, "queue/logical_block_size", "512");
	fs_write(dir, "queue/physical_block_size", "4096");
	fs_write(dir, "removable", "0");
	fs_write(dir, "ro", "0");
	fs_write(dir, "dev", "8:%d", (int)(strlen(name) * 16 + name[strlen(name) - 1]));
	snprintf(link, sizeof(link), "%s/block", root);
	fs_mkdirs(link);
	snprintf(link, sizeof(link), "%s/block/%s", root, name);
	snprintf(target, sizeof(target), "../devices/%s/block/%s", devpath, name);
	if (symlink(target, link))
		abort();
	return dir;
}

static inline char *fs_root(void)
{
	char *t = strdup("/tmp/qstorage-sysfs.XXXXXX");
	if (!t || !mkdtemp(t))
		abort();
	return t;
}

static inline void fs_rm(const char *root)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		fprintf(stderr, "# could not remove %s\n", root);
}

#endif
