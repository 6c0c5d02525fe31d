# agent.mk: qagent, the node agent (config, boot medium, network, disks,
# membership through libqregistry.a, supervision, status), its unit tests and
# its integration and QEMU tests.  The registry itself is agent/registry/.
AGENT_SRCS := agent/bootmedium.c agent/bootmedium_slots.c agent/bootmedium_bless.c agent/bootmedium_install.c \
	agent/config.c agent/disks.c agent/inventory.c agent/mariadb.c agent/net.c agent/power.c agent/status.c \
	agent/roles.c agent/node_alerts.c \
	agent/supervise.c \
	agent/heartbeat.c agent/identity.c agent/join_agent.c agent/netlink.c
AGENT_LDLIBS := -lblkid -lfdisk -ljansson -lmnl -lmicrohttpd -lcurl -lpthread -lmbedtls -lmbedx509 -lmbedcrypto
AGENT_ARCHIVES := libqregistry.a libqstorage.a libqservcommon.a libqcommon.a

$(eval $(call static_lib,libqagent.a,$(AGENT_SRCS)))
$(eval $(call program,qagent,agent/main.c,$(AGENT_LDLIBS),libqagent.a $(AGENT_ARCHIVES)))
$(eval $(call unit_test,agent_config_test,agent/tests/config_test.c,$(AGENT_LDLIBS),libqagent.a $(AGENT_ARCHIVES)))
$(eval $(call unit_test,agent_inventory_test,agent/tests/inventory_test.c,$(AGENT_LDLIBS),libqagent.a $(AGENT_ARCHIVES)))
$(eval $(call unit_test,agent_supervise_test,agent/tests/supervise_test.c,$(AGENT_LDLIBS),libqagent.a $(AGENT_ARCHIVES)))
$(eval $(call unit_test,agent_bootmedium_test,agent/tests/bootmedium_test.c,$(AGENT_LDLIBS),libqagent.a $(AGENT_ARCHIVES)))
$(eval $(call unit_test,agent_roles_test,agent/tests/roles_test.c,$(AGENT_LDLIBS),libqagent.a $(AGENT_ARCHIVES)))
$(eval $(call unit_test,netlink_test,agent/tests/netlink_test.c,$(AGENT_LDLIBS),libqagent.a $(AGENT_ARCHIVES)))
$(eval $(call unit_test,identity_test,agent/tests/identity_test.c,$(AGENT_LDLIBS),libqagent.a $(AGENT_ARCHIVES)))
$(eval $(call program,qroles-sync,agent/tests/roles_sync.c,$(AGENT_LDLIBS),libqagent.a $(AGENT_ARCHIVES)))
INTEG_TESTS += agent/tests/cluster_netns.sh agent/tests/decommission.sh agent/tests/roles_controller.sh
QEMU_TESTS += agent/tests/qemu_cluster.sh
