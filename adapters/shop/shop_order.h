/* shop_order — an order as erpsync takes it from any shop platform, before it becomes an
 * OrderEvent (proto/erpsync/v1/order.proto): lines, shipping, fees, coupons, refunds, addresses,
 * payment, the buyer's NIP and parcel locker, and the shop's totals. A platform's parser fills it
 * (shop_woo_order.h); the service checks it (shop_order_check_totals) and maps it to the message.
 *
 * Money is integer minor units (grosze for PLN) from the first byte read, never a float: the
 * decimal strings of the shop are parsed by shop_money_parse. Figures are as the shop computed them;
 * net and tax are kept apart (proto Amounts: gross = net + tax).
 *
 * Every string of a parsed order is malloc'ed, NUL-terminated UTF-8 as the shop sent it, and ""
 * (never NULL) when the shop sent none. shop_order_free releases the order and all it holds. */
#ifndef ERPSYNC_SHOP_ORDER_H
#define ERPSYNC_SHOP_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most of each thing one order may hold; a parser refuses an order past any of them (a real
 * order is far below: they stop a hostile or broken body from taking the service's memory). */
#define SHOP_ORDER_LINES_MAX    1000
#define SHOP_ORDER_SHIPPING_MAX 50
#define SHOP_ORDER_FEES_MAX     100
#define SHOP_ORDER_COUPONS_MAX  100
#define SHOP_ORDER_REFUNDS_MAX  1000
#define SHOP_ORDER_TEXT_MAX     1024  /* bytes of a name, address field, title, id, reason */
#define SHOP_ORDER_NOTE_MAX     16384 /* bytes of the customer's note */

#define SHOP_NIP_LEN 10 /* digits of a Polish NIP */

/* Net and tax of the same thing, in the order's currency; the gross is their sum. */
struct shop_amounts {
	int64_t net_minor;
	int64_t tax_minor;
};

struct shop_address {
	char *first_name;
	char *last_name;
	char *company;
	char *line1; /* "ul. Długa 5/3" */
	char *line2;
	char *postal_code; /* as written: "30-001" */
	char *city;
	char *region;
	char *country_code; /* ISO 3166-1 alpha-2 as the shop sent it */
	char *email;
	char *phone;
};

struct shop_order_line {
	char *line_id;                /* the shop's id of the line */
	char *sku;                    /* "" when the product has none (stock-sync alerts on it) */
	char *name;                   /* product name as sold */
	char *product_id;             /* the variation's id when a variation was sold, else the product's */
	char *tax_class;              /* the shop's tax class; "" = standard */
	int64_t quantity_milli;       /* thousandths of the unit: 2 pieces = 2000 */
	struct shop_amounts subtotal; /* before discounts */
	struct shop_amounts total;    /* after discounts: authoritative */
	uint32_t vat_rate_bp;         /* basis points of percent: 2300 = 23 % */
};

struct shop_order_shipping {
	char *line_id;
	char *method_id; /* "flat_rate", "easypack_parcel_machines" */
	char *title;     /* as shown: "Paczkomat InPost" */
	struct shop_amounts total;
	uint32_t vat_rate_bp;
};

/* Any other charge: payment surcharge, COD fee, packaging; may be negative (a shop-side discount). */
struct shop_order_fee {
	char *line_id;
	char *name;
	char *tax_class;
	struct shop_amounts total;
	uint32_t vat_rate_bp;
};

struct shop_order_coupon {
	char *code;                   /* lower-cased (ASCII) */
	struct shop_amounts discount; /* what it took off, positive */
};

struct shop_order_refund {
	char *refund_id;
	char *reason;
	int64_t amount_minor; /* gross, positive */
};

/* The shop's own figures for the whole order, which the lines must add up to. */
struct shop_order_totals {
	struct shop_amounts discount; /* every discount, positive, already taken off the lines' totals */
	int64_t tax_minor;            /* every tax of the order: lines, shipping, fees */
	int64_t total_minor;          /* gross: what the customer pays */
};

struct shop_order {
	char *external_id;       /* the order's id in the shop, as decimal text */
	char *number;            /* the number the customer sees */
	char *status;            /* raw, as the shop names it: "processing" */
	char *currency;          /* ISO 4217, upper case; every amount of the order is in it */
	bool prices_include_tax; /* the shop's prices were entered gross */
	char *customer_id;       /* "" for a guest checkout */
	int64_t created_at_us;   /* unix micros UTC; 0 when the shop did not say */
	int64_t updated_at_us;   /* unix micros UTC; 0 when the shop did not say */
	int64_t paid_at_us;      /* unix micros UTC; 0 = not paid */
	struct shop_address billing;
	struct shop_address shipping;
	char *payment_method; /* the shop's gateway id: "przelewy24", "cod" */
	char *payment_method_title;
	char *transaction_id; /* the gateway's id of the payment; "" when none */
	char *customer_note;
	/* The buyer's NIP: 10 digits when the shop's value has them (dashes, spaces and a "PL" prefix
	 * taken off), else the value as sent; "" = a consumer. buyer_nip_invalid: the value is not a
	 * Polish NIP with a right checksum (the order is taken; a person looks before an invoice). */
	char *buyer_nip;
	bool buyer_nip_invalid;
	char *pickup_point; /* parcel locker id: "KRA010M"; "" for door delivery */

	struct shop_order_line *lines;
	size_t n_lines;
	struct shop_order_shipping *shipping_lines;
	size_t n_shipping_lines;
	struct shop_order_fee *fee_lines;
	size_t n_fee_lines;
	struct shop_order_coupon *coupons;
	size_t n_coupons;
	struct shop_order_refund *refunds;
	size_t n_refunds;
	struct shop_order_totals totals;
};

/* What a platform's parser made of a body (the shape of enum shop_lookup). */
enum shop_order_parsed {
	SHOP_ORDER_FAILED = -2,    /* out of memory: nothing is known of the body; answer 503, ask again */
	SHOP_ORDER_MALFORMED = -1, /* not JSON, or too large to read: a webhook answers 400 */
	SHOP_ORDER_REFUSED = 0,    /* well-formed, but not an order erpsync can take (err says what is
				    * missing or wrong): a webhook answers 422 */
	SHOP_ORDER_PARSED = 1,
};

void shop_order_free(struct shop_order *o); /* NULL-safe; also frees a partly filled order */

/* "123.45", "-0.5", "10" (a currency of 2 minor digits) into *minor (12345, -50, 1000). Refused
 * (false, *minor untouched): an empty string, a sign alone, a leading "+" or blank, an exponent,
 * a second point, a point without digits on both sides, a third decimal that is not 0, any other
 * byte, and |value| above INT64_MAX minor units. No floating point is involved. */
bool shop_money_parse(const char *s, int64_t *minor) __attribute__((warn_unused_result));

/* The minor digits of an ISO 4217 currency: 0 (JPY, HUF is 2), 3 (KWD, BHD, ...), 4 (CLF) for the
 * few that differ, else 2; -1 when code is not three upper-case letters. */
int shop_currency_minor_digits(const char *code) __attribute__((warn_unused_result));

/* A Polish NIP out of what a buyer typed: an optional "PL" (any case), then 10 digits with any
 * dashes and spaces. Writes the 10 digits and a NUL into out; false when there are not exactly
 * 10 digits (out is then ""). The checksum is not looked at. */
bool shop_nip_normalize(const char *s, char out[SHOP_NIP_LEN + 1]) __attribute__((warn_unused_result));
/* shop_nip_normalize, and the checksum: the weights 6,5,7,2,3,4,5,6,7 on the first nine digits,
 * mod 11, equal to the tenth (a remainder of 10 is never valid); 0000000000 is not a NIP. NULL:
 * false. */
bool shop_nip_valid(const char *s);

/* Whether the order adds up to the grosz: lines before discounts + shipping + fees - discounts
 * (gross) is the shop's total; the taxes of lines, shipping and fees are its total tax; what the
 * lines lost between subtotal and total is its discount. false, with every mismatch in err naming
 * the shop's figure and the computed one ("total 199.72 PLN != 199.71 PLN computed (lines
 * 197.30 + shipping 15.99 + fees 6.15 - discounts 19.73)"), or when a sum would overflow. */
bool shop_order_check_totals(const struct shop_order *o, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
