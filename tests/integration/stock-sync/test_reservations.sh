# Reservations: an order placed in shop A lowers shop B at once, before the ERP books it; booking
# or cancelling ends the hold; an order beyond sellable raises exactly one oversell alert.
. "$(dirname "$0")/../lib.sh"
it_setup 20
erp_set SKU-000005 WH-MAIN 20
check "shops start at ERP stock minus buffer (A 18, B 15)" \
	wait_for 20 bash -c "$(declare -f shop_qty qty_is); qty_is $WOO_A_PORT SKU-000005 18 && qty_is $WOO_B_PORT SKU-000005 15"

order -s woo-a -o A-1 -k placed -S processing -l SKU-000005:4
check "an order in shop A lowers shop B before the ERP books it (B 11)" \
	wait_for 10 bash -c "$(declare -f shop_qty qty_is); qty_is $WOO_B_PORT SKU-000005 11 && qty_is $WOO_A_PORT SKU-000005 14"
check "the reservation is open" [ "$(psql_q "SELECT qty_milli FROM stock_sync.reservation WHERE order_id = 'A-1'")" = 4000 ]

# the ERP books it: its stock drops by 4 and the hold ends; the shops do not count it twice
erp_set SKU-000005 WH-MAIN 16
erp_order -s woo-a -o A-1 -k booked -S processing -l SKU-000005:4
check "booked in the ERP: hold released, shops follow ERP stock (A 14, B 11)" \
	wait_for 10 bash -c "[ \$(psql \"$PG_DSN\" -XAtc \"SELECT count(*) FROM stock_sync.reservation WHERE order_id = 'A-1'\") -eq 0 ]"
check "after booking, shops show ERP stock minus buffer, not minus the order twice" \
	wait_for 10 bash -c "$(declare -f shop_qty qty_is); qty_is $WOO_A_PORT SKU-000005 14 && qty_is $WOO_B_PORT SKU-000005 11"
order -s woo-a -o A-1 -k updated -S processing -l SKU-000005:4 -e a1-late-update
# its event id is claimed in the transaction that applies it: once it shows, so would a new hold
check "the late shop update is consumed and applied" wait_for 20 claimed a1-late-update
check "a late shop update of a booked order holds nothing again" \
	[ "$(psql_q "SELECT count(*) FROM stock_sync.reservation WHERE order_id = 'A-1'")" -eq 0 ]

# beyond sellable: shop B sells 16 - 5 = 11; an order for 12 is an oversell. The shops showed the
# same figures with the ERP at 20 and A-1 held (20 - 4), so wait for the 16 itself: an order
# applied before it would be measured against 20 - 5 = 15
check "the ERP's stock after booking (16) is applied" wait_for 10 bash -c \
	"[ \"\$(psql \"$PG_DSN\" -XAtc \"SELECT available_milli FROM stock_sync.stock WHERE sku = 'SKU-000005' AND warehouse = 'WH-MAIN'\")\" = 16000 ]"
order -s woo-b -o B-7 -k placed -S pending -l SKU-000005:12 -e oversell-b7
order -s woo-b -o B-7 -k placed -S pending -l SKU-000005:12 -e oversell-b7
order -s woo-b -o B-7 -k updated -S processing -l SKU-000005:12
# marker: one more update of B-7 (the same key, so behind the three above on their partition, and
# like the last of them it must not alert again); once it is claimed the three were applied, and
# once the outbox is empty every alert they queued is in Kafka
order -s woo-b -o B-7 -k updated -S processing -l SKU-000005:12 -e b7-marker
check "the oversell is detected" wait_for 10 bash -c \
	"[ \$(psql \"$PG_DSN\" -XAtc 'SELECT count(*) FROM stock_sync.oversell_alert') -eq 1 ]"
check "the records of B-7 are applied (the marker behind them is claimed)" wait_for 20 claimed b7-marker
check "their alerts are relayed to Kafka (outbox empty)" wait_for 20 outbox_empty
alerts=$(kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$IT_ALERTS_TOPIC" -o beginning -e -q -f '%k\n' 2>/dev/null | grep -c SKU-000005)
check "exactly one alert is published (got $alerts)" [ "$alerts" -eq 1 ]
check "the alert is counted per shop" [ "$(metric erpsync_stock_oversell_alerts_total 'shop="woo-b"')" -eq 1 ]
check "an order within sellable raises none" bash -c "[ \$(psql \"$PG_DSN\" -XAtc \"SELECT count(*) FROM stock_sync.oversell_alert WHERE order_id = 'A-1'\") -eq 0 ]"
check "an oversold SKU shows 0 in every shop" \
	wait_for 10 bash -c "$(declare -f shop_qty qty_is); qty_is $WOO_A_PORT SKU-000005 2 && qty_is $WOO_B_PORT SKU-000005 0"

order -s woo-b -o B-7 -k status -S cancelled -l SKU-000005:12
check "cancelling gives the stock back to every shop (A 14, B 11)" \
	wait_for 10 bash -c "$(declare -f shop_qty qty_is); qty_is $WOO_A_PORT SKU-000005 14 && qty_is $WOO_B_PORT SKU-000005 11"
check "open reservations are a metric" bash -c "curl -s http://127.0.0.1:$STOCK_PORT/metrics | grep -q '^erpsync_stock_reservations_open '"

# An oversell whose transaction PostgreSQL refuses (a constraint on reservations an operator added):
# tried as a batch, then alone, then dead-lettered. Nothing of it stays, and its alert, raised in
# each try, is counted in none of them.
psql_q "ALTER TABLE stock_sync.reservation ADD CONSTRAINT it_refuse_b9 CHECK (order_id <> 'B-9')"
failures=$(metric erpsync_stock_apply_failures_total)
order -s woo-b -o B-9 -k placed -S pending -l SKU-000005:50
check "the refused order goes to the dead-letter topic" wait_for 30 bash -c \
	"kcat -b $KAFKA_BOOTSTRAP_SERVERS -C -t $IT_ORDERS_TOPIC.dlq -o beginning -e -q -f '%h\n' 2>/dev/null | grep -q it_refuse_b9"
check "whatever its tries queued is relayed to Kafka (outbox empty)" wait_for 20 outbox_empty
check "it was tried more than once ($(( $(metric erpsync_stock_apply_failures_total) - failures )) failed tries)" \
	[ "$(( $(metric erpsync_stock_apply_failures_total) - failures ))" -ge 3 ]
check "no alert of it is kept" \
	[ "$(psql_q "SELECT count(*) FROM stock_sync.oversell_alert WHERE order_id = 'B-9'")" -eq 0 ]
check "no alert of it is published" [ "$(kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$IT_ALERTS_TOPIC" \
	-o beginning -e -q -f '%s\n' 2>/dev/null | grep -ac 'B-9')" -eq 0 ]
check "its alert is not counted: woo-b's count stays 1" \
	[ "$(metric erpsync_stock_oversell_alerts_total 'shop="woo-b"')" -eq 1 ]
