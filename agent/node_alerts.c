/* node_alerts.c: the czar node's own alerts (node_alerts.h). */
#include "node_alerts.h"

#include "log.h"
#include "qserv/common/alert.h"

static bool M_started;
static struct alert_config M_cfg;

void node_alerts_start(const struct agent_config *cfg)
{
	char err[256];

	if (cfg->role != ROLE_CZAR || M_started)
		return;
	M_cfg = (struct alert_config){ .cluster = cfg->cluster,
				       .webhook_url = cfg->alert_webhook[0] ? cfg->alert_webhook : NULL,
				       .slack_url = cfg->alert_slack[0] ? cfg->alert_slack : NULL,
				       .sentry_dsn = cfg->alert_sentry[0] ? cfg->alert_sentry : NULL };
	if (alert_start(&M_cfg, err, sizeof(err)) < 0) {
		log_warn("alerts: %s; disk alerts go to the log only", err);
		M_cfg.webhook_url = M_cfg.slack_url = M_cfg.sentry_dsn = NULL;
		if (alert_start(&M_cfg, err, sizeof(err)) < 0)
			return;
	}
	M_started = true;
}

void node_alerts_disk(void *ctx, bool raise, const char *kind, const char *subject, const char *message)
{
	(void)ctx;
	if (!M_started)
		return;
	if (raise)
		alert_raise(kind, subject, "%s", message);
	else
		alert_clear(kind, subject);
}

void node_alerts_stop(void)
{
	if (M_started)
		alert_stop();
	M_started = false;
}
