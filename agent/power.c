/* power.c: find and read the power-button event devices (see power.h). */
#include "power.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/input.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define BITS_PER_LONG (8 * sizeof(long))
#define NLONGS(n) (((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)

static bool has_power_key(int fd)
{
	unsigned long keys[NLONGS(KEY_MAX + 1)];

	memset(keys, 0, sizeof(keys));
	if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof(keys)), keys) < 0)
		return false;
	return (keys[KEY_POWER / BITS_PER_LONG] >> (KEY_POWER % BITS_PER_LONG)) & 1;
}

void power_open(struct power_buttons *pb, const char *dev_input_dir)
{
	struct dirent *de;
	DIR *d = opendir(dev_input_dir);

	pb->n = 0;
	if (!d)
		return;
	while ((de = readdir(d)) && pb->n < POWER_MAX_FDS) {
		char path[512];
		int fd;

		if (strncmp(de->d_name, "event", 5))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dev_input_dir, de->d_name);
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (has_power_key(fd))
			pb->fds[pb->n++] = fd;
		else
			close(fd);
	}
	closedir(d);
}

bool power_pressed(int fd)
{
	struct input_event ev[16];
	bool pressed = false;
	ssize_t n;

	while ((n = read(fd, ev, sizeof(ev))) > 0)
		for (size_t i = 0; i < (size_t)n / sizeof(ev[0]); i++)
			if (ev[i].type == EV_KEY && ev[i].code == KEY_POWER && ev[i].value == 1)
				pressed = true;
	return pressed;
}

void power_close(struct power_buttons *pb)
{
	for (size_t i = 0; i < pb->n; i++)
		close(pb->fds[i]);
	pb->n = 0;
}
