/* testfiles.h: writing the small dataset files libqloader's unit tests
 * build their datasets from. */
#ifndef QLOADER_TESTFILES_H
#define QLOADER_TESTFILES_H

#include <stdio.h>

/* Writes text to dir/name (a test fixture: failures show up as the
 * missing file the test then reports). */
static inline void put(const char *dir, const char *name, const char *text)
{
	char path[1024];
	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
		return;
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

#endif
