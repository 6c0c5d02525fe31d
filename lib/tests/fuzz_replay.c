/* fuzz_replay.c: the main() that make check links to every libFuzzer
 * target (see fuzz_target in the root Makefile): it feeds each file of the
 * target's corpus directory (FUZZ_CORPUS, compiled in; its crash
 * reproducers included) to LLVMFuzzerTestOneInput once, under ASan and
 * UBSan, so an input that once crashed a parser stays a regression test.
 * TAP: one line for the whole corpus; a crash aborts the program, which
 * tools/run-tests counts as a failure. */
// musl-check-flags: -DFUZZ_CORPUS="corpus"
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef FUZZ_CORPUS
#error "FUZZ_CORPUS names the corpus directory"
#endif
#ifndef FUZZ_NAME
#define FUZZ_NAME FUZZ_CORPUS
#endif

#define FUZZ_INPUT_MAX (1u << 20)

static int replay_dir(const char *dir, unsigned *ret_n)
{
	struct dirent **names;
	char path[4096];
	int n, i, bad = 0;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		size_t len;
		char *data;

		if (names[i]->d_name[0] == '.')
			goto next;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_type == DT_DIR) {
			if (replay_dir(path, ret_n) < 0)
				bad = 1;
			goto next;
		}
		data = fileio_read_all(path, FUZZ_INPUT_MAX, &len);
		if (!data) {
			printf("# cannot read %s\n", path);
			bad = 1;
			goto next;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)data, len);
		free(data);
		(*ret_n)++;
next:
		free(names[i]);
	}
	free(names);
	return bad ? -1 : 0;
}

int main(void)
{
	unsigned n = 0;
	int r;

	printf("1..1\n");
	fflush(stdout);
	r = replay_dir(FUZZ_CORPUS, &n);
	if (r < 0 || n == 0) {
		printf("not ok 1 - %s: corpus %s unreadable or empty\n", FUZZ_NAME, FUZZ_CORPUS);
		return 1;
	}
	printf("ok 1 - %s: %u inputs of %s replayed\n", FUZZ_NAME, n, FUZZ_CORPUS);
	return 0;
}
