# loader.mk: libqloader.a, the client-side ingest engine `qservctl ingest`
# drives (dataset reading, the resumable journal, transactions of
# contributions sent by loader threads, publish and validation).
# Consumers include "qserv/loader/loader.h" and link
# libqloader.a libqservcommon.a libqcommon.a with -ljansson -lcurl -llz4 -lpthread.
PUBLIC_HEADERS += qserv/loader/loader.h
QLOADER_SRCS := qserv/loader/loader.c qserv/loader/dataset.c qserv/loader/journal.c \
	qserv/loader/contrib.c qserv/loader/publish.c qserv/loader/records.c
$(eval $(call static_lib,libqloader.a,$(QLOADER_SRCS)))
QLOADER_LDLIBS := -ljansson -lcurl -llz4 -lpthread
$(eval $(call unit_test,qloader_dataset_test,qserv/loader/tests/dataset_test.c,$(QLOADER_LDLIBS),libqloader.a libqservcommon.a libqcommon.a))
$(eval $(call unit_test,qloader_records_test,qserv/loader/tests/records_test.c,$(QLOADER_LDLIBS),libqloader.a libqservcommon.a libqcommon.a))
$(eval $(call unit_test,qloader_order_test,qserv/loader/tests/order_test.c,$(QLOADER_LDLIBS),libqloader.a libqservcommon.a libqcommon.a))
INTEG_TESTS += qserv/loader/tests/retry.sh
INTEG_TESTS += qserv/loader/tests/records_e2e.sh
INTEG_TESTS += qserv/loader/tests/match_load.sh
$(eval $(call unit_test,qloader_transient_test,qserv/loader/tests/transient_test.c,$(QLOADER_LDLIBS),libqloader.a libqservcommon.a libqcommon.a))
