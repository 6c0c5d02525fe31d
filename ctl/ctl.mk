# ctl.mk: qservctl, the operator's command-line tool (one file per subcommand).
CTL_SRCS := ctl/qservctl.c ctl/ingest.c ctl/admin.c ctl/nodes.c ctl/token.c agent/registry_msg.c
CTL_LIBS := -lmariadb -ljansson -lcurl -lmicrohttpd -llz4 -lpthread
$(eval $(call program,qservctl,$(CTL_SRCS),$(CTL_LIBS),libqingest.a libqcommon.a))
