/* ordergen — produces one order event (shop.orders.v1 or erp.orders.v1) or one return (returns.v1)
 * as order-sync would, for tests and demos.
 *
 *   ordergen -t topic -s shop -o order-id [-k placed|updated|status|booked|deleted]
 *            [-S pending|on-hold|processing|ready|shipped|completed|cancelled|refunded|failed]
 *            [-l SKU:QTY[,SKU:QTY...]] [-e event-id] [-v version]
 *   ordergen -t topic -s shop -o order-id -R return-id -l SKU:QTY[,...] [-w warehouse] [-r] [-v version]
 *            (a return; -r: the goods were received)
 *   ordergen -t topic -s shop -o order-id -T tracking-number [-U tracking-url] [-d] [-e event-id]
 *            (a shipment of the whole order by InPost; -d: delivered)
 *   ordergen -t topic -s shop -o order-id -I invoice-number [-U pdf-url] [-e event-id]
 *            (an invoice issued for the order)
 * -v: the order's or return's version (default 0: none set).
 * Quantities in units. Brokers from KAFKA_BOOTSTRAP_SERVERS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "erpsync/v1/invoice.pb-c.h"
#include "erpsync/v1/order.pb-c.h"
#include "erpsync/v1/return.pb-c.h"
#include "erpsync/v1/shipment.pb-c.h"
#include "event.h"
#include "kafka.h"
#include "log.h"

#define ORDERGEN_MAX_LINES 64

struct ordergen_line {
	char sku[65];
	long long qty;
};

static const struct {
	const char *name;
	int value;
} ordergen_statuses[] = {
	{ "pending", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_PENDING_PAYMENT },
	{ "on-hold", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_ON_HOLD },
	{ "processing", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_PROCESSING },
	{ "ready", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_READY_TO_SHIP },
	{ "shipped", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_SHIPPED },
	{ "completed", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_COMPLETED },
	{ "cancelled", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_CANCELLED },
	{ "refunded", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_REFUNDED },
	{ "failed", ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_FAILED },
};

static const struct {
	const char *name;
	int value;
} ordergen_kinds[] = {
	{ "placed", ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_PLACED },
	{ "updated", ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_UPDATED },
	{ "status", ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_STATUS_CHANGED },
	{ "booked", ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_BOOKED },
	{ "deleted", ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_DELETED },
};

static int ordergen_lookup(const char *what, const char *s, int def, int n, const char *const *names, const int *values)
{
	if (!s)
		return def;
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return values[i];
	fprintf(stderr, "ordergen: unknown %s \"%s\"\n", what, s);
	exit(2);
}

static size_t ordergen_parse_lines(const char *spec, struct ordergen_line *out)
{
	size_t n = 0;
	for (const char *p = spec; p && *p && n < ORDERGEN_MAX_LINES;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		const char *colon = memchr(p, ':', len);
		if (!colon || colon == p || (size_t)(colon - p) > 64) {
			fprintf(stderr, "ordergen: line \"%.*s\" is not SKU:QTY\n", (int)len, p);
			exit(2);
		}
		snprintf(out[n].sku, sizeof out[n].sku, "%.*s", (int)(colon - p), p);
		out[n].qty = strtoll(colon + 1, NULL, 10);
		n++;
		p = comma ? comma + 1 : NULL;
	}
	return n;
}

/* Packs the value into *buf (malloc'ed); returns its length. */
static size_t ordergen_pack_order(const char *shop, const char *oid, int kind, int status, uint64_t version,
				  const struct ordergen_line *lines, size_t n, Erpsync__V1__EventMeta *meta,
				  uint8_t **buf)
{
	Erpsync__V1__OrderLine ol[ORDERGEN_MAX_LINES], *olp[ORDERGEN_MAX_LINES];
	for (size_t i = 0; i < n; i++) {
		erpsync__v1__order_line__init(&ol[i]);
		ol[i].sku = (char *)lines[i].sku;
		ol[i].quantity_milli = lines[i].qty * 1000;
		olp[i] = &ol[i];
	}
	Erpsync__V1__Order o = ERPSYNC__V1__ORDER__INIT;
	o.shop_id = (char *)shop;
	o.external_id = (char *)oid;
	o.number = (char *)oid;
	o.status = status;
	o.version = version;
	o.n_lines = n;
	o.lines = olp;
	if (kind == ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_BOOKED)
		o.erp_id = (char *)"ERP-1";
	Erpsync__V1__OrderEvent ev = ERPSYNC__V1__ORDER_EVENT__INIT;
	ev.meta = meta;
	ev.kind = kind;
	ev.order = &o;
	size_t len = erpsync__v1__order_event__get_packed_size(&ev);
	*buf = malloc(len + 1);
	return *buf ? erpsync__v1__order_event__pack(&ev, *buf) : 0;
}

static size_t ordergen_pack_return(const char *shop, const char *oid, const char *rid, const char *wh, uint64_t version,
				   int received, const struct ordergen_line *lines, size_t n,
				   Erpsync__V1__EventMeta *meta, uint8_t **buf)
{
	Erpsync__V1__ReturnLine rl[ORDERGEN_MAX_LINES], *rlp[ORDERGEN_MAX_LINES];
	for (size_t i = 0; i < n; i++) {
		erpsync__v1__return_line__init(&rl[i]);
		rl[i].sku = (char *)lines[i].sku;
		rl[i].quantity_milli = lines[i].qty * 1000;
		rl[i].restock = 1;
		rlp[i] = &rl[i];
	}
	Erpsync__V1__Return r = ERPSYNC__V1__RETURN__INIT;
	r.meta = meta;
	r.shop_id = (char *)shop;
	r.order_external_id = (char *)oid;
	r.return_id = (char *)rid;
	r.restock_warehouse = (char *)(wh ? wh : "");
	r.received_at = received ? event_now_us() : 0;
	r.version = version;
	r.n_lines = n;
	r.lines = rlp;
	size_t len = erpsync__v1__return__get_packed_size(&r);
	*buf = malloc(len + 1);
	return *buf ? erpsync__v1__return__pack(&r, *buf) : 0;
}

static size_t ordergen_pack_shipment(const char *shop, const char *oid, const char *tracking, const char *url,
				     int delivered, Erpsync__V1__EventMeta *meta, uint8_t **buf)
{
	char ref[160];
	snprintf(ref, sizeof ref, "%s-%s-1", shop, oid);
	Erpsync__V1__Shipment s = ERPSYNC__V1__SHIPMENT__INIT;
	s.shop_id = (char *)shop;
	s.order_external_id = (char *)oid;
	s.order_number = (char *)oid;
	s.shipment_ref = ref;
	s.carrier = (char *)"inpost";
	s.tracking_number = (char *)tracking;
	s.tracking_url = (char *)(url ? url : "");
	s.status = delivered ? ERPSYNC__V1__SHIPMENT_STATUS__SHIPMENT_STATUS_DELIVERED
			     : ERPSYNC__V1__SHIPMENT_STATUS__SHIPMENT_STATUS_DISPATCHED;
	Erpsync__V1__ShipmentEvent ev = ERPSYNC__V1__SHIPMENT_EVENT__INIT;
	ev.meta = meta;
	ev.kind = ERPSYNC__V1__SHIPMENT_EVENT_KIND__SHIPMENT_EVENT_KIND_STATUS_CHANGED;
	ev.shipment = &s;
	size_t len = erpsync__v1__shipment_event__get_packed_size(&ev);
	*buf = malloc(len + 1);
	return *buf ? erpsync__v1__shipment_event__pack(&ev, *buf) : 0;
}

static size_t ordergen_pack_invoice(const char *shop, const char *oid, const char *number, const char *url,
				    Erpsync__V1__EventMeta *meta, uint8_t **buf)
{
	Erpsync__V1__Invoice inv = ERPSYNC__V1__INVOICE__INIT;
	inv.meta = meta;
	inv.number = (char *)number;
	inv.shop_id = (char *)shop;
	inv.order_external_id = (char *)oid;
	inv.order_number = (char *)oid;
	inv.currency = (char *)"PLN";
	inv.pdf_url = (char *)(url ? url : "");
	inv.version = 1;
	size_t len = erpsync__v1__invoice__get_packed_size(&inv);
	*buf = malloc(len + 1);
	return *buf ? erpsync__v1__invoice__pack(&inv, *buf) : 0;
}

int main(int argc, char **argv)
{
	const char *topic = NULL, *shop = NULL, *oid = NULL, *kind_s = NULL, *status_s = NULL, *lines_s = NULL;
	const char *eid = NULL, *rid = NULL, *wh = NULL, *tracking = NULL, *invoice = NULL, *url = NULL;
	int received = 0, delivered = 0, c;
	unsigned long long version = 0;
	char err[512], id[EVENT_ID_LEN], tp[TRACEPARENT_LEN], key[200];
	while ((c = getopt(argc, argv, "t:s:o:k:S:l:e:R:w:rv:T:I:U:d")) != -1) {
		switch (c) {
		case 't':
			topic = optarg;
			break;
		case 's':
			shop = optarg;
			break;
		case 'o':
			oid = optarg;
			break;
		case 'k':
			kind_s = optarg;
			break;
		case 'S':
			status_s = optarg;
			break;
		case 'l':
			lines_s = optarg;
			break;
		case 'e':
			eid = optarg;
			break;
		case 'R':
			rid = optarg;
			break;
		case 'w':
			wh = optarg;
			break;
		case 'r':
			received = 1;
			break;
		case 'v':
			version = strtoull(optarg, NULL, 10);
			break;
		case 'T':
			tracking = optarg;
			break;
		case 'I':
			invoice = optarg;
			break;
		case 'U':
			url = optarg;
			break;
		case 'd':
			delivered = 1;
			break;
		default:
			return 2;
		}
	}
	if (!topic || !shop || !oid) {
		fprintf(stderr, "usage: ordergen -t topic -s shop -o order-id [-k kind] [-S status] [-l SKU:QTY,...] "
				"[-v version]\n");
		return 2;
	}
	const char *knames[5], *snames[9];
	int kvals[5], svals[9];
	for (int i = 0; i < 5; i++) {
		knames[i] = ordergen_kinds[i].name;
		kvals[i] = ordergen_kinds[i].value;
	}
	for (int i = 0; i < 9; i++) {
		snames[i] = ordergen_statuses[i].name;
		svals[i] = ordergen_statuses[i].value;
	}
	int kind = ordergen_lookup("kind", kind_s, ERPSYNC__V1__ORDER_EVENT_KIND__ORDER_EVENT_KIND_PLACED, 5, knames,
				   kvals);
	int status = ordergen_lookup("status", status_s, ERPSYNC__V1__ORDER_STATUS__ORDER_STATUS_PROCESSING, 9, snames,
				     svals);
	struct ordergen_line lines[ORDERGEN_MAX_LINES];
	size_t n = ordergen_parse_lines(lines_s, lines);
	if (eid)
		snprintf(id, sizeof id, "%s", eid);
	else
		event_id_new(id);
	traceparent_new(tp);
	Erpsync__V1__EventMeta meta = ERPSYNC__V1__EVENT_META__INIT;
	meta.event_id = id;
	meta.occurred_at = event_now_us();
	meta.source_system = (char *)"shop:ordergen";
	meta.traceparent = tp;
	meta.schema_version = 1;
	uint8_t *buf = NULL;
	size_t len = tracking  ? ordergen_pack_shipment(shop, oid, tracking, url, delivered, &meta, &buf)
		     : invoice ? ordergen_pack_invoice(shop, oid, invoice, url, &meta, &buf)
		     : rid     ? ordergen_pack_return(shop, oid, rid, wh, version, received, lines, n, &meta, &buf)
			       : ordergen_pack_order(shop, oid, kind, status, version, lines, n, &meta, &buf);
	snprintf(key, sizeof key, "%s|%s", shop, oid);
	log_init("ordergen", LOG_WARN);
	struct kafka_producer *p = kafka_producer_new("ordergen", err, sizeof err);
	int rc = 1;
	if (p && buf) {
		struct kafka_out m = { .topic = topic,
				       .key = key,
				       .key_len = strlen(key),
				       .value = buf,
				       .value_len = len,
				       .event_id = id,
				       .traceparent = tp,
				       .source_time_us = meta.occurred_at,
				       .message_type = tracking  ? "erpsync.v1.ShipmentEvent"
						       : invoice ? "erpsync.v1.Invoice"
						       : rid     ? "erpsync.v1.Return"
								 : "erpsync.v1.OrderEvent" };
		if (kafka_produce(p, &m, err, sizeof err) && kafka_producer_flush(p, 30000))
			rc = 0;
		else
			fprintf(stderr, "ordergen: not acknowledged: %s\n", err);
	} else {
		fprintf(stderr, "ordergen: %s\n", p ? "out of memory" : err);
	}
	free(buf);
	kafka_producer_free(p);
	return rc;
}
