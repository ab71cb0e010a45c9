/* Pure logic of stock-sync: the sellable rule, which order statuses hold stock, the webhook
 * signature check, the order of the shop's batch calls. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "log.h"
#include "stock_orders.h"
#include "stock_writer.h"
#include "unit.h"

static void test_sellable_rule(void)
{
	EXPECT_INT(stock_writer_sellable(40000, 4000, 2), 34); /* 40 - 4 - 2 */
	EXPECT_INT(stock_writer_sellable(3000, 0, 5), 0);      /* below the buffer: 0, never negative */
	EXPECT_INT(stock_writer_sellable(-2000, 0, 0), 0);     /* the ERP oversold */
	EXPECT_INT(stock_writer_sellable(10000, 12000, 0), 0); /* reservations beyond stock */
	EXPECT_INT(stock_writer_sellable(2500, 0, 0), 2);      /* fractions round down */
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
	EXPECT(stock_orders_invalid(&ev) != NULL); /* no meta */
	meta.event_id = (char *)"e1";
	ev.meta = &meta;
	EXPECT(stock_orders_invalid(&ev) != NULL); /* no order */
	ev.order = &o;
	EXPECT(stock_orders_invalid(&ev) != NULL); /* no ids */
	o.shop_id = (char *)"woo-a";
	o.external_id = (char *)"1";
	EXPECT(stock_orders_invalid(&ev) == NULL);
	Erpsync__V1__OrderLine l = ERPSYNC__V1__ORDER_LINE__INIT, *lp = &l;
	l.quantity_milli = -1;
	o.lines = &lp;
	o.n_lines = 1;
	EXPECT(stock_orders_invalid(&ev) != NULL); /* negative quantity */
	o.n_lines = 0;
	o.version = INT64_MAX; /* the whole of bigint */
	EXPECT(stock_orders_invalid(&ev) == NULL);
	o.version = (uint64_t)INT64_MAX + 1;
	EXPECT(stock_orders_invalid(&ev) != NULL && strstr(stock_orders_invalid(&ev), "version"));

	Erpsync__V1__Return r = ERPSYNC__V1__RETURN__INIT;
	r.meta = &meta;
	r.shop_id = (char *)"woo-a";
	r.return_id = (char *)"R1";
	r.version = INT64_MAX;
	EXPECT(stock_orders_return_invalid(&r) == NULL);
	r.version = UINT64_MAX;
	EXPECT(stock_orders_return_invalid(&r) != NULL && strstr(stock_orders_return_invalid(&r), "version"));
}

UNIT_MAIN(test_sellable_rule, test_sellable_saturates, test_holding_statuses, test_order_validation)
