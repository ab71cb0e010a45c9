# The ERP's change feed starts over: the sandbox ERP keeps its records in memory, so a restart
# begins its change sequence (and every version) at 1 again, as a real ERP restored from a backup
# does. stock-sync must notice that its cursor belongs to a feed that is gone (the answer's
# feed_id changed, or its cursor is beyond the feed's newest change), read the new feed from the
# start at once, log it and count it: a change made after the restart reaches the shops within
# seconds, not at the next reconciliation, although its sequence and version are below what
# stock-sync had seen.
. "$(dirname "$0")/../lib.sh"
it_setup 20

erp() { curl -s -H "Authorization: Bearer $ERP_TOKEN" "$@"; }
feed() { erp "http://127.0.0.1:$ERP_PORT/api/v1/stock?since=0&limit=1" | jq -r "${1:-.feed_id}"; }
erp_last_seq() { erp "http://127.0.0.1:$ERP_PORT/sandbox/stats" | jq -r .last_seq; }
cursor() { psql_q "SELECT cursor FROM stock_sync.erp_cursor WHERE source = 'erp'"; }
cursor_is() { [ "$(cursor)" = "$1" ]; }
state() { psql_q "SELECT available_milli / 1000 || '/' || version FROM stock_sync.stock WHERE sku = '$1' AND warehouse = 'WH-MAIN'"; }
both_qty() { qty_is "$WOO_A_PORT" "$1" "$2" && qty_is "$WOO_B_PORT" "$1" "$3"; }
resets() { metric erpsync_stock_erp_feed_resets_total; }
reset_logged() { grep '"level":"warn"' "$IT_DIR/stock-sync.log" | grep -c 'change feed'; }

# ---- the old feed runs ahead: SKU-000002 at version 6, the cursor at 6 ---------------------------
for q in 30 31 32 33 34 35; do erp_set SKU-000002 WH-MAIN $q; done
check "the first feed's changes reach the shops (A 33, B 30)" wait_for 20 both_qty SKU-000002 33 30
check "the cursor is at the first feed's last sequence (6)" wait_for 10 cursor_is 6
check "no feed reset so far" [ "$(resets)" -eq 0 ]
old_feed=$(feed)

# ---- the ERP starts again while stock-sync runs: its newest change is below the cursor -----------
restart_erp 0
check "the restarted ERP announces another feed" [ "$(feed)" != "$old_feed" ]
check "the restarted ERP's feed is empty (last_cursor 0)" [ "$(feed .last_cursor)" = 0 ]
erp_set SKU-000002 WH-MAIN 12
erp_set SKU-000002 WH-MAIN 14
check "the ERP now has SKU-000002 at version 2, sequence 2" [ "$(erp_last_seq)" = 2 ]
check "the change after the restart reaches the shops within 10 s (A 12, B 9)" \
	wait_for 10 both_qty SKU-000002 12 9
check "stock-sync holds the new feed's version 2 (14/2), below the 6 it had" [ "$(state SKU-000002)" = 14/2 ]
check "the reset is counted once (erpsync_stock_erp_feed_resets_total 1, got $(resets))" [ "$(resets)" -eq 1 ]
check "the reset is logged as a warning" [ "$(reset_logged)" -ge 1 ]
echo "   (logged as: $(grep 'change feed' "$IT_DIR/stock-sync.log" | head -1 | jq -r .message))"
check "the cursor follows the new feed (2)" wait_for 10 cursor_is 2
erp_set SKU-000002 WH-MAIN 20
check "later changes of the new feed go on as usual (A 18, B 15)" wait_for 10 both_qty SKU-000002 18 15
check "without another reset" [ "$(resets)" -eq 1 ]

# ---- the ERP starts again while stock-sync is down, and its sequence passes the old cursor -------
# (only the feed id tells the cursor is void: since=3 would skip the first changes of the new feed,
# and its SKU-000002 at version 1 is below the 3 stock-sync holds)
kill -TERM "$STOCK_PID"
wait "$STOCK_PID"
check "the cursor was 3 when stock-sync stopped" cursor_is 3
restart_erp 0
erp_set SKU-000011 WH-MAIN 30
for q in 42 43 44; do erp_set SKU-000009 WH-MAIN $q; done
erp_set SKU-000002 WH-MAIN 17
check "the new feed's sequence (5) is past the old cursor (3)" [ "$(erp_last_seq)" = 5 ]
line=$(wc -l <"$IT_DIR/stock-sync.log")
start_stock
check "stock-sync starts again" stock_ready 30
check "the new feed's SKU-000002 (version 1) reaches the shops (A 15, B 12)" \
	wait_for 15 both_qty SKU-000002 15 12
check "so does the change at sequence 1, which since=3 would skip (SKU-000011: A 28, B 25)" \
	wait_for 10 both_qty SKU-000011 28 25
check "and the others (SKU-000009: A 42, B 39)" wait_for 10 both_qty SKU-000009 42 39
check "stock-sync holds SKU-000002 at the new feed's version 1 (17/1)" [ "$(state SKU-000002)" = 17/1 ]
check "the reset after the restart is counted (1)" [ "$(resets)" -eq 1 ]
check "and logged" bash -c "tail -n +$((line + 1)) '$IT_DIR/stock-sync.log' | grep -q 'change feed'"
check "the cursor follows the new feed (5)" wait_for 10 cursor_is 5
