/* fuzz_regstate.c: libFuzzer target for the registry's state file reader
 * (reg_state_from_json, registry_state.h): arbitrary bytes as the file's
 * JSON text.  Invariant (the state file is always readable by the code
 * that wrote it): a state that loads is written (reg_state_to_json) as a
 * document that loads again and writes the same text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/registry/registry_state.h"

static char *dump_reload(json_t *doc, struct reg_state *st)
{
	char err[256], *text;

	if (reg_state_from_json(doc, st, err, sizeof(err)) < 0) {
		fprintf(stderr, "written state does not load: %s\n", err);
		abort();
	}
	json_decref(doc);
	doc = reg_state_to_json(st);
	text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(doc);
	if (!text)
		abort();
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reg_state st, st2, st3;
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	char err[256], *a, *b;

	if (!doc)
		return 0;
	memset(&st, 0, sizeof(st));
	if (reg_state_from_json(doc, &st, err, sizeof(err)) == 0) {
		a = dump_reload(reg_state_to_json(&st), &st2);
		b = dump_reload(json_loads(a, 0, NULL), &st3);
		if (strcmp(a, b) != 0) {
			fprintf(stderr, "state not stable:\n%s\n%s\n", a, b);
			abort();
		}
		free(a);
		free(b);
		reg_state_free(&st2);
		reg_state_free(&st3);
		reg_state_free(&st);
	}
	json_decref(doc);
	return 0;
}
