# One bad ERP record does not stop polling: a record whose values stock-sync cannot take (a
# quantity beyond a billion units) goes to <topic>.dlq with its reason, is counted, and the rest of
# its page is applied and the cursor moves on. Versions as large as an ERP's epoch milliseconds or
# row versions (from 1.7e12 up to 2^63-1) are taken like any other.
. "$(dirname "$0")/../lib.sh"
it_setup 20

erp() { curl -s -H "Authorization: Bearer $ERP_TOKEN" "$@"; }
erp_last_seq() { erp "http://127.0.0.1:$ERP_PORT/sandbox/stats" | jq -r .last_seq; }
cursor() { psql_q "SELECT cursor FROM stock_sync.erp_cursor WHERE source = 'erp'"; }
cursor_is() { [ "$(cursor)" = "$1" ]; }
state() { psql_q "SELECT available_milli / 1000 || '/' || version FROM stock_sync.stock WHERE sku = '$1' AND warehouse = 'WH-MAIN'"; }
both_qty() { qty_is "$WOO_A_PORT" "$1" "$2" && qty_is "$WOO_B_PORT" "$1" "$3"; }
stop_stock() { kill -TERM "$STOCK_PID"; wait "$STOCK_PID"; }

# ---- a bad record between two good ones in one page ----------------------------------------------
stop_stock
erp_set SKU-000003 WH-MAIN 31
erp_set SKU-000004 WH-MAIN 2000000000        # two billion units: not stock, a broken record
erp_set SKU-000005 WH-MAIN 32
start_stock
check "stock-sync starts again" stock_ready 30
check "the record after the bad one reaches the shops (SKU-000005: A 30, B 27)" \
	wait_for 20 both_qty SKU-000005 30 27
check "the record before it too (SKU-000003: A 29, B 26)" both_qty SKU-000003 29 26
check "the cursor moved past the bad record (to $(erp_last_seq))" wait_for 10 cursor_is "$(erp_last_seq)"
check "the bad record is not stored" [ -z "$(state SKU-000004)" ]
check "the bad record is counted (erpsync_stock_erp_records_rejected_total 1)" \
	[ "$(metric erpsync_stock_erp_records_rejected_total)" -eq 1 ]
dlq=$(kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$IT_TOPIC.dlq" -o beginning -c 1 -e -q \
	-f '%k %h %s\n' 2>/dev/null)
echo "   (dead letter: $(head -c 600 <<<"$dlq"))"
check "the bad record is in the dead-letter topic, keyed SKU|warehouse" grep -q '^SKU-000004|WH-MAIN ' <<<"$dlq"
check "its dead letter says why (on_hand)" grep -q 'dlq-error=[^,]*on_hand' <<<"$dlq"
check "its dead letter names stock-sync and where it came from" \
	bash -c "grep -q 'dlq-service=stock-sync' <<<'$dlq' && grep -q 'dlq-source-topic=$IT_TOPIC' <<<'$dlq'"
check "its dead letter holds the ERP's record (JSON)" grep -q '"on_hand":2000000000' <<<"$dlq"
check "polls went on without an error" [ "$(metric erpsync_stock_erp_polls_total 'result="erp_error"')" -eq 0 ]
erp_set SKU-000006 WH-MAIN 33
check "later changes go on (SKU-000006: A 31, B 28)" wait_for 20 both_qty SKU-000006 31 28

# ---- large versions: an ERP whose versions are epoch milliseconds, then one at 2^63-1 ------------
# (each a fresh ERP and a fresh stock-sync schema: nothing but the versions differs)
large_versions() {   # large_versions BASE SKU ON_HAND A B WANT_VERSION
	stop_stock
	restart_erp 0 SANDBOX_ERP_VERSION_BASE="$1"
	reset_schema
	start_stock
	check "stock-sync starts against an ERP whose versions start at $1 + 1" stock_ready 30
	erp_set "$2" WH-MAIN "$3"
	check "a record at version $6 reaches the shops (A $4, B $5)" wait_for 20 both_qty "$2" "$4" "$5"
	check "its version is stored whole ($3/$6, got $(state "$2"))" [ "$(state "$2")" = "$3/$6" ]
}
large_versions 1700000000000 SKU-000002 30 28 25 1700000000001
large_versions 9223372036854775806 SKU-000007 34 32 29 9223372036854775807
