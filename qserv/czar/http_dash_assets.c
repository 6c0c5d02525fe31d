/* http_dash_assets.c: the dashboard's page, script and style sheet as
 * byte arrays (http_dash.h), generated at build time from
 * qserv/czar/dashboard/ by its embed.sh into build/include. */
#include "http_dash.h"

#include "dash_assets.inc"
