# scisql.mk: qserv_scisql.so, the scisql UDFs as a MariaDB UDF plugin
# (register with qserv/scisql/install.sql), and its integration test.
QSCISQL_SRCS := qserv/scisql/geometry.c qserv/scisql/photometry.c qserv/scisql/htm.c \
	qserv/chunk/chunker.c qserv/chunk/region.c
$(eval $(call shared_lib,qserv_scisql.so,$(QSCISQL_SRCS),-lm))
INTEG_TESTS += qserv/scisql/tests/scisql_test.sh
