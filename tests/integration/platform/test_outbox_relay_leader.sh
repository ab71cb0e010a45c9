# The outbox is relayed by one instance at a time (a PostgreSQL advisory lock, like the poller's and
# the writer's): two relays taking turns on the rows would break the order of a key's records. A
# session holding the relay's lock (as another instance's relay would) keeps this instance from
# relaying: what the poller queues waits in the outbox. When that session goes, this instance takes
# the lock and relays what waited, and the shops follow.
. "$(dirname "$0")/../lib.sh"

lock_key="hashtext('erpsync:outbox-relay:stock_sync')"
PGAPPNAME=it-lock-holder psql "$PG_DSN" -Xq -c "SELECT pg_advisory_lock($lock_key)" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 &
holder=$!
# the session must end, not only psql: a backend in pg_sleep does not notice its client is gone
release_lock() {
	psql_q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'it-lock-holder'" >/dev/null
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	return 0
}
trap 'release_lock; it_cleanup' EXIT
holds_lock() { [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'it-lock-holder' AND query = 'SELECT pg_sleep(600)' AND state = 'active'")" -ge 1 ]; }
# taken before stock-sync starts, as by an instance that was there first
check "another session holds the relay's lock" wait_for 10 holds_lock
it_setup 5
check "an ERP stock change (SKU-000001 WH-MAIN 7)" erp_set SKU-000001 WH-MAIN 7
polled() { [ "$(metric erpsync_stock_erp_changes_total)" -ge 1 ]; }
check "the poller read it and queued it in the outbox" wait_for 15 polled
sleep 3
check "while the lock is held elsewhere, it stays in the outbox (not relayed here)" \
	[ "$(psql_q "SELECT count(*) FROM stock_sync.outbox")" -ge 1 ]
check "and the shops have not seen it" [ "$(shop_qty "$WOO_A_PORT" SKU-000001)" != 5 ]
release_lock
outbox_empty() { [ "$(psql_q "SELECT count(*) FROM stock_sync.outbox")" -eq 0 ]; }
check "when the other session is gone, this instance relays what waited" wait_for 15 outbox_empty
check "and both shops follow (A 7 - 2, B 7 - 5)" wait_for 15 bash -c \
	"[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/sandbox/stock | jq '.\"SKU-000001\"')\" = 5 ] &&
	 [ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_B_PORT/sandbox/stock | jq '.\"SKU-000001\"')\" = 2 ]"
check "the relay's lock is logged" grep -q '"message":"outbox relay: this instance relays' "$IT_DIR/stock-sync.log"
