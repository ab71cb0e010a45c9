#include "stock_db.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "pg.h"
#include "pg_array.h"
#include "shop_config.h"
#include "shutdown.h"

bool stock_db_feed_get(struct pg *db, const char *source, struct stock_feed_pos *out, char *err, size_t errlen)
{
	const char *p[] = { source };
	memset(out, 0, sizeof *out);
	PGresult *r = pg_query(db, "SELECT cursor, feed_id, feed_epoch FROM erp_cursor WHERE source = $1", 1, p, err,
			       errlen);
	if (!r)
		return false;
	if (PQntuples(r)) {
		snprintf(out->cursor, sizeof out->cursor, "%s", PQgetvalue(r, 0, 0));
		snprintf(out->feed_id, sizeof out->feed_id, "%s", PQgetvalue(r, 0, 1));
		out->epoch = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
	}
	PQclear(r);
	return true;
}

bool stock_db_feed_set(struct pg *db, const char *source, const struct stock_feed_pos *pos, char *err, size_t errlen)
{
	char epoch[24];
	snprintf(epoch, sizeof epoch, "%lld", (long long)pos->epoch);
	const char *p[] = { source, pos->cursor, pos->feed_id, epoch };
	PGresult *r = pg_query(
		db,
		"INSERT INTO erp_cursor (source, cursor, feed_id, feed_epoch) VALUES ($1, $2, $3, $4)"
		" ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor, feed_id = excluded.feed_id,"
		" feed_epoch = excluded.feed_epoch, updated_at = now()",
		4, p, err, errlen);
	PQclear(r);
	return r != NULL;
}

/* ---- claim and store: the apply transaction ----
 *
 * These statements carry every consumed record, so they are shaped by measurement (make bench,
 * docs/benchmarks.md):
 *  - duplicates inside a batch are removed in C before anything is sent: one inbox row per event
 *    id, one stock row per SKU+warehouse (its newest version), one dirty mark per shop and SKU;
 *  - the inbox takes a plain INSERT, not INSERT .. ON CONFLICT DO NOTHING, whose speculative
 *    insertion costs about twice as much per row. Where ids may have been applied before, an index
 *    probe leaves those out first (stock_db_claim, and a batch after a redelivery); a batch of
 *    stock records goes without it (stock_db_batch_*). The exactly-once rule rests on the
 *    primary key either way: an id applied before, or claimed at the same moment by another
 *    instance (a rebalance hands a partition over, and the insert waits for the other's
 *    transaction), fails the statement with a unique violation and nothing is applied; the batch
 *    goes again with the probe, which then finds the id. The probe is a scalar subquery on
 *    purpose: as NOT EXISTS the planner may turn it into a hash anti-join reading the whole inbox;
 *  - stock rows are sent sorted, so every lane locks them in one order and lanes cannot deadlock
 *    one another;
 *  - the dirty marks are appended to shop_mark, which nothing else locks: the lanes never wait
 *    for the writer (stock_db_fold). */

#define STOCK_DB_CONSUMER "stock-sync"
#define STOCK_DB_CHANNEL  "stock_sync_dirty"
/* The payload of a dirty-mark notification: "<source> <mark>", the source time of the oldest change
 * marked (0 when unknown) and when the marks were made, by the server's clock (unix us). */
#define STOCK_DB_NOW_US "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text"

static const char stock_db_claim_sql[] =
	"INSERT INTO inbox (consumer, event_id, topic, partition, \"offset\")"
	" SELECT '" STOCK_DB_CONSUMER "', e, t, p, o"
	" FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) AS x(e, t, p, o)"
	" WHERE (SELECT true FROM inbox i WHERE i.consumer = '" STOCK_DB_CONSUMER "' AND i.event_id = x.e"
	"  AND i.topic = x.t) IS NULL"
	" RETURNING event_id, topic";

/* $5..$11 and $14 the stock rows, $12/$13 which shop sells from which warehouse. A row is newer
 * by its feed epoch first, then by its version (stock_feed.h). */
#define STOCK_DB_STORE_CTES                                                                                          \
	" up AS (INSERT INTO stock AS s (sku, warehouse, on_hand_milli, reserved_milli, available_milli,"            \
	"  version, source_us, feed_epoch) SELECT * FROM unnest($5::text[], $6::text[], $7::bigint[], $8::bigint[]," \
	"  $9::bigint[], $10::bigint[], $11::bigint[], $14::bigint[]) ON CONFLICT (sku, warehouse) DO UPDATE SET"    \
	"  on_hand_milli = excluded.on_hand_milli, reserved_milli = excluded.reserved_milli,"                        \
	"  available_milli = excluded.available_milli, version = excluded.version,"                                  \
	"  source_us = excluded.source_us, feed_epoch = excluded.feed_epoch, updated_at = now()"                     \
	"  WHERE (s.feed_epoch, s.version) < (excluded.feed_epoch, excluded.version)"                                \
	"  RETURNING s.sku, s.warehouse, s.source_us),"                                                              \
	" m AS (SELECT * FROM unnest($12::text[], $13::text[]) AS m(shop, wh)),"                                     \
	" d AS (INSERT INTO shop_mark (shop, sku, source_us) SELECT m.shop, up.sku, min(up.source_us)"               \
	"  FROM up JOIN m ON m.wh = up.warehouse GROUP BY m.shop, up.sku RETURNING 1)"

/* The store alone, inside the caller's transaction. $1..$4 (the claim's) are not used but every
 * parameter sent needs a type. */
static const char stock_db_store_sql[] =
	"WITH x AS (SELECT $1::text[], $2::text[], $3::int[], $4::bigint[])," STOCK_DB_STORE_CTES
	" SELECT count(*) FROM d";

/* A whole batch of stock records in one statement, which is its own transaction: claim, store,
 * mark, and (when something was marked) wake the writer at commit.
 *
 * Redelivered events are rare (a restart, a rebalance, a producer's retry), so the claim first
 * goes without the probe: a plain insert of every id, about half the work, and nothing to return
 * but the count. An id applied before makes that statement fail with a unique violation, having
 * changed nothing; the batch then goes again with the probe, answering the new ids (then one row
 * with no id), and so do the batches of the next while (a redelivery comes as a run). */
#define STOCK_DB_NOTIFY_IF_MARKED                                                                                   \
	"SELECT count(pg_notify('" STOCK_DB_CHANNEL "', (SELECT min(source_us) FROM up) || ' ' || " STOCK_DB_NOW_US \
	"))"                                                                                                        \
	" FROM (SELECT FROM d LIMIT 1) z"

#define STOCK_DB_BATCH_CLAIM                                                    \
	" INSERT INTO inbox (consumer, event_id, topic, partition, \"offset\")" \
	" SELECT '" STOCK_DB_CONSUMER "', e, t, p, o"                           \
	" FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) AS x(e, t, p, o)"
#define STOCK_DB_BATCH_PROBE                                                                                \
	"WITH fresh AS (" STOCK_DB_BATCH_CLAIM                                                              \
	"  WHERE (SELECT true FROM inbox i WHERE i.consumer = '" STOCK_DB_CONSUMER "' AND i.event_id = x.e" \
	"   AND i.topic = x.t) IS NULL"                                                                     \
	"  RETURNING event_id, topic)," STOCK_DB_STORE_CTES " SELECT event_id, topic FROM fresh UNION ALL"

/* Each variant with and without the wake-up: of the lanes of one batch only one wakes the writer.
 * A notifying transaction holds a database-wide lock from its NOTIFY to the end of its commit (the
 * WAL flush included), so three notifying lanes committed one after the other (sampled wait events
 * of a catch-up: "Lock object" among the lanes' most frequent). The others' marks are folded
 * with the first's, or at the latest a window later. */
static const char *const stock_db_batch_sql[2][2] = {
	{ "WITH" STOCK_DB_STORE_CTES STOCK_DB_BATCH_CLAIM,
	  "WITH" STOCK_DB_STORE_CTES ", n AS (" STOCK_DB_NOTIFY_IF_MARKED ")" STOCK_DB_BATCH_CLAIM ", n" },
	{ STOCK_DB_BATCH_PROBE " SELECT NULL, NULL",
	  STOCK_DB_BATCH_PROBE " SELECT NULL, NULL FROM (" STOCK_DB_NOTIFY_IF_MARKED ") n" },
};

#define STOCK_DB_PROBE_BATCHES 20 /* batches claimed with the probe after a redelivery */

enum {
	STOCK_DB_P_ID,
	STOCK_DB_P_TOPIC,
	STOCK_DB_P_PART,
	STOCK_DB_P_OFF,
	STOCK_DB_P_SKU,
	STOCK_DB_P_WH,
	STOCK_DB_P_OH,
	STOCK_DB_P_RS,
	STOCK_DB_P_AV,
	STOCK_DB_P_VER,
	STOCK_DB_P_SRC,
	STOCK_DB_P_MSHOP,
	STOCK_DB_P_MWH,
	STOCK_DB_P_EPOCH,
	STOCK_DB_NPARAMS
};

struct stock_db_batch {
	struct pg_array a[STOCK_DB_NPARAMS];
	const char *p[STOCK_DB_NPARAMS];
	struct stock_claim *claims; /* not owned: the caller's, until stock_db_batch_finish */
	size_t nclaims;
	size_t *idx; /* claims by event id */
	size_t cap;
	bool sent;
	bool probed;      /* sent with the probe */
	bool notify;      /* wakes the writer */
	char sqlstate[6]; /* of the last failure */
};

/* Batches left to claim with the probe (apply thread only). */
static unsigned stock_db_probe_left;

struct stock_db_batch *stock_db_batch_new(void)
{
	struct stock_db_batch *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	for (int k = 0; k < STOCK_DB_NPARAMS; k++)
		pg_array_init(&b->a[k]);
	return b;
}

void stock_db_batch_free(struct stock_db_batch *b)
{
	if (!b)
		return;
	for (int k = 0; k < STOCK_DB_NPARAMS; k++)
		pg_array_cleanup(&b->a[k]);
	free(b->idx);
	free(b);
}

static void stock_db_batch_reset(struct stock_db_batch *b)
{
	for (int k = 0; k < STOCK_DB_NPARAMS; k++) {
		buf_reset(&b->a[k].b);
		b->a[k].any = false;
	}
	b->claims = NULL;
	b->nclaims = 0;
	b->sent = false;
	b->sqlstate[0] = '\0';
}

/* An event is its topic and id (the inbox's key): by id, topic, then position. */
static int stock_db_event_cmp(const char *id1, const char *topic1, const char *id2, const char *topic2)
{
	int r = strcmp(id1, id2);
	return r ? r : strcmp(topic1, topic2);
}

static bool stock_db_same_event(const struct stock_claim *x, const struct stock_claim *y)
{
	return stock_db_event_cmp(x->event_id, x->topic, y->event_id, y->topic) == 0;
}

static int stock_db_claim_cmp(const void *pa, const void *pb, void *arg)
{
	const struct stock_claim *c = arg;
	size_t x = *(const size_t *)pa, y = *(const size_t *)pb;
	int r = stock_db_event_cmp(c[x].event_id, c[x].topic, c[y].event_id, c[y].topic);
	return r ? r : (x > y) - (x < y);
}

/* By SKU, warehouse, the newest first (feed epoch, then version), then position. */
static int stock_db_row_cmp(const void *pa, const void *pb, void *arg)
{
	const struct stock_row *rows = arg;
	size_t i = *(const size_t *)pa, j = *(const size_t *)pb;
	const struct stock_row *x = &rows[i], *y = &rows[j];
	int r = strcmp(x->sku, y->sku);
	if (!r)
		r = strcmp(x->warehouse, y->warehouse);
	if (!r)
		r = (x->feed_epoch < y->feed_epoch) - (x->feed_epoch > y->feed_epoch);
	if (!r)
		r = (x->version < y->version) - (x->version > y->version);
	return r ? r : (i > j) - (i < j);
}

static bool stock_db_batch_reserve(struct stock_db_batch *b, size_t n)
{
	if (n <= b->cap)
		return true;
	size_t *idx = realloc(b->idx, n * sizeof *idx);
	if (!idx)
		return false;
	b->idx = idx;
	b->cap = n;
	return true;
}

static void stock_db_sort(size_t *idx, size_t n, int (*cmp)(const void *, const void *, void *), void *rows)
{
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof *idx, cmp, rows);
}

/* The claim parameters: each event (topic and id) once (its first occurrence), sorted. Leaves b->idx holding
 * the claims in id order. */
static bool stock_db_batch_claims(struct stock_db_batch *b, struct stock_claim *c, size_t n)
{
	b->claims = c;
	b->nclaims = n;
	for (size_t i = 0; i < n; i++)
		c[i].is_new = false;
	if (!stock_db_batch_reserve(b, n))
		return false;
	stock_db_sort(b->idx, n, stock_db_claim_cmp, c);
	for (size_t k = 0; k < n; k++) {
		const struct stock_claim *x = &c[b->idx[k]];
		if (k && stock_db_same_event(x, &c[b->idx[k - 1]]))
			continue;
		if (!pg_array_text(&b->a[STOCK_DB_P_ID], x->event_id) ||
		    !pg_array_text(&b->a[STOCK_DB_P_TOPIC], x->topic) ||
		    !pg_array_int(&b->a[STOCK_DB_P_PART], x->partition) ||
		    !pg_array_int(&b->a[STOCK_DB_P_OFF], x->offset))
			return false;
	}
	return true;
}

/* The store parameters: the newest row of each SKU+warehouse (the first of equal ones),
 * sorted; and which shop sells from which warehouse. */
static bool stock_db_batch_rows(struct stock_db_batch *b, const struct stock_row *rows, size_t n,
				const struct shop_config *shops, size_t nshops)
{
	size_t *idx = malloc((n ? n : 1) * sizeof *idx);
	bool ok = idx != NULL;
	if (ok)
		stock_db_sort(idx, n, stock_db_row_cmp, (void *)rows);
	for (size_t k = 0; ok && k < n; k++) {
		const struct stock_row *x = &rows[idx[k]];
		if (k && strcmp(x->sku, rows[idx[k - 1]].sku) == 0 &&
		    strcmp(x->warehouse, rows[idx[k - 1]].warehouse) == 0)
			continue; /* an older (or equal) row of the same SKU+warehouse */
		ok = pg_array_text(&b->a[STOCK_DB_P_SKU], x->sku) &&
		     pg_array_text(&b->a[STOCK_DB_P_WH], x->warehouse) &&
		     pg_array_int(&b->a[STOCK_DB_P_OH], x->on_hand_milli) &&
		     pg_array_int(&b->a[STOCK_DB_P_RS], x->reserved_milli) &&
		     pg_array_int(&b->a[STOCK_DB_P_AV], x->available_milli) &&
		     pg_array_int(&b->a[STOCK_DB_P_VER], x->version) &&
		     pg_array_int(&b->a[STOCK_DB_P_SRC], x->source_us) &&
		     pg_array_int(&b->a[STOCK_DB_P_EPOCH], x->feed_epoch);
	}
	free(idx);
	for (size_t s = 0; ok && s < nshops; s++)
		for (size_t w = 0; ok && w < shops[s].nwarehouses; w++)
			ok = pg_array_text(&b->a[STOCK_DB_P_MSHOP], shops[s].id) &&
			     pg_array_text(&b->a[STOCK_DB_P_MWH], shops[s].warehouses[w]);
	return ok;
}

static bool stock_db_batch_params(struct stock_db_batch *b)
{
	for (int k = 0; k < STOCK_DB_NPARAMS; k++)
		if (!(b->p[k] = pg_array_get(&b->a[k])))
			return false;
	return true;
}

/* An event the statement inserted: pointers into its result. */
struct stock_db_fresh {
	const char *event_id, *topic;
};

static int stock_db_fresh_cmp(const void *a, const void *b)
{
	const struct stock_db_fresh *x = a, *y = b;
	return stock_db_event_cmp(x->event_id, x->topic, y->event_id, y->topic);
}

/* Sets is_new from the events the statement inserted (event id and topic, the first two columns
 * of r; rows with a NULL id skipped). */
static bool stock_db_batch_fresh(struct stock_db_batch *b, PGresult *r)
{
	size_t nr = (size_t)PQntuples(r), nf = 0;
	struct stock_db_fresh *fresh = malloc((nr ? nr : 1) * sizeof *fresh);
	if (!fresh)
		return false;
	for (size_t i = 0; i < nr; i++)
		if (!PQgetisnull(r, (int)i, 0))
			fresh[nf++] = (struct stock_db_fresh){ PQgetvalue(r, (int)i, 0), PQgetvalue(r, (int)i, 1) };
	qsort(fresh, nf, sizeof *fresh, stock_db_fresh_cmp);
	struct stock_claim *c = b->claims;
	for (size_t k = 0; k < b->nclaims; k++) {
		struct stock_claim *x = &c[b->idx[k]];
		if (k && stock_db_same_event(x, &c[b->idx[k - 1]]))
			continue; /* the same event again in this batch: not new */
		struct stock_db_fresh key = { x->event_id, x->topic };
		x->is_new = bsearch(&key, fresh, nf, sizeof *fresh, stock_db_fresh_cmp) != NULL;
	}
	free(fresh);
	return true;
}

static void stock_db_batch_all_new(struct stock_db_batch *b)
{
	struct stock_claim *c = b->claims;
	for (size_t k = 0; k < b->nclaims; k++)
		c[b->idx[k]].is_new = !k || !stock_db_same_event(&c[b->idx[k]], &c[b->idx[k - 1]]);
}

bool stock_db_claim(struct pg *db, struct stock_claim *rows, size_t n, char *err, size_t errlen)
{
	err[0] = '\0';
	struct stock_db_batch *b = stock_db_batch_new();
	PGresult *r = NULL;
	bool ok = false;
	if (!b || !stock_db_batch_claims(b, rows, n) || !stock_db_batch_params(b))
		goto out;
	if (!n) {
		ok = true;
		goto out;
	}
	r = pg_query(db, stock_db_claim_sql, 4, b->p, err, errlen);
	ok = r && stock_db_batch_fresh(b, r);
out:
	if (!ok && !*err)
		snprintf(err, errlen, "out of memory");
	PQclear(r);
	stock_db_batch_free(b);
	return ok;
}

bool stock_db_store(struct pg *db, const struct stock_row *rows, size_t n, const struct shop_config *shops,
		    size_t nshops, char *err, size_t errlen)
{
	err[0] = '\0';
	if (!n)
		return true;
	struct stock_db_batch *b = stock_db_batch_new();
	bool ok = b && stock_db_batch_rows(b, rows, n, shops, nshops) && stock_db_batch_params(b);
	if (ok) {
		PGresult *r = pg_query(db, stock_db_store_sql, STOCK_DB_NPARAMS, b->p, err, errlen);
		ok = r != NULL;
		PQclear(r);
	}
	if (!ok && !*err)
		snprintf(err, errlen, "out of memory");
	stock_db_batch_free(b);
	return ok;
}

bool stock_db_batch_build(struct stock_db_batch *b, struct stock_claim *c, size_t n, const struct stock_row *rows,
			  size_t nrows, const struct shop_config *shops, size_t nshops, bool notify)
{
	stock_db_batch_reset(b);
	b->notify = notify;
	return stock_db_batch_claims(b, c, n) && stock_db_batch_rows(b, rows, nrows, shops, nshops) &&
	       stock_db_batch_params(b);
}

static bool stock_db_batch_post(struct pg *db, struct stock_db_batch *b, bool probe, char *err, size_t errlen)
{
	PGconn *conn = pg_conn(db);
	if (!PQsendQueryParams(conn, stock_db_batch_sql[probe][b->notify], STOCK_DB_NPARAMS, NULL, b->p, NULL, NULL,
			       0)) {
		snprintf(err, errlen, "%.*s", (int)strcspn(PQerrorMessage(conn), "\n"), PQerrorMessage(conn));
		return false;
	}
	b->sent = true;
	b->probed = probe;
	/* the connection does not block: what did not fit the socket's buffer goes now (bounded) */
	return pg_flush(db, err, errlen);
}

bool stock_db_batch_send(struct pg *db, struct stock_db_batch *b, char *err, size_t errlen)
{
	err[0] = '\0';
	if (pg_in_transaction(db)) {
		snprintf(err, errlen, "stock_db_batch_send: inside a transaction");
		return false;
	}
	if (!pg_ensure(db, err, errlen))
		return false;
	bool probe = stock_db_probe_left > 0;
	if (probe)
		stock_db_probe_left--;
	return stock_db_batch_post(db, b, probe, err, errlen);
}

bool stock_db_batch_busy(struct pg *db)
{
	PGconn *conn = pg_conn(db);
	/* a broken connection is not busy: stock_db_batch_finish then reports it */
	return PQconsumeInput(conn) && PQisBusy(conn);
}

bool stock_db_batch_finish(struct pg *db, struct stock_db_batch *b, char *err, size_t errlen)
{
	err[0] = '\0';
	if (!b->sent) {
		snprintf(err, errlen, "stock_db_batch_finish: nothing sent");
		return false;
	}
	b->sent = false;
	/* every result is read (so the connection is free), without waiting longer than pg allows */
	PGresult *last = pg_finish(db, err, errlen);
	const char *state = last ? PQresultErrorField(last, PG_DIAG_SQLSTATE) : NULL;
	if (!b->probed && state && strcmp(state, "23505") == 0) {
		/* an event applied before: nothing was changed; again, with the probe */
		PQclear(last);
		stock_db_probe_left = STOCK_DB_PROBE_BATCHES;
		if (!stock_db_batch_post(db, b, true, err, errlen))
			return false;
		b->sent = false;
		last = pg_finish(db, err, errlen);
		state = last ? PQresultErrorField(last, PG_DIAG_SQLSTATE) : NULL;
	}
	bool ok = false;
	if (last && PQresultStatus(last) == PGRES_COMMAND_OK && !b->probed) {
		/* every id went in (one taken before would have failed the statement) */
		ok = true;
		stock_db_batch_all_new(b);
	} else if (last && PQresultStatus(last) == PGRES_TUPLES_OK && b->probed) {
		ok = stock_db_batch_fresh(b, last);
		if (!ok)
			snprintf(err, errlen, "out of memory");
	} else if (last) {
		const char *msg = PQresultErrorMessage(last);
		snprintf(err, errlen, "%.*s (SQLSTATE %s)", (int)strcspn(msg, "\n"), msg, state ? state : "none");
		snprintf(b->sqlstate, sizeof b->sqlstate, "%s", state ? state : "");
	} else {
		b->sqlstate[0] = '\0'; /* err says why no answer came */
	}
	PQclear(last);
	return ok;
}

const char *stock_db_batch_sqlstate(const struct stock_db_batch *b)
{
	return b->sqlstate;
}

bool stock_db_zero(struct pg *db, const char *sku, const char *warehouse, int64_t version, bool *changed, char *err,
		   size_t errlen)
{
	char v[24];
	snprintf(v, sizeof v, "%lld", (long long)version);
	const char *p[] = { sku, warehouse, version > 0 ? v : NULL };
	/* cur: what the row held before (the statement's snapshot); a versioned tombstone of a row
	 * not stored yet leaves a row holding nothing at its version, so that an older record cannot
	 * bring the stock back */
	PGresult *r = pg_query(
		db,
		"WITH cur AS (SELECT (on_hand_milli, reserved_milli, available_milli) IS DISTINCT FROM (0, 0, 0) AS "
		"held"
		"  FROM stock WHERE sku = $1 AND warehouse = $2),"
		" up AS (UPDATE stock s SET on_hand_milli = 0, reserved_milli = 0, available_milli = 0,"
		"  version = GREATEST(s.version, COALESCE($3::bigint, 0)), updated_at = now() FROM cur"
		"  WHERE s.sku = $1 AND s.warehouse = $2 AND ($3::bigint IS NULL OR s.version <= $3::bigint)"
		"  AND (cur.held OR s.version < COALESCE($3::bigint, s.version)) RETURNING cur.held),"
		" ins AS (INSERT INTO stock (sku, warehouse, on_hand_milli, reserved_milli, available_milli, version,"
		"  source_us) SELECT $1, $2, 0, 0, 0, $3::bigint, 0 WHERE $3::bigint IS NOT NULL"
		"  AND NOT EXISTS (SELECT FROM cur) ON CONFLICT (sku, warehouse) DO NOTHING)"
		" SELECT count(*) FROM up WHERE held",
		3, p, err, errlen);
	if (!r)
		return false;
	*changed = strcmp(PQgetvalue(r, 0, 0), "0") != 0;
	PQclear(r);
	return true;
}

bool stock_db_dirty_notify(struct pg *db, char *err, size_t errlen)
{
	PGresult *r = pg_query(db, "SELECT pg_notify('" STOCK_DB_CHANNEL "', '0 ' || " STOCK_DB_NOW_US ")", 0, NULL,
			       err, errlen);
	PQclear(r);
	return r != NULL;
}

bool stock_db_dirty_listen(struct pg *db, char *err, size_t errlen)
{
	return pg_exec(db, "LISTEN " STOCK_DB_CHANNEL, err, errlen);
}

/* When a notification lets the coalescing window open (see stock_db.h). */
static int64_t stock_db_dirty_open(int64_t source, int64_t mark, int64_t window_us)
{
	if (source <= 0 || source > mark)
		return mark; /* unknown, or the source clock is ahead */
	return source < mark - window_us / 4 ? mark - window_us / 4 : source;
}

/* Takes the notifications libpq holds; the earliest opening among them into *open (0: none). */
static int stock_db_dirty_drain(PGconn *conn, int64_t window_us, int64_t *open)
{
	int n = 0;
	PGnotify *nt;
	while ((nt = PQnotifies(conn))) {
		if (strcmp(nt->relname, STOCK_DB_CHANNEL) == 0) {
			char *end;
			int64_t source = strtoll(nt->extra, &end, 10);
			int64_t t = stock_db_dirty_open(source, strtoll(end, NULL, 10), window_us);
			if (t > 0 && (!*open || t < *open))
				*open = t;
			n++;
		}
		PQfreemem(nt);
	}
	return n;
}

int stock_db_dirty_wait(struct pg *db, long timeout_ms, int64_t window_us, int64_t *open_us)
{
	PGconn *conn = pg_conn(db);
	int64_t deadline = event_monotonic_us() + (int64_t)timeout_ms * 1000;
	int n = 0;
	*open_us = 0;
	if (!conn || PQstatus(conn) != CONNECTION_OK)
		return -1;
	for (;;) {
		if (!PQconsumeInput(conn))
			return -1;
		n += stock_db_dirty_drain(conn, window_us, open_us);
		int64_t left = (deadline - event_monotonic_us()) / 1000;
		if (n || left <= 0 || shutdown_requested())
			return n > 0;
		struct pollfd pfd = { .fd = PQsocket(conn), .events = POLLIN };
		if (pfd.fd < 0)
			return -1;
		/* in slices, so that a shutdown is seen soon */
		if (poll(&pfd, 1, (int)(left < 100 ? left : 100)) < 0 && errno != EINTR)
			return -1;
	}
}

long long stock_db_fold(struct pg *db, const char *const *shops, size_t n, char *err, size_t errlen)
{
	struct pg_array ids;
	pg_array_init(&ids);
	for (size_t i = 0; i < n; i++)
		if (!pg_array_text(&ids, shops[i])) {
			pg_array_cleanup(&ids);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	const char *p[] = { pg_array_get(&ids) };
	/* DELETE takes exactly the marks it returns: those committed when it started. One committed
	 * later (its stock change not yet seen either) stays for the next fold. A SKU still dirty
	 * keeps its oldest change's time. */
	PGresult *r = pg_query(
		db,
		"WITH k AS (DELETE FROM shop_mark WHERE shop = ANY($1::text[]) RETURNING shop, sku, source_us)"
		" INSERT INTO shop_dirty AS d (shop, sku, seq, first_source_us)"
		" SELECT shop, sku, nextval('dirty_seq'), t FROM (SELECT shop, sku, min(source_us) AS t"
		"  FROM k GROUP BY shop, sku ORDER BY shop, sku) g"
		" ON CONFLICT (shop, sku) DO UPDATE SET seq = excluded.seq,"
		"  first_source_us = LEAST(d.first_source_us, excluded.first_source_us)",
		1, p, err, errlen);
	pg_array_cleanup(&ids);
	if (!r)
		return -1;
	long long folded = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return folded;
}

bool stock_db_pending(struct pg *db, const struct shop_config *shop, size_t max, struct stock_pending **out, size_t *n,
		      char *err, size_t errlen)
{
	struct pg_array wh;
	char limit[24];
	bool ok = false;
	PGresult *r = NULL;
	err[0] = '\0';
	*out = NULL;
	*n = 0;
	pg_array_init(&wh);
	for (size_t w = 0; w < shop->nwarehouses; w++)
		if (!pg_array_text(&wh, shop->warehouses[w]))
			goto out;
	snprintf(limit, sizeof limit, "%zu", max);
	const char *p[] = { shop->id, pg_array_get(&wh), limit };
	r = pg_query(db,
		     "SELECT d.sku, d.seq, d.first_source_us, COALESCE(m.product_id, 0), COALESCE(m.parent_id, 0),"
		     "  COALESCE(w.written, -1),"
		     "  COALESCE((SELECT sum(s.available_milli) FROM stock s WHERE s.sku = d.sku"
		     "            AND s.warehouse = ANY($2::text[])), 0),"
		     "  COALESCE((SELECT sum(v.qty_milli) FROM reservation v WHERE v.sku = d.sku), 0)"
		     " FROM shop_dirty d"
		     " LEFT JOIN sku_map m ON m.shop = d.shop AND m.sku = d.sku"
		     " LEFT JOIN shop_stock w ON w.shop = d.shop AND w.sku = d.sku"
		     " WHERE d.shop = $1 ORDER BY d.first_source_us, d.seq LIMIT $3::int",
		     3, p, err, errlen);
	if (!r)
		goto out;
	size_t rows = (size_t)PQntuples(r);
	*out = calloc(rows ? rows : 1, sizeof **out);
	if (!*out)
		goto out;
	for (size_t i = 0; i < rows; i++) {
		struct stock_pending *x = &(*out)[i];
		int row = (int)i;
		snprintf(x->sku, sizeof x->sku, "%s", PQgetvalue(r, row, 0));
		x->seq = strtoll(PQgetvalue(r, row, 1), NULL, 10);
		x->first_source_us = strtoll(PQgetvalue(r, row, 2), NULL, 10);
		x->product_id = strtoll(PQgetvalue(r, row, 3), NULL, 10);
		x->parent_id = strtoll(PQgetvalue(r, row, 4), NULL, 10);
		x->written = strtoll(PQgetvalue(r, row, 5), NULL, 10);
		x->available_milli = strtoll(PQgetvalue(r, row, 6), NULL, 10);
		x->reserved_milli = strtoll(PQgetvalue(r, row, 7), NULL, 10);
	}
	*n = rows;
	ok = true;
out:
	if (!ok && !*err)
		snprintf(err, errlen, "out of memory");
	PQclear(r);
	pg_array_cleanup(&wh);
	return ok;
}

bool stock_db_done(struct pg *db, const char *shop, const struct stock_done *d, size_t n, char *err, size_t errlen)
{
	struct pg_array sku, seq, written, unknown;
	bool ok = false;
	PGresult *r = NULL;
	err[0] = '\0';
	pg_array_init(&sku);
	pg_array_init(&seq);
	pg_array_init(&written);
	pg_array_init(&unknown);
	for (size_t i = 0; i < n; i++)
		if (!pg_array_text(&sku, d[i].sku) || !pg_array_int(&seq, d[i].seq) ||
		    !pg_array_int(&written, d[i].written) || !pg_array_text(&unknown, d[i].unknown ? "t" : "f"))
			goto out;
	const char *p[] = { shop, pg_array_get(&sku), pg_array_get(&seq), pg_array_get(&written),
			    pg_array_get(&unknown) };
	r = pg_query(db,
		     "WITH t AS (SELECT * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bool[])"
		     "  AS t(sku, seq, written, unknown)),"
		     " w AS (INSERT INTO shop_stock (shop, sku, written) SELECT $1, sku, written FROM t"
		     "  WHERE written >= 0 ON CONFLICT (shop, sku) DO UPDATE SET written = excluded.written,"
		     "  written_at = now()),"
		     " u AS (INSERT INTO unknown_sku (shop, sku) SELECT $1, sku FROM t WHERE unknown"
		     "  ON CONFLICT (shop, sku) DO UPDATE SET last_seen = now(), times = unknown_sku.times + 1),"
		     " k AS (DELETE FROM unknown_sku x USING t WHERE x.shop = $1 AND x.sku = t.sku AND NOT t.unknown)"
		     /* the rows taken leave the dirty set. Marks reach shop_dirty only through this writer's
		 * own fold, never between its take and this; one made since waits in shop_mark for the
		 * next fold. The seq check keeps a row that changed anyway. */
		     " DELETE FROM shop_dirty d USING t WHERE d.shop = $1 AND d.sku = t.sku AND d.seq = t.seq",
		     5, p, err, errlen);
	ok = r != NULL;
out:
	if (!ok && !*err)
		snprintf(err, errlen, "out of memory");
	PQclear(r);
	pg_array_cleanup(&sku);
	pg_array_cleanup(&seq);
	pg_array_cleanup(&written);
	pg_array_cleanup(&unknown);
	return ok;
}

bool stock_db_map_put(struct pg *db, const char *shop, const char *sku, int64_t product_id, int64_t parent_id,
		      char *err, size_t errlen)
{
	char pid[24], par[24];
	snprintf(pid, sizeof pid, "%lld", (long long)product_id);
	snprintf(par, sizeof par, "%lld", (long long)parent_id);
	const char *p[] = { shop, sku, pid, par };
	PGresult *r = pg_query(db,
			       "INSERT INTO sku_map (shop, sku, product_id, parent_id) VALUES ($1, $2, $3, $4)"
			       " ON CONFLICT (shop, sku) DO UPDATE SET product_id = excluded.product_id,"
			       " parent_id = excluded.parent_id, learned_at = now()",
			       4, p, err, errlen);
	PQclear(r);
	return r != NULL;
}

bool stock_db_map_forget(struct pg *db, const char *shop, const char *sku, char *err, size_t errlen)
{
	const char *p[] = { shop, sku };
	PGresult *r = pg_query(db, "DELETE FROM sku_map WHERE shop = $1 AND sku = $2", 2, p, err, errlen);
	PQclear(r);
	return r != NULL;
}

static long long stock_db_count(struct pg *db, const char *sql, const char *shop, char *err, size_t errlen)
{
	const char *p[] = { shop };
	PGresult *r = pg_query(db, sql, 1, p, err, errlen);
	if (!r)
		return -1;
	long long v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

long long stock_db_map_count(struct pg *db, const char *shop, char *err, size_t errlen)
{
	return stock_db_count(db, "SELECT count(*) FROM sku_map WHERE shop = $1", shop, err, errlen);
}

long long stock_db_unknown_count(struct pg *db, const char *shop, char *err, size_t errlen)
{
	return stock_db_count(db, "SELECT count(*) FROM unknown_sku WHERE shop = $1", shop, err, errlen);
}
