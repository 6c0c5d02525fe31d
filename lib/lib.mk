# lib.mk: small pieces shared by agent, storage and qserv -> libqcommon.a
# (log, file I/O with the one atomic replace, the one growable buffer and
# its little-endian encoders, the one monotonic clock, frames, TLS: PKI and
# connections, the libmicrohttpd listener, daemon signals, a job list on a
# few threads), and their tests.
LIB_SRCS := lib/fileio.c lib/log.c lib/tls_pki.c lib/tls_conn.c lib/frame.c lib/daemon.c lib/buf.c lib/lebuf.c lib/httpd.c lib/httpd_auth.c \
	lib/parallel.c
# Users of tls_*.c link -lmbedtls -lmbedx509 -lmbedcrypto, of httpd.c
# -lmicrohttpd, of httpd_auth.c also -lgnutls and the mbedTLS libraries.
$(eval $(call static_lib,libqcommon.a,$(LIB_SRCS)))
PUBLIC_HEADERS += $(filter-out lib/tls_internal.h,$(wildcard lib/*.h))

LIB_TLS_LIBS := -lmbedtls -lmbedx509 -lmbedcrypto
$(eval $(call unit_test,tls_test,lib/tests/tls_test.c,$(LIB_TLS_LIBS) -lpthread,libqcommon.a))
$(eval $(call unit_test,frame_test,lib/tests/frame_test.c,,libqcommon.a))
$(eval $(call unit_test,buf_test,lib/tests/buf_test.c,,libqcommon.a))
$(eval $(call unit_test,httpd_test,lib/tests/httpd_test.c,-lmicrohttpd -lgnutls -lcurl $(LIB_TLS_LIBS) -lpthread,libqcommon.a))
$(eval $(call fuzz_target,frame,lib/tests/fuzz_frame.c,,libqcommon.a))
