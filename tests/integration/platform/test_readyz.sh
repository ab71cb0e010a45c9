# PostgreSQL down at start-up: /healthz is 200 (alive), /readyz 503 with the reason; once
# PostgreSQL is back, /readyz turns 200 without a restart.
. "$(dirname "$0")/../lib.sh"
reset_schema
it_topics
start_erp 0
start_woo "$WOO_A_PORT" 5
start_woo "$WOO_B_PORT" 5
: "${ERPSYNC_STATE_DIR:?}"
stack_pg() { runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$ERPSYNC_PG_DATA" "$@" >/dev/null 2>&1 || \
	/usr/lib/postgresql/15/bin/pg_ctl -D "$ERPSYNC_PG_DATA" "$@" >/dev/null 2>&1; }
stack_pg stop -m fast
stack_start() { env ${IT_STACK_ENV:-} "$ROOT/deploy/local/stack.sh" start "${ERPSYNC_INSTANCE:-test}" >/dev/null 2>&1; }
trap 'stack_start; it_cleanup' EXIT
start_stock
check "/healthz is 200 while PostgreSQL is down" wait_http "http://127.0.0.1:$STOCK_PORT/healthz" 15
check "/readyz is 503 while PostgreSQL is down" wait_http "http://127.0.0.1:$STOCK_PORT/readyz" 15 503
check "/readyz says why" bash -c "curl -s http://127.0.0.1:$STOCK_PORT/readyz | grep -q PostgreSQL"
stack_start
check "/readyz turns 200 once PostgreSQL is back" stock_ready 60
# read at once: before, /readyz said 200 about 2 s before the group had assigned the partitions
check "by then the consumer has joined its group (partitions assigned)" \
	grep -q '"message":"kafka group .*: assigned' "$IT_DIR/stock-sync.log"
check "the migrations were applied after the wait" bash -c "[ \$(psql \"$PG_DSN\" -XAtc \"SELECT count(*) FROM stock_sync.schema_migrations\") -ge 1 ]"
