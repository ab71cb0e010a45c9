/* order_map — a shop order (adapters/shop/shop_order.h) as the contract's messages: the Order of
 * shop.orders.v1 and the Payment of payments.v1; the shop's status words and erpsync's. Pure: no
 * I/O. */
#ifndef ORDER_MAP_H
#define ORDER_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "erpsync/v1/order.pb-c.h"
#include "erpsync/v1/payment.pb-c.h"

struct shop_order;

/* An Order built from a shop order; its strings point into the shop order (which must outlive it)
 * or into storage of its own. order_msg_cleanup frees what it allocated. */
struct order_msg {
	Erpsync__V1__Order order;
	void **owned; /* every allocation, freed by order_msg_cleanup */
	size_t nowned, capowned;
};

/* Builds m->order (shop_id: erpsync's id of the shop). false when memory ran out. */
bool order_map_build(struct order_msg *m, const char *shop_id, const struct shop_order *so)
	__attribute__((warn_unused_result));
void order_msg_cleanup(struct order_msg *m);

/* The Payment of payments.v1 the order's payment state makes, or false when the order says
 * nothing of a payment yet (not paid, no transaction). */
bool order_map_payment(struct order_msg *m, const Erpsync__V1__Order *o, const char *transaction_id,
		       int64_t refunded_minor, Erpsync__V1__Payment *out, Erpsync__V1__Money *amount,
		       Erpsync__V1__Money *refunded);

/* A WooCommerce-style status slug as erpsync's status; unknown slugs are UNSPECIFIED. */
Erpsync__V1__OrderStatus order_map_status(const char *slug);
/* An ERP's status word (confirmed, ready_to_ship, shipped, completed, cancelled) as erpsync's. */
Erpsync__V1__OrderStatus order_map_erp_status(const char *word);
const char *order_map_status_name(Erpsync__V1__OrderStatus s); /* "processing", ... */
Erpsync__V1__PaymentMethodKind order_map_payment_kind(const char *gateway);

/* "<shop>|<id>": the Kafka key and the ERP's external reference of an order. */
int order_map_ref(char *out, size_t len, const char *shop_id, const char *external_id);

#endif
