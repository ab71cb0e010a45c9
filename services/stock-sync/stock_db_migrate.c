/* stock_db_migrate — stock-sync's schema (stock_sync): its migrations in order, each with why it
 * was made, applied by stock_db_migrate (pg_migrate records which ran). */
#include "stock_db.h"

#include "pg.h"

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
	/* Re-marking a dirty SKU changes its seq; with seq indexed every mark was a new index entry,
	 * with it not indexed the update stays on its page (HOT), which the free space left by the
	 * fill factor makes likely. The writer's oldest-first pick sorts the shop's dirty rows instead,
	 * cheap for thousands and bearable for a million (docs/benchmarks.md).
	 * mark_source_us: the source time of the oldest change in the latest mark, so that a SKU
	 * changed again while its write was under way keeps the right first_source_us (stock_db_done). */
	{ 3, "cheaper dirty marks",
	  "DROP INDEX shop_dirty_seq;"
	  "ALTER TABLE shop_dirty SET (fillfactor = 50);"
	  "ALTER TABLE shop_dirty ADD COLUMN mark_source_us bigint;" },
	/* Order and return records carry a version, monotonic per order (per topic) and per return:
	 * one not newer than the last applied is dropped, so a replayed or reordered old record cannot
	 * undo a newer one. 0 (a producer that sets none) is applied as before. */
	{ 4, "order and return versions",
	  "ALTER TABLE order_state ADD COLUMN shop_version bigint NOT NULL DEFAULT 0,"
	  "  ADD COLUMN erp_version bigint NOT NULL DEFAULT 0;"
	  "CREATE TABLE return_state (shop text NOT NULL, return_id text NOT NULL, version bigint NOT NULL,"
	  "  updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (shop, return_id));" },
	/* Marks are appended to shop_mark by whoever changes what a shop may sell (the apply lanes,
	 * orders, returns, reconciliation) and folded into shop_dirty by the writer alone
	 * (stock_db_fold). Before, every lane batch updated the shop_dirty rows the writer was
	 * locking to record its writes, and each waited for the other (docs/benchmarks.md). The
	 * table has no key and no index: rows are only inserted, and the fold deletes them all. */
	{ 5, "append-only dirty marks",
	  "CREATE TABLE shop_mark (shop text NOT NULL, sku text NOT NULL, source_us bigint NOT NULL);" },
	/* Only the writer's fold writes shop_dirty now, and never while a write of the same SKUs is
	 * under way: the latest mark's time (migration 3) has nothing left to tell. */
	{ 6, "dirty rows without the latest mark's time", "ALTER TABLE shop_dirty DROP COLUMN mark_source_us;" },
	/* An ERP that starts its change feed over (restarted with its state in memory, restored
	 * from a backup) begins its sequence and its versions again. The cursor keeps the feed it
	 * belongs to; each restart stock-sync detects begins a new feed epoch, and a stock row of a
	 * later epoch replaces one of an earlier epoch whatever the versions (stock_feed.h). Both
	 * columns take their default without rewriting the tables. */
	{ 7, "ERP change feeds and their epochs",
	  "ALTER TABLE erp_cursor ADD COLUMN feed_id text NOT NULL DEFAULT '',"
	  "  ADD COLUMN feed_epoch bigint NOT NULL DEFAULT 0;"
	  "ALTER TABLE stock ADD COLUMN feed_epoch bigint NOT NULL DEFAULT 0;" },
};

bool stock_db_migrate(struct pg *db, char *err, size_t errlen)
{
	return pg_migrate(db, "stock-sync", stock_db_migrations,
			  sizeof stock_db_migrations / sizeof stock_db_migrations[0], err, errlen);
}
