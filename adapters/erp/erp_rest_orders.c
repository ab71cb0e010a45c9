#include "erp_rest_orders.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "erp_rest_map.h"
#include "http_client.h"

#define ERP_ORDERS_PER_PAGE 100

/* ---- requests --------------------------------------------------------------------------------- */

/* Appends s percent-encoded (RFC 3986 unreserved kept): references hold '|', NIPs and e-mails '@'
 * and '+'. */
static bool erp_orders_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	bool ok = true;
	for (const unsigned char *c = (const unsigned char *)s; ok && *c; c++) {
		if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		    strchr("-._~", *c)) {
			ok = buf_append(b, c, 1);
		} else {
			char e[3] = { '%', hex[*c >> 4], hex[*c & 15] };
			ok = buf_append(b, e, 3);
		}
	}
	return ok;
}

/* base_url + path + escaped value (NULL: none) + tail; false when out of memory. */
static bool erp_orders_url(struct buf *u, const struct erp_rest_conn *c, const char *path, const char *value,
			   const char *tail)
{
	return buf_puts(u, c->base_url) && buf_puts(u, path) && (!value || erp_orders_escape(u, value)) &&
	       (!tail || buf_puts(u, tail));
}

/* One call: once picks the one-attempt client. body (may be NULL) is sent as JSON. true when an
 * answer came; its status and body are in resp. */
static bool erp_orders_call(const struct erp_rest_conn *c, bool once, const char *method, const char *url, json_t *body,
			    struct http_response *resp, char *err, size_t errlen)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (body && !text) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	struct http_header h[] = { { "Authorization", c->auth_header },
				   { "Accept", "application/json" },
				   { "Content-Type", "application/json" } };
	bool answered = http_request(once ? c->once : c->http, method, url, h, text ? 3 : 2, text,
				     text ? strlen(text) : 0, resp);
	free(text);
	if (!answered)
		snprintf(err, errlen, "ERP unreachable: %s", resp->error);
	return answered;
}

/* What an answer to a write comes to: 2xx with a document, 4xx refused (its message), anything
 * else failed. */
static enum erp_result erp_orders_result(const struct http_response *resp, struct erp_doc *out, char *err,
					 size_t errlen)
{
	const char *body = resp->body.data ? resp->body.data : "";
	if (resp->status >= 200 && resp->status <= 299) {
		json_t *j = json_loadb(body, resp->body.len, 0, NULL);
		char why[256];
		bool ok = erp_rest_map_doc(j, out, why, sizeof why);
		json_decref(j);
		if (ok)
			return ERP_DONE;
		snprintf(err, errlen, "the ERP's answer (HTTP %ld) is not a document: %s", resp->status, why);
		return ERP_FAILED;
	}
	if (resp->status >= 400 && resp->status <= 499 && resp->status != 408 && resp->status != 429) {
		erp_rest_map_error(body, resp->body.len, resp->status, err, errlen);
		return ERP_REFUSED;
	}
	snprintf(err, errlen, "ERP answered HTTP %ld", resp->status);
	return ERP_FAILED;
}

/* POST path with body (taken); one attempt unless repeatable. */
static enum erp_result erp_orders_post(struct erp *erp, const char *path, json_t *body, bool repeatable,
				       struct erp_doc *out, char *err, size_t errlen)
{
	const struct erp_rest_conn *c = erp_rest_conn(erp);
	struct buf url = BUF_INIT;
	struct http_response resp;
	enum erp_result r = ERP_FAILED;
	http_response_init(&resp);
	if (!body || !erp_orders_url(&url, c, path, NULL, NULL))
		snprintf(err, errlen, "out of memory");
	else if (erp_orders_call(c, !repeatable, "POST", url.data, body, &resp, err, errlen))
		r = erp_orders_result(&resp, out, err, errlen);
	http_response_cleanup(&resp);
	buf_cleanup(&url);
	json_decref(body);
	return r;
}

/* GET path?key=value...: the items, as erp_rest_map_docs; -1 with err. */
static int erp_orders_list(struct erp *erp, const char *path, const char *value, const char *tail, struct erp_doc *out,
			   size_t max, struct erp_doc **all, bool *more, char *err, size_t errlen)
{
	const struct erp_rest_conn *c = erp_rest_conn(erp);
	struct buf url = BUF_INIT;
	struct http_response resp;
	int n = -1;
	http_response_init(&resp);
	if (!erp_orders_url(&url, c, path, value, tail)) {
		snprintf(err, errlen, "out of memory");
	} else if (erp_orders_call(c, false, "GET", url.data, NULL, &resp, err, errlen)) {
		if (resp.status != 200)
			snprintf(err, errlen, "ERP answered HTTP %ld", resp.status);
		else
			n = erp_rest_map_docs(resp.body.data ? resp.body.data : "", resp.body.len, out, max, all, more,
					      err, errlen);
	}
	http_response_cleanup(&resp);
	buf_cleanup(&url);
	return n;
}

/* ---- orders ----------------------------------------------------------------------------------- */

static int erp_orders_find(struct erp *erp, const char *external_ref, struct erp_doc *out, size_t max, char *err,
			   size_t errlen)
{
	return erp_orders_list(erp, "/api/v1/orders?external_ref=", external_ref, NULL, out, max, NULL, NULL, err,
			       errlen);
}

/* The buyer's id in the ERP: found by NIP, else by e-mail, else created (one attempt: a
 * customer created twice is a nuisance, not a double booking, and the next try finds one). */
static enum erp_result erp_orders_customer(struct erp *erp, const Erpsync__V1__Order *o, char *id, char *err,
					   size_t errlen)
{
	const Erpsync__V1__Customer *cu = o->customer;
	const char *nip = cu && cu->tax_id && cu->tax_id->value ? cu->tax_id->value : "";
	const char *email = cu && cu->email && *cu->email ? cu->email : o->billing ? o->billing->email : "";
	struct erp_doc found;
	for (int by = 0; by < 2; by++) {
		const char *v = by == 0 ? nip : email;
		if (!v || !*v)
			continue;
		int n = erp_orders_list(erp, by == 0 ? "/api/v1/customers?nip=" : "/api/v1/customers?email=", v, NULL,
					&found, 1, NULL, NULL, err, errlen);
		if (n < 0)
			return ERP_FAILED;
		if (n > 0) {
			memcpy(id, found.id, sizeof found.id);
			return ERP_DONE;
		}
	}
	enum erp_result r = erp_orders_post(erp, "/api/v1/customers", erp_rest_map_customer(o), false, &found, err,
					    errlen);
	if (r == ERP_DONE)
		memcpy(id, found.id, sizeof found.id);
	return r;
}

static enum erp_result erp_orders_create(struct erp *erp, const char *external_ref, const Erpsync__V1__Order *o,
					 struct erp_doc *out, char *err, size_t errlen)
{
	char customer[ERP_ID_MAX + 1];
	char why[400];
	memset(out, 0, sizeof *out);
	enum erp_result r = erp_orders_customer(erp, o, customer, why, sizeof why);
	if (r != ERP_DONE) {
		snprintf(err, errlen, "customer: %s", why);
		return r;
	}
	json_t *body = erp_rest_map_order(external_ref, customer, o, err, errlen);
	if (!body)
		return ERP_REFUSED;
	return erp_orders_post(erp, "/api/v1/orders", body, false, out, err, errlen);
}

static enum erp_result erp_orders_cancel(struct erp *erp, const char *order_id, const char *reason, char *err,
					 size_t errlen)
{
	struct buf path = BUF_INIT;
	struct erp_doc doc;
	enum erp_result r = ERP_FAILED;
	json_t *body = json_pack("{s:s}", "reason", reason ? reason : "");
	if (buf_puts(&path, "/api/v1/orders/") && erp_orders_escape(&path, order_id) && buf_puts(&path, "/cancel")) {
		r = erp_orders_post(erp, path.data, body, true, &doc, err, errlen);
	} else {
		json_decref(body);
		snprintf(err, errlen, "out of memory");
	}
	buf_cleanup(&path);
	return r;
}

/* A feed page after cursor ("" = from the start). */
static bool erp_orders_feed(struct erp *erp, const char *feed, bool complaints, const char *cursor, size_t limit,
			    struct erp_change_page *out, char *err, size_t errlen)
{
	const struct erp_rest_conn *c = erp_rest_conn(erp);
	struct http_response resp;
	char url[1024];
	bool ok = false;
	memset(out, 0, sizeof *out);
	if (strspn(cursor, "0123456789") != strlen(cursor) || strlen(cursor) > ERP_CURSOR_MAX) {
		snprintf(err, errlen, "cursor \"%.64s\" is not a sequence number", cursor);
		return false;
	}
	snprintf(url, sizeof url, "%s/api/v1/%s?since=%s&limit=%zu", c->base_url, feed, *cursor ? cursor : "0", limit);
	http_response_init(&resp);
	if (erp_orders_call(c, false, "GET", url, NULL, &resp, err, errlen)) {
		if (resp.status != 200)
			snprintf(err, errlen, "ERP answered HTTP %ld", resp.status);
		else
			ok = erp_rest_map_changes(resp.body.data ? resp.body.data : "", resp.body.len, complaints, out,
						  err, errlen);
	}
	http_response_cleanup(&resp);
	return ok;
}

static bool erp_orders_changes(struct erp *erp, const char *cursor, size_t limit, struct erp_change_page *out,
			       char *err, size_t errlen)
{
	return erp_orders_feed(erp, "order-changes", false, cursor, limit, out, err, errlen);
}

static bool erp_orders_complaint_changes(struct erp *erp, const char *cursor, size_t limit, struct erp_change_page *out,
					 char *err, size_t errlen)
{
	return erp_orders_feed(erp, "complaint-changes", true, cursor, limit, out, err, errlen);
}

static void erp_orders_time(int64_t us, char out[32])
{
	struct tm tm;
	time_t secs = (time_t)(us / 1000000);
	gmtime_r(&secs, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%06lldZ", (long long)(us % 1000000));
}

static bool erp_orders_list_created(struct erp *erp, int64_t from_us, int64_t to_us, int page, struct erp_doc **out,
				    size_t *n, bool *more, char *err, size_t errlen)
{
	char from[32], to[32], tail[160];
	*out = NULL;
	*n = 0;
	*more = false;
	if (page < 1 || from_us < 0 || to_us < from_us) {
		snprintf(err, errlen, "page %d of [%lld, %lld) is not a window", page, (long long)from_us,
			 (long long)to_us);
		return false;
	}
	erp_orders_time(from_us, from);
	erp_orders_time(to_us, to);
	snprintf(tail, sizeof tail, "&created_to=%s&page=%d&per_page=%d", to, page, ERP_ORDERS_PER_PAGE);
	int k = erp_orders_list(erp, "/api/v1/orders?created_from=", from, tail, NULL, 0, out, more, err, errlen);
	if (k < 0)
		return false;
	*n = (size_t)k;
	return true;
}

/* ---- payments, returns, complaints: once by external reference ------------------------------- */

/* Looks path?external_ref= up; the first match into out when there is one (ERP_DONE), else
 * ERP_REFUSED meaning "not there", or ERP_FAILED. */
static enum erp_result erp_orders_lookup(struct erp *erp, const char *path, const char *external_ref,
					 struct erp_doc *out, char *err, size_t errlen)
{
	int n = erp_orders_list(erp, path, external_ref, NULL, out, 1, NULL, NULL, err, errlen);
	return n < 0 ? ERP_FAILED : n > 0 ? ERP_DONE : ERP_REFUSED;
}

/* The document of external_ref at path: the one the ERP has, or a new one from body (taken). */
static enum erp_result erp_orders_once(struct erp *erp, const char *path, const char *external_ref, json_t *body,
				       struct erp_doc *out, char *err, size_t errlen)
{
	char query[96];
	snprintf(query, sizeof query, "%s?external_ref=", path);
	memset(out, 0, sizeof *out);
	enum erp_result r = erp_orders_lookup(erp, query, external_ref, out, err, errlen);
	if (r != ERP_REFUSED) {
		json_decref(body);
		return r;
	}
	if (!body) {
		snprintf(err, errlen, "the document cannot be written as JSON (text that is not UTF-8?)");
		return ERP_REFUSED;
	}
	return erp_orders_post(erp, path, body, false, out, err, errlen);
}

static enum erp_result erp_orders_payment(struct erp *erp, const char *order_id, const char *external_ref,
					  const Erpsync__V1__Payment *p, struct erp_doc *out, char *err, size_t errlen)
{
	return erp_orders_once(erp, "/api/v1/payments", external_ref, erp_rest_map_payment(order_id, external_ref, p),
			       out, err, errlen);
}

static enum erp_result erp_orders_return(struct erp *erp, const char *order_id, const char *external_ref,
					 const Erpsync__V1__Return *r, struct erp_doc *out, char *err, size_t errlen)
{
	return erp_orders_once(erp, "/api/v1/returns", external_ref, erp_rest_map_return(order_id, external_ref, r),
			       out, err, errlen);
}

static enum erp_result erp_orders_complaint(struct erp *erp, const char *order_id, const char *external_ref,
					    const Erpsync__V1__Return *r, struct erp_doc *out, char *err, size_t errlen)
{
	return erp_orders_once(erp, "/api/v1/complaints", external_ref,
			       erp_rest_map_complaint(order_id, external_ref, r), out, err, errlen);
}

const struct erp_order_ops erp_rest_orders = {
	.find_orders = erp_orders_find,
	.create_order = erp_orders_create,
	.cancel_order = erp_orders_cancel,
	.order_changes = erp_orders_changes,
	.list_orders = erp_orders_list_created,
	.register_payment = erp_orders_payment,
	.create_return = erp_orders_return,
	.create_complaint = erp_orders_complaint,
	.complaint_changes = erp_orders_complaint_changes,
};
