# storage.mk: libqstorage (disk discovery, selectors, probing, provisioning,
# hot-plug), the qstorage CLI, and their tests.
# The agent includes "storage/qstorage.h" and links libqstorage.a.
PUBLIC_HEADERS += storage/qstorage.h
STORAGE_SRCS := storage/util.c storage/discover.c storage/json.c storage/selector.c storage/probe.c \
	storage/gpt.c storage/plan.c storage/fs.c storage/wipe.c storage/provision.c storage/report.c storage/watch.c
STORAGE_LIBS := -lblkid -lfdisk -ljansson -lmnl
STORAGE_ARCH := libqstorage.a libqcommon.a
$(eval $(call static_lib,libqstorage.a,$(STORAGE_SRCS)))

$(eval $(call unit_test,storage_discover_test,storage/tests/discover_test.c,$(STORAGE_LIBS),$(STORAGE_ARCH)))
$(eval $(call unit_test,storage_selector_test,storage/tests/selector_test.c,$(STORAGE_LIBS),$(STORAGE_ARCH)))
$(eval $(call unit_test,storage_probe_test,storage/tests/probe_test.c,$(STORAGE_LIBS),$(STORAGE_ARCH)))
$(eval $(call program,qstorage,storage/qstorage.c,$(STORAGE_LIBS),$(STORAGE_ARCH)))
INTEG_TESTS += storage/tests/loop_provision.sh
$(eval $(call unit_test,storage_plan_test,storage/tests/plan_test.c,$(STORAGE_LIBS),$(STORAGE_ARCH)))
INTEG_TESTS += storage/tests/loop_hotplug.sh
BENCHES += storage/bench_provision.sh
QEMU_TESTS += qemu-tests/storage_pools.sh
$(eval $(call unit_test,storage_watch_test,storage/tests/watch_test.c,$(STORAGE_LIBS),$(STORAGE_ARCH)))
