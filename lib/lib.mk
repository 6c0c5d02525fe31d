# lib.mk: small pieces shared by agent, storage and qserv -> libqcommon.a
LIB_SRCS := lib/log.c
$(eval $(call static_lib,libqcommon.a,$(LIB_SRCS)))
