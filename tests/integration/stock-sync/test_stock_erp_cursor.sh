# A bad ERP answer never advances the cursor: while the ERP answers malformed JSON (cut in half),
# records missing fields, or 500, stock_sync.erp_cursor stays where it was, each failed poll is
# logged with its reason, and the change arrives as soon as the ERP answers properly again.
. "$(dirname "$0")/../lib.sh"
it_setup 20

erp() { curl -s -H "Authorization: Bearer $ERP_TOKEN" "$@"; }
erp_fault() {
	erp -o /dev/null -w '%{http_code}' -X POST -d "$1" "http://127.0.0.1:$ERP_PORT/sandbox/faults" | grep -q '^200$'
}
erp_last_seq() { erp "http://127.0.0.1:$ERP_PORT/sandbox/stats" | jq -r .last_seq; }
erp_calls() { erp "http://127.0.0.1:$ERP_PORT/sandbox/stats" | jq -r .calls; }
cursor() { psql_q "SELECT cursor FROM stock_sync.erp_cursor WHERE source = 'erp'"; }
cursor_is() { [ "$(cursor)" = "$1" ]; }
# failed_polls_since LINE PATTERN: "cursor kept" warnings after line LINE of the log whose text
# matches PATTERN (the reason)
failed_polls_since() {
	tail -n +"$(($1 + 1))" "$IT_DIR/stock-sync.log" | grep '"level":"warn"' | grep 'cursor kept' | grep -c -- "$2"
}
# at_least_failed LINE PATTERN N: N such warnings were logged
at_least_failed() { [ "$(failed_polls_since "$1" "$2")" -ge "$3" ]; }
log_lines() { wc -l <"$IT_DIR/stock-sync.log"; }
# calls_after N K: the ERP answered K more API calls than N
calls_after() { [ "$(erp_calls)" -ge $(($1 + $2)) ]; }

check "a first change is stored in the ERP" erp_set SKU-000002 WH-MAIN 30
check "shop B shows 25" wait_for 20 qty_is "$WOO_B_PORT" SKU-000002 25
check "the cursor is at the ERP's last sequence" wait_for 10 cursor_is "$(erp_last_seq)"

# bad_answer NAME FAULT-JSON REASON-PATTERN ON_HAND WANT_B: arms the fault until disarmed, changes
# SKU-000002 in the ERP, waits for three failed polls, checks nothing moved; disarms and waits for
# the change to arrive
bad_answer() {
	local name=$1 fault=$2 reason=$3 on_hand=$4 want=$5 c0 line calls0 polls0
	c0=$(cursor)
	polls0=$(metric erpsync_stock_erp_polls_total 'result="erp_error"')
	line=$(log_lines)
	calls0=$(erp_calls)
	check "$name: the fault is armed" erp_fault "$fault"
	check "$name: the ERP change is stored" erp_set SKU-000002 WH-MAIN "$on_hand"
	check "$name: three polls fail and are logged with the reason ($reason)" \
		wait_for 30 at_least_failed "$line" "$reason" 3
	check "$name: the ERP was asked (its faulted answers were received)" calls_after "$calls0" 3
	check "$name: the cursor did not move (still $c0)" cursor_is "$c0"
	check "$name: the change did not reach the shop (still $(shop_qty "$WOO_B_PORT" SKU-000002))" \
		[ "$(shop_qty "$WOO_B_PORT" SKU-000002)" != "$want" ]
	check "$name: the failed polls are counted (erpsync_stock_erp_polls_total{result=\"erp_error\"} +3)" \
		[ $(( $(metric erpsync_stock_erp_polls_total 'result="erp_error"') - polls0 )) -ge 3 ]
	check "$name: the fault is disarmed" erp_fault '{"mode":"none"}'
	check "$name: the change arrives once the ERP answers properly (shop B $want)" \
		wait_for 30 qty_is "$WOO_B_PORT" SKU-000002 "$want"
	check "$name: the cursor then moves to the ERP's last sequence" wait_for 10 cursor_is "$(erp_last_seq)"
	echo "   ($name: one failure logged as: $(tail -n +"$((line + 1))" "$IT_DIR/stock-sync.log" | grep 'cursor kept' | head -1 | jq -r .message))"
}

bad_answer "truncated JSON" '{"mode":"malformed","count":-1,"variant":"truncated"}' 'not JSON' 40 35
bad_answer "records missing fields" '{"mode":"malformed","count":-1,"variant":"missing_fields"}' 'missing' 50 45
bad_answer "HTTP 500" '{"mode":"500","count":-1}' 'HTTP 500' 60 55
check "every ERP change is applied exactly once, none lost (4 events)" \
	[ "$(psql_q "SELECT count(*) FROM stock_sync.inbox")" -eq 4 ]
check "the stored record is the ERP's latest version" \
	[ "$(psql_q "SELECT available_milli || '/' || version FROM stock_sync.stock WHERE sku = 'SKU-000002' AND warehouse = 'WH-MAIN'")" = "60000/4" ]
