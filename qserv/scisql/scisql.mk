# scisql.mk: qserv_scisql.so, the scisql UDFs as a MariaDB UDF plugin
# (register with qserv/scisql/install.sql), and its integration test.
# The chunk geometry comes from libqchunk.a (its objects are -fPIC too).
# No public headers: udf.h is private to the plugin (MariaDB loads it by symbol).
QSCISQL_SRCS := qserv/scisql/geometry.c qserv/scisql/photometry.c qserv/scisql/htm.c
$(eval $(call shared_lib,qserv_scisql.so,$(QSCISQL_SRCS),$(BUILD)/lib/libqchunk.a -lm))
$(BUILD)/lib/qserv_scisql.so: $(BUILD)/lib/libqchunk.a
INTEG_TESTS += qserv/scisql/tests/scisql_test.sh
