# controller.mk: qserv-controller, the ingest controller of the czar node
# (Qserv replication-system ingest API, qservMeta, director index).
CONTROLLER_SRCS := qserv/controller/main.c qserv/controller/capi.c qserv/controller/cmeta.c \
	qserv/controller/cplace.c qserv/controller/ctrans.c
CONTROLLER_SRCS += qserv/controller/cpublish.c qserv/controller/creq.c qserv/controller/crepl.c \
	qserv/controller/chealth.c
CONTROLLER_SRCS += qserv/controller/cjoin.c qserv/controller/crebal.c qserv/controller/cconfig.c
CONTROLLER_SRCS += qserv/controller/cverify.c qserv/controller/cmetrics.c qserv/controller/cnotify.c \
	qserv/controller/cstats.c qserv/controller/csqlidx.c qserv/controller/cindex_rows.c
CONTROLLER_SRCS += qserv/controller/cbackup.c qserv/controller/cbackup_meta.c qserv/controller/cbackup_restore.c
$(eval $(call program,qserv-controller,$(CONTROLLER_SRCS),-lmicrohttpd -lgnutls -lmariadb -ljansson -lcurl -llz4 -lmbedtls -lmbedx509 -lmbedcrypto -lpthread,libqservcommon.a libqcommon.a))

INTEG_TESTS += qserv/controller/tests/ingest_e2e.sh qserv/controller/tests/injection.sh qserv/controller/tests/auth.sh
BENCHES += qserv/controller/tests/ingest_bench.sh qserv/controller/tests/heal_bench.sh
INTEG_TESTS += qserv/controller/tests/ingest_guard.sh
INTEG_TESTS += qserv/controller/tests/unpublish.sh qserv/controller/tests/replication.sh
INTEG_TESTS += qserv/controller/tests/heal.sh qserv/controller/tests/zones.sh
INTEG_TESTS += qserv/controller/tests/verify.sh
INTEG_TESTS += qserv/controller/tests/rebalance.sh
INTEG_TESTS += qserv/controller/tests/ingest_api.sh
INTEG_TESTS += qserv/controller/tests/match_stats.sh qserv/controller/tests/alerts.sh
# the default index on the director keys, GET/POST/DELETE /replication/sql/index
INTEG_TESTS += qserv/controller/tests/sql_index.sh
# backups and restores (cbackup*.c, the workers' wbackup.c, qservctl backup/restore)
INTEG_TESTS += qserv/controller/tests/backup.sh
BENCHES += qserv/controller/tests/backup_bench.sh
# the request bodies (creq.c) under libFuzzer; the first byte picks the body kind
$(eval $(call fuzz_target,creq,qserv/controller/tests/fuzz_creq.c qserv/controller/creq.c,-ljansson,libqservcommon.a libqcommon.a))
$(eval $(call unit_test,controller_creq_test,qserv/controller/tests/creq_test.c qserv/controller/creq.c,-ljansson,libqservcommon.a libqcommon.a))
# the director index's rows from a worker's TSV as INSERT values (cindex_rows.c)
$(eval $(call unit_test,controller_cindex_rows_test,qserv/controller/tests/cindex_rows_test.c qserv/controller/cindex_rows.c,,libqcommon.a))
$(eval $(call fuzz_target,cindex_rows,qserv/controller/tests/fuzz_cindex_rows.c qserv/controller/cindex_rows.c,,libqcommon.a))
