# Versions are taken in the whole range PostgreSQL's bigint holds, 1..2^63-1, on every consumed
# topic; an order or return whose version is beyond it goes to the DLQ at once, with a reason that
# names the version, before the database sees it: the batch is not refused, retried and taken apart
# (erpsync_stock_apply_failures_total stays where it was), and the record behind it is applied.
. "$(dirname "$0")/../lib.sh"
it_setup 10
erp_set SKU-000003 WH-MAIN 30
both_qty() { qty_is "$WOO_A_PORT" "$1" "$2" && qty_is "$WOO_B_PORT" "$1" "$3"; }
check "shops start at ERP stock minus buffer (A 28, B 25)" wait_for 20 both_qty SKU-000003 28 25

reserved() { psql_q "SELECT COALESCE(sum(qty_milli)::bigint / 1000, 0) FROM stock_sync.reservation WHERE order_id = '$1'"; }
reserved_is() { [ "$(reserved "$1")" = "$2" ]; }
expected() { psql_q "SELECT count(*) FROM stock_sync.expected_return WHERE return_id = '$1'"; }
dead() { metric erpsync_stock_events_dead_lettered_total "topic=\"$1\""; }
dead_is() { [ "$(dead "$1")" -eq "$2" ]; }
dlq_errors() { kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$1.dlq" -o beginning -c "$2" -e -q -f '%h\n' 2>/dev/null; }
failures0=$(metric erpsync_stock_apply_failures_total)

# ---- orders ---------------------------------------------------------------------------------------
order -s woo-a -o MAXV -k placed -S processing -l SKU-000003:1 -v 9223372036854775807
check "an order at version 2^63-1 is applied (holds 1)" wait_for 10 reserved_is MAXV 1
check "its version is stored whole" \
	[ "$(psql_q "SELECT shop_version FROM stock_sync.order_state WHERE order_id = 'MAXV'")" = 9223372036854775807 ]
order -s woo-a -o POISON -k placed -S processing -l SKU-000003:2 -v 9223372036854775808
order -s woo-a -o MARK-1 -k placed -S processing -l SKU-000003:3 -v 5
check "the order behind the poison one is applied (holds 3)" wait_for 15 reserved_is MARK-1 3
check "the poison order is dead-lettered (1 on the orders topic)" wait_for 5 dead_is "$IT_ORDERS_TOPIC" 1
check "the poison order holds nothing" reserved_is POISON 0
check "its dead letter says the version is out of range" grep -q 'dlq-error=[^,]*version' <<<"$(dlq_errors "$IT_ORDERS_TOPIC" 1)"
check "no apply transaction failed (erpsync_stock_apply_failures_total still $failures0)" \
	[ "$(metric erpsync_stock_apply_failures_total)" -eq "$failures0" ]

# ---- returns --------------------------------------------------------------------------------------
ret() { "$BIN/ordergen" -t "$IT_RETURNS_TOPIC" -s woo-a -o MARK-1 "$@"; }
ret -R R-POISON -w WH-MAIN -l SKU-000003:1 -v 18446744073709551615
ret -R R-MARK -w WH-MAIN -l SKU-000003:1 -v 7
check "the return behind the poison one is recorded" wait_for 15 bash -c "[ \"\$(psql \"$PG_DSN\" -XAtc \"SELECT count(*) FROM stock_sync.expected_return WHERE return_id = 'R-MARK'\")\" = 1 ]"
check "the poison return is dead-lettered (1 on the returns topic)" wait_for 5 dead_is "$IT_RETURNS_TOPIC" 1
check "the poison return is not recorded" [ "$(expected R-POISON)" -eq 0 ]
check "its dead letter says the version is out of range" grep -q 'dlq-error=[^,]*version' <<<"$(dlq_errors "$IT_RETURNS_TOPIC" 1)"
check "no apply transaction failed (erpsync_stock_apply_failures_total still $failures0)" \
	[ "$(metric erpsync_stock_apply_failures_total)" -eq "$failures0" ]

# ---- stock records ---------------------------------------------------------------------------------
stockgen -n 1 -s 1 -q 44 -v 9223372036854775806 >/dev/null
check "a stock record at version 2^63-1 is applied" wait_for 15 bash -c \
	"[ \"\$(psql \"$PG_DSN\" -XAtc \"SELECT version FROM stock_sync.stock WHERE sku = 'SKU-000001' AND warehouse = 'WH-MAIN'\")\" = 9223372036854775807 ]"
check "no apply transaction failed" [ "$(metric erpsync_stock_apply_failures_total)" -eq "$failures0" ]
