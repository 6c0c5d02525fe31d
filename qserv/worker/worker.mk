# worker.mk: qserv-worker (ingest API + chunk tables on the local MariaDB),
# and libqingest.a, the HTTP/SQL/CSV pieces the worker, the controller and
# `qservctl ingest` share.
QINGEST_SRCS := qserv/worker/qhttp.c qserv/worker/qsql.c qserv/worker/csvd.c qserv/worker/qlz4.c \
	qserv/controller/qhttpc.c
QINGEST_LIBS := -lmicrohttpd -lmariadb -ljansson -lcurl -llz4 -lpthread
$(eval $(call static_lib,libqingest.a,$(QINGEST_SRCS)))

# query*.c belong to the chunk-query executor (czar engineer); they are
# picked up here automatically and hook in through worker_query_start().
WORKER_SRCS := qserv/worker/main.c qserv/worker/wapi.c qserv/worker/wingest.c qserv/worker/wmeta.c \
	qserv/worker/wtrans.c qserv/worker/wsub.c $(wildcard qserv/worker/query*.c)
WORKER_QUERY_LIBS ?=
$(eval $(call program,qserv-worker,$(WORKER_SRCS),$(QINGEST_LIBS) $(WORKER_QUERY_LIBS),libqingest.a libqcommon.a))

$(eval $(call unit_test,worker_csvd_test,qserv/worker/tests/csvd_test.c,,libqingest.a))

INTEG_TESTS += qserv/worker/tests/worker_ingest.sh qserv/worker/tests/chunk_dirs.sh
$(eval $(call unit_test,worker_qhttp_test,qserv/worker/tests/qhttp_test.c,$(QINGEST_LIBS),libqingest.a))
$(eval $(call unit_test,worker_qlz4_test,qserv/worker/tests/qlz4_test.c,-llz4,libqingest.a))
