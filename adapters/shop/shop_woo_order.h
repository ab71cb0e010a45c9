/* shop_woo_order — a WooCommerce REST v3 order (GET /wp-json/wc/v3/orders/<id>, and the body of
 * the order.created/updated webhooks, which is the same resource) read into the generic
 * struct shop_order. Pure: no I/O, no shop connection; any thread.
 *
 * Read: id, number, status, currency, prices_include_tax, the dates (*_gmt), the money strings
 * (total, total_tax, discount_total, discount_tax), customer_id, customer_note, billing and
 * shipping, payment_method(_title), transaction_id, line_items, tax_lines, shipping_lines,
 * fee_lines, coupon_lines, refunds and meta_data. Everything else is ignored.
 *
 * The VAT rate of a line (items, shipping, fees): from its taxes[] through tax_lines' rate_id ->
 * rate_percent, when the order has them; otherwise from its tax class through the shop's mapping,
 * then the Polish defaults ("" 23 %, "reduced-rate" 8 %, "super-reduced-rate" 5 %, "zero-rate"
 * 0 %). A shipping line has no tax class of its own: it takes opts->shipping_tax_class; a fee the
 * shop does not tax (tax_status "none") is at 0 %, as it was charged. A line taxed at two
 * different rates, or whose class nobody maps, refuses the order. */
#ifndef ERPSYNC_SHOP_WOO_ORDER_H
#define ERPSYNC_SHOP_WOO_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shop_order.h"

/* A body larger than this is not read (1,000 lines with their meta data stay far below). */
#define SHOP_WOO_ORDER_BODY_MAX ((size_t)8 << 20) /* bytes */
/* meta_data entries read on the order and on one shipping line (plugins add many). */
#define SHOP_WOO_ORDER_META_MAX 1000
/* taxes[] of one line, and tax_lines of the order. */
#define SHOP_WOO_ORDER_TAXES_MAX 100

/* One of the shop's tax classes and its VAT rate. */
struct shop_woo_tax_class {
	const char *tax_class; /* WooCommerce's slug: "reduced-rate"; "" = standard */
	uint32_t rate_bp;      /* basis points of percent: 800 = 8 % */
};

/* Per-shop settings; the struct, or any field, left zero/NULL takes the default. */
struct shop_woo_order_opts {
	const char *nip_meta_key;    /* order meta_data key of the buyer's NIP; NULL = "_billing_nip" */
	const char *locker_meta_key; /* shipping line meta_data key of the locker; NULL = "_paczkomat_id" */
	/* Looked up before the Polish defaults; a class listed here overrides its default. */
	const struct shop_woo_tax_class *tax_classes;
	size_t n_tax_classes;
	const char *shipping_tax_class; /* the class shipping is taxed in; NULL = "" (standard) */
};

/* Parses body[0..len) (need not be NUL-terminated). o may be NULL (every default). On
 * SHOP_ORDER_PARSED *out is a new order the caller frees with shop_order_free; otherwise *out is
 * NULL and err says why: SHOP_ORDER_FAILED when memory ran out, SHOP_ORDER_MALFORMED when the body is not JSON, repeats a key or is
 * larger than SHOP_WOO_ORDER_BODY_MAX; SHOP_ORDER_REFUSED when it is JSON but not an order (err
 * names what is missing: "not an order: missing id, currency, line_items"), or an order erpsync
 * cannot take (err names the field: "line_items[3].total: "1.234" is not an amount").
 * The totals are not checked here: shop_order_check_totals. */
enum shop_order_parsed shop_woo_order_parse(const char *body, size_t len, const struct shop_woo_order_opts *o,
					    struct shop_order **out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* A WooCommerce *_gmt date, "2024-05-01T10:20:30" (a trailing "Z" allowed), into unix micros UTC;
 * false for anything else (a year before 1970, a day the month lacks). */
bool shop_woo_order_time(const char *s, int64_t *us) __attribute__((warn_unused_result));

#endif
