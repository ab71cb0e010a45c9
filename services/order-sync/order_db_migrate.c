/* order_db_migrate — order-sync's schema (order_sync): its migrations in order, each with why it
 * was made, applied by order_db_migrate (pg_migrate records which ran). */
#include "order_db.h"

#include <stdlib.h>
#include <string.h>

#include "pg.h"

static const struct pg_migration order_db_migrations[] = {
	{ 1, "orders as taken from the shops and as booked in the ERP; webhook deliveries; cursors",
	  /* One row per shop order: the shop's latest view (snapshot: a packed erpsync.v1.Order) and
	   * what the ERP made of it. (shop_id, external_id) is the ERP order's external reference:
	   * the primary key keeps one row, erp_ref_unique one ERP order per row. */
	  "CREATE TABLE orders (shop_id text NOT NULL, external_id text NOT NULL,"
	  "  modified_us bigint NOT NULL, content_hash text NOT NULL, version bigint NOT NULL,"
	  "  status text NOT NULL, snapshot bytea NOT NULL, first_seen_us bigint NOT NULL,"
	  "  hold_reason text, deleted boolean NOT NULL DEFAULT false,"
	  "  erp_id text, erp_number text, erp_status text, erp_version bigint NOT NULL DEFAULT 0,"
	  "  booked_at timestamptz, payment_hash text, updated_at timestamptz NOT NULL DEFAULT now(),"
	  "  PRIMARY KEY (shop_id, external_id));"
	  "CREATE UNIQUE INDEX orders_erp_id ON orders (erp_id) WHERE erp_id IS NOT NULL;"
	  "CREATE INDEX orders_modified ON orders (shop_id, modified_us);"
	  /* Webhook deliveries already taken, by the shop's delivery id. */
	  "CREATE TABLE delivery (shop_id text NOT NULL, delivery_id text NOT NULL,"
	  "  received_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (shop_id, delivery_id));"
	  "CREATE INDEX delivery_received ON delivery (received_at);"
	  "CREATE TABLE cursor (name text PRIMARY KEY, value text NOT NULL,"
	  "  updated_at timestamptz NOT NULL DEFAULT now());" },
	{ 2, "payments, returns and complaints as published and as registered in the ERP; notes added",
	  "CREATE TABLE payment (shop_id text NOT NULL, external_id text NOT NULL, payment_id text NOT NULL,"
	  "  state_hash text NOT NULL, version bigint NOT NULL, erp_id text,"
	  "  updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (shop_id, external_id, payment_id));"
	  /* kind: return, refund_only, complaint; snapshot: a packed erpsync.v1.Return */
	  "CREATE TABLE return_case (shop_id text NOT NULL, external_id text NOT NULL, return_id text NOT NULL,"
	  "  kind text NOT NULL, status text NOT NULL, version bigint NOT NULL, snapshot bytea NOT NULL,"
	  "  erp_id text, erp_number text, updated_at timestamptz NOT NULL DEFAULT now(),"
	  "  PRIMARY KEY (shop_id, external_id, return_id));"
	  "CREATE UNIQUE INDEX return_case_erp ON return_case (kind, erp_id) WHERE erp_id IS NOT NULL;"
	  /* A note put on a shop order, by what it is about ("shipment:<id>", "invoice:<number>"). */
	  "CREATE TABLE note (shop_id text NOT NULL, external_id text NOT NULL, note_key text NOT NULL,"
	  "  added_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (shop_id, external_id, note_key));"
	  /* Payments and returns that arrived before their order was booked: applied at its booking. */
	  "CREATE TABLE deferred (topic text NOT NULL, shop_id text NOT NULL, external_id text NOT NULL,"
	  "  item_id text NOT NULL, record bytea NOT NULL, queued_at timestamptz NOT NULL DEFAULT now(),"
	  "  PRIMARY KEY (topic, shop_id, external_id, item_id));"
	  /* What the last reconciliation found, one row per finding. */
	  "CREATE TABLE reconcile_finding (run_id bigint NOT NULL, kind text NOT NULL, shop_id text NOT NULL,"
	  "  external_id text NOT NULL, detail text NOT NULL, found_at timestamptz NOT NULL DEFAULT now());"
	  "CREATE TABLE reconcile_run (id bigserial PRIMARY KEY, started_at timestamptz NOT NULL DEFAULT now(),"
	  "  finished_at timestamptz, window_from_us bigint NOT NULL, window_to_us bigint NOT NULL,"
	  "  shop_orders bigint NOT NULL DEFAULT 0, erp_orders bigint NOT NULL DEFAULT 0,"
	  "  missing bigint NOT NULL DEFAULT 0, duplicated bigint NOT NULL DEFAULT 0,"
	  "  mismatched bigint NOT NULL DEFAULT 0, booked bigint NOT NULL DEFAULT 0, error text);" },
	{ 3, "the time of the ERP status change applied last: pushed and polled changes never step back",
	  "ALTER TABLE orders ADD COLUMN erp_changed_us bigint NOT NULL DEFAULT 0;" },
};

bool order_db_migrate(struct pg *db, char *err, size_t errlen)
{
	return pg_migrate(db, "order-sync", order_db_migrations,
			  sizeof order_db_migrations / sizeof order_db_migrations[0], err, errlen);
}

bool order_db_cursor_get(struct pg *db, const char *name, char **out, char *err, size_t errlen)
{
	const char *p[] = { name };
	*out = NULL;
	PGresult *r = pg_query(db, "SELECT value FROM cursor WHERE name = $1", 1, p, err, errlen);
	if (!r)
		return false;
	bool ok = true;
	if (PQntuples(r) == 1)
		ok = (*out = strdup(PQgetvalue(r, 0, 0))) != NULL;
	PQclear(r);
	return ok;
}

bool order_db_cursor_set(struct pg *db, const char *name, const char *value, char *err, size_t errlen)
{
	const char *p[] = { name, value };
	PGresult *r = pg_query(db,
			       "INSERT INTO cursor (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE "
			       "SET value = EXCLUDED.value, updated_at = now()",
			       2, p, err, errlen);
	PQclear(r);
	return r != NULL;
}
