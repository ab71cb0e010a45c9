#include "stock_event.h"

#include <stdio.h>

#include "erp.h"
#include "erpsync/v1/stock.pb-c.h"
#include "event.h"
#include "pg.h"

bool stock_event_text_ok(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	if (!s || !*s)
		return false;
	while (*p) {
		int extra = *p < 0x80             ? 0
			    : (*p & 0xe0) == 0xc0 ? 1
			    : (*p & 0xf0) == 0xe0 ? 2
			    : (*p & 0xf8) == 0xf0 ? 3
						  : -1;
		if (extra < 0 || (extra == 1 && *p < 0xc2))
			return false;
		for (int i = 1; i <= extra; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += extra + 1;
		n += (size_t)extra + 1;
		if (n > max)
			return false;
	}
	return true;
}

void stock_event_meta(Erpsync__V1__EventMeta *meta, struct stock_event_ids *ids, const char *parent,
		      int64_t occurred_at, const char *source_system, Erpsync__V1__EventOrigin origin)
{
	event_id_new(ids->id);
	traceparent_child(parent, ids->traceparent);
	erpsync__v1__event_meta__init(meta);
	meta->event_id = ids->id;
	meta->occurred_at = occurred_at;
	meta->source_system = (char *)source_system;
	meta->producer = (char *)"stock-sync";
	meta->traceparent = ids->traceparent;
	meta->schema_version = 2; /* proto/README.md: StockLevel.feed_epoch */
	meta->origin = origin;
}

bool stock_event_queue(struct pg *db, const char *topic, const struct erp_stock_item *it, int64_t feed_epoch,
		       Erpsync__V1__EventOrigin origin, char *err, size_t errlen)
{
	char key[ERP_SKU_MAX + ERP_WAREHOUSE_MAX + 2];
	uint8_t val[512];
	struct stock_event_ids ids;
	Erpsync__V1__EventMeta meta;
	stock_event_meta(&meta, &ids, NULL, it->changed_at_us, "erp:rest", origin);
	Erpsync__V1__StockLevel l = ERPSYNC__V1__STOCK_LEVEL__INIT;
	l.meta = &meta;
	l.sku = (char *)it->sku;
	l.warehouse = (char *)it->warehouse;
	l.on_hand_milli = it->on_hand * 1000;
	l.reserved_milli = it->reserved * 1000;
	l.available_milli = it->available * 1000;
	l.version = (uint64_t)it->version;
	l.feed_epoch = (uint64_t)feed_epoch;
	size_t len = erpsync__v1__stock_level__get_packed_size(&l);
	if (len > sizeof val) {
		snprintf(err, errlen, "record for %s is too large", it->sku);
		return false;
	}
	erpsync__v1__stock_level__pack(&l, val);
	int klen = snprintf(key, sizeof key, "%s|%s", it->sku, it->warehouse);
	struct outbox_msg m = { .topic = topic,
				.key = key,
				.key_len = (size_t)klen,
				.value = val,
				.value_len = len,
				.event_id = ids.id,
				.traceparent = ids.traceparent,
				.source_time_us = it->changed_at_us,
				.message_type = "erpsync.v1.StockLevel" };
	return pg_outbox_add(db, &m, err, errlen);
}
