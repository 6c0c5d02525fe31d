# registry.mk: cluster membership parts of the agent (registry, join,
# heartbeat, identity, netlink), their unit/integration tests and benches.
# Kept apart from agent.mk so the agent skeleton and these parts can move
# independently.
REG_TLS_LIBS := -lmbedtls -lmbedx509 -lmbedcrypto
REG_SRCS := agent/registry.c agent/registry_state.c agent/registry_msg.c agent/join.c
REG_LDLIBS := -ljansson $(REG_TLS_LIBS) -lpthread
$(eval $(call unit_test,registry_state_test,agent/tests/registry_state_test.c agent/registry_state.c,$(REG_LDLIBS),libqcommon.a))
$(eval $(call unit_test,registry_test,agent/tests/registry_test.c $(REG_SRCS),$(REG_LDLIBS),libqcommon.a))
# qregistry-sim: N simulated agents against one registry (tests and bench, not in the image)
$(eval $(call program,qregistry-sim,agent/registry_sim.c agent/registry_msg.c,$(REG_LDLIBS),libqcommon.a))
$(eval $(call unit_test,netlink_test,agent/tests/netlink_test.c agent/netlink.c,-lmnl,))
$(eval $(call unit_test,identity_test,agent/tests/identity_test.c agent/identity.c,$(REG_LDLIBS),libqcommon.a))
INTEG_TESTS += agent/tests/cluster_netns.sh agent/tests/registry_sim.sh
BENCHES += agent/tests/bench_registry.sh
QEMU_TESTS += agent/tests/qemu_cluster.sh
$(eval $(call unit_test,registry_msg_test,agent/tests/registry_msg_test.c agent/registry_msg.c,$(REG_LDLIBS),libqcommon.a))
INTEG_TESTS += agent/tests/decommission.sh
