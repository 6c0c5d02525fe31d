/* power.h: the ACPI power button.  The kernel's ACPI button driver reports a
 * press as KEY_POWER on an evdev device; the agent watches every
 * /dev/input/event* that can send KEY_POWER and starts an orderly shutdown. */
#ifndef AGENT_POWER_H
#define AGENT_POWER_H

#include <stdbool.h>
#include <stddef.h>

#define POWER_MAX_FDS 8

struct power_buttons {
	int fds[POWER_MAX_FDS];
	size_t n;
};

/* Opens the event devices of dev_input_dir that have KEY_POWER (non-blocking). */
void power_open(struct power_buttons *pb, const char *dev_input_dir);
/* Drains fd; true when a KEY_POWER press was read. */
bool power_pressed(int fd);
void power_close(struct power_buttons *pb);

#endif
