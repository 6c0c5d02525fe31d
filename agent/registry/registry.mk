# registry.mk: the cluster registry -> libqregistry.a: the server the czar
# node's agent runs (CA and certificate issuing, joins and heartbeat
# sessions, admin socket, persisted state), the messages of its protocol,
# and the join client that speaks the other end (both ends of one protocol,
# tested together).  The agent and qservctl link it.  Its tests and
# qregistry-sim, N simulated agents against one registry (tests and bench,
# not in the image), and qregistry-join, one join attempt from the command
# line (the attack test's joiner), live in tests/.
REGISTRY_SRCS := agent/registry/registry.c agent/registry/registry_map.c agent/registry/registry_join.c \
	agent/registry/registry_admin.c agent/registry/registry_ca.c \
	agent/registry/registry_limit.c agent/registry/registry_proof.c \
	agent/registry/registry_state.c agent/registry/registry_disks.c agent/registry/registry_msg.c agent/registry/join.c \
	agent/registry/join_renew.c
REGISTRY_LDLIBS := -ljansson -lmbedtls -lmbedx509 -lmbedcrypto -lpthread
PUBLIC_HEADERS += agent/registry/registry.h agent/registry/registry_msg.h agent/registry/join.h

$(eval $(call static_lib,libqregistry.a,$(REGISTRY_SRCS)))
$(eval $(call unit_test,registry_state_test,agent/registry/tests/registry_state_test.c,$(REGISTRY_LDLIBS),libqregistry.a libqcommon.a))
$(eval $(call unit_test,registry_msg_test,agent/registry/tests/registry_msg_test.c,$(REGISTRY_LDLIBS),libqregistry.a libqcommon.a))
$(eval $(call unit_test,registry_test,agent/registry/tests/registry_test.c,$(REGISTRY_LDLIBS),libqregistry.a libqcommon.a))
$(eval $(call unit_test,registry_security_test,agent/registry/tests/registry_security_test.c,$(REGISTRY_LDLIBS),libqregistry.a libqcommon.a))
$(eval $(call program,qregistry-sim,agent/registry/tests/registry_sim.c,$(REGISTRY_LDLIBS),libqregistry.a libqcommon.a))
$(eval $(call program,qregistry-join,agent/registry/tests/registry_joinc.c,$(REGISTRY_LDLIBS),libqregistry.a libqcommon.a))
INTEG_TESTS += agent/registry/tests/registry_sim.sh agent/registry/tests/registry_attack.sh
BENCHES += agent/registry/tests/bench_registry.sh
$(eval $(call fuzz_target,regmsg,agent/registry/tests/fuzz_regmsg.c agent/registry/registry_msg.c,-ljansson,libqcommon.a))
$(eval $(call fuzz_target,regstate,agent/registry/tests/fuzz_regstate.c agent/registry/registry_state.c,-ljansson -lmbedtls -lmbedx509 -lmbedcrypto,libqcommon.a))
