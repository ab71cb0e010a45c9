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

static int stock_db_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool stock_db_claim(struct pg *db, struct stock_claim *rows, size_t n, char *err, size_t errlen)
{
	err[0] = '\0';
	struct pg_array ids, topics, parts, offs;
	const char **fresh = NULL;
	unsigned char *used = NULL;
	PGresult *r = NULL;
	bool ok = false;
	pg_array_init(&ids);
	pg_array_init(&topics);
	pg_array_init(&parts);
	pg_array_init(&offs);
	for (size_t i = 0; i < n; i++)
		if (!pg_array_text(&ids, rows[i].event_id) || !pg_array_text(&topics, rows[i].topic) ||
		    !pg_array_int(&parts, rows[i].partition) || !pg_array_int(&offs, rows[i].offset))
			goto out;
	const char *p[] = { pg_array_get(&ids), pg_array_get(&topics), pg_array_get(&parts),
			    pg_array_get(&offs) };
	r = pg_query(db,
		     "INSERT INTO inbox (consumer, event_id, topic, partition, \"offset\")"
		     " SELECT 'stock-sync', e, t, p, o FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[])"
		     " AS x(e, t, p, o) ON CONFLICT DO NOTHING RETURNING event_id",
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
	used = calloc(nf ? nf : 1, 1);
	if (!used)
		goto out;
	/* the same event twice in one batch: only its first occurrence counts */
	for (size_t i = 0; i < n; i++) {
		const char **hit = bsearch(&rows[i].event_id, fresh, nf, sizeof *fresh, stock_db_cmp_str);
		size_t at = hit ? (size_t)(hit - fresh) : 0;
		rows[i].is_new = hit && !used[at];
		if (hit)
			used[at] = 1;
	}
	ok = true;
out:
	if (!ok && !*err)
		snprintf(err, errlen, "out of memory");
	free(fresh);
	free(used);
	PQclear(r);
	pg_array_cleanup(&ids);
	pg_array_cleanup(&topics);
	pg_array_cleanup(&parts);
	pg_array_cleanup(&offs);
	return ok;
}

/* One statement: the newest version per SKU+warehouse wins, older than stored is ignored. */
bool stock_db_store(struct pg *db, const struct stock_row *rows, size_t n, const struct shop_config *shops,
		    size_t nshops, char *err, size_t errlen)
{
	err[0] = '\0';
	enum { SKU, WH, OH, RS, AV, VER, SRC, MSHOP, MWH, NARR };
	struct pg_array a[NARR];
	const char *p[NARR];
	bool ok = false, any = false;
	for (int k = 0; k < NARR; k++)
		pg_array_init(&a[k]);
	for (size_t i = 0; i < n; i++) {
		const struct stock_row *x = &rows[i];
		any = true;
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
	if (!any) {
		ok = true;
		goto out;
	}
	for (int k = 0; k < NARR; k++)
		if (!(p[k] = pg_array_get(&a[k])))
			goto out;
	PGresult *r = pg_query(db,
		"WITH x AS (SELECT DISTINCT ON (sku, wh) sku, wh, oh, rs, av, v, t FROM unnest($1::text[],"
		"  $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])"
		"  AS x(sku, wh, oh, rs, av, v, t) ORDER BY sku, wh, v DESC),"
		" up AS (INSERT INTO stock AS s (sku, warehouse, on_hand_milli, reserved_milli, available_milli,"
		"  version, source_us) SELECT * FROM x ON CONFLICT (sku, warehouse) DO UPDATE SET"
		"  on_hand_milli = excluded.on_hand_milli, reserved_milli = excluded.reserved_milli,"
		"  available_milli = excluded.available_milli, version = excluded.version,"
		"  source_us = excluded.source_us, updated_at = now() WHERE s.version < excluded.version"
		"  RETURNING s.sku, s.warehouse, s.source_us),"
		" m AS (SELECT * FROM unnest($8::text[], $9::text[]) AS m(shop, wh))"
		" INSERT INTO shop_dirty AS d (shop, sku, seq, first_source_us)"
		"  SELECT m.shop, up.sku, nextval('dirty_seq'), min(up.source_us) FROM up JOIN m ON m.wh = up.warehouse"
		"  GROUP BY m.shop, up.sku"
		" ON CONFLICT (shop, sku) DO UPDATE SET seq = excluded.seq,"
		"  first_source_us = LEAST(d.first_source_us, excluded.first_source_us)",
		NARR, p, err, errlen);
	ok = r != NULL;
	PQclear(r);
out:
	if (!ok && !*err)
		snprintf(err, errlen, "out of memory");
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
