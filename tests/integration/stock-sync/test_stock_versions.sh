# Versions of orders and returns: a record not newer than the last one applied for the same order
# (per topic) or return is dropped and counted, so a replayed or reordered old record cannot undo a
# newer one; a record without a version (0) is applied as before.
. "$(dirname "$0")/../lib.sh"
it_setup 10
erp_set SKU-000003 WH-MAIN 30
check "shops start at ERP stock minus buffer (A 28, B 25)" \
	wait_for 20 bash -c "$(declare -f shop_qty qty_is); qty_is $WOO_A_PORT SKU-000003 28 && qty_is $WOO_B_PORT SKU-000003 25"

stale_is() { [ "$(metric erpsync_stock_stale_events_total "kind=\"$1\"")" -eq "$2" ]; }
expected() { psql_q "SELECT string_agg(sku || ':' || qty_milli / 1000 || ':' || CASE WHEN received THEN 't' ELSE 'f' END, ',' ORDER BY sku) FROM stock_sync.expected_return WHERE return_id = 'R-1'"; }
expected_is() { [ "$(expected)" = "$1" ]; }
reserved() { psql_q "SELECT COALESCE(sum(qty_milli), 0) FROM stock_sync.reservation WHERE order_id = '$1'"; }

# version 2 holds 6; then the older version 1 (holding 1) arrives late
order -s woo-a -o V-1 -k updated -S processing -l SKU-000003:6 -v 2
check "version 2 of the order holds 6 (A 22, B 19)" \
	wait_for 10 bash -c "$(declare -f shop_qty qty_is); qty_is $WOO_A_PORT SKU-000003 22 && qty_is $WOO_B_PORT SKU-000003 19"
order -s woo-a -o V-1 -k placed -S processing -l SKU-000003:1 -v 1
check "the late version 1 is dropped and counted" \
	wait_for 10 stale_is shop_order 1
check "the reservation is still version 2's 6" [ "$(reserved V-1)" = 6000 ]
order -s woo-a -o V-1 -k updated -S processing -l SKU-000003:6 -v 2
check "the same version again is dropped too" \
	wait_for 10 stale_is shop_order 2
order -s woo-a -o V-1 -k updated -S processing -l SKU-000003:4 -v 3
check "a newer version applies (holds 4: A 24, B 21)" \
	wait_for 10 bash -c "$(declare -f shop_qty qty_is); qty_is $WOO_A_PORT SKU-000003 24 && qty_is $WOO_B_PORT SKU-000003 21"
check "the applied shop version is recorded" \
	[ "$(psql_q "SELECT shop_version FROM stock_sync.order_state WHERE order_id = 'V-1'")" = 3 ]
order -s woo-a -o V-1 -k updated -S processing -l SKU-000003:5
check "a record without a version applies (holds 5)" wait_for 10 bash -c "[ \"\$(psql \"$PG_DSN\" -XAtc \"SELECT sum(qty_milli) FROM stock_sync.reservation WHERE order_id = 'V-1'\")\" = 5000 ]"

# the ERP's versions are counted apart from the shop's: its version 1 is newer than nothing it sent
erp_order -s woo-a -o V-1 -k status -S processing -l SKU-000003:5 -v 1
check "the ERP's first version applies although the shop's is at 3" \
	wait_for 10 bash -c "[ \"\$(psql \"$PG_DSN\" -XAtc \"SELECT erp_version FROM stock_sync.order_state WHERE order_id = 'V-1'\")\" = 1 ]"
erp_order -s woo-a -o V-1 -k booked -S processing -l SKU-000003:5 -v 4
check "booking (ERP version 4) ends the hold" wait_for 10 bash -c "[ \"\$(psql \"$PG_DSN\" -XAtc \"SELECT count(*) FROM stock_sync.reservation WHERE order_id = 'V-1'\")\" = 0 ]"
erp_order -s woo-a -o V-1 -k status -S processing -l SKU-000003:5 -v 2
check "a late ERP version 2 is dropped and counted" \
	wait_for 10 stale_is erp_order 1

# returns: version 2 says received; the late version 1 (not received) must not undo it
ret() { "$BIN/ordergen" -t "$IT_RETURNS_TOPIC" -s woo-a -o V-1 "$@"; }
ret -R R-1 -w WH-MAIN -l SKU-000003:2,SKU-000004:1 -r -v 2
check "return version 2 is recorded as received" wait_for 10 expected_is SKU-000003:2:t,SKU-000004:1:t
ret -R R-1 -w WH-MAIN -l SKU-000003:2,SKU-000004:1 -v 1
check "the late return version 1 is dropped and counted" \
	wait_for 10 stale_is return 1
check "the return is still received" [ "$(expected)" = 'SKU-000003:2:t,SKU-000004:1:t' ]
ret -R R-1 -w WH-MAIN -l SKU-000004:3 -r -v 3
check "a newer return replaces its lines (SKU-000003 no longer expected)" \
	wait_for 10 expected_is SKU-000004:3:t
check "nothing went to a dead-letter topic" [ "$(metric erpsync_kafka_dlq_total)" -eq 0 ]
