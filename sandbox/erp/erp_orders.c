#include "erp_orders.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erp_api.h"
#include "erp_check.h"
#include "erp_docs.h"

#define ERP_ORDERS_LINES_MAX   1000
#define ERP_ORDERS_PER_PAGE    100
#define ERP_ORDERS_PER_PAGE_MX 1000
#define ERP_ORDERS_LIMIT       100
#define ERP_ORDERS_LIMIT_MAX   1000

/* ---- checking an order ------------------------------------------------------------------------ */

struct erp_orders_sums {
	int64_t net, tax, gross;
	bool shipped; /* a shipping line */
};

/* One line's shape (400 when wrong); kind and sku returned for the ERP's own checks. */
static bool erp_orders_line(const json_t *l, size_t i, struct erp_orders_sums *sum, const char **kind, const char **sku,
			    char *why, size_t len)
{
	char what[160];
	const char *s;
	int64_t q, v, net, tax, gross;
	if (!json_is_object(l)) {
		snprintf(why, len, "line %zu is not an object", i + 1);
		return false;
	}
	bool item;
	bool ok = erp_check_word(l, "kind", "item|shipping|fee|discount", "item", kind, what, sizeof what) &&
		  ((item = strcmp(*kind, "item") == 0), true) &&
		  erp_check_text(l, "sku", 64, item, sku, what, sizeof what) &&
		  erp_check_text(l, "name", 500, false, &s, what, sizeof what) &&
		  erp_check_int(l, "quantity_milli", item ? 1 : 0, ERP_CHECK_QTY_MAX, item, 1000, &q, what,
				sizeof what) &&
		  erp_check_int(l, "unit_price_minor", -ERP_CHECK_MONEY_MAX, ERP_CHECK_MONEY_MAX, false, 0, &v, what,
				sizeof what) &&
		  erp_check_word(l, "price_basis", "net|gross", "net", &s, what, sizeof what) &&
		  erp_check_int(l, "vat_rate_bp", 0, 10000, true, 0, &v, what, sizeof what) &&
		  erp_check_int(l, "net_minor", -ERP_CHECK_MONEY_MAX, ERP_CHECK_MONEY_MAX, true, 0, &net, what,
				sizeof what) &&
		  erp_check_int(l, "tax_minor", -ERP_CHECK_MONEY_MAX, ERP_CHECK_MONEY_MAX, true, 0, &tax, what,
				sizeof what) &&
		  erp_check_int(l, "gross_minor", -ERP_CHECK_MONEY_MAX, ERP_CHECK_MONEY_MAX, true, 0, &gross, what,
				sizeof what);
	if (ok && net + tax != gross) {
		snprintf(what, sizeof what, "net_minor + tax_minor != gross_minor");
		ok = false;
	}
	if (!ok) {
		snprintf(why, len, "line %zu: %s", i + 1, what);
		return false;
	}
	sum->net += net;
	sum->tax += tax;
	sum->gross += gross;
	sum->shipped |= strcmp(*kind, "shipping") == 0;
	return true;
}

static int erp_orders_refuse(int status, const char *code, char *codeout, size_t codelen)
{
	snprintf(codeout, codelen, "%s", code);
	return status;
}

/* A shipped order needs somewhere to go. */
static bool erp_orders_deliverable(const json_t *body)
{
	const json_t *a = json_object_get(body, "shipping");
	static const char *const need[] = { "country_code", "city", "postal_code" };
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
		const char *s = json_string_value(json_object_get(a, need[i]));
		if (!s || !*s)
			return false;
	}
	return true;
}

int erp_orders_check(const json_t *body, bool (*known)(void *ud, const char *sku), void *ud, int64_t *gross, char *code,
		     size_t codelen, char *msg, size_t msglen)
{
	const char *s, *cur;
	int64_t tn, tt, tg;
	const json_t *lines = json_object_get(body, "lines"), *pit = json_object_get(body, "prices_include_tax");
	const json_t *totals = json_object_get(body, "totals");
	bool ok = erp_check_text(body, "external_ref", 200, true, &s, msg, msglen) &&
		  erp_check_text(body, "customer_id", 64, true, &s, msg, msglen) &&
		  erp_check_text(body, "currency", 3, true, &cur, msg, msglen) &&
		  erp_check_text(body, "pickup_point", 100, false, &s, msg, msglen) &&
		  erp_check_text(body, "payment_method", 100, false, &s, msg, msglen) &&
		  erp_check_text(body, "shop_number", 100, false, &s, msg, msglen) &&
		  erp_check_address(body, "billing", msg, msglen) && erp_check_address(body, "shipping", msg, msglen);
	if (ok && (strlen(cur) != 3 || !isupper((unsigned char)cur[0]) || !isupper((unsigned char)cur[1]) ||
		   !isupper((unsigned char)cur[2]))) {
		snprintf(msg, msglen, "\"currency\" must be an ISO 4217 code such as PLN");
		ok = false;
	}
	if (ok && pit && !json_is_boolean(pit)) {
		snprintf(msg, msglen, "\"prices_include_tax\" must be true or false");
		ok = false;
	}
	if (ok &&
	    (!json_is_array(lines) || json_array_size(lines) == 0 || json_array_size(lines) > ERP_ORDERS_LINES_MAX)) {
		snprintf(msg, msglen, "\"lines\" must be an array of 1..%d lines", ERP_ORDERS_LINES_MAX);
		ok = false;
	}
	if (ok && !json_is_object(totals)) {
		snprintf(msg, msglen, "\"totals\" must be an object {net_minor, tax_minor, gross_minor}");
		ok = false;
	}
	ok = ok &&
	     erp_check_int(totals, "net_minor", -ERP_CHECK_MONEY_MAX, ERP_CHECK_MONEY_MAX, true, 0, &tn, msg, msglen) &&
	     erp_check_int(totals, "tax_minor", -ERP_CHECK_MONEY_MAX, ERP_CHECK_MONEY_MAX, true, 0, &tt, msg, msglen) &&
	     erp_check_int(totals, "gross_minor", -ERP_CHECK_MONEY_MAX, ERP_CHECK_MONEY_MAX, true, 0, &tg, msg, msglen);
	if (!ok)
		return erp_orders_refuse(400, "bad_request", code, codelen);
	struct erp_orders_sums sum = { 0 };
	size_t unknown = 0;
	const char *unknown_sku = NULL;
	for (size_t i = 0; i < json_array_size(lines); i++) {
		const char *kind, *sku;
		if (!erp_orders_line(json_array_get(lines, i), i, &sum, &kind, &sku, msg, msglen))
			return erp_orders_refuse(400, "bad_request", code, codelen);
		if (!unknown_sku && strcmp(kind, "item") == 0 && !known(ud, sku)) {
			unknown_sku = sku;
			unknown = i + 1;
		}
	}
	if (unknown_sku) {
		snprintf(msg, msglen, "unknown SKU %s on line %zu", unknown_sku, unknown);
		return erp_orders_refuse(422, "unknown_sku", code, codelen);
	}
	if (sum.shipped && !erp_orders_deliverable(body)) {
		snprintf(msg, msglen, "the shipping address needs country_code, city and postal_code");
		return erp_orders_refuse(422, "invalid_address", code, codelen);
	}
	if (sum.net != tn || sum.tax != tt || sum.gross != tg || tn + tt != tg) {
		snprintf(msg, msglen,
			 "the lines add up to net %lld, tax %lld, gross %lld; the totals say %lld, %lld, %lld",
			 (long long)sum.net, (long long)sum.tax, (long long)sum.gross, (long long)tn, (long long)tt,
			 (long long)tg);
		return erp_orders_refuse(422, "totals_mismatch", code, codelen);
	}
	*gross = tg;
	return 0;
}

/* ---- handlers --------------------------------------------------------------------------------- */

static bool erp_orders_known(void *ud, const char *sku)
{
	const struct erp_api *api = ud;
	return erp_store_sku(api->store, sku, NULL, 0) > 0 || erp_docs_sku_known(api->docs, sku);
}

/* The answer of a store's write: 201 with the document, or its refusal. */
static void erp_orders_answer(struct httpd_resp *resp, enum erp_docs_result r, json_t *doc, int ok_status,
			      const char *code, const char *msg)
{
	switch (r) {
	case ERP_DOCS_OK:
		erp_api_json(resp, ok_status, doc);
		return;
	case ERP_DOCS_NOT_FOUND:
		erp_api_error(resp, 404, code, msg);
		break;
	case ERP_DOCS_REFUSED:
		erp_api_error(resp, strcmp(code, "not_cancellable") == 0 ? 409 : 422, code, msg);
		break;
	case ERP_DOCS_NOMEM:
		erp_api_error(resp, 500, "internal_error", "out of memory");
		break;
	}
	json_decref(doc);
}

/* Copies of the known members only: whatever else a client sends is not kept. */
static json_t *erp_orders_pick(const json_t *body, const char *const *keys, size_t n)
{
	json_t *doc = json_object();
	for (size_t i = 0; doc && i < n; i++) {
		json_t *v = json_object_get(body, keys[i]);
		if (v && json_object_set_new(doc, keys[i], json_deep_copy(v)) != 0) {
			json_decref(doc);
			doc = NULL;
		}
	}
	return doc;
}

static void erp_orders_lower(const char *s, char *out, size_t len)
{
	size_t i = 0;
	for (; s[i] && i + 1 < len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
}

static void erp_customers_post(const struct erp_api *api, const json_t *body, struct httpd_resp *resp)
{
	static const char *const keys[] = { "name", "company", "nip", "email", "phone", "address" };
	const char *name, *company, *nip, *email, *phone;
	char why[200], code[64], msg[200], lower[256];
	if (!erp_check_text(body, "name", 200, false, &name, why, sizeof why) ||
	    !erp_check_text(body, "company", 200, false, &company, why, sizeof why) ||
	    !erp_check_text(body, "nip", 32, false, &nip, why, sizeof why) ||
	    !erp_check_text(body, "email", 254, false, &email, why, sizeof why) ||
	    !erp_check_text(body, "phone", 32, false, &phone, why, sizeof why) ||
	    !erp_check_address(body, "address", why, sizeof why)) {
		erp_api_error(resp, 400, "bad_request", why);
		return;
	}
	if (!*name && !*company) {
		erp_api_error(resp, 422, "invalid_customer", "a customer needs a name or a company");
		return;
	}
	erp_orders_lower(email, lower, sizeof lower);
	struct erp_docs_new how = { .nip = nip, .email = lower };
	json_t *doc = NULL;
	enum erp_docs_result r = erp_docs_create(api->docs, ERP_DOCS_CUSTOMER, erp_orders_pick(body, keys, 6), &how,
						 &doc, code, sizeof code, msg, sizeof msg);
	erp_orders_answer(resp, r, doc, 201, code, msg);
}

static void erp_customers_get(const struct erp_api *api, const struct httpd_req *req, struct httpd_resp *resp)
{
	const char *nip = httpd_req_query(req, "nip"), *email = httpd_req_query(req, "email");
	char lower[256];
	if ((!nip || !*nip) == (!email || !*email)) {
		erp_api_error(resp, 400, "bad_request", "ask by nip or by email");
		return;
	}
	if (email)
		erp_orders_lower(email, lower, sizeof lower);
	erp_check_items(resp, erp_docs_find(api->docs, ERP_DOCS_CUSTOMER, nip ? "nip" : "email", nip ? nip : lower));
}

static void erp_orders_post(const struct erp_api *api, const json_t *body, struct httpd_resp *resp)
{
	static const char *const keys[] = { "external_ref",   "customer_id", "currency", "prices_include_tax",
					    "lines",          "billing",     "shipping", "pickup_point",
					    "payment_method", "shop_number", "totals",   "note",
					    "coupons",        "warehouse" };
	char code[64], msg[300];
	int64_t gross = 0;
	int status = erp_orders_check(body, erp_orders_known, (void *)api, &gross, code, sizeof code, msg, sizeof msg);
	if (status) {
		erp_api_error(resp, status, code, msg);
		return;
	}
	const char *customer = json_string_value(json_object_get(body, "customer_id"));
	json_t *c = erp_docs_get(api->docs, ERP_DOCS_CUSTOMER, customer);
	if (!c) {
		snprintf(msg, sizeof msg, "no customer %s", customer);
		erp_api_error(resp, 422, "unknown_customer", msg);
		return;
	}
	json_decref(c);
	json_t *doc = erp_orders_pick(body, keys, sizeof keys / sizeof keys[0]);
	if (doc && json_object_set_new(doc, "invoiced", json_false()) != 0) {
		json_decref(doc);
		doc = NULL;
	}
	struct erp_docs_new how = { .external_ref = json_string_value(json_object_get(body, "external_ref")),
				    .amount_minor = gross };
	json_t *out = NULL;
	enum erp_docs_result r = erp_docs_create(api->docs, ERP_DOCS_ORDER, doc, &how, &out, code, sizeof code, msg,
						 sizeof msg);
	erp_orders_answer(resp, r, out, 201, code, msg);
}

static void erp_orders_list(const struct erp_api *api, const struct httpd_req *req, struct httpd_resp *resp)
{
	const char *ref = httpd_req_query(req, "external_ref");
	if (ref) {
		erp_docs_count_call(api->docs, ERP_CALL_GET_ORDERS_BY_REF);
		erp_check_items(resp, erp_docs_find(api->docs, ERP_DOCS_ORDER, "external_ref", ref));
		return;
	}
	erp_docs_count_call(api->docs, ERP_CALL_GET_ORDERS_BY_TIME);
	int64_t from, to;
	uint64_t page, per_page;
	bool more;
	if (!erp_check_time(httpd_req_query(req, "created_from"), &from) ||
	    !erp_check_time(httpd_req_query(req, "created_to"), &to)) {
		erp_api_error(resp, 400, "bad_request",
			      "ask by external_ref, or by created_from and created_to (RFC 3339 UTC)");
		return;
	}
	if (!erp_check_query_u64(req, "page", 1, 1, 1000000, &page) ||
	    !erp_check_query_u64(req, "per_page", ERP_ORDERS_PER_PAGE, 1, ERP_ORDERS_PER_PAGE_MX, &per_page)) {
		erp_api_error(resp, 400, "bad_request", "page must be 1..1000000 and per_page 1..1000");
		return;
	}
	json_t *arr = erp_docs_orders_created(api->docs, from, to, page, per_page, &more);
	erp_api_json(resp, 200, arr ? json_pack("{s:o,s:b}", "items", arr, "has_more", more) : NULL);
}

static void erp_orders_cancel(const struct erp_api *api, const char *id, const json_t *body, struct httpd_resp *resp)
{
	const char *reason;
	char code[64], msg[300];
	if (!erp_check_text(body, "reason", 1000, false, &reason, msg, sizeof msg)) {
		erp_api_error(resp, 400, "bad_request", msg);
		return;
	}
	json_t *out = NULL;
	enum erp_docs_result r = erp_docs_order_status(api->docs, id, "cancelled", reason, true, &out, code,
						       sizeof code, msg, sizeof msg);
	erp_orders_answer(resp, r, out, 200, code, msg);
}

void erp_orders_feed(const struct erp_api *api, enum erp_docs_feed feed, const struct httpd_req *req,
		     struct httpd_resp *resp)
{
	uint64_t since, limit;
	if (!erp_check_query_u64(req, "since", 0, 0, UINT64_MAX, &since) ||
	    !erp_check_query_u64(req, "limit", ERP_ORDERS_LIMIT, 1, ERP_ORDERS_LIMIT_MAX, &limit)) {
		erp_api_error(resp, 400, "bad_request", "since must be a cursor (a sequence number), limit 1..1000");
		return;
	}
	erp_api_json(resp, 200, erp_docs_changes(api->docs, feed, since, limit));
}

/* POST bodies are read here; an empty one is {} (cancel needs none). */
static json_t *erp_orders_body(const struct httpd_req *req, struct httpd_resp *resp)
{
	if (req->body_len == 0)
		return json_object();
	return erp_api_body(req, resp);
}

bool erp_orders_route(const struct erp_api *api, const struct httpd_req *req, const char *rest, struct httpd_resp *resp)
{
	bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	bool post = strcmp(req->method, "POST") == 0;
	const char *id = strncmp(rest, "orders/", 7) == 0 ? rest + 7 : NULL;
	const char *slash = id ? strchr(id, '/') : NULL;
	bool cancel = slash && strcmp(slash, "/cancel") == 0 && slash > id;
	bool one = id && *id && !slash;
	if (strcmp(rest, "customers") != 0 && strcmp(rest, "orders") != 0 && strcmp(rest, "order-changes") != 0 &&
	    !cancel && !one)
		return false;
	bool writes = cancel || (strcmp(rest, "order-changes") != 0 && !one);
	if (!(get && !cancel) && !(post && writes)) {
		erp_api_error(resp, 405, "method_not_allowed", "method not allowed here");
		if (!httpd_resp_header(resp, "Allow", cancel ? "POST" : writes ? "GET, POST" : "GET"))
			erp_api_error(resp, 500, "internal_error", "out of memory");
		return true;
	}
	if (one) {
		erp_docs_count_call(api->docs, ERP_CALL_GET_ORDER);
		json_t *doc = erp_docs_get(api->docs, ERP_DOCS_ORDER, id);
		if (doc)
			erp_api_json(resp, 200, doc);
		else
			erp_api_error(resp, 404, "not_found", "no such order");
	} else if (strcmp(rest, "order-changes") == 0) {
		erp_docs_count_call(api->docs, ERP_CALL_ORDER_CHANGES);
		erp_orders_feed(api, ERP_DOCS_FEED_ORDERS, req, resp);
	} else if (get && strcmp(rest, "customers") == 0) {
		erp_docs_count_call(api->docs, ERP_CALL_GET_CUSTOMERS);
		erp_customers_get(api, req, resp);
	} else if (get) {
		erp_orders_list(api, req, resp);
	} else {
		enum erp_docs_call c = cancel                           ? ERP_CALL_CANCEL_ORDER
				       : strcmp(rest, "customers") == 0 ? ERP_CALL_POST_CUSTOMERS
									: ERP_CALL_POST_ORDERS;
		erp_docs_count_call(api->docs, c);
		json_t *body = erp_orders_body(req, resp);
		if (!body)
			return true;
		if (cancel) {
			char oid[80];
			snprintf(oid, sizeof oid, "%.*s", (int)(slash - id < 79 ? slash - id : 79), id);
			erp_orders_cancel(api, oid, body, resp);
		} else if (c == ERP_CALL_POST_CUSTOMERS) {
			erp_customers_post(api, body, resp);
		} else {
			erp_orders_post(api, body, resp);
		}
		json_decref(body);
	}
	return true;
}
