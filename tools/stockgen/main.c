/* stockgen — produces erp.stock.v1 records for tests and benchmarks, as an ERP publishing its own
 * outbox would: protobuf StockLevel values with event-id, traceparent and source-time headers.
 *
 *   stockgen [-t topic] [-n count] [-s skus] [-w warehouse] [-q base] [-v version-base]
 *            [-r rate/s] [-e event-id-prefix] [-g] [-d]
 * -g: malformed values, for the DLQ. -d: each record is preceded by a tombstone of its key (no value,
 * event id "<id>-del"), as an ERP that deletes a SKU+warehouse and creates it again publishes them,
 * back to back. Quantity of record i = base + i / skus (so later records of a SKU carry higher
 * quantities and versions). Brokers from KAFKA_BOOTSTRAP_SERVERS (and any KAFKA_* property). Exit 0 when every
 * record was acknowledged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "erpsync/v1/stock.pb-c.h"
#include "event.h"
#include "kafka.h"
#include "log.h"

struct stockgen_opts {
	const char *topic;
	long count, skus, base, version_base, rate;
	const char *warehouse;
	const char *id_prefix;
	int garbage;
	int delete_first;
};

static long stockgen_num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < 0) {
		fprintf(stderr, "stockgen: bad number \"%s\"\n", s);
		exit(2);
	}
	return v;
}

static size_t stockgen_pack(const struct stockgen_opts *o, long i, char *id, uint8_t *out, size_t cap, char *key,
			    size_t keylen)
{
	long sku = i % o->skus;
	char skubuf[32];
	snprintf(skubuf, sizeof skubuf, "SKU-%06ld", sku + 1);
	snprintf(key, keylen, "%s|%s", skubuf, o->warehouse);
	if (o->garbage) {
		snprintf((char *)out, cap, "not a protobuf %ld", i);
		return strlen((char *)out);
	}
	Erpsync__V1__EventMeta meta = ERPSYNC__V1__EVENT_META__INIT;
	meta.event_id = id;
	meta.occurred_at = event_now_us();
	meta.source_system = (char *)"erp:stockgen";
	meta.schema_version = 1;
	Erpsync__V1__StockLevel l = ERPSYNC__V1__STOCK_LEVEL__INIT;
	l.meta = &meta;
	l.sku = skubuf;
	l.warehouse = (char *)o->warehouse;
	long qty = o->base + i / o->skus;
	l.on_hand_milli = qty * 1000;
	l.available_milli = qty * 1000;
	l.version = (uint64_t)(o->version_base + i / o->skus + 1);
	size_t len = erpsync__v1__stock_level__get_packed_size(&l);
	if (len > cap)
		return 0;
	return erpsync__v1__stock_level__pack(&l, out);
}

int main(int argc, char **argv)
{
	struct stockgen_opts o = { "erp.stock.v1", 1, 1, 10, 0, 0, "WH-MAIN", NULL, 0, 0 };
	int c;
	char err[512];
	while ((c = getopt(argc, argv, "t:n:s:w:q:v:r:e:gd")) != -1) {
		switch (c) {
		case 't':
			o.topic = optarg;
			break;
		case 'n':
			o.count = stockgen_num(optarg);
			break;
		case 's':
			o.skus = stockgen_num(optarg);
			break;
		case 'w':
			o.warehouse = optarg;
			break;
		case 'q':
			o.base = stockgen_num(optarg);
			break;
		case 'v':
			o.version_base = stockgen_num(optarg);
			break;
		case 'r':
			o.rate = stockgen_num(optarg);
			break;
		case 'e':
			o.id_prefix = optarg;
			break;
		case 'g':
			o.garbage = 1;
			break;
		case 'd':
			o.delete_first = 1;
			break;
		default:
			fprintf(stderr, "usage: stockgen [-t topic] [-n count] [-s skus] [-w warehouse] [-q base] "
					"[-v version-base] [-r rate] [-e id-prefix] [-g] [-d]\n");
			return 2;
		}
	}
	if (o.skus < 1)
		o.skus = 1;
	log_init("stockgen", LOG_WARN);
	struct kafka_producer *p = kafka_producer_new("stockgen", err, sizeof err);
	if (!p) {
		fprintf(stderr, "stockgen: %s\n", err);
		return 1;
	}
	int64_t start = event_monotonic_us();
	int rc = 0;
	for (long i = 0; i < o.count; i++) {
		char id[EVENT_ID_LEN + 64], key[96];
		uint8_t val[512];
		if (o.id_prefix)
			snprintf(id, sizeof id, "%s-%ld", o.id_prefix, i);
		else
			event_id_new(id);
		size_t len = stockgen_pack(&o, i, id, val, sizeof val, key, sizeof key);
		if (o.delete_first) {
			char del[sizeof id + 8];
			snprintf(del, sizeof del, "%s-del", id);
			struct kafka_out t = { .topic = o.topic,
					       .key = key,
					       .key_len = strlen(key),
					       .event_id = del,
					       .source_time_us = event_now_us() };
			if (!kafka_produce(p, &t, err, sizeof err)) {
				fprintf(stderr, "stockgen: %s\n", err);
				rc = 1;
				break;
			}
		}
		struct kafka_out m = { .topic = o.topic,
				       .key = key,
				       .key_len = strlen(key),
				       .value = val,
				       .value_len = len,
				       .event_id = id,
				       .source_time_us = event_now_us(),
				       .message_type = "erpsync.v1.StockLevel" };
		if (!kafka_produce(p, &m, err, sizeof err)) {
			fprintf(stderr, "stockgen: %s\n", err);
			rc = 1;
			break;
		}
		if (o.rate) {
			int64_t due = start + (int64_t)((double)(i + 1) * 1e6 / (double)o.rate);
			int64_t now = event_monotonic_us();
			kafka_producer_poll(p, 0);
			if (due > now)
				usleep((useconds_t)(due - now));
		}
	}
	if (!kafka_producer_flush(p, 30000)) {
		fprintf(stderr, "stockgen: not every record was acknowledged\n");
		rc = 1;
	}
	kafka_producer_free(p);
	return rc;
}
