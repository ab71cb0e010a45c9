# The ERP's pushed order status changes reach the shop at once (the feed's poll set to an hour
# here): signed pushes only; a change older than the one applied never undoes it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_order.sh"
reset_order_schema
order_topics
start_erp 0 SANDBOX_ERP_WEBHOOK_SECRET=it-erp-push SANDBOX_ERP_ORDER_WEBHOOK_URL=http://127.0.0.1:$ORDER_PORT/webhooks/erp/orders
erp_sku KUB-001 && erp_sku KSI-7 && erp_sku KAW-250-Z
start_woo "$WOO_A_PORT" 0
start_woo "$WOO_B_PORT" 0
start_order ERP_WEBHOOK_SECRET=it-erp-push ORDER_ERP_POLL_INTERVAL=1h
check "order-sync becomes ready" order_ready 30
order_assigned
woo_hook "$WOO_A_PORT" "$WHSEC_A"
push() { # push EVENT BODY [SECRET]: prints the HTTP status
	local ts sig
	ts=$(date +%s)
	sig=$(printf '%s.%s' "$ts" "$2" | openssl dgst -sha256 -hmac "${3:-it-erp-push}" -hex | awk '{print $NF}')
	curl -s -o /dev/null -w '%{http_code}' -H "X-ERP-Event: $1" -H "X-ERP-Timestamp: $ts" -H "X-ERP-Signature: $sig" \
		-H 'Content-Type: application/json' -d "$2" "http://127.0.0.1:$ORDER_PORT/webhooks/erp/orders"
}

a=$(woo_order "$WOO_A_PORT")
check "order $a is booked" wait_for 30 order_booked woo-a "$a"
ea=$(order_row woo-a "$a" erp_id)
erp_api POST "/sandbox/orders/$ea/status" '{"status":"completed"}' >/dev/null
check "the ERP's pushed 'completed' reaches the shop without a poll" wait_for 10 bash -c "[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/wp-json/wc/v3/orders/$a | jq -r .status)\" = completed ]"
check "the push was taken" [ "$(omet erpsync_order_erp_push_total 'result="accepted"')" -ge 1 ]
late="{\"seq\":1,\"cursor\":\"1\",\"order_id\":\"$ea\",\"number\":\"x\",\"external_ref\":\"woo-a|$a\",\"status\":\"ready_to_ship\",\"reason\":\"\",\"changed_at\":\"2020-01-01T00:00:00Z\"}"
check "an unsigned push is 401" [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-ERP-Event: order.status_changed' -d "$late" http://127.0.0.1:$ORDER_PORT/webhooks/erp/orders)" = 401 ]
check "a push signed with another key is 401" [ "$(push order.status_changed "$late" wrong-key)" = 401 ]
check "a signed push of an older change is taken (202)" [ "$(push order.status_changed "$late")" = 202 ]
check "and changes nothing: the ERP status stays completed" [ "$(order_row woo-a "$a" erp_status)" = completed ]
check "a push that is not a feed item is 400" [ "$(push order.status_changed '{"nope":1}')" = 400 ]
