# mobu.mk: qserv-mobu, the load runner (flocks of monkeys checking answers
# through the czar's SQL port, mobu-style) -> build/bin/qserv-mobu.
MOBU_SRCS := qserv/mobu/stats.c qserv/mobu/business.c qserv/mobu/report.c qserv/mobu/watch.c
MOBU_LDLIBS := -lmariadb -lmicrohttpd -ljansson -lcurl -lpthread -lm
$(eval $(call static_lib,libqmobu.a,$(MOBU_SRCS)))
$(eval $(call program,qserv-mobu,qserv/mobu/main.c,$(MOBU_LDLIBS),libqmobu.a libqservcommon.a libqcommon.a))
$(eval $(call unit_test,mobu_stats_test,qserv/mobu/tests/stats_test.c,$(MOBU_LDLIBS),libqmobu.a))
INTEG_TESTS += qserv/mobu/tests/mobu.sh
BENCHES += qserv/mobu/tests/mobu_bench.sh
