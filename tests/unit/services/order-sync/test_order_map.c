/* A WooCommerce order as the contract's Order and Payment: lines, unit prices, discounts, VAT,
 * totals, the buyer's NIP (kept and flagged when its checksum is wrong), status words. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "order_map.h"
#include "shop_order.h"
#include "shop_woo_order.h"
#include "unit.h"

#ifndef ORDER_FIXTURE
#define ORDER_FIXTURE "tests/integration/order-sync/order_pl.json"
#endif

static char *fixture(const char *nip)
{
	FILE *f = fopen(ORDER_FIXTURE, "rb");
	if (!f)
		return NULL;
	static char text[16384];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	/* the fixture has no id (the sandbox shop gives one): add it, and the buyer's NIP */
	char *out = malloc(n + 256);
	if (!out)
		return NULL;
	const char *nipkey = strstr(text, "5261040828");
	if (!nipkey) {
		free(out);
		return NULL;
	}
	snprintf(out, n + 256,
		 "{\"id\":727,\"number\":\"727\",\"date_modified_gmt\":\"2024-05-01T10:21:00\","
		 "\"date_created_gmt\":\"2024-05-01T10:20:30\",%.*s%s%s",
		 (int)(nipkey - text - 1), text + 1, nip, nipkey + 10);
	return out;
}

static struct shop_order *parsed(const char *nip)
{
	char *body = fixture(nip);
	struct shop_order *o = NULL;
	char err[512] = "";
	if (body && shop_woo_order_parse(body, strlen(body), NULL, &o, err, sizeof err) != SHOP_ORDER_PARSED)
		printf("  parse: %s\n", err);
	free(body);
	return o;
}

static void test_order_build(void)
{
	struct shop_order *so = parsed("5261040828");
	EXPECT(so != NULL);
	if (!so)
		return;
	struct order_msg m;
	EXPECT(order_map_build(&m, "woo-a", so));
	const Erpsync__V1__Order *o = &m.order;
	EXPECT_STR(o->shop_id, "woo-a");
	EXPECT_STR(o->external_id, "727");
	EXPECT_INT(o->status, ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_PROCESSING);
	EXPECT_STR(o->source_status, "processing");
	EXPECT_STR(o->currency, "PLN");
	EXPECT_INT(o->n_lines, 3);
	if (o->n_lines == 3) {
		/* 2 x KUB-001: subtotal 100.00 net -> 50.00 a unit, net basis; 10.00 + 2.30 discount */
		EXPECT_STR(o->lines[0]->sku, "KUB-001");
		EXPECT_INT(o->lines[0]->quantity_milli, 2000);
		EXPECT_INT(o->lines[0]->unit_price->amount_minor, 5000);
		EXPECT_INT(o->lines[0]->price_basis, ERPSYNC__V1__PRICE_BASIS__PRICE_BASIS_NET);
		EXPECT_INT(o->lines[0]->vat_rate->rate_bp, 2300);
		EXPECT_INT(o->lines[0]->discount->net_minor, 1000);
		EXPECT_INT(o->lines[0]->discount->tax_minor, 230);
		EXPECT_INT(o->lines[0]->total->gross_minor, 9000 + 2070);
		EXPECT_INT(o->lines[1]->vat_rate->rate_bp, 500);
		EXPECT_INT(o->lines[2]->vat_rate->rate_bp, 800);
		/* 3 x 10.00 net: 10.00 a unit */
		EXPECT_INT(o->lines[2]->unit_price->amount_minor, 1000);
	}
	EXPECT_INT(o->n_shipping_lines, 1);
	EXPECT_STR(o->pickup_point, "KRA010M");
	EXPECT_STR(o->shipping_method, "easypack_parcel_machines");
	EXPECT_INT(o->n_fee_lines, 1);
	EXPECT_INT(o->n_coupons, 1);
	/* the lines, shipping and fees add up to the shop's total to the grosz */
	EXPECT_INT(o->totals->total->gross_minor, 19971);
	EXPECT_INT(o->totals->total->tax_minor, 2880);
	EXPECT_INT(o->totals->items->gross_minor + o->totals->shipping->gross_minor + o->totals->fees->gross_minor,
		   19971);
	EXPECT(o->customer && o->customer->tax_id);
	if (o->customer && o->customer->tax_id) {
		EXPECT_STR(o->customer->tax_id->value, "5261040828");
		EXPECT(!o->customer->tax_id->checksum_invalid);
	}
	EXPECT(o->invoice_requested);
	EXPECT_INT(o->payment_method_kind, ERPSYNC__V1__PAYMENT_METHOD_KIND__PAYMENT_METHOD_KIND_ONLINE_TRANSFER);
	EXPECT_INT(o->payment_status, ERPSYNC__V1__PAYMENT_STATUS__PAYMENT_STATUS_PAID);
	EXPECT(o->billing && o->shipping);
	if (o->billing)
		EXPECT_STR(o->billing->name, "Anna Nowak");

	/* what it packs to comes back the same */
	size_t len = erpsync__v1__order__get_packed_size(o);
	uint8_t *buf = malloc(len);
	if (buf) {
		erpsync__v1__order__pack(o, buf);
		Erpsync__V1__Order *back = erpsync__v1__order__unpack(NULL, len, buf);
		EXPECT(back && back->n_lines == 3 && back->totals->total->gross_minor == 19971);
		erpsync__v1__order__free_unpacked(back, NULL);
		free(buf);
	}

	Erpsync__V1__Payment p;
	Erpsync__V1__Money amount, refunded;
	EXPECT(order_map_payment(&m, o, so->transaction_id, 1000, &p, &amount, &refunded));
	EXPECT_STR(p.payment_id, "P24-991-22");
	EXPECT_INT(p.amount->amount_minor, 19971);
	EXPECT_INT(p.refunded->amount_minor, 1000);
	order_msg_cleanup(&m);
	shop_order_free(so);
}

static void test_order_nip_flagged(void)
{
	struct shop_order *so = parsed("5261040829");
	EXPECT(so != NULL);
	if (!so)
		return;
	struct order_msg m;
	EXPECT(order_map_build(&m, "woo-a", so));
	EXPECT(m.order.customer && m.order.customer->tax_id && m.order.customer->tax_id->checksum_invalid);
	if (m.order.customer && m.order.customer->tax_id)
		EXPECT_STR(m.order.customer->tax_id->value, "5261040829");
	order_msg_cleanup(&m);
	shop_order_free(so);
}

static void test_order_status_words(void)
{
	EXPECT_INT(order_map_status("wc-on-hold"), ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_ON_HOLD);
	EXPECT_INT(order_map_status("cancelled"), ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_CANCELLED);
	EXPECT_INT(order_map_status("made-up"), ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_UNSPECIFIED);
	EXPECT_INT(order_map_erp_status("ready_to_ship"), ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_READY_TO_SHIP);
	EXPECT_INT(order_map_erp_status("confirmed"), ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_PROCESSING);
	EXPECT_INT(order_map_payment_kind("cod"),
		   ERPSYNC__V1__PAYMENT_METHOD_KIND__PAYMENT_METHOD_KIND_CASH_ON_DELIVERY);
	EXPECT_INT(order_map_payment_kind("bacs"), ERPSYNC__V1__PAYMENT_METHOD_KIND__PAYMENT_METHOD_KIND_BANK_TRANSFER);
	char ref[64];
	order_map_ref(ref, sizeof ref, "woo-a", "727");
	EXPECT_STR(ref, "woo-a|727");
}

UNIT_MAIN(test_order_build, test_order_nip_flagged, test_order_status_words)
