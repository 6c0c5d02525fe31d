# partition.mk: qserv-partition (sph-partition compatible partitioner) and
# qserv-partition-matches (sph-partition-matches: match tables), their
# library, unit tests, integration tests and benchmark.
# libqpartition.a's API: the run (partition.h), the configuration (config.h)
# and the CSV dialect partition.h names (csv.h).
PUBLIC_HEADERS += qserv/partition/partition.h qserv/partition/config.h qserv/partition/csv.h
QPART_SRCS := qserv/partition/config.c qserv/partition/csv.c qserv/partition/output.c \
	qserv/partition/index.c qserv/partition/spec.c qserv/partition/run.c \
	qserv/partition/match.c
QPART_LIBS := -ljansson -llz4 -lpthread -lm
$(eval $(call static_lib,libqpartition.a,$(QPART_SRCS)))
# cli.c (the command line both programs share) prints, so it is linked
# into the programs rather than the library
$(eval $(call program,qserv-partition,qserv/partition/main.c qserv/partition/cli.c,$(QPART_LIBS),libqpartition.a libqchunk.a))
$(eval $(call program,qserv-partition-matches,qserv/partition/matches_main.c qserv/partition/cli.c,$(QPART_LIBS),libqpartition.a libqchunk.a))
$(eval $(call unit_test,qpart_csv_test,qserv/partition/tests/csv_test.c,$(QPART_LIBS),libqpartition.a libqchunk.a))
INTEG_TESTS += qserv/partition/tests/partition_test.sh
INTEG_TESTS += qserv/partition/tests/partition_matches_test.sh
BENCHES += qserv/partition/tests/partition_bench.sh
$(eval $(call unit_test,qpart_run_test,qserv/partition/tests/run_test.c,$(QPART_LIBS),libqpartition.a libqchunk.a))
$(eval $(call fuzz_target,qpart_csv,qserv/partition/tests/fuzz_csv.c,$(QPART_LIBS),libqpartition.a libqchunk.a libqcommon.a))
$(eval $(call fuzz_target,qpart_config,qserv/partition/tests/fuzz_config.c,$(QPART_LIBS),libqpartition.a libqchunk.a libqcommon.a))
