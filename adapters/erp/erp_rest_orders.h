/* erp_rest_orders — order-sync's side of the REST ERP API (sandbox/erp/README.md, "Orders"):
 * customers found by NIP, else by e-mail, else created; orders, payments, returns and complaint
 * cases created once per external reference; the order status and complaint decision feeds read
 * after a cursor; orders listed by creation time.
 *
 * A create is one HTTP attempt (erp_rest_conn.once): a timeout or a lost answer may hide a
 * document the ERP did create, and a blind repeat would book it twice. It comes back ERP_FAILED,
 * and the caller looks the reference up before trying again (payments, returns and complaints do
 * that lookup themselves, first). Reads and cancels, which are safe to repeat, keep the client's
 * retries. */
#ifndef ERPSYNC_ERP_REST_ORDERS_H
#define ERPSYNC_ERP_REST_ORDERS_H

#include "erp.h"

struct http_client;

/* What erp_rest shares with its order half; owned by the struct erp it belongs to. */
struct erp_rest_conn {
	char *base_url;           /* without a trailing '/' */
	char *auth_header;        /* "Bearer <token>" (secret) */
	struct http_client *http; /* reads and repeatable writes: the client's retry policy */
	struct http_client *once; /* creates: one attempt, same budget */
};

/* The connection of an erp made by erp_rest_new. */
struct erp_rest_conn *erp_rest_conn(struct erp *erp);

extern const struct erp_order_ops erp_rest_orders;

#endif
