#include "order_event.h"

#include <stdio.h>
#include <stdlib.h>

#include "order_map.h"
#include "pg.h"

void order_event_meta(Erpsync__V1__EventMeta *meta, struct order_event_ids *ids, const char *parent,
		      int64_t occurred_at, const char *source_system, Erpsync__V1__EventOrigin origin,
		      const char *causation_id)
{
	event_id_new(ids->id);
	traceparent_child(parent, ids->traceparent);
	erpsync__v1__event_meta__init(meta);
	meta->event_id = ids->id;
	meta->occurred_at = occurred_at > 0 ? occurred_at : event_now_us();
	meta->source_system = (char *)source_system;
	meta->producer = (char *)"order-sync";
	meta->traceparent = ids->traceparent;
	meta->schema_version = 3; /* proto/README.md: TaxId.checksum_invalid, complaints on Return */
	meta->origin = origin;
	meta->causation_id = (char *)(causation_id ? causation_id : "");
}

static bool order_event_queue(struct pg *db, const char *topic, const char *shop_id, const char *external_id,
			      const Erpsync__V1__EventMeta *meta, const ProtobufCMessage *msg, const char *type,
			      char *err, size_t errlen)
{
	char key[512];
	int klen = order_map_ref(key, sizeof key, shop_id, external_id);
	if (klen < 0 || (size_t)klen >= sizeof key) {
		snprintf(err, errlen, "key of order %s|%s too long", shop_id, external_id);
		return false;
	}
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *val = malloc(len ? len : 1);
	if (!val) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	protobuf_c_message_pack(msg, val);
	const struct outbox_msg m = { .topic = topic,
				      .key = key,
				      .key_len = (size_t)klen,
				      .value = val,
				      .value_len = len,
				      .event_id = meta->event_id,
				      .traceparent = meta->traceparent,
				      .source_time_us = meta->occurred_at,
				      .message_type = type };
	bool ok = pg_outbox_add(db, &m, err, errlen);
	free(val);
	return ok;
}

bool order_event_queue_order(struct pg *db, const char *topic, const Erpsync__V1__OrderEvent *ev, char *err,
			     size_t errlen)
{
	return order_event_queue(db, topic, ev->order->shop_id, ev->order->external_id, ev->meta, &ev->base,
				 "erpsync.v1.OrderEvent", err, errlen);
}

bool order_event_queue_payment(struct pg *db, const char *topic, const Erpsync__V1__Payment *p, char *err,
			       size_t errlen)
{
	return order_event_queue(db, topic, p->shop_id, p->order_external_id, p->meta, &p->base, "erpsync.v1.Payment",
				 err, errlen);
}

bool order_event_queue_return(struct pg *db, const char *topic, const Erpsync__V1__Return *r, char *err, size_t errlen)
{
	return order_event_queue(db, topic, r->shop_id, r->order_external_id, r->meta, &r->base, "erpsync.v1.Return",
				 err, errlen);
}
