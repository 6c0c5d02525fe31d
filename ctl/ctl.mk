# ctl.mk: qservctl, the operator's command-line tool (one file per subcommand).
# The engines it drives are libraries: the ingest engine (libqloader.a),
# the registry's messages (libqregistry.a), the HTTP/JSON/LZ4 helpers
# (libqservcommon.a).
# No public headers: ctl.h is private to qservctl.
CTL_SRCS := ctl/qservctl.c ctl/ingest.c ctl/admin.c ctl/nodes.c ctl/token.c ctl/replicas.c ctl/controller.c ctl/quota.c ctl/backup.c
CTL_LIBS := -lmariadb -ljansson -lcurl -lmicrohttpd -llz4 -lmbedcrypto -lpthread
$(eval $(call program,qservctl,$(CTL_SRCS),$(CTL_LIBS),libqloader.a libqregistry.a libqservcommon.a libqcommon.a))
