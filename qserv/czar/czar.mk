# czar.mk: qserv-czar (the SQL front end) -> build/bin/qserv-czar, libqczar.a,
# unit tests and integration tests with real MySQL clients.
CZAR_LIB_SRCS := qserv/czar/packet.c qserv/czar/auth.c qserv/czar/myproto.c \
	qserv/czar/backend.c qserv/czar/relay.c qserv/czar/session.c qserv/czar/query.c \
	qserv/czar/sql_ast.c qserv/czar/sql_lex.c qserv/czar/sql_parse.c qserv/czar/sql_parse_session.c qserv/czar/sql_parse_async.c qserv/czar/sql_parse_expr.c qserv/czar/sql_print.c \
	qserv/czar/meta.c qserv/czar/plan.c qserv/czar/plan_analyze.c qserv/czar/plan_rewrite.c qserv/czar/plan_merge.c qserv/czar/plan_match.c qserv/czar/plan_nn.c qserv/czar/rowcount.c qserv/czar/notify.c \
	qserv/czar/dispatch.c qserv/czar/dispatch_pool.c qserv/czar/chunkbuf.c qserv/czar/merge.c qserv/czar/exec.c qserv/czar/schema.c qserv/czar/metrics.c \
	qserv/czar/account.c qserv/czar/async.c qserv/czar/history.c \
	qserv/czar/history_queue.c qserv/czar/index_cache.c qserv/czar/director_map.c qserv/czar/stages.c qserv/czar/tpool.c \
	qserv/czar/http.c qserv/czar/http_result.c qserv/czar/http_async.c \
	qserv/czar/http_ingest.c qserv/czar/http_ingest_req.c \
	qserv/czar/http_dash.c qserv/czar/http_dash_queries.c qserv/czar/http_dash_fetch.c qserv/czar/http_dash_assets.c \
	qserv/czar/quota.c qserv/czar/quota_json.c qserv/czar/quota_czar.c qserv/czar/http_quota.c \
	qserv/czar/users.c qserv/czar/users_change.c qserv/czar/users_store.c qserv/czar/users_sql.c qserv/czar/users_schema.c qserv/czar/sql_parse_user.c
CZAR_LDLIBS := -lmariadb -lmicrohttpd -ljansson -lcurl -llz4 -lmbedtls -lmbedx509 -lmbedcrypto -lpthread -lm
# The dashboard's files compiled into qserv-czar (http_dash.h).
DASH_FILES := $(sort $(wildcard qserv/czar/dashboard/*.html qserv/czar/dashboard/*.js qserv/czar/dashboard/*.css))
$(BUILD)/include/dash_assets.inc: $(DASH_FILES) qserv/czar/dashboard/embed.sh
	@mkdir -p $(@D)
	qserv/czar/dashboard/embed.sh $@ $(DASH_FILES)
$(BUILD)/obj/qserv/czar/http_dash_assets.o $(BUILD)/obj-san/qserv/czar/http_dash_assets.o: $(BUILD)/include/dash_assets.inc
$(eval $(call static_lib,libqczar.a,$(CZAR_LIB_SRCS)))
$(eval $(call program,qserv-czar,qserv/czar/main.c,$(CZAR_LDLIBS),libqczar.a libqwire.a libqchunk.a libqservcommon.a libqcommon.a))

$(eval $(call unit_test,czar_packet_test,qserv/czar/tests/packet_test.c,$(CZAR_LDLIBS),libqczar.a libqwire.a libqchunk.a libqservcommon.a libqcommon.a))
$(eval $(call unit_test,czar_sql_test,qserv/czar/tests/sql_test.c,$(CZAR_LDLIBS),libqczar.a libqwire.a libqchunk.a libqservcommon.a libqcommon.a))
$(eval $(call unit_test,czar_plan_test,qserv/czar/tests/plan_test.c,$(CZAR_LDLIBS),libqczar.a libqwire.a libqchunk.a libqservcommon.a libqcommon.a))
$(eval $(call unit_test,czar_chunkbuf_test,qserv/czar/tests/chunkbuf_test.c,$(CZAR_LDLIBS),libqczar.a libqwire.a libqchunk.a libqservcommon.a libqcommon.a))
$(eval $(call unit_test,czar_perf_path_test,qserv/czar/tests/perf_path_test.c,$(CZAR_LDLIBS),libqczar.a libqwire.a libqchunk.a libqservcommon.a libqcommon.a))
$(eval $(call unit_test,czar_users_store_test,qserv/czar/tests/users_store_test.c,$(CZAR_LDLIBS),libqczar.a libqwire.a libqchunk.a libqservcommon.a libqcommon.a))
$(eval $(call unit_test,czar_auth_test,qserv/czar/tests/auth_test.c,$(CZAR_LDLIBS),libqczar.a libqwire.a libqchunk.a libqservcommon.a libqcommon.a))
$(eval $(call unit_test,czar_quota_test,qserv/czar/tests/quota_test.c,$(CZAR_LDLIBS),libqczar.a libqwire.a libqchunk.a libqservcommon.a libqcommon.a))

# A Connector/C client the integration tests drive (many concurrent sessions).
CZAR_CLIENT := $(BUILD)/tests/czar-client
$(CZAR_CLIENT): qserv/czar/tests/client.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -std=gnu11 -o $@ $< -lmariadb -lpthread
binaries: $(CZAR_CLIENT)

# peer_bench.sh's floor: one MariaDB behind two relays that only copy bytes.
BYTE_RELAY := $(BUILD)/tests/byte-relay
$(BYTE_RELAY): qserv/czar/tests/byte_relay.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -std=gnu11 -o $@ $< -lpthread
binaries: $(BYTE_RELAY)

INTEG_TESTS += qserv/czar/tests/clients.sh qserv/czar/tests/e2e.sh qserv/czar/tests/attack.sh qserv/czar/tests/merge_account.sh \
	qserv/czar/tests/drivers.sh qserv/czar/tests/failover.sh qserv/czar/tests/async.sh qserv/czar/tests/http_frontend.sh \
	qserv/czar/tests/counters_notice.sh qserv/czar/tests/match_e2e.sh qserv/czar/tests/match_ingest.sh
INTEG_TESTS += qserv/czar/tests/http_ingest.sh qserv/czar/tests/quota.sh qserv/czar/tests/dashboard.sh
INTEG_TESTS += qserv/czar/tests/sql_users.sh qserv/czar/tests/worker_pool.sh qserv/czar/tests/near_neighbour.sh qserv/czar/tests/director_map.sh
BENCHES += qserv/czar/tests/czar_bench.sh qserv/czar/tests/peer_bench.sh qserv/czar/tests/nn_bench.sh
$(eval $(call fuzz_target,sql,qserv/czar/tests/fuzz_sql.c qserv/czar/sql_ast.c qserv/czar/sql_lex.c qserv/czar/sql_parse.c qserv/czar/sql_parse_session.c qserv/czar/sql_parse_async.c qserv/czar/sql_parse_expr.c qserv/czar/sql_parse_user.c qserv/czar/sql_print.c,,libqcommon.a))
$(eval $(call fuzz_target,packet,qserv/czar/tests/fuzz_packet.c qserv/czar/packet.c qserv/czar/myproto.c qserv/czar/auth.c,-lmbedtls -lmbedx509 -lmbedcrypto,libqcommon.a))
# the HTTP frontend's user-table ingest requests (http_ingest_req.c: JSON body, multipart form, rows)
$(eval $(call fuzz_target,ingest,qserv/czar/tests/fuzz_ingest.c qserv/czar/http_ingest_req.c,-ljansson -lmbedcrypto,libqservcommon.a libqcommon.a))
