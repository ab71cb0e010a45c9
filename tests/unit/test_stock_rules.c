/* Pure logic of stock-sync: the sellable rule, which order statuses hold stock, the webhook
 * signature check, the order of the shop's batch calls. */
#include <limits.h>
#include <string.h>

#include "log.h"
#include "shop.h"
#include "shop_config.h"
#include "stock_http.h"
#include "stock_orders.h"
#include "stock_writer.h"
#include "unit.h"

static void test_sellable_rule(void)
{
	EXPECT_INT(stock_writer_sellable(40000, 4000, 2), 34);   /* 40 - 4 - 2 */
	EXPECT_INT(stock_writer_sellable(3000, 0, 5), 0);        /* below the buffer: 0, never negative */
	EXPECT_INT(stock_writer_sellable(-2000, 0, 0), 0);       /* the ERP oversold */
	EXPECT_INT(stock_writer_sellable(10000, 12000, 0), 0);   /* reservations beyond stock */
	EXPECT_INT(stock_writer_sellable(2500, 0, 0), 2);        /* fractions round down */
	EXPECT_INT(stock_writer_sellable(2999, 999, 1), 1);
}

/* The sums behind the rule come from PostgreSQL as numeric and are read saturated at the ends of
 * int64: the difference must not overflow (a huge reservation total means nothing to sell, a huge
 * stock means as much as can be said). */
static void test_sellable_saturates(void)
{
	EXPECT_INT(stock_writer_sellable(-1000, LLONG_MAX, 0), 0);
	EXPECT_INT(stock_writer_sellable(LLONG_MIN, 1, 0), 0);
	EXPECT_INT(stock_writer_sellable(LLONG_MAX, LLONG_MIN, 0), LLONG_MAX / 1000);
	EXPECT_INT(stock_writer_sellable(1000, LLONG_MIN, 2), LLONG_MAX / 1000 - 2);
	EXPECT_INT(stock_writer_sellable(LLONG_MAX, 0, LLONG_MAX), 0);
}

static void test_holding_statuses(void)
{
	EXPECT(stock_orders_status_holds(ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_PENDING_PAYMENT));
	EXPECT(stock_orders_status_holds(ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_PROCESSING));
	EXPECT(stock_orders_status_holds(ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_ON_HOLD));
	EXPECT(!stock_orders_status_holds(ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_CANCELLED));
	EXPECT(!stock_orders_status_holds(ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_COMPLETED));
	EXPECT(!stock_orders_status_holds(ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_FAILED));
	EXPECT(!stock_orders_status_holds((Erpsync__V1__OrderStatus)99));
}

static void test_order_validation(void)
{
	Erpsync__V1__EventMeta meta = ERPSYNC__V1__EVENT_META__INIT;
	Erpsync__V1__Order o = ERPSYNC__V1__ORDER__INIT;
	Erpsync__V1__OrderEvent ev = ERPSYNC__V1__ORDER_EVENT__INIT;
	EXPECT(stock_orders_invalid(&ev) != NULL);        /* no meta */
	meta.event_id = (char *)"e1";
	ev.meta = &meta;
	EXPECT(stock_orders_invalid(&ev) != NULL);        /* no order */
	ev.order = &o;
	EXPECT(stock_orders_invalid(&ev) != NULL);        /* no ids */
	o.shop_id = (char *)"woo-a";
	o.external_id = (char *)"1";
	EXPECT(stock_orders_invalid(&ev) == NULL);
	Erpsync__V1__OrderLine l = ERPSYNC__V1__ORDER_LINE__INIT, *lp = &l;
	l.quantity_milli = -1;
	o.lines = &lp;
	o.n_lines = 1;
	EXPECT(stock_orders_invalid(&ev) != NULL);        /* negative quantity */
}

static void test_webhook_signature(void)
{
	/* printf 1700000000.body | openssl dgst -sha256 -hmac key */
	const char *good = "47b6ce0fca59474308e2921c247cb2493dce6b8101d90ac05bd0c6a37d0e046e";
	const char *ts = "1700000000";
	EXPECT(stock_http_signature_ok("key", ts, "body", 4, good));
	EXPECT(!stock_http_signature_ok("key", ts, "Body", 4, good));        /* another body */
	EXPECT(!stock_http_signature_ok("key", "1700000001", "body", 4, good)); /* another time */
	EXPECT(!stock_http_signature_ok("key", NULL, "body", 4, good));      /* no time */
	EXPECT(!stock_http_signature_ok("other", ts, "body", 4, good));      /* another key */
	EXPECT(!stock_http_signature_ok("key", ts, "body", 4, "47b6ce0f"));  /* truncated */
	EXPECT(!stock_http_signature_ok("key", ts, "body", 4, NULL));
	EXPECT(!stock_http_signature_ok("", ts, "body", 4, good));
	EXPECT(!stock_http_signature_ok("key", ts, "body", 4,
					"zzb6ce0fca59474308e2921c247cb2493dce6b8101d90ac05bd0c6a37d0e046e"));
}

static void test_webhook_timestamp(void)
{
	long long now = 1700000000000LL, tol = 300000;
	EXPECT(stock_http_timestamp_ok("1700000000", now, tol));
	EXPECT(stock_http_timestamp_ok("1700000300", now, tol));    /* at the edge, either side */
	EXPECT(stock_http_timestamp_ok("1699999700", now, tol));
	EXPECT(!stock_http_timestamp_ok("1700000301", now, tol));
	EXPECT(!stock_http_timestamp_ok("1699999699", now, tol));   /* a replay from 5 min ago */
	EXPECT(!stock_http_timestamp_ok("", now, tol));
	EXPECT(!stock_http_timestamp_ok(NULL, now, tol));
	EXPECT(!stock_http_timestamp_ok("-1700000000", now, tol));
	EXPECT(!stock_http_timestamp_ok("1700000000.5", now, tol));
	EXPECT(!stock_http_timestamp_ok("99999999999999999999", now, tol));   /* no overflow */
	EXPECT(!stock_http_timestamp_ok("1700000000000", now, tol));          /* milliseconds */
}

/* Writes are given oldest first: each call keeps that order, and the call with the oldest write
 * goes first, whichever endpoint it is for. */
static void test_woo_call_plan(void)
{
	static const struct shop_stock_write w[] = {
		{ "V7-A", 71, 7, 1 }, { "P-1", 1, 0, 1 }, { "V3-A", 31, 3, 1 }, { "P-2", 2, 0, 1 },
		{ "P-3", 3, 0, 1 }, { "V7-B", 72, 7, 1 }, { "V3-B", 32, 3, 1 }, { "P-4", 4, 0, 1 },
	};
	static const size_t want[][2] = { { 0, 5 }, { 1, 3 }, { 2, 6 }, { 4, 7 } };
	size_t idx[8];
	struct shop_woo_call calls[8];
	size_t n = shop_woo_plan(w, 8, 2, idx, calls);
	EXPECT_INT(n, 4);
	for (size_t c = 0; c < n && c < 4; c++) {
		EXPECT_INT(calls[c].end - calls[c].start, 2);
		EXPECT_INT(idx[calls[c].start], want[c][0]);
		EXPECT_INT(idx[calls[c].start + 1], want[c][1]);
		EXPECT_INT(w[idx[calls[c].start]].parent_id, w[idx[calls[c].start + 1]].parent_id);
	}
	/* at most 100 a call; one parent's writes never mixed with another's */
	struct shop_stock_write many[250];
	size_t midx[250];
	struct shop_woo_call mcalls[250];
	for (size_t i = 0; i < 250; i++)
		many[i] = (struct shop_stock_write){ "S", (int64_t)i + 1, i == 120 ? 9 : 0, 1 };
	n = shop_woo_plan(many, 250, 100, midx, mcalls);
	EXPECT_INT(n, 4);   /* 249 products in 100 + 100 + 49, the variation alone */
	size_t total = 0;
	for (size_t c = 0; c < n && c < 4; c++) {
		EXPECT(mcalls[c].end - mcalls[c].start <= 100);
		total += mcalls[c].end - mcalls[c].start;
	}
	EXPECT_INT(total, 250);
	EXPECT_INT(midx[mcalls[0].start], 0);
	EXPECT_INT(midx[mcalls[1].start], 100);
	EXPECT_INT(midx[mcalls[2].start], 120);     /* the variation's call: its write is older than 101's */
	EXPECT_INT(mcalls[2].end - mcalls[2].start, 1);
	EXPECT_INT(n ? shop_woo_plan(many, 0, 100, midx, mcalls) : 1, 0);
}

/* A shop whose listing never ends (it ignores the page and always answers a full one) must not
 * keep a loop asking for the next page for ever: past the bound the adapter refuses the page,
 * before any call. */
static void test_woo_listing_bounded(void)
{
	struct shop_woo_opts o = { .shop_id = "bounded", .base_url = "http://127.0.0.1:9",
				   .consumer_key = "ck", .consumer_secret = "cs", .batch_max = 100 };
	struct shop *s = shop_woo_new(&o);
	struct shop_item *items = NULL;
	size_t n = 7;
	bool more = true;
	char err[256] = "";
	EXPECT(s != NULL);
	if (!s)
		return;
	EXPECT(!s->ops->list_items(s, SHOP_LIST_PAGES_MAX + 1, &items, &n, &more, err, sizeof err));
	EXPECT(items == NULL && n == 0 && !more);
	EXPECT(strstr(err, "pages") != NULL);
	shop_free(s);
}

/* Basic auth sends the shop's key and secret with every call: over plain http to another machine
 * they can be read on the way (a warning at start-up). */
static void test_cleartext_remote(void)
{
	EXPECT(shop_config_cleartext_remote("http://shop.example.com"));
	EXPECT(shop_config_cleartext_remote("HTTP://192.0.2.10:8080/shop"));
	EXPECT(shop_config_cleartext_remote("http://127.0.0.1.evil.example/"));
	EXPECT(shop_config_cleartext_remote("http://user@10.0.0.1/"));
	EXPECT(shop_config_cleartext_remote("http://[2001:db8::1]:80/"));
	EXPECT(!shop_config_cleartext_remote("https://shop.example.com"));
	EXPECT(!shop_config_cleartext_remote("http://127.0.0.1:19181"));
	EXPECT(!shop_config_cleartext_remote("http://127.10.0.3/"));
	EXPECT(!shop_config_cleartext_remote("http://localhost:8080/wp"));
	EXPECT(!shop_config_cleartext_remote("http://[::1]:8080"));
	EXPECT(!shop_config_cleartext_remote(NULL));
}

UNIT_MAIN(test_sellable_rule, test_sellable_saturates, test_cleartext_remote, test_woo_listing_bounded,
	  test_holding_statuses, test_order_validation, test_webhook_signature, test_webhook_timestamp,
	  test_woo_call_plan)
