/* erp_rest_map — the REST ERP API's JSON for order-sync, both ways, without I/O (unit-tested):
 * the contract's messages (proto/erpsync/v1) into request bodies, and the ERP's answers into
 * erp.h's shapes. Parsing is strict: a member missing, of the wrong type or too long for its
 * field makes the whole answer malformed (false), since a page read wrong must not move a
 * cursor. */
#ifndef ERPSYNC_ERP_REST_MAP_H
#define ERPSYNC_ERP_REST_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "erp.h"

/* POST /api/v1/customers: the buyer of o (name, company, NIP, e-mail, phone, billing address). */
json_t *erp_rest_map_customer(const Erpsync__V1__Order *o);

/* POST /api/v1/orders. Item lines, then shipping lines, then fee lines (a negative fee is a
 * "discount" line), each with its VAT rate, amounts after discounts and the discount it got;
 * totals are o->totals->total, or the lines' sum when the order has none. NULL with err when o
 * cannot be sent (no currency, out of memory). */
json_t *erp_rest_map_order(const char *external_ref, const char *customer_id, const Erpsync__V1__Order *o, char *err,
			   size_t errlen);

/* POST /api/v1/payments, /returns, /complaints. */
json_t *erp_rest_map_payment(const char *order_id, const char *external_ref, const Erpsync__V1__Payment *p);
json_t *erp_rest_map_return(const char *order_id, const char *external_ref, const Erpsync__V1__Return *r);
json_t *erp_rest_map_complaint(const char *order_id, const char *external_ref, const Erpsync__V1__Return *r);

/* One document (the answer of a create, or an item of a list): id required; number, status,
 * external_ref, created_at and the total (totals.gross_minor, amount_minor or total_minor)
 * when there. */
bool erp_rest_map_doc(json_t *j, struct erp_doc *out, char *err, size_t errlen) __attribute__((warn_unused_result));

/* {"items": [documents], "has_more"?}: returns how many items there are (out gets the first
 * max; *out_all, when out_all is non-NULL, a malloc'ed array of all of them), -1 with err when
 * malformed. */
int erp_rest_map_docs(const char *body, size_t len, struct erp_doc *out, size_t max, struct erp_doc **out_all,
		      bool *has_more, char *err, size_t errlen);

/* A page of GET /api/v1/order-changes or /complaint-changes (complaints: true). */
bool erp_rest_map_changes(const char *body, size_t len, bool complaints, struct erp_change_page *out, char *err,
			  size_t errlen) __attribute__((warn_unused_result));

/* One pushed change (X-ERP-Event order.status_changed / complaint.decided): the body is one item
 * of the feed. out->n is 1 on success; next_cursor is the item's cursor when it has one. */
bool erp_rest_map_pushed_change(const char *body, size_t len, bool complaints, struct erp_change_page *out, char *err,
				size_t errlen) __attribute__((warn_unused_result));

/* The ERP's error body {"error","message"}: the message (else the code, else "HTTP <status>"). */
void erp_rest_map_error(const char *body, size_t len, long status, char *err, size_t errlen);

#endif
