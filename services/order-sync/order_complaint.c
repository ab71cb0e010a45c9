#include "order_complaint.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "order_event.h"
#include "order_shops.h"
#include "pg.h"

#define ORDER_COMPLAINT_LINES_MAX 1000
#define ORDER_COMPLAINT_TEXT_MAX  2000

static bool order_complaint_text(json_t *v, size_t max)
{
	return !v || (json_is_string(v) && json_string_length(v) <= max);
}

static Erpsync__V1__ComplaintRemedy order_complaint_remedy(const char *s)
{
	static const struct {
		const char *name;
		Erpsync__V1__ComplaintRemedy r;
	} m[] = {
		{ "repair", ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_REPAIR },
		{ "replacement", ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_REPLACEMENT },
		{ "refund", ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_REFUND },
		{ "price_reduction", ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_PRICE_REDUCTION },
	};
	for (size_t i = 0; s && i < sizeof m / sizeof m[0]; i++)
		if (strcmp(s, m[i].name) == 0)
			return m[i].r;
	return ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_UNSPECIFIED;
}

static const Erpsync__V1__OrderLine *order_complaint_line(const Erpsync__V1__Order *o, const char *id)
{
	for (size_t i = 0; i < o->n_lines; i++)
		if (strcmp(o->lines[i]->line_id, id) == 0)
			return o->lines[i];
	return NULL;
}

/* Builds and stores the case; 202/200 or an error status. */
static int order_complaint_store(struct pg *db, const struct order_topics *t, json_t *root, const char *shop,
				 const char *order_id, const Erpsync__V1__Order *o, struct buf *out, char *err,
				 size_t errlen)
{
	json_t *lines = json_object_get(root, "lines");
	size_t nl = json_array_size(lines);
	const char *cid = json_string_value(json_object_get(root, "complaint_id"));
	char idbuf[EVENT_ID_LEN + 8];
	if (!cid || !*cid) {
		char eid[EVENT_ID_LEN];
		event_id_new(eid);
		snprintf(idbuf, sizeof idbuf, "REK-%.8s", eid + 28);
		cid = idbuf;
	}
	Erpsync__V1__ReturnLine *rl = calloc(nl ? nl : 1, sizeof *rl);
	Erpsync__V1__ReturnLine **lp = calloc(nl ? nl : 1, sizeof *lp);
	int status = 503;
	uint8_t *snap = NULL;
	if (!rl || !lp) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	const char *reason_all = json_string_value(json_object_get(root, "reason"));
	for (size_t i = 0; i < nl; i++) {
		json_t *l = json_array_get(lines, i);
		const char *lid = json_string_value(json_object_get(l, "line_id"));
		json_t *q = json_object_get(l, "quantity");
		const Erpsync__V1__OrderLine *ol = lid ? order_complaint_line(o, lid) : NULL;
		if (!ol || !json_is_integer(q) || json_integer_value(q) <= 0 ||
		    json_integer_value(q) * 1000 > ol->quantity_milli ||
		    !order_complaint_text(json_object_get(l, "reason"), ORDER_COMPLAINT_TEXT_MAX)) {
			snprintf(err, errlen,
				 "lines[%zu]: line_id must name a line of the order and quantity be 1..its quantity",
				 i);
			status = 422;
			goto out;
		}
		erpsync__v1__return_line__init(&rl[i]);
		rl[i].order_line_id = ol->line_id;
		rl[i].sku = ol->sku;
		rl[i].name = ol->name;
		rl[i].quantity_milli = json_integer_value(q) * 1000;
		rl[i].reason = ERPSYNC__V1__RETURN_REASON__RETURN_REASON_DEFECTIVE;
		const char *why = json_string_value(json_object_get(l, "reason"));
		rl[i].reason_text = (char *)(why ? why : reason_all ? reason_all : "");
		rl[i].vat_rate = ol->vat_rate;
		lp[i] = &rl[i];
	}
	Erpsync__V1__Return r = ERPSYNC__V1__RETURN__INIT;
	Erpsync__V1__EventMeta meta;
	struct order_event_ids ids;
	char source[96];
	snprintf(source, sizeof source, "shop:%s", shop);
	order_event_meta(&meta, &ids, NULL, event_now_us(), source, ERPSYNC__V1__EVENT_ORIGIN__EVENT_ORIGIN_MANUAL,
			 NULL);
	r.meta = &meta;
	r.shop_id = (char *)shop;
	r.order_external_id = (char *)order_id;
	r.order_number = o->number;
	r.return_id = (char *)cid;
	r.kind = ERPSYNC__V1__RETURN_KIND__RETURN_KIND_COMPLAINT;
	r.status = ERPSYNC__V1__RETURN_STATUS__RETURN_STATUS_REQUESTED;
	r.n_lines = nl;
	r.lines = lp;
	const char *note = json_string_value(json_object_get(root, "note"));
	r.note = (char *)(note ? note : "");
	r.requested_at = meta.occurred_at;
	r.version = 1;
	r.requested_remedy = order_complaint_remedy(json_string_value(json_object_get(root, "requested_remedy")));
	size_t len = erpsync__v1__return__get_packed_size(&r);
	snap = malloc(len ? len : 1);
	if (!snap) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	erpsync__v1__return__pack(&r, snap);
	if (!pg_begin(db, err, errlen))
		goto out;
	const char *p[] = { shop, order_id, cid, (const char *)snap };
	const int lens[] = { 0, 0, 0, (int)len }, fmts[] = { 0, 0, 0, 1 };
	PGresult *res = pg_query_params(
		db,
		"INSERT INTO return_case (shop_id, external_id, return_id, kind, status, version,"
		" snapshot) VALUES ($1, $2, $3, 'complaint', 'requested', 1, $4)"
		" ON CONFLICT DO NOTHING",
		4, p, lens, fmts, 0, err, errlen);
	bool fresh = res && strcmp(PQcmdTuples(res), "1") == 0;
	PQclear(res);
	if (!res || (fresh && !order_event_queue_return(db, t->returns, &r, err, errlen)) ||
	    !pg_commit(db, err, errlen)) {
		pg_rollback(db);
		goto out;
	}
	status = fresh ? 202 : 200;
	json_t *ans = json_pack("{s:s, s:s, s:s, s:s}", "complaint_id", cid, "shop", shop, "order", order_id, "result",
				fresh ? "filed" : "filed before");
	char *s = ans ? json_dumps(ans, JSON_COMPACT) : NULL;
	json_decref(ans);
	if (!s || !buf_puts(out, s))
		status = 500;
	free(s);
out:
	free(snap);
	free(rl);
	free(lp);
	return status;
}

int order_complaint_file(struct pg *db, const struct order_topics *t, const struct order_shops *shops, const char *body,
			 size_t len, struct buf *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(root)) {
		snprintf(err, errlen, "not a JSON object: %s", root ? "" : jerr.text);
		json_decref(root);
		return 400;
	}
	const char *shop = json_string_value(json_object_get(root, "shop"));
	const char *order_id = json_string_value(json_object_get(root, "order_id"));
	json_t *lines = json_object_get(root, "lines");
	const char *remedy = json_string_value(json_object_get(root, "requested_remedy"));
	const char *cid = json_string_value(json_object_get(root, "complaint_id"));
	int status = 422;
	if (!shop || !order_shops_find(shops, shop) || !order_id || !*order_id || strlen(order_id) > 64) {
		snprintf(err, errlen, "shop must be a configured shop and order_id the order's id");
	} else if (!json_is_array(lines) || json_array_size(lines) == 0 ||
		   json_array_size(lines) > ORDER_COMPLAINT_LINES_MAX) {
		snprintf(err, errlen, "lines must list 1..%d lines of the order", ORDER_COMPLAINT_LINES_MAX);
	} else if (order_complaint_remedy(remedy) == ERPSYNC__V1__COMPLAINT_REMEDY__COMPLAINT_REMEDY_UNSPECIFIED) {
		snprintf(err, errlen, "requested_remedy must be repair, replacement, refund or price_reduction");
	} else if ((json_object_get(root, "complaint_id") && (!cid || !*cid || strlen(cid) > 64 || strchr(cid, '|'))) ||
		   !order_complaint_text(json_object_get(root, "note"), ORDER_COMPLAINT_TEXT_MAX) ||
		   !order_complaint_text(json_object_get(root, "reason"), ORDER_COMPLAINT_TEXT_MAX)) {
		snprintf(err, errlen, "complaint_id (1..64 characters, no '|'), note and reason must be short strings");
	} else {
		const char *p[] = { shop, order_id };
		PGresult *r = pg_ensure(db, err, errlen) ? pg_query(db,
								    "SELECT snapshot FROM orders WHERE shop_id = $1"
								    " AND external_id = $2",
								    2, p, err, errlen)
							 : NULL;
		if (!r) {
			status = 503;
		} else if (PQntuples(r) != 1) {
			snprintf(err, errlen, "order-sync has not seen order %s of shop %s", order_id, shop);
			status = 404;
		} else {
			size_t n = 0;
			unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n);
			Erpsync__V1__Order *o = raw ? erpsync__v1__order__unpack(NULL, n, raw) : NULL;
			PQfreemem(raw);
			status = o ? order_complaint_store(db, t, root, shop, order_id, o, out, err, errlen) : 503;
			erpsync__v1__order__free_unpacked(o, NULL);
		}
		PQclear(r);
	}
	json_decref(root);
	return status;
}
