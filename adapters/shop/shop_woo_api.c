#include "shop_woo_api.h"

#include <stdio.h>
#include <string.h>

bool shop_woo_api_request(struct shop_woo *w, const char *method, const char *path, const char *body,
			  struct http_response *resp, char *err, size_t errlen)
{
	char url[2048];
	struct http_header h[] = { { "Authorization", w->auth },
				   { "Accept", "application/json" },
				   { "Content-Type", "application/json" } };
	if ((size_t)snprintf(url, sizeof url, "%s" SHOP_WOO_API_PATH "%s", w->base_url, path) >= sizeof url) {
		snprintf(err, errlen, "shop %s: URL too long", w->id);
		return false;
	}
	if (!http_request(w->http, method, url, h, body ? 3 : 2, body, body ? strlen(body) : 0, resp)) {
		snprintf(err, errlen, "shop %s unreachable: %s", w->id, resp->error);
		return false;
	}
	return true;
}

json_t *shop_woo_api_call(struct shop_woo *w, const char *method, const char *path, const char *body, long *status,
			  char *err, size_t errlen)
{
	struct http_response resp;
	json_t *root = NULL;
	if (status)
		*status = 0;
	http_response_init(&resp);
	if (!shop_woo_api_request(w, method, path, body, &resp, err, errlen))
		goto out;
	if (status)
		*status = resp.status;
	if (resp.status < 200 || resp.status > 299) {
		json_t *e = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
		const char *code = json_string_value(json_object_get(e, "code"));
		snprintf(err, errlen, "shop %s answered HTTP %ld %s", w->id, resp.status, code ? code : "");
		json_decref(e);
		goto out;
	}
	json_error_t jerr;
	root = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, &jerr);
	if (!root)
		snprintf(err, errlen, "shop %s answered malformed JSON: %s", w->id, jerr.text);
out:
	http_response_cleanup(&resp);
	return root;
}
