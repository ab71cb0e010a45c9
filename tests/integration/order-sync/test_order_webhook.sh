# The shop's order webhook: a delivery is taken only when signed by the shop, answered 2xx only
# once committed, and the same delivery (or the same order unchanged) never makes a second event
# or a second ERP order; the creation ping is 200; bad bodies are 413/400/422 and record nothing.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_order.sh"
order_setup HTTP_MAX_BODY=65536

body() { # body ID [TOTAL]: a WooCommerce order body as the shop sends it
	jq -c --argjson id "$1" --arg total "${2:-199.71}" \
		'. + {id: $id, number: ($id|tostring), date_created_gmt: "2026-12-01T10:00:00",
		      date_modified_gmt: "2026-12-01T10:00:00", total: $total}' "$ORDER_FIXTURE" >"$IT_DIR/o$1.json"
	echo "$IT_DIR/o$1.json"
}

f=$(body 5001)
check "an unsigned delivery is 401" [ "$(post_hook woo-a "$f")" = 401 ]
check "a delivery signed with another secret is 401" [ "$(post_hook woo-a "$f" "$(sign wrong-secret "$f")")" = 401 ]
check "a delivery signed for shop A sent as shop B is 401" [ "$(post_hook woo-b "$f" "$(sign $WHSEC_A "$f")")" = 401 ]
check "an unknown shop is 404" [ "$(post_hook woo-x "$f" "$(sign $WHSEC_A "$f")")" = 404 ]
printf 'webhook_id=17' >"$IT_DIR/ping"
check "the creation ping is 200" [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-www-form-urlencoded' --data-binary @"$IT_DIR/ping" "http://127.0.0.1:$ORDER_PORT/webhooks/shop/woo-a")" = 200 ]
head -c 70000 /dev/zero | tr '\0' 'x' >"$IT_DIR/big"
check "a body over HTTP_MAX_BODY is 413" [ "$(post_hook woo-a "$IT_DIR/big" "$(sign $WHSEC_A "$IT_DIR/big")")" = 413 ]
printf '{"id": 5002, "status": ' >"$IT_DIR/bad"
check "malformed JSON is 400" [ "$(post_hook woo-a "$IT_DIR/bad" "$(sign $WHSEC_A "$IT_DIR/bad")")" = 400 ]
printf '{"id": 5003, "name": "a product, not an order"}' >"$IT_DIR/notorder"
check "JSON that is not an order is 422" [ "$(post_hook woo-a "$IT_DIR/notorder" "$(sign $WHSEC_A "$IT_DIR/notorder")")" = 422 ]
check "the 422 says what is missing" grep -q 'missing' "$IT_DIR/hook.out"
check "nothing was recorded for any of them" [ "$(psql_q "SELECT count(*) FROM order_sync.orders")" = 0 ]

# the same delivery five times, then the same order again under new delivery ids: one event
sig=$(sign $WHSEC_A "$f")
for i in 1 2 3 4 5; do codes+="$(post_hook woo-a "$f" "$sig" delivery-5001) "; done
check "the same delivery five times is answered 200 each time ($codes)" [ "$codes" = "200 200 200 200 200 " ]
check "the first is taken, the others are duplicates" grep -q '"duplicate"' "$IT_DIR/hook.out"
for i in 1 2; do post_hook woo-a "$f" "$sig" "delivery-5001-again-$i" >/dev/null; done
check "a redelivery of the unchanged order under a new id is a duplicate too" grep -q '"duplicate"' "$IT_DIR/hook.out"
check "one order event was queued or sent for it" wait_for 10 bash -c "[ \$(psql \"$PG_DSN\" -XAtc \"SELECT count(*) FROM order_sync.orders WHERE external_id = '5001' AND version = 1\") = 1 ]"
check "it is booked in the ERP" wait_for 20 order_booked woo-a 5001
# marker: another order, booked after the first; then the ERP holds exactly one order for 5001
m=$(body 5004)
check "a marker order is taken" [ "$(post_hook woo-a "$m" "$(sign $WHSEC_A "$m")" delivery-5004)" = 200 ]
check "the marker is booked" wait_for 20 order_booked woo-a 5004
check "exactly one ERP order for the delivery sent five times" [ "$(erp_orders_of woo-a 5001)" = 1 ]
check "the webhooks are counted by outcome" [ "$(omet erpsync_order_webhooks_total 'outcome="duplicate"')" -ge 6 ]
check "the unauthorized ones too" [ "$(omet erpsync_order_webhooks_total 'outcome="unauthorized"')" -ge 3 ]
check "and shop.orders.v1 carries one record for 5001 (relayed)" wait_for 20 bash -c "[ \$(kcat -b $KAFKA_BOOTSTRAP_SERVERS -C -t $IT_ORDERS_TOPIC -o beginning -e -q -f '%k\n' 2>/dev/null | grep -c '^woo-a|5001\$') = 1 ]"

# a modified order (newer modification time) is a new event; a late older one is not
jq -c '.date_modified_gmt = "2026-12-01T10:05:00" | .status = "on-hold"' "$f" >"$IT_DIR/o5001b.json"
check "a newer modification is taken" [ "$(post_hook woo-a "$IT_DIR/o5001b.json" "$(sign $WHSEC_A "$IT_DIR/o5001b.json")" d-5001-b)" = 200 ]
check "as a status change (version 2)" [ "$(order_row woo-a 5001 "version || status")" = "2on-hold" ]
code=$(post_hook woo-a "$f" "$sig" d-5001-late)
check "an older modification arriving late changes nothing ($code)" bash -c "[ $code = 200 ] && grep -q duplicate '$IT_DIR/hook.out'"

# order.deleted carries only the id: the order's last state goes out as deleted, and a booked order
# is cancelled in the ERP
printf '{"id":5004}' >"$IT_DIR/del"
check "order.deleted is taken" [ "$(post_hook woo-a "$IT_DIR/del" "$(sign $WHSEC_A "$IT_DIR/del")" d-5004-del order.deleted)" = 200 ]
check "the order is marked deleted" [ "$(order_row woo-a 5004 deleted)" = t ]
check "its ERP order is cancelled" wait_for 20 bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $ERP_TOKEN' 'http://127.0.0.1:$ERP_PORT/api/v1/orders?external_ref=woo-a%7C5004' | jq -r '.items[0].status')\" = cancelled ]"
printf '{"id":"x"}' >"$IT_DIR/del2"
check "order.deleted without an integer id is 422" [ "$(post_hook woo-a "$IT_DIR/del2" "$(sign $WHSEC_A "$IT_DIR/del2")" d-x-del order.deleted)" = 422 ]
