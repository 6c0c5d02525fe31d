# registry.mk: cluster membership parts of the agent (registry, join,
# heartbeat, identity, netlink), their unit/integration tests and benches.
# Kept apart from agent.mk so the agent skeleton and these parts can move
# independently.
REG_TLS_LIBS := -lmbedtls -lmbedx509 -lmbedcrypto
$(eval $(call unit_test,tls_test,agent/tests/tls_test.c,$(REG_TLS_LIBS) -lpthread,libqcommon.a))
$(eval $(call unit_test,frame_test,agent/tests/frame_test.c,,libqcommon.a))
