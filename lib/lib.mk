# lib.mk: small pieces shared by agent, storage and qserv -> libqcommon.a
LIB_SRCS := lib/fileio.c lib/log.c lib/tls.c lib/frame.c lib/daemon.c lib/lebuf.c
# Users of tls.c link: -lmbedtls -lmbedx509 -lmbedcrypto
$(eval $(call static_lib,libqcommon.a,$(LIB_SRCS)))
