# lib.mk: small pieces shared by agent, storage and qserv.
LIB_SRCS := lib/log.c
