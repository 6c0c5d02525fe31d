# wire.mk: libqwire.a, the czar <-> worker chunk-query protocol (frames over
# mutual TLS, LZ4 row batches), qserv-certs (dev/test PKI), and unit tests.
# The worker's chunk-query executor (qserv/worker/query*.c) links it through
# WORKER_QUERY_LIBS (worker.mk is included after this file).
WIRE_SRCS := qserv/wire/wire.c qserv/wire/wire_tls.c
$(eval $(call static_lib,libqwire.a,$(WIRE_SRCS)))
WIRE_LDLIBS := -llz4 -lmbedtls -lmbedx509 -lmbedcrypto
$(eval $(call unit_test,wire_test,qserv/wire/tests/wire_test.c,$(WIRE_LDLIBS),libqwire.a libqcommon.a))
$(eval $(call program,qserv-certs,qserv/wire/certs.c,$(WIRE_LDLIBS),libqcommon.a))

WORKER_QUERY_LIBS := $(BUILD)/lib/libqwire.a $(BUILD)/lib/libqcommon.a $(WIRE_LDLIBS)
$(BUILD)/bin/qserv-worker: $(BUILD)/lib/libqwire.a
