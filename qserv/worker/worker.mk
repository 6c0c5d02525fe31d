# worker.mk: qserv-worker (ingest API + chunk tables on the local MariaDB,
# and the chunk-query service over the wire protocol), its unit tests and
# integration tests.
WORKER_SRCS := qserv/worker/main.c qserv/worker/wapi.c qserv/worker/wingest.c qserv/worker/wmeta.c \
	qserv/worker/wtrans.c qserv/worker/wsub.c qserv/worker/query.c qserv/worker/query_nn.c qserv/worker/query_sched.c \
	qserv/worker/query_live.c
WORKER_SRCS += qserv/worker/wreq.c qserv/worker/wstore.c qserv/worker/wguard.c qserv/worker/wfetch.c qserv/worker/query_acct.c
WORKER_SRCS += qserv/worker/wcopy.c qserv/worker/wcopy_in.c qserv/worker/wcopy_fmt.c qserv/worker/wreplica.c
WORKER_SRCS += qserv/worker/windex.c qserv/worker/wbackup.c
WORKER_LDLIBS := -lmicrohttpd -lgnutls -lmariadb -ljansson -lcurl -llz4 -lmbedtls -lmbedx509 -lmbedcrypto -lpthread
$(eval $(call program,qserv-worker,$(WORKER_SRCS),$(WORKER_LDLIBS),libqwire.a libqservcommon.a libqcommon.a))

$(eval $(call unit_test,worker_sched_test,qserv/worker/tests/worker_sched_test.c qserv/worker/query_sched.c,-lpthread,))

INTEG_TESTS += qserv/worker/tests/worker_ingest.sh qserv/worker/tests/chunk_dirs.sh
$(eval $(call program,qserv-wquery,qserv/worker/tests/wquery.c,-llz4 -lmbedtls -lmbedx509 -lmbedcrypto -lpthread,libqwire.a libqcommon.a))
INTEG_TESTS += qserv/worker/tests/query_port.sh qserv/worker/tests/chunk_copy.sh
INTEG_TESTS += qserv/worker/tests/contrib_retry.sh
# the request bodies (wreq.c) under libFuzzer; the first byte picks the body kind
$(eval $(call fuzz_target,wreq,qserv/worker/tests/fuzz_wreq.c qserv/worker/wreq.c,-ljansson,libqservcommon.a libqcommon.a))
# POST /ingest/csv's multipart/form-data parser: qserv/common/mpart.c (fuzz target mpart, common.mk)
$(eval $(call unit_test,worker_wreq_test,qserv/worker/tests/wreq_test.c qserv/worker/wreq.c,-ljansson,libqservcommon.a libqcommon.a))
# the chunk-copy stream decoder (wcopy_fmt.c), the bytes another worker sends
$(eval $(call fuzz_target,wcopy,qserv/worker/tests/fuzz_wcopy.c qserv/worker/wcopy_fmt.c,,))
# chunk copy MB/s worker to worker against an in-MariaDB copy of the same tables
BENCHES += qserv/worker/tests/copy_bench.sh
# shared scans: 4 concurrent full scans, data bigger than the cgroup-capped cache, before/after
BENCHES += qserv/worker/tests/scan_bench.sh
