# wire.mk: libqwire.a, the czar <-> worker chunk-query protocol (frames over
# mutual TLS, LZ4 row batches); users link -llz4 -lmbedtls -lmbedx509
# -lmbedcrypto and libqcommon.a after it.  Tests: the codec's unit test and
# qserv-certs (tests/certs.c), the dev/test PKI tool the integration tests
# use to make node certificates.
WIRE_SRCS := qserv/wire/wire.c qserv/wire/wire_tls.c
$(eval $(call static_lib,libqwire.a,$(WIRE_SRCS)))
PUBLIC_HEADERS += qserv/wire/wire.h
WIRE_LDLIBS := -llz4 -lmbedtls -lmbedx509 -lmbedcrypto
$(eval $(call unit_test,wire_test,qserv/wire/tests/wire_test.c,$(WIRE_LDLIBS),libqwire.a libqcommon.a))
$(eval $(call program,qserv-certs,qserv/wire/tests/certs.c,$(WIRE_LDLIBS),libqcommon.a))
$(eval $(call fuzz_target,wire,qserv/wire/tests/fuzz_wire.c,-llz4,libqwire.a libqcommon.a))
