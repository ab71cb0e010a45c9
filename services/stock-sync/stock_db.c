#include "stock_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"
#include "pg_array.h"
#include "shop_config.h"

static const struct pg_migration stock_db_migrations[] = {
	{ 1, "stock state, shop sync state, reservations",
	  "CREATE TABLE erp_cursor (source text PRIMARY KEY, cursor text NOT NULL,"
	  "  updated_at timestamptz NOT NULL DEFAULT now());"
	  "CREATE TABLE stock (sku text NOT NULL, warehouse text NOT NULL, on_hand_milli bigint NOT NULL,"
	  "  reserved_milli bigint NOT NULL, available_milli bigint NOT NULL, version bigint NOT NULL,"
	  "  source_us bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),"
	  "  PRIMARY KEY (sku, warehouse));"
	  "CREATE SEQUENCE dirty_seq;"
	  "CREATE TABLE shop_dirty (shop text NOT NULL, sku text NOT NULL, seq bigint NOT NULL,"
	  "  first_source_us bigint NOT NULL, PRIMARY KEY (shop, sku));"
	  "CREATE INDEX shop_dirty_seq ON shop_dirty (shop, seq);"
	  "CREATE TABLE shop_stock (shop text NOT NULL, sku text NOT NULL, written bigint NOT NULL,"
	  "  written_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (shop, sku));"
	  "CREATE TABLE sku_map (shop text NOT NULL, sku text NOT NULL, product_id bigint NOT NULL,"
	  "  parent_id bigint NOT NULL DEFAULT 0, learned_at timestamptz NOT NULL DEFAULT now(),"
	  "  PRIMARY KEY (shop, sku));"
	  "CREATE TABLE unknown_sku (shop text NOT NULL, sku text NOT NULL,"
	  "  first_seen timestamptz NOT NULL DEFAULT now(), last_seen timestamptz NOT NULL DEFAULT now(),"
	  "  times bigint NOT NULL DEFAULT 1, PRIMARY KEY (shop, sku));"
	  "CREATE TABLE reservation (shop text NOT NULL, order_id text NOT NULL, sku text NOT NULL,"
	  "  qty_milli bigint NOT NULL, opened_at timestamptz NOT NULL DEFAULT now(),"
	  "  PRIMARY KEY (shop, order_id, sku));"
	  "CREATE INDEX reservation_sku ON reservation (sku);" },
	{ 2, "order lifecycle, oversell alerts, expected returns, reconciliation runs",
	  "CREATE TABLE order_state (shop text NOT NULL, order_id text NOT NULL, closed boolean NOT NULL,"
	  "  closed_reason text, updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (shop, order_id));"
	  "CREATE TABLE oversell_alert (shop text NOT NULL, order_id text NOT NULL, sku text NOT NULL,"
	  "  ordered_milli bigint NOT NULL, sellable_milli bigint NOT NULL,"
	  "  raised_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (shop, order_id, sku));"
	  "CREATE TABLE expected_return (shop text NOT NULL, return_id text NOT NULL, sku text NOT NULL,"
	  "  warehouse text NOT NULL, qty_milli bigint NOT NULL, received boolean NOT NULL DEFAULT false,"
	  "  updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (shop, return_id, sku));"
	  "CREATE TABLE reconcile_run (id bigserial PRIMARY KEY, started_at timestamptz NOT NULL DEFAULT now(),"
	  "  finished_at timestamptz, trigger text NOT NULL, erp_drift bigint NOT NULL DEFAULT 0,"
	  "  shop_drift bigint NOT NULL DEFAULT 0, error text);" },
};

bool stock_db_migrate(struct pg *db, char *err, size_t errlen)
{
	return pg_migrate(db, "stock-sync", stock_db_migrations,
			  sizeof stock_db_migrations / sizeof stock_db_migrations[0], err, errlen);
}

bool stock_db_cursor_get(struct pg *db, const char *source, char *out, size_t outlen, char *err,
			 size_t errlen)
{
	const char *p[] = { source };
	PGresult *r = pg_query(db, "SELECT cursor FROM erp_cursor WHERE source = $1", 1, p, err, errlen);
	if (!r)
		return false;
	snprintf(out, outlen, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	return true;
}

bool stock_db_cursor_set(struct pg *db, const char *source, const char *cursor, char *err, size_t errlen)
{
	const char *p[] = { source, cursor };
	PGresult *r = pg_query(db,
			       "INSERT INTO erp_cursor (source, cursor) VALUES ($1, $2) ON CONFLICT (source)"
			       " DO UPDATE SET cursor = excluded.cursor, updated_at = now()",
			       2, p, err, errlen);
	PQclear(r);
	return r != NULL;
}

/* ---- claim and store: the apply transaction ----
 *
 * These two statements carry every consumed record, so they are shaped by measurement (make bench,
 * docs/benchmarks.md): duplicates inside a batch are removed in C before anything is sent, and the
 * inbox takes a plain INSERT of ids that an index probe found absent. INSERT .. ON CONFLICT DO
 * NOTHING would do both in one step but costs a speculative insertion per row, twice the time of
 * probe + insert. The exactly-once rule still rests on the primary key: an instance that claims
 * the same event at the same moment (a rebalance hands a partition over) waits for the other's
 * transaction and then fails with a unique violation; the batch is rolled back and retried, and
 * the retry finds the event claimed. */

/* Sorts positions of a batch by a key, then by position, so the first of equal keys is the
 * earliest record. */
struct stock_db_sort {
	const void *rows;
	int (*cmp)(const void *rows, size_t a, size_t b);
};

static _Thread_local struct stock_db_sort stock_db_sort_ctx;

static int stock_db_sort_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = stock_db_sort_ctx.cmp(stock_db_sort_ctx.rows, x, y);
	return c ? c : (x > y) - (x < y);
}

static size_t *stock_db_sorted(const void *rows, size_t n, int (*cmp)(const void *, size_t, size_t))
{
	size_t *idx = malloc((n ? n : 1) * sizeof *idx);
	if (!idx)
		return NULL;
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	stock_db_sort_ctx = (struct stock_db_sort){ rows, cmp };
	qsort(idx, n, sizeof *idx, stock_db_sort_cmp);
	return idx;
}

static int stock_db_claim_cmp(const void *rows, size_t a, size_t b)
{
	const struct stock_claim *c = rows;
	return strcmp(c[a].event_id, c[b].event_id);
}

static int stock_db_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool stock_db_claim(struct pg *db, struct stock_claim *rows, size_t n, char *err, size_t errlen)
{
	err[0] = '\0';
	struct pg_array ids, topics, parts, offs;
	const char **fresh = NULL;
	size_t *idx = NULL;
	PGresult *r = NULL;
	bool ok = false;
	pg_array_init(&ids);
	pg_array_init(&topics);
	pg_array_init(&parts);
	pg_array_init(&offs);
	for (size_t i = 0; i < n; i++)
		rows[i].is_new = false;
	if (!n) {
		ok = true;
		goto out;
	}
	/* the same event twice in one batch: only its first occurrence is sent and can count */
	if (!(idx = stock_db_sorted(rows, n, stock_db_claim_cmp)))
		goto out;
	for (size_t k = 0; k < n; k++) {
		const struct stock_claim *c = &rows[idx[k]];
		if (k && strcmp(c->event_id, rows[idx[k - 1]].event_id) == 0)
			continue;
		if (!pg_array_text(&ids, c->event_id) || !pg_array_text(&topics, c->topic) ||
		    !pg_array_int(&parts, c->partition) || !pg_array_int(&offs, c->offset))
			goto out;
	}
	const char *p[] = { pg_array_get(&ids), pg_array_get(&topics), pg_array_get(&parts),
			    pg_array_get(&offs) };
	if (!p[0] || !p[1] || !p[2] || !p[3])
		goto out;
	r = pg_query(db,
		     "INSERT INTO inbox (consumer, event_id, topic, partition, \"offset\")"
		     " SELECT 'stock-sync', e, t, p, o"
		     " FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) AS x(e, t, p, o)"
		     " WHERE (SELECT true FROM inbox i WHERE i.consumer = 'stock-sync' AND i.event_id = x.e) IS NULL"
		     " RETURNING event_id",
		     4, p, err, errlen);
	if (!r)
		goto out;
	size_t nf = (size_t)PQntuples(r);
	fresh = malloc((nf ? nf : 1) * sizeof *fresh);
	if (!fresh)
		goto out;
	for (size_t i = 0; i < nf; i++)
		fresh[i] = PQgetvalue(r, (int)i, 0);
	qsort(fresh, nf, sizeof *fresh, stock_db_cmp_str);
	for (size_t k = 0; k < n; k++) {
		struct stock_claim *c = &rows[idx[k]];
		if (k && strcmp(c->event_id, rows[idx[k - 1]].event_id) == 0)
			continue;
		c->is_new = bsearch(&c->event_id, fresh, nf, sizeof *fresh, stock_db_cmp_str) != NULL;
	}
	ok = true;
out:
	if (!ok && !*err)
		snprintf(err, errlen, "out of memory");
	free(idx);
	free(fresh);
	PQclear(r);
	pg_array_cleanup(&ids);
	pg_array_cleanup(&topics);
	pg_array_cleanup(&parts);
	pg_array_cleanup(&offs);
	return ok;
}

/* By SKU, warehouse, then the highest version first. */
static int stock_db_row_cmp(const void *rows, size_t a, size_t b)
{
	const struct stock_row *x = (const struct stock_row *)rows + a, *y = (const struct stock_row *)rows + b;
	int c = strcmp(x->sku, y->sku);
	if (!c)
		c = strcmp(x->warehouse, y->warehouse);
	if (!c)
		c = (x->version < y->version) - (x->version > y->version);
	return c;
}

/* One statement: the newest version per SKU+warehouse of the batch (chosen in C) is stored when
 * it is newer than what is stored, and each SKU whose stock changed is marked dirty once per shop
 * selling from that warehouse. Rows go in sorted, so two transactions lock them in one order. */
bool stock_db_store(struct pg *db, const struct stock_row *rows, size_t n, const struct shop_config *shops,
		    size_t nshops, char *err, size_t errlen)
{
	err[0] = '\0';
	enum { SKU, WH, OH, RS, AV, VER, SRC, MSHOP, MWH, NARR };
	struct pg_array a[NARR];
	const char *p[NARR];
	size_t *idx = NULL;
	bool ok = false;
	for (int k = 0; k < NARR; k++)
		pg_array_init(&a[k]);
	if (!n) {
		ok = true;
		goto out;
	}
	if (!(idx = stock_db_sorted(rows, n, stock_db_row_cmp)))
		goto out;
	for (size_t k = 0; k < n; k++) {
		const struct stock_row *x = &rows[idx[k]];
		if (k && strcmp(x->sku, rows[idx[k - 1]].sku) == 0 &&
		    strcmp(x->warehouse, rows[idx[k - 1]].warehouse) == 0)
			continue;       /* an older (or equal) version of the same SKU+warehouse */
		if (!pg_array_text(&a[SKU], x->sku) || !pg_array_text(&a[WH], x->warehouse) ||
		    !pg_array_int(&a[OH], x->on_hand_milli) || !pg_array_int(&a[RS], x->reserved_milli) ||
		    !pg_array_int(&a[AV], x->available_milli) || !pg_array_int(&a[VER], x->version) ||
		    !pg_array_int(&a[SRC], x->source_us))
			goto out;
	}
	for (size_t s = 0; s < nshops; s++)
		for (size_t w = 0; w < shops[s].nwarehouses; w++)
			if (!pg_array_text(&a[MSHOP], shops[s].id) || !pg_array_text(&a[MWH], shops[s].warehouses[w]))
				goto out;
	for (int k = 0; k < NARR; k++)
		if (!(p[k] = pg_array_get(&a[k])))
			goto out;
	PGresult *r = pg_query(db,
		"WITH up AS (INSERT INTO stock AS s (sku, warehouse, on_hand_milli, reserved_milli, available_milli,"
		"  version, source_us) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[],"
		"  $5::bigint[], $6::bigint[], $7::bigint[]) ON CONFLICT (sku, warehouse) DO UPDATE SET"
		"  on_hand_milli = excluded.on_hand_milli, reserved_milli = excluded.reserved_milli,"
		"  available_milli = excluded.available_milli, version = excluded.version,"
		"  source_us = excluded.source_us, updated_at = now() WHERE s.version < excluded.version"
		"  RETURNING s.sku, s.warehouse, s.source_us),"
		" m AS (SELECT * FROM unnest($8::text[], $9::text[]) AS m(shop, wh))"
		" INSERT INTO shop_dirty AS d (shop, sku, seq, first_source_us)"
		"  SELECT shop, sku, nextval('dirty_seq'), t FROM (SELECT m.shop, up.sku, min(up.source_us) AS t"
		"   FROM up JOIN m ON m.wh = up.warehouse GROUP BY m.shop, up.sku ORDER BY m.shop, up.sku) g"
		" ON CONFLICT (shop, sku) DO UPDATE SET seq = excluded.seq,"
		"  first_source_us = LEAST(d.first_source_us, excluded.first_source_us)",
		NARR, p, err, errlen);
	ok = r != NULL;
	PQclear(r);
out:
	if (!ok && !*err)
		snprintf(err, errlen, "out of memory");
	free(idx);
	for (int k = 0; k < NARR; k++)
		pg_array_cleanup(&a[k]);
	return ok;
}

bool stock_db_pending(struct pg *db, const struct shop_config *shop, size_t max,
		      struct stock_pending **out, size_t *n, char *err, size_t errlen)
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
		" WHERE d.shop = $1 ORDER BY d.seq LIMIT $3::int",
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

bool stock_db_done(struct pg *db, const char *shop, const struct stock_done *d, size_t n, char *err,
		   size_t errlen)
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

bool stock_db_map_put(struct pg *db, const char *shop, const char *sku, int64_t product_id,
		      int64_t parent_id, char *err, size_t errlen)
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
