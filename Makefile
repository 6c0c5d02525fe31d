# Makefile: the one entry point of qserv-node.
#
#   make deps        install every Debian package building and testing need
#   make / image     binaries, kernel, rootfs -> build/images/qserv-node.{vmlinuz,initramfs}
#   make check       every test (unit, integration, QEMU); ends "N passed, N failed"
#   make check-unit | check-integ | check-qemu     one layer (T=substring filters)
#   make musl-check  every project C file through musl-gcc -fsyntax-only
#   make bench       benchmarks, printed as ratios against a baseline of the same run
#   make fuzz        libFuzzer targets, FUZZ_SECONDS each (T=substring filters)
#   make analyze     scan-build over every program (also a test in make check)
#   make clean       removes build/
#
# Components add themselves from their own .mk files through the helpers
# below: $(call program,...) for build/bin/ programs, $(call unit_test,...) for
# kselftest-style unit tests (built with ASan/UBSan), and by appending scripts
# to INTEG_TESTS / IMAGE_TESTS / QEMU_TESTS / BENCHES.  Output goes to build/ only.
#
# The layering rules (docs/development.md), checked by tools/check-layers in
# `make check`: a .mk compiles only its own directory's sources, names other
# components only by archive, never reads another .mk's variables; headers
# other components may include are listed in PUBLIC_HEADERS; the component
# graph has no cycle.  The helpers record what the checker needs in
# LAYER_SOURCES (mk:source), LAYER_ARCHIVES (mk:archive built) and
# LAYER_LINKS (mk:archive linked); `make print-layers` prints them.

BUILD    ?= build
CC       ?= gcc
export SOURCE_DATE_EPOCH ?= 1700000000
WARN     := -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS := -D_GNU_SOURCE -I. -Ilib -I$(BUILD)/include
CFLAGS   := -O2 -g -fPIC $(WARN)
SANFLAGS := -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  :=

BINS        :=
TESTS       :=
PUBLIC_HEADERS :=
LAYER_SOURCES  :=
LAYER_ARCHIVES :=
LAYER_LINKS    :=
FUZZ_TARGETS   :=
INTEG_TESTS :=
IMAGE_TESTS :=
QEMU_TESTS  :=
BENCHES     :=
LIBS_BUILT  :=

.PHONY: all image deps check check-unit check-integ check-qemu musl-check bench clean binaries unit-tests
all: image

# objs/sanobjs: object files of sources, plain and sanitized.
objs    = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
sanobjs = $(patsubst %.c,$(BUILD)/obj-san/%.o,$(1))
# Test sources use GNU C (the kselftest harness needs it); project code is C11.
cstd    = $(if $(findstring /tests/,$(1)),-std=gnu11 -Wno-sign-compare,-std=c11)

$(BUILD)/obj/%.o: %.c | $(BUILD)/include/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(call cstd,$<) -MMD -MP -c $< -o $@

$(BUILD)/obj-san/%.o: %.c | $(BUILD)/include/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(call cstd,$<) $(SANFLAGS) -MMD -MP -c $< -o $@

# $(call static_lib,NAME.a,SOURCES): build/lib/NAME.a and, for the sanitized
# unit tests, build/lib-san/NAME.a.  Consumers name it in their ARCHIVES.
# The archive also depends on the .mk that declares it, so a source added to
# the list (whose object may already exist) gets into the archive.
define static_lib
LAYER_SOURCES += $(addprefix $(lastword $(MAKEFILE_LIST)):,$(2))
LAYER_ARCHIVES += $(lastword $(MAKEFILE_LIST)):$(1)
$(BUILD)/lib/$(1): $(call objs,$(2)) $(lastword $(MAKEFILE_LIST))
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$(filter %.o,$$^)
$(BUILD)/lib-san/$(1): $(call sanobjs,$(2)) $(lastword $(MAKEFILE_LIST))
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$(filter %.o,$$^)
endef

# $(call program,NAME,SOURCES,LDLIBS,ARCHIVES): build/bin/NAME
# ARCHIVES are static_lib names, most dependent first (libqagent.a libqcommon.a).
define program
BINS += $(BUILD)/bin/$(1)
LAYER_SOURCES += $(addprefix $(lastword $(MAKEFILE_LIST)):,$(2))
LAYER_LINKS += $(addprefix $(lastword $(MAKEFILE_LIST)):,$(4) $(notdir $(filter %.a,$(3))))
$(BUILD)/bin/$(1): $(call objs,$(2)) $(addprefix $(BUILD)/lib/,$(4))
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $(3)
endef

# $(call unit_test,NAME,SOURCES,LDLIBS,ARCHIVES): build/tests/NAME, sanitized, TAP out
define unit_test
TESTS += $(BUILD)/tests/$(1)
LAYER_SOURCES += $(addprefix $(lastword $(MAKEFILE_LIST)):,$(2))
LAYER_LINKS += $(addprefix $(lastword $(MAKEFILE_LIST)):,$(4) $(notdir $(filter %.a,$(3))))
$(BUILD)/tests/$(1): $(call sanobjs,$(2)) $(addprefix $(BUILD)/lib-san/,$(4))
	@mkdir -p $$(@D)
	$$(CC) $(SANFLAGS) -o $$@ $$^ $(3)
endef

# $(call fuzz_target,NAME,SOURCES,LDLIBS,ARCHIVES): a libFuzzer target (its
# sources define LLVMFuzzerTestOneInput); the corpus, seeds and crash
# reproducers alike, is the directory <dir of the first source>/corpus/NAME/.
#   make check: build/tests/fuzz-NAME replays the corpus once under ASan and
#               UBSan (gcc, lib/tests/fuzz_replay.c as main)
#   make fuzz:  build/fuzz/fuzzers/NAME (clang-15, -fsanitize=fuzzer) explores for
#               FUZZ_SECONDS per target, adding new inputs to the corpus and
#               leaving crash reproducers there (tools/run-fuzz)
define fuzz_target
TESTS += $(BUILD)/tests/fuzz-$(1)
FUZZ_TARGETS += $(1):$(dir $(firstword $(2)))corpus/$(1)
LAYER_SOURCES += $(addprefix $(lastword $(MAKEFILE_LIST)):,$(2))
LAYER_LINKS += $(addprefix $(lastword $(MAKEFILE_LIST)):,$(4) $(notdir $(filter %.a,$(3))))
$(BUILD)/obj-san/fuzz-replay/$(1).o: lib/tests/fuzz_replay.c | $(BUILD)/include/kselftest_harness.h
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) -std=gnu11 $$(SANFLAGS) -DFUZZ_NAME='"$(1)"' \
		-DFUZZ_CORPUS='"$(abspath $(dir $(firstword $(2)))corpus/$(1))"' -c $$< -o $$@
$(BUILD)/tests/fuzz-$(1): $(BUILD)/obj-san/fuzz-replay/$(1).o $(call sanobjs,$(2)) $(addprefix $(BUILD)/lib-san/,$(4) libqcommon.a)
	@mkdir -p $$(@D)
	$$(CC) $(SANFLAGS) -o $$@ $$^ $(3)
$(BUILD)/fuzzers/$(1): $(call objs,$(2)) $(addprefix $(BUILD)/lib/,$(4))
	@mkdir -p $$(@D)
	$$(CC) -fsanitize=fuzzer,address,undefined -o $$@ $$^ $(3)
endef

# $(call shared_lib,NAME.so,SOURCES,LDLIBS): build/lib/NAME.so (e.g. UDF plugins)
define shared_lib
LIBS_BUILT += $(BUILD)/lib/$(1)
LAYER_SOURCES += $(addprefix $(lastword $(MAKEFILE_LIST)):,$(2))
LAYER_LINKS += $(addprefix $(lastword $(MAKEFILE_LIST)):,$(notdir $(filter %.a,$(3))))
$(BUILD)/lib/$(1): $(call objs,$(2))
	@mkdir -p $$(@D)
	$$(CC) -shared -o $$@ $$^ $(3)
endef

# The kernel's own kselftest harness, taken from linux-source-6.1.
$(BUILD)/include/kselftest_harness.h:
	@mkdir -p $(BUILD)/include
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C $(BUILD)/include --strip-components=4 \
	    --wildcards '*/tools/testing/selftests/kselftest_harness.h' '*/tools/testing/selftests/kselftest.h'
	touch $@

# Component makefiles: <dir>/<dir>.mk, qserv/<part>/<part>.mk,
# agent/registry/registry.mk, in any order (libraries are referenced by
# archive path, never by another .mk's variable).
include $(sort $(wildcard */*.mk qserv/*/*.mk agent/*/*.mk))

binaries: $(BINS) $(LIBS_BUILT)

.PHONY: print-layers
print-layers:
	@printf 'source %s\n' $(LAYER_SOURCES)
	@printf 'archive %s\n' $(LAYER_ARCHIVES)
	@printf 'link %s\n' $(LAYER_LINKS)
	@printf 'public %s\n' $(PUBLIC_HEADERS)
unit-tests: $(TESTS)

deps:
	@tools/deps.sh

# make check builds the boot image (the kernel alone is ~15 minutes on 2
# cores) at low priority while the unit and integration tests run, and
# awaits it before the tests that read it (IMAGE_TESTS) or boot it.
check: deps
	@$(MAKE) --no-print-directory binaries unit-tests
	@tools/run-tests '--background=MAKEFLAGS= MAKELEVEL= $(MAKE) --no-print-directory image' \
		$(TESTS) $(INTEG_TESTS) --await $(IMAGE_TESTS) $(QEMU_TESTS)

check-unit: binaries unit-tests
	@tools/run-tests $(TESTS)

check-integ: binaries unit-tests
	@tools/run-tests $(INTEG_TESTS)

check-qemu: image
	@tools/run-tests $(IMAGE_TESTS) $(QEMU_TESTS)

# make fuzz: every libFuzzer target for FUZZ_SECONDS (default 60) each, built
# with clang-15 in build/fuzz/ (its own objects: coverage instrumentation).
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  := -O1 -g -fPIC -w -fsanitize=fuzzer-no-link,address,undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow -fno-omit-frame-pointer
.PHONY: fuzz fuzz-build
fuzz: deps
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/fuzz CC=clang-15 CFLAGS='$(FUZZ_CFLAGS)' fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tools/run-fuzz $(BUILD)/fuzz/fuzzers $(FUZZ_TARGETS)
# (T=substring builds and runs only the matching targets)
FUZZ_NAMES := $(foreach t,$(FUZZ_TARGETS),$(firstword $(subst :, ,$(t))))
fuzz-build: $(addprefix $(BUILD)/fuzzers/,$(if $(T),$(foreach n,$(FUZZ_NAMES),$(if $(findstring $(T),$(n)),$(n))),$(FUZZ_NAMES)))

bench: deps binaries image
	@tools/run-bench $(BENCHES)

# make analyze: scan-build (Debian clang-tools) over `binaries`, rebuilt from
# scratch in $(BUILD)/analyze (a run analyzes only what it compiles); prints
# each report as "type | file:line | report" and fails when there is one or
# the build fails.  tools/tests/analyze.sh runs it as TAP.
.PHONY: analyze
analyze: $(BUILD)/include/kselftest_harness.h
	@rm -rf $(BUILD)/analyze && mkdir -p $(BUILD)/analyze/include
	@cp $(BUILD)/include/kselftest*.h $(BUILD)/analyze/include/
	@scan-build -o $(BUILD)/analyze/reports $(MAKE) --no-print-directory BUILD=$(BUILD)/analyze \
		binaries >$(BUILD)/analyze/log 2>&1 || { tail -n 20 $(BUILD)/analyze/log; \
		echo "analyze: the build failed (see $(BUILD)/analyze/log)"; exit 1; }
	@find $(BUILD)/analyze/reports -name 'report-*.html' -exec awk -v r={} -v root=$(CURDIR)/ \
		'sub(/^<!-- BUGTYPE /,""){t=$$0} sub(/^<!-- BUGFILE /,""){f=$$0} sub(/^<!-- BUGLINE /,""){l=$$0} \
		END{sub(/ -->$$/,"",t); sub(/ -->$$/,"",f); sub(/ -->$$/,"",l); sub(root,"",f); \
		print t " | " f ":" l " | " r}' {} \; | sort >$(BUILD)/analyze/reports.txt
	@if [ -s $(BUILD)/analyze/reports.txt ]; then cat $(BUILD)/analyze/reports.txt; \
		echo "analyze: $$(wc -l <$(BUILD)/analyze/reports.txt) report(s)"; exit 1; fi
	@echo "analyze: scan-build finds nothing"

musl-check:
	@tools/musl-check.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/obj-san -name '*.d' 2>/dev/null)
