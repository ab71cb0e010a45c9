# The sandbox ERP pushes its changes (SANDBOX_ERP_WEBHOOK_URL, signed with the secret it shares
# with stock-sync's ERP_WEBHOOK_SECRET): with polling out of the way (interval 1 h, and the ERP's
# API failing while the receiver is down), an ERP change reaches both shops within seconds; a
# push that finds the receiver down is retried until it is delivered; a push signed with another
# secret is refused (401) and not retried.
. "$(dirname "$0")/../lib.sh"
reset_schema
it_topics
SECRET=it-push-secret-$$
HOOK=http://127.0.0.1:$STOCK_PORT/webhooks/erp/stock

# start_erp_push SECRET: the sandbox ERP, empty, pushing every change to stock-sync's webhook
start_erp_push() {
	it_spawn sandbox-erp env SANDBOX_ERP_PORT="$ERP_PORT" SANDBOX_ERP_TOKEN="$ERP_TOKEN" SANDBOX_ERP_DEMO=0 \
		SANDBOX_ERP_WEBHOOK_URL="$HOOK" SANDBOX_ERP_WEBHOOK_SECRET="$1" "$BIN/sandbox-erp"
	ERP_PID=$LAST_PID
	wait_http "http://127.0.0.1:$ERP_PORT/healthz" 10
}
erp() { curl -s -H "Authorization: Bearer $ERP_TOKEN" "$@"; }
push_stat() { erp "http://127.0.0.1:$ERP_PORT/sandbox/stats" | jq -r ".webhook.$1"; }
push_stat_ge() { [ "$(push_stat "$1")" -ge "$2" ]; }
both_qty() { qty_is "$WOO_A_PORT" "$1" "$2" && qty_is "$WOO_B_PORT" "$1" "$3"; }
polled() { metric erpsync_stock_erp_changes_total; }
accepted() { metric erpsync_stock_erp_webhook_total 'result="accepted"'; }
now_ms() { date +%s%3N; }

check "the sandbox ERP starts with the webhook on" start_erp_push "$SECRET"
start_woo "$WOO_A_PORT" 20
start_woo "$WOO_B_PORT" 20
start_stock ERP_WEBHOOK_SECRET="$SECRET" STOCK_POLL_INTERVAL=1h
check "stock-sync (poll interval 1 h) becomes ready" stock_ready 30
check "the ERP's stats show the webhook" [ "$(push_stat queue_max)" -ge 1 ]
# ready does not wait for the consumer group; the timing below is the push's, not the group join's
check "stock-sync's consumer has its partitions" \
	wait_for 30 grep -q '"message":"kafka group [^"]*: assigned' "$IT_DIR/stock-sync.log"

# ---- one change, pushed -----------------------------------------------------------------------------
t0=$(now_ms)
check "an ERP change is stored" erp_set SKU-000003 WH-MAIN 40 4
# shop A: 36 - 2 = 34; shop B: 36 - 5 = 31
check "it reaches both shops within 5 s, without polling (A 34, B 31)" wait_for 5 both_qty SKU-000003 34 31
echo "   (ERP change -> both shops in $(( $(now_ms) - t0 )) ms)"
check "stock-sync polled no change (erpsync_stock_erp_changes_total 0)" [ "$(polled)" -eq 0 ]
check "stock-sync accepted the push" [ "$(accepted)" -ge 1 ]
check "the ERP counts it as sent" wait_for 5 push_stat_ge sent 1
check "nothing was refused or dropped" [ "$(push_stat rejected)" -eq 0 -a "$(push_stat dropped)" -eq 0 ]

# ---- a burst: 40 records in one admin call, each pushed on its own ---------------------------------
items=$(for i in $(seq 1 20); do
	printf '{"sku":"SKU-%06d","warehouse":"WH-MAIN","on_hand":%d,"reserved":0},' "$i" $((100 + i))
	printf '{"sku":"SKU-%06d","warehouse":"WH-SOUTH","on_hand":10},' "$i"
done)
sent0=$(push_stat sent)
check "40 ERP changes are stored at once" bash -c "curl -s -o /dev/null -w '%{http_code}' -X POST \
	-H 'Authorization: Bearer $ERP_TOKEN' -d '{\"items\":[${items%,}]}' \
	http://127.0.0.1:$ERP_PORT/sandbox/stock | grep -q '^200$'"
# SKU i: shop A (100 + i) + 10 - 2, shop B (100 + i) - 5
all_burst() {
	local a b
	a=$(curl -s -u ck_it:cs_it "http://127.0.0.1:$WOO_A_PORT/sandbox/stock")
	b=$(curl -s -u ck_it:cs_it "http://127.0.0.1:$WOO_B_PORT/sandbox/stock")
	[ "$(jq '[to_entries[] | select(.value == 108 + (.key[4:] | tonumber))] | length' <<<"$a")" -eq 20 ] &&
	[ "$(jq '[to_entries[] | select(.value == 95 + (.key[4:] | tonumber))] | length' <<<"$b")" -eq 20 ]
}
check "all 20 SKUs reach both shops within 10 s (A 108 + n, B 95 + n)" wait_for 10 all_burst
check "the ERP sent all 40 pushes" wait_for 5 push_stat_ge sent $((sent0 + 40))
check "still nothing polled" [ "$(polled)" -eq 0 ]

# ---- the receiver is down: the push is retried until it is delivered --------------------------------
# the ERP's API fails from now on, so the restarted stock-sync's start-up poll cannot bring the change
check "the ERP's API is made to fail (500) so polling cannot deliver" bash -c \
	"curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer $ERP_TOKEN' \
	 -d '{\"mode\":\"500\",\"count\":-1}' http://127.0.0.1:$ERP_PORT/sandbox/faults | grep -q '^200$'"
kill -TERM "$STOCK_PID"
wait "$STOCK_PID"
retried0=$(push_stat retried)
t0=$(now_ms)
check "an ERP change is stored while stock-sync is down" erp_set SKU-000005 WH-MAIN 60
check "the API does not wait for the unreachable receiver (answered in $(( $(now_ms) - t0 )) ms < 1000)" \
	[ $(( $(now_ms) - t0 )) -lt 1000 ]
check "the push fails and is retried with backoff" wait_for 10 push_stat_ge retried $((retried0 + 2))
check "the ERP logs the failed delivery with its reason" \
	grep -q 'webhook: delivery of SKU-000005/WH-MAIN.*failed.*retrying' "$IT_DIR/sandbox-erp.log"
start_stock ERP_WEBHOOK_SECRET="$SECRET" STOCK_POLL_INTERVAL=1h
check "stock-sync is back" stock_ready 30
# SKU-000005: WH-MAIN 60 (version 2) + WH-SOUTH 10 from the burst; shop A 68, shop B 55
check "the retried push arrives (A 68, B 55)" wait_for 20 both_qty SKU-000005 68 55
check "it came by the push: the restarted stock-sync polled nothing" [ "$(polled)" -eq 0 ]
check "the ERP logs the late delivery" \
	wait_for 5 grep -q 'webhook: SKU-000005/WH-MAIN version 2 delivered after' "$IT_DIR/sandbox-erp.log"
check "the ERP dropped nothing" [ "$(push_stat dropped)" -eq 0 ]

# ---- a push signed with another secret: refused, not retried, not applied ---------------------------
kill -TERM "$ERP_PID"
wait "$ERP_PID"
check "the sandbox ERP restarts with a wrong secret" start_erp_push wrong-secret
check "an ERP change of a SKU stock-sync has not seen is stored" erp_set SKU-000021 WH-MAIN 70
check "the push is refused (401) and dropped, not retried" wait_for 10 push_stat_ge rejected 1
check "no retry of a refused push" [ "$(push_stat retried)" -eq 0 ]
check "stock-sync counted the bad signature" [ "$(metric erpsync_stock_erp_webhook_total 'result="bad_signature"')" -ge 1 ]
check "the refused change was not applied" \
	[ "$(psql_q "SELECT count(*) FROM stock_sync.stock WHERE sku = 'SKU-000021'")" -eq 0 ]
