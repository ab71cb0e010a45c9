/* stock_apply_decode — a consumed Kafka record into an item of the batch: stock records (copied out
 * into the batch's arena at once), tombstones, order and return events, each checked for what
 * PostgreSQL would refuse; the messages a batch keeps. */
#include "stock_apply.h"
#include "stock_apply_internal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "erpsync/v1/order.pb-c.h"
#include "erpsync/v1/return.pb-c.h"
#include "erpsync/v1/stock.pb-c.h"
#include "kafka.h"
#include "stock_db.h"
#include "stock_event.h"
#include "stock_orders.h"

#define STOCK_APPLY_H_VERSION "version" /* a tombstone's version, when its producer gives one */

void stock_apply_decode_free_event(struct stock_apply_item *it)
{
	if (!it->v.any)
		return;
	if (it->kind == STOCK_KIND_RETURN)
		erpsync__v1__return__free_unpacked(it->v.ret, NULL);
	else
		erpsync__v1__order_event__free_unpacked(it->v.order, NULL);
	it->v.any = NULL;
}

/* Why a stock record cannot be applied, or NULL when it can. */
static const char *stock_apply_invalid(const Erpsync__V1__StockLevel *l)
{
	/* what PostgreSQL would refuse must go to the DLQ here, or it would stall the whole batch */
	if (!l->meta || !stock_event_text_ok(l->meta->event_id, 128))
		return "meta.event_id missing, longer than 128 bytes or not UTF-8";
	if (!stock_event_text_ok(l->sku, 64))
		return "sku missing, longer than 64 bytes or not UTF-8";
	if (!stock_event_text_ok(l->warehouse, 32))
		return "warehouse missing, longer than 32 bytes or not UTF-8";
	if (l->version == 0 || l->version > INT64_MAX)
		return "version missing or out of range";
	if (l->feed_epoch > INT64_MAX)
		return "feed_epoch out of range";
	if (l->on_hand_milli < -STOCK_QTY_MAX_MILLI || l->on_hand_milli > STOCK_QTY_MAX_MILLI ||
	    l->reserved_milli < -STOCK_QTY_MAX_MILLI || l->reserved_milli > STOCK_QTY_MAX_MILLI ||
	    l->available_milli < -STOCK_QTY_MAX_MILLI || l->available_milli > STOCK_QTY_MAX_MILLI)
		return "quantity beyond a billion units";
	return NULL;
}

static bool stock_apply_arena_put(struct buf *arena, const char *s, size_t *at)
{
	*at = arena->len;
	return buf_append(arena, s, strlen(s) + 1);
}

/* Where a stock record is unpacked: what is needed is copied out at once, so its parts live on the
 * stack instead of a malloc and free each (a record of ~200 bytes unpacks into ~10 of them); a part
 * that does not fit goes to the heap. */
struct stock_apply_scratch {
	size_t used;
	_Alignas(max_align_t) unsigned char mem[4096];
};

static void *stock_apply_scratch_alloc(void *data, size_t size)
{
	struct stock_apply_scratch *s = data;
	size_t at = (s->used + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
	if (size <= sizeof s->mem && at <= sizeof s->mem - size) {
		s->used = at + size;
		return s->mem + at;
	}
	return malloc(size);
}

static void stock_apply_scratch_free(void *data, void *p)
{
	struct stock_apply_scratch *s = data;
	uintptr_t at = (uintptr_t)p, lo = (uintptr_t)s->mem;
	if (at < lo || at >= lo + sizeof s->mem)
		free(p);
}

/* Decodes a stock record and copies what is needed out of it. */
static void stock_apply_decode_stock(struct stock_apply_batch *b, struct stock_apply_item *it,
				     const rd_kafka_message_t *m)
{
	struct stock_apply_scratch scratch;
	scratch.used = 0;
	ProtobufCAllocator alloc = { stock_apply_scratch_alloc, stock_apply_scratch_free, &scratch };
	Erpsync__V1__StockLevel *l = erpsync__v1__stock_level__unpack(&alloc, m->len, m->payload);
	it->dead = l ? stock_apply_invalid(l) : "value is not a valid erpsync.v1.StockLevel protobuf";
	if (!it->dead) {
		if (stock_apply_arena_put(&b->arena, l->meta->event_id, &it->id_at) &&
		    stock_apply_arena_put(&b->arena, l->sku, &it->sku_at) &&
		    stock_apply_arena_put(&b->arena, l->warehouse, &it->wh_at)) {
			it->on_hand_milli = l->on_hand_milli;
			it->reserved_milli = l->reserved_milli;
			it->available_milli = l->available_milli;
			it->version = (int64_t)l->version;
			it->feed_epoch = (int64_t)l->feed_epoch;
			it->occurred_at = l->meta->occurred_at;
			it->ok = true;
		} else {
			it->dead = "out of memory decoding the record"; /* not reached in practice */
		}
	}
	erpsync__v1__stock_level__free_unpacked(l, &alloc);
}

/* A tombstone: its key names the SKU+warehouse ("SKU|warehouse", proto/README.md), its event-id
 * header the event (when it has none, the record's place in the topic does, which a redelivery
 * repeats), its version header, when it has one, the version the deletion is (it->version; 0:
 * none). */
static void stock_apply_decode_tombstone(struct stock_apply_batch *b, struct stock_apply_item *it,
					 const rd_kafka_message_t *m)
{
	char key[128], id[160];
	const char *bar = m->key ? memchr(m->key, '|', m->key_len) : NULL;
	size_t skulen = bar ? (size_t)(bar - (const char *)m->key) : 0;
	if (!bar || m->key_len >= sizeof key || !skulen || skulen + 1 == m->key_len ||
	    memchr(m->key, '\0', m->key_len)) {
		it->dead = "tombstone without a SKU|warehouse key";
		return;
	}
	memcpy(key, m->key, m->key_len);
	key[m->key_len] = '\0';
	key[skulen] = '\0';
	const char *wh = key + skulen + 1;
	if (!stock_event_text_ok(key, 64) || !stock_event_text_ok(wh, 32) || strchr(wh, '|')) {
		it->dead = "tombstone key: SKU or warehouse too long, not UTF-8, or more than one |";
		return;
	}
	if (!kafka_header_get(m, "event-id", id, sizeof id) || !stock_event_text_ok(id, 128))
		snprintf(id, sizeof id, "tombstone/%s/%d/%lld", it->topic, (int)m->partition, (long long)m->offset);
	char ver[24], *end;
	if (kafka_header_get(m, STOCK_APPLY_H_VERSION, ver, sizeof ver)) {
		long long v = strtoll(ver, &end, 10);
		if (*end || end == ver || v <= 0) {
			it->dead = "tombstone: version header is not a positive integer";
			return;
		}
		it->version = v;
	}
	rd_kafka_timestamp_type_t tt;
	int64_t ts = rd_kafka_message_timestamp(m, &tt);
	it->occurred_at = ts > 0 ? ts * 1000 : 0;
	if (stock_apply_arena_put(&b->arena, id, &it->id_at) && stock_apply_arena_put(&b->arena, key, &it->sku_at) &&
	    stock_apply_arena_put(&b->arena, wh, &it->wh_at))
		it->ok = true;
	else
		it->dead = "out of memory decoding the record";
}

/* Decodes one message by its topic. */
static void stock_apply_decode(struct stock_apply *a, struct stock_apply_batch *b, struct stock_apply_item *it)
{
	const rd_kafka_message_t *m = it->msg;
	const char *topic = rd_kafka_topic_name(m->rkt);
	if (strcmp(topic, a->topics.stock) == 0) {
		it->kind = m->payload ? STOCK_KIND_STOCK : STOCK_KIND_TOMBSTONE;
		it->topic = a->topics.stock;
		if (m->payload)
			stock_apply_decode_stock(b, it, m);
		else
			stock_apply_decode_tombstone(b, it, m);
		return;
	}
	if (strcmp(topic, a->topics.returns) == 0) {
		it->kind = STOCK_KIND_RETURN;
		it->topic = a->topics.returns;
		it->v.ret = erpsync__v1__return__unpack(NULL, m->len, m->payload);
		it->dead = it->v.ret ? stock_orders_return_invalid(it->v.ret)
				     : "value is not a valid erpsync.v1.Return protobuf";
	} else {
		bool erp = strcmp(topic, a->topics.erp_orders) == 0;
		it->kind = erp ? STOCK_KIND_ERP_ORDER : STOCK_KIND_SHOP_ORDER;
		it->topic = erp ? a->topics.erp_orders : a->topics.shop_orders;
		it->v.order = erpsync__v1__order_event__unpack(NULL, m->len, m->payload);
		it->dead = it->v.order ? stock_orders_invalid(it->v.order)
				       : "value is not a valid erpsync.v1.OrderEvent protobuf";
	}
	it->ok = !it->dead;
	if (it->dead)
		stock_apply_decode_free_event(it);
}

/* The batch keeps the last message of each partition (its offset is stored after the commit):
 * the stock record before it in the same partition is let go, unless the DLQ still needs it. (Order
 * and return events are few; their messages are kept for the DLQ in any case.) */
static void stock_apply_keep_last(struct stock_apply_batch *b, size_t i)
{
	struct stock_apply_item *it = &b->items[i];
	size_t k = 0;
	while (k < b->nlast && !(b->last[k].partition == it->partition && b->last[k].topic == it->topic))
		k++;
	if (k == b->nlast) {
		if (b->nlast == STOCK_APPLY_PARTS_MAX)
			return; /* a great many partitions: keep the messages */
		b->last[b->nlast++] = (struct stock_apply_last){ it->topic, it->partition, i };
		return;
	}
	struct stock_apply_item *prev = &b->items[b->last[k].item];
	if (prev->msg && !prev->dead && prev->kind == STOCK_KIND_STOCK) {
		rd_kafka_message_destroy(prev->msg);
		prev->msg = NULL;
	}
	b->last[k].item = i;
}

/* Takes one message into the batch. An undecodable one stays in the batch with its reason: it
 * goes to the DLQ, and its offset is stored with the others, in order, after the batch. */
void stock_apply_decode_message(struct stock_apply *a, struct stock_apply_batch *b, rd_kafka_message_t *m)
{
	size_t i = b->n++;
	struct stock_apply_item *it = &b->items[i];
	memset(it, 0, sizeof *it);
	it->msg = m;
	it->partition = m->partition;
	it->offset = m->offset;
	stock_apply_decode(a, b, it);
	stock_apply_keep_last(b, i);
	b->built = false;
}

const char *stock_apply_decode_event_id(const struct stock_apply_batch *b, const struct stock_apply_item *it)
{
	switch (it->kind) {
	case STOCK_KIND_STOCK:
	case STOCK_KIND_TOMBSTONE:
		return b->arena.data + it->id_at;
	case STOCK_KIND_RETURN:
		return it->v.ret->meta->event_id;
	default:
		return it->v.order->meta->event_id;
	}
}

/* The stored form of a stock record (its strings in the batch's arena). */
struct stock_row stock_apply_decode_row(const struct stock_apply_batch *b, const struct stock_apply_item *it)
{
	return (struct stock_row){ b->arena.data + it->sku_at,
				   b->arena.data + it->wh_at,
				   it->on_hand_milli,
				   it->reserved_milli,
				   it->available_milli,
				   it->version,
				   it->occurred_at,
				   it->feed_epoch };
}
