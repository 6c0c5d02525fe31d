# common.mk: libqservcommon.a, the pieces the Qserv roles and the ingest
# client share: the HTTP server (qhttp, libmicrohttpd) and client (qhttpc,
# libcurl), lenient JSON getters (qjson.h), MariaDB connection helpers
# (qsql), the identifier and column type validator (sqlid), LZ4-framed
# streams (qlz4), the CSV dialect (csvd) and multipart/form-data bodies
# (mpart), alerts to the log, a webhook, Slack and Sentry (alert); their
# tests.
# Users link: $(QSERVCOMMON_LDLIBS) as listed below, and libqcommon.a after
# this archive.
QSERVCOMMON_SRCS := qserv/common/qhttp.c qserv/common/qhttpc.c qserv/common/qsql.c \
	qserv/common/csvd.c qserv/common/qlz4.c qserv/common/sqlid.c qserv/common/mpart.c qserv/common/alert.c
$(eval $(call static_lib,libqservcommon.a,$(QSERVCOMMON_SRCS)))
PUBLIC_HEADERS += qserv/common/qhttp.h qserv/common/qhttpc.h qserv/common/qjson.h \
	qserv/common/qsql.h qserv/common/csvd.h qserv/common/qlz4.h qserv/common/sqlid.h qserv/common/mpart.h qserv/common/alert.h

QSERVCOMMON_LDLIBS := -lmicrohttpd -lgnutls -lmariadb -ljansson -lcurl -llz4 -lmbedtls -lmbedx509 -lmbedcrypto -lpthread
$(eval $(call unit_test,common_csvd_test,qserv/common/tests/csvd_test.c,,libqservcommon.a libqcommon.a))
$(eval $(call unit_test,common_qhttp_test,qserv/common/tests/qhttp_test.c,$(QSERVCOMMON_LDLIBS),libqservcommon.a libqcommon.a))
$(eval $(call unit_test,common_qlz4_test,qserv/common/tests/qlz4_test.c,-llz4,libqservcommon.a libqcommon.a))
$(eval $(call unit_test,common_sqlid_test,qserv/common/tests/sqlid_test.c,,libqservcommon.a libqcommon.a))
$(eval $(call fuzz_target,csvd,qserv/common/tests/fuzz_csvd.c qserv/common/csvd.c,,libqcommon.a))
$(eval $(call fuzz_target,reqbody,qserv/common/tests/fuzz_reqbody.c qserv/common/sqlid.c qserv/common/csvd.c,-ljansson,libqcommon.a))
# multipart/form-data (mpart.c: the worker's and the czar's POST /ingest/csv): Content-Type line, then the body
$(eval $(call fuzz_target,mpart,qserv/common/tests/fuzz_mpart.c qserv/common/mpart.c,-ljansson,libqcommon.a))
