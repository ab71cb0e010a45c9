# One bad order never blocks the rest: an order with a SKU the ERP does not know goes to the DLQ
# with the ERP's reason, the next orders book; once the SKU exists in the ERP, replaying the dead
# letter (erpsyncctl dlq replay) books it, once.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_order.sh"
order_setup
woo_hook "$WOO_A_PORT" "$WHSEC_A"

bad=$(woo_order "$WOO_A_PORT" '.line_items[0].sku = "NOWY-KUBEK-9"')
good=$(woo_order "$WOO_A_PORT")
check "the order after the bad one is booked" wait_for 30 order_booked woo-a "$good"
dl() { "$BIN/erpsyncctl" dlq list -b "$KAFKA_BOOTSTRAP_SERVERS" -t "$IT_ORDERS_TOPIC.dlq" --key "woo-a|$bad" 2>&1; }
check "the bad one is in the DLQ" wait_for 30 bash -c "$(declare -f dl); BIN=$BIN KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS IT_ORDERS_TOPIC=$IT_ORDERS_TOPIC bad=$bad dl | grep -q NOWY-KUBEK-9"
dl | head -5
check "the reason names the SKU" grep -q 'NOWY-KUBEK-9' <<<"$(dl)"
check "it is not in the ERP" [ "$(erp_orders_of woo-a "$bad")" = 0 ]
check "held orders are counted" [ "$(omet erpsync_order_held_total 'reason="erp_refused"')" -ge 1 ]

erp_sku NOWY-KUBEK-9
"$BIN/erpsyncctl" dlq replay -b "$KAFKA_BOOTSTRAP_SERVERS" -t "$IT_ORDERS_TOPIC.dlq" --key "woo-a|$bad" >"$IT_DIR/replay.out" 2>&1
cat "$IT_DIR/replay.out"
check "after the SKU is fixed and the letter replayed, the order is booked" wait_for 30 order_booked woo-a "$bad"
check "once" [ "$(erp_orders_of woo-a "$bad")" = 1 ]
"$BIN/erpsyncctl" dlq replay -b "$KAFKA_BOOTSTRAP_SERVERS" -t "$IT_ORDERS_TOPIC.dlq" --key "woo-a|$bad" >"$IT_DIR/replay2.out" 2>&1
check "every record replayed is consumed" wait_for 30 all_claimed "$IT_ORDERS_TOPIC"
check "replaying again books nothing twice" [ "$(erp_orders_of woo-a "$bad")" = 1 ]
