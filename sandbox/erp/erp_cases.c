#include "erp_cases.h"

#include <stdio.h>
#include <string.h>

#include "erp_api.h"
#include "erp_check.h"
#include "erp_docs.h"
#include "erp_orders.h"

#define ERP_CASES_LINES_MAX 1000

/* clang-format off */
/* one row per kind of case: its path, store kind and the calls counted */
static const struct erp_case_kind {
	const char *path;
	enum erp_docs_kind kind;
	enum erp_docs_call get, post;
} erp_case_kinds[] = {
	{ "payments", ERP_DOCS_PAYMENT, ERP_CALL_GET_PAYMENTS, ERP_CALL_POST_PAYMENTS },
	{ "returns", ERP_DOCS_RETURN, ERP_CALL_GET_RETURNS, ERP_CALL_POST_RETURNS },
	{ "complaints", ERP_DOCS_COMPLAINT, ERP_CALL_GET_COMPLAINTS, ERP_CALL_POST_COMPLAINTS },
};
/* clang-format on */

static bool erp_cases_payment(const json_t *b, int64_t *amount, char *why, size_t len)
{
	const char *s;
	return erp_check_int(b, "amount_minor", 1, ERP_CHECK_MONEY_MAX, true, 0, amount, why, len) &&
	       erp_check_text(b, "currency", 3, true, &s, why, len) &&
	       erp_check_text(b, "method", 100, false, &s, why, len) &&
	       erp_check_text(b, "paid_at", 40, false, &s, why, len) &&
	       erp_check_text(b, "reference", 200, false, &s, why, len);
}

/* Lines of a return or a complaint: an array of objects with a SKU, a quantity and a reason
 * (and money, for a return). */
static bool erp_cases_lines(const json_t *b, bool money, bool required, char *why, size_t len)
{
	const json_t *lines = json_object_get(b, "lines");
	if (!lines && !required)
		return true;
	if (!json_is_array(lines) || json_array_size(lines) > ERP_CASES_LINES_MAX ||
	    (required && json_array_size(lines) == 0)) {
		snprintf(why, len, "\"lines\" must be an array of %d..%d lines", required, ERP_CASES_LINES_MAX);
		return false;
	}
	for (size_t i = 0; i < json_array_size(lines); i++) {
		const json_t *l = json_array_get(lines, i);
		const char *s;
		int64_t v;
		char what[160];
		bool ok = json_is_object(l) && erp_check_text(l, "sku", 64, false, &s, what, sizeof what) &&
			  erp_check_int(l, "quantity_milli", 0, ERP_CHECK_QTY_MAX, false, 0, &v, what, sizeof what) &&
			  erp_check_text(l, "reason", 1000, false, &s, what, sizeof what) &&
			  (!money ||
			   (erp_check_int(l, "net_minor", 0, ERP_CHECK_MONEY_MAX, false, 0, &v, what, sizeof what) &&
			    erp_check_int(l, "tax_minor", 0, ERP_CHECK_MONEY_MAX, false, 0, &v, what, sizeof what)));
		if (!ok) {
			snprintf(why, len, "line %zu: %s", i + 1, json_is_object(l) ? what : "not an object");
			return false;
		}
	}
	return true;
}

static bool erp_cases_return(const json_t *b, int64_t *total, char *why, size_t len)
{
	const char *s;
	int64_t v;
	return erp_check_word(b, "kind", "return|refund_only", "return", &s, why, len) &&
	       erp_cases_lines(b, true, false, why, len) &&
	       erp_check_int(b, "shipping_net_minor", 0, ERP_CHECK_MONEY_MAX, false, 0, &v, why, len) &&
	       erp_check_int(b, "shipping_tax_minor", 0, ERP_CHECK_MONEY_MAX, false, 0, &v, why, len) &&
	       erp_check_int(b, "total_minor", 0, ERP_CHECK_MONEY_MAX, true, 0, total, why, len) &&
	       erp_check_text(b, "note", 2000, false, &s, why, len);
}

static bool erp_cases_complaint(const json_t *b, char *why, size_t len)
{
	const char *s;
	return erp_cases_lines(b, false, true, why, len) && erp_check_text(b, "reason", 2000, false, &s, why, len) &&
	       erp_check_word(b, "requested_remedy", "repair|replacement|refund|price_reduction", NULL, &s, why, len) &&
	       erp_check_text(b, "note", 2000, false, &s, why, len);
}

static void erp_cases_post(const struct erp_api *api, const struct erp_case_kind *k, const json_t *b,
			   struct httpd_resp *resp)
{
	char why[200], code[64], msg[300];
	struct erp_docs_new how = { 0 };
	bool ok = erp_check_text(b, "order_id", 64, true, &how.order_id, why, sizeof why) &&
		  erp_check_text(b, "external_ref", 200, true, &how.external_ref, why, sizeof why);
	if (ok && k->kind == ERP_DOCS_PAYMENT)
		ok = erp_cases_payment(b, &how.amount_minor, why, sizeof why);
	else if (ok && k->kind == ERP_DOCS_RETURN)
		ok = erp_cases_return(b, &how.amount_minor, why, sizeof why);
	else if (ok)
		ok = erp_cases_complaint(b, why, sizeof why);
	if (!ok) {
		erp_api_error(resp, 400, "bad_request", why);
		return;
	}
	json_t *doc = json_deep_copy(b), *out = NULL;
	if (doc && k->kind == ERP_DOCS_COMPLAINT &&
	    (json_object_set_new(doc, "resolution", json_string("")) != 0 ||
	     json_object_set_new(doc, "decision_note", json_string("")) != 0 ||
	     json_object_set_new(doc, "refund_minor", json_integer(0)) != 0)) {
		json_decref(doc);
		doc = NULL;
	}
	switch (erp_docs_create(api->docs, k->kind, doc, &how, &out, code, sizeof code, msg, sizeof msg)) {
	case ERP_DOCS_OK:
		erp_api_json(resp, 201, out);
		return;
	case ERP_DOCS_NOT_FOUND:
		erp_api_error(resp, 404, "unknown_order", msg);
		return;
	case ERP_DOCS_REFUSED:
		erp_api_error(resp, 422, code, msg);
		return;
	case ERP_DOCS_NOMEM:
		erp_api_error(resp, 500, "internal_error", "out of memory");
		return;
	}
}

bool erp_cases_route(const struct erp_api *api, const struct httpd_req *req, const char *rest, struct httpd_resp *resp)
{
	bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	bool post = strcmp(req->method, "POST") == 0;
	if (strcmp(rest, "complaint-changes") == 0) {
		if (get) {
			erp_docs_count_call(api->docs, ERP_CALL_COMPLAINT_CHANGES);
			erp_orders_feed(api, ERP_DOCS_FEED_COMPLAINTS, req, resp);
		} else {
			erp_api_error(resp, 405, "method_not_allowed", "only GET is allowed here");
		}
		return true;
	}
	const struct erp_case_kind *k = NULL;
	for (size_t i = 0; i < sizeof erp_case_kinds / sizeof erp_case_kinds[0]; i++)
		if (strcmp(rest, erp_case_kinds[i].path) == 0)
			k = &erp_case_kinds[i];
	if (!k)
		return false;
	if (get) {
		erp_docs_count_call(api->docs, k->get);
		const char *ref = httpd_req_query(req, "external_ref");
		if (!ref || !*ref)
			erp_api_error(resp, 400, "bad_request", "ask by external_ref");
		else
			erp_check_items(resp, erp_docs_find(api->docs, k->kind, "external_ref", ref));
	} else if (post) {
		erp_docs_count_call(api->docs, k->post);
		json_t *body = erp_api_body(req, resp);
		if (body)
			erp_cases_post(api, k, body, resp);
		json_decref(body);
	} else {
		erp_api_error(resp, 405, "method_not_allowed", "only GET and POST are allowed here");
	}
	return true;
}
