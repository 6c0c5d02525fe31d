/* http_async.c: the HTTP frontend's /query-async routes (see http.h). */
#include "http_internal.h"

enum MHD_Result http_async_route(struct czar *cz, struct MHD_Connection *c, const char *url, const char *method,
				 const struct http_who *who, json_t *body)
{
	(void)cz;
	(void)method;
	(void)who;
	(void)body;
	return http_fail(c, MHD_HTTP_NOT_FOUND, NULL, "No such service: %s", url);
}
