/* The sandbox shop's order store: the modified index through updates and deletes, listings by
 * modification time, refunds as WooCommerce validates them, notes, statuses, and the events. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "unit.h"
#include "woo_order_store.h"

static int64_t test_now = 1000;
static int64_t test_clock(void)
{
	return test_now;
}

static char events[4096];
static void test_listener(void *ud, const char *topic, int64_t id, const char *body, size_t len)
{
	(void)ud;
	(void)body;
	(void)len;
	size_t o = strlen(events);
	snprintf(events + o, sizeof events - o, "%s%s:%lld", o ? " " : "", topic, (long long)id);
}

static const char order_json[] =
	"{\"status\":\"processing\",\"total\":\"123.00\",\"line_items\":[{\"id\":11,\"name\":\"Kubek\",\"quantity\":2,"
	"\"total\":\"100.00\",\"total_tax\":\"23.00\"}],\"shipping_lines\":[{\"id\":12,\"method_id\":\"flat_rate\","
	"\"total\":\"0.00\",\"total_tax\":\"0.00\"}]}";

static struct woo_order_store *store_with_orders(size_t n)
{
	struct woo_order_store *s = woo_order_store_new(test_listener, NULL);
	json_t *body = json_loads(order_json, 0, NULL);
	struct woo_error e;
	events[0] = '\0';
	test_now = 1000;
	woo_order_store_clock(s, test_clock);
	for (size_t i = 0; i < n; i++)
		json_decref(woo_order_store_create(s, body, &e));
	json_decref(body);
	return s;
}

/* The ids of a listing, "5001,5002". */
static void list_ids(struct woo_order_store *s, const struct woo_order_query *q, char *out, size_t len, size_t *total)
{
	struct buf b = BUF_INIT;
	size_t o = 0, i;
	json_t *o_;
	out[0] = '\0';
	EXPECT(woo_order_store_list(s, q, &b, total));
	json_t *arr = json_loads(b.data ? b.data : "", 0, NULL);
	json_array_foreach(arr, i, o_) o += (size_t)snprintf(out + o, len - o, "%s%lld", i ? "," : "",
							     (long long)json_integer_value(json_object_get(o_, "id")));
	json_decref(arr);
	buf_cleanup(&b);
}

static void test_modified_index(void)
{
	struct woo_order_store *s = store_with_orders(3);
	struct woo_error e;
	struct woo_order_query q = { .page = 1, .per_page = 100, .orderby = WOO_ORDERBY_MODIFIED };
	char ids[200];
	size_t total;
	json_t *st = json_pack("{s:s}", "status", "completed");
	test_now = 2000; /* later than every order: the update goes to the end */
	json_decref(woo_order_store_update(s, 5001, st, &e));
	list_ids(s, &q, ids, sizeof ids, &total);
	EXPECT_STR(ids, "5002,5003,5001");
	q.has_modified_after = true;
	q.modified_after_s = 1000; /* exclusive */
	list_ids(s, &q, ids, sizeof ids, &total);
	EXPECT_STR(ids, "5001");
	EXPECT_INT(total, 1);
	q.has_modified_after = false;
	q.has_modified_before = true;
	q.modified_before_s = 2000; /* exclusive */
	list_ids(s, &q, ids, sizeof ids, &total);
	EXPECT_STR(ids, "5002,5003");
	q.has_modified_before = false;
	test_now = 3000;
	json_decref(woo_order_store_update(s, 5002, st, &e));
	json_decref(woo_order_store_update(s, 5002, st, &e)); /* the same status: no change, no event */
	list_ids(s, &q, ids, sizeof ids, &total);
	EXPECT_STR(ids, "5003,5001,5002");
	json_decref(woo_order_store_delete(s, 5001, true, &e));
	list_ids(s, &q, ids, sizeof ids, &total);
	EXPECT_STR(ids, "5003,5002");
	q.descending = true;
	q.per_page = 1;
	q.page = 2;
	list_ids(s, &q, ids, sizeof ids, &total);
	EXPECT_STR(ids, "5003");
	EXPECT_INT(total, 2);
	EXPECT_STR(events, "order.created:5001 order.created:5002 order.created:5003 order.updated:5001 "
			   "order.updated:5002 order.deleted:5001");
	struct buf b = BUF_INIT;
	EXPECT(!woo_order_store_get(s, 5001, &b, &e));
	EXPECT_INT(e.status, 404);
	buf_cleanup(&b);
	json_decref(st);
	woo_order_store_free(s);
}

static void test_status(void)
{
	struct woo_order_store *s = store_with_orders(1);
	struct woo_error e;
	json_t *st = json_pack("{s:s}", "status", "shipped");
	EXPECT(woo_order_store_update(s, 5001, st, &e) == NULL);
	EXPECT_STR(e.code, "rest_invalid_param");
	EXPECT(woo_order_store_status_add(s, "shipped", &e));
	EXPECT(!woo_order_store_status_add(s, "Bad Slug", &e));
	json_t *o = woo_order_store_update(s, 5001, st, &e);
	EXPECT_STR(json_string_value(json_object_get(o, "status")), "shipped");
	json_decref(o);
	json_t *notes = woo_order_store_notes(s, 5001, &e);
	EXPECT_STR(json_string_value(json_object_get(json_array_get(notes, 0), "note")),
		   "Order status changed from Processing to shipped.");
	json_decref(notes);
	EXPECT(woo_order_store_update(s, 4242, st, &e) == NULL);
	EXPECT_INT(e.status, 400);
	json_decref(st);
	woo_order_store_free(s);
}

static void test_refunds(void)
{
	struct woo_order_store *s = store_with_orders(1);
	struct woo_error e;
	json_t *too_much = json_pack("{s:s}", "amount", "123.01");
	EXPECT(woo_order_store_refund_add(s, 5001, too_much, &e) == NULL);
	EXPECT_INT(e.status, 500);
	EXPECT_STR(e.message, "Invalid refund amount.");
	json_t *part = json_loads("{\"reason\":\"broken\",\"line_items\":[{\"id\":11,\"quantity\":1,\"refund_total\":"
				  "\"50.00\",\"refund_tax\":[{\"id\":1,\"refund_total\":\"11.50\"}]},{\"id\":12,"
				  "\"refund_total\":\"0.00\"}]}",
				  0, NULL);
	json_t *r = woo_order_store_refund_add(s, 5001, part, &e);
	EXPECT_STR(json_string_value(json_object_get(r, "amount")), "61.50");
	json_t *item = json_array_get(json_object_get(r, "line_items"), 0);
	EXPECT_INT(json_integer_value(json_object_get(item, "quantity")), -1);
	EXPECT_STR(json_string_value(json_object_get(item, "total")), "-50.00");
	EXPECT_STR(json_string_value(json_object_get(json_array_get(json_object_get(item, "meta_data"), 0), "value")),
		   "11");
	EXPECT_INT(json_array_size(json_object_get(r, "shipping_lines")), 0); /* nothing refunded on it */
	json_decref(r);
	json_t *twice = json_loads("{\"line_items\":[{\"id\":11,\"quantity\":2}]}", 0, NULL);
	EXPECT(woo_order_store_refund_add(s, 5001, twice, &e) == NULL); /* one piece is left */
	EXPECT_INT(e.status, 400);
	json_t *rest = json_pack("{s:s}", "amount", "61.50");
	r = woo_order_store_refund_add(s, 5001, rest, &e);
	EXPECT(r != NULL);
	json_decref(r);
	struct buf b = BUF_INIT;
	EXPECT(woo_order_store_get(s, 5001, &b, &e));
	json_t *o = json_loads(b.data, 0, NULL);
	EXPECT_STR(json_string_value(json_object_get(o, "status")), "refunded");
	EXPECT_INT(json_array_size(json_object_get(o, "refunds")), 2);
	EXPECT_STR(json_string_value(json_object_get(json_array_get(json_object_get(o, "refunds"), 1), "total")),
		   "-61.50");
	json_decref(o);
	buf_cleanup(&b);
	json_decref(too_much);
	json_decref(part);
	json_decref(twice);
	json_decref(rest);
	woo_order_store_free(s);
}

static void test_notes(void)
{
	struct woo_order_store *s = store_with_orders(1);
	struct woo_error e;
	json_t *n1 = json_pack("{s:s,s:b}", "note", "first", "customer_note", 1);
	json_t *n2 = json_pack("{s:s}", "note", "second");
	json_t *empty = json_pack("{}");
	json_decref(woo_order_store_note_add(s, 5001, n1, &e));
	json_decref(woo_order_store_note_add(s, 5001, n2, &e));
	EXPECT(woo_order_store_note_add(s, 5001, empty, &e) == NULL);
	EXPECT_STR(e.code, "rest_missing_callback_param");
	json_t *notes = woo_order_store_notes(s, 5001, &e);
	EXPECT_INT(json_array_size(notes), 2);
	EXPECT_STR(json_string_value(json_object_get(json_array_get(notes, 0), "note")), "second");
	EXPECT(json_is_true(json_object_get(json_array_get(notes, 1), "customer_note")));
	json_decref(notes);
	EXPECT(woo_order_store_notes(s, 9, &e) == NULL);
	EXPECT_INT(e.status, 404);
	json_decref(n1);
	json_decref(n2);
	json_decref(empty);
	woo_order_store_free(s);
}

UNIT_MAIN(test_modified_index, test_status, test_refunds, test_notes)
