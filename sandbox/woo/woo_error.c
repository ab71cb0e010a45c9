#include "woo_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void woo_error_set(struct woo_error *e, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	memset(e, 0, sizeof *e);
	e->status = status;
	snprintf(e->code, sizeof e->code, "%s", code);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
}

void woo_error_param(struct woo_error *e, const char *param, const char *detail_code, const char *fmt, ...)
{
	va_list ap;
	memset(e, 0, sizeof *e);
	e->status = 400;
	snprintf(e->code, sizeof e->code, "rest_invalid_param");
	snprintf(e->param, sizeof e->param, "%s", param);
	snprintf(e->detail_code, sizeof e->detail_code, "%s", detail_code);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
}

json_t *woo_error_json(const struct woo_error *e)
{
	if (!e->param[0])
		return json_pack("{s:s,s:s,s:{s:i}}", "code", e->code, "message", e->message, "data", "status",
				 e->status);
	char summary[96];
	snprintf(summary, sizeof summary, "Invalid parameter(s): %s", e->param);
	return json_pack("{s:s,s:s,s:{s:i,s:{s:s},s:{s:{s:s,s:s,s:n}}}}", "code", e->code, "message", summary, "data",
			 "status", e->status, "params", e->param, e->message, "details", e->param, "code",
			 e->detail_code, "message", e->message, "data");
}
