# Shop storms: a burst of 429s (with Retry-After), a burst of 500s and a slow shop. In each the
# shop ends equal to the rule for every SKU, nothing is lost, and the 429s were honoured: the
# retries waited Retry-After (the burst cannot be over sooner than count x Retry-After).
. "$(dirname "$0")/../lib.sh"
it_setup 50

SKUS=50
woo() { curl -s -u ck_it:cs_it "$@"; }
fault() { woo -o /dev/null -w '%{http_code}' -X POST -d "$2" "http://127.0.0.1:$1/sandbox/faults" | grep -q '^200$'; }
woo_status() { woo "http://127.0.0.1:$1/sandbox/stats" | jq -r ".by_status.\"$2\" // 0"; }
# shop_all PORT N: every one of the 50 demo SKUs shows N
shop_all() {
	[ "$(woo "http://127.0.0.1:$1/sandbox/stock" |
		jq --argjson n "$2" '[to_entries[] | select(.value == $n)] | length')" -eq "$SKUS" ]
}
inbox_is() { [ "$(psql_q "SELECT count(*) FROM stock_sync.inbox")" -eq "$1" ]; }
mapped() { [ "$(psql_q "SELECT count(*) FROM stock_sync.sku_map")" -eq $((2 * SKUS)) ]; }
drained() { [ "$(psql_q "SELECT (SELECT count(*) FROM stock_sync.shop_dirty) + (SELECT count(*) FROM stock_sync.shop_mark)")" -eq 0 ]; }
now_ms() { date +%s%3N; }
# faults are armed after the shops' listings were learned: the storms hit stock writes
check "both shops' SKU maps are learned" wait_for 30 mapped

# ---- 429 storm on shop A: 3 answers of 429 with Retry-After: 2 -------------------------------------
# round of 4 x 50 records: last quantity 20 + 3 = 23 (version 4); A 23 - 2 = 21, B 23 - 5 = 18
r429_0=$(metric erpsync_http_client_requests_total 'system="woo-a",code="429"')
retries0=$(metric erpsync_http_client_retries_total 'system="woo-a"')
check "the 429 storm is armed on shop A" fault "$WOO_A_PORT" '{"mode":"429","count":3,"retry_after":2}'
t0=$(now_ms)
stockgen -n 200 -s 50 -q 20 -v 0 -e storm429 >/dev/null
check "429 storm: shop A ends equal to the rule for all 50 SKUs (21)" wait_for 60 shop_all "$WOO_A_PORT" 21
ta=$(( $(now_ms) - t0 ))
check "429 storm: shop B ends equal to the rule for all 50 SKUs (18)" wait_for 30 shop_all "$WOO_B_PORT" 18
echo "   (shop A converged ${ta} ms after the change, through three 429s with Retry-After: 2)"
check "429 storm: every 429 was answered (the storm is over)" [ "$(woo_status "$WOO_A_PORT" 429)" -eq 3 ]
check "429 storm: the 429s are counted (requests_total{code=\"429\"} +3)" \
	[ $(( $(metric erpsync_http_client_requests_total 'system="woo-a",code="429"') - r429_0 )) -eq 3 ]
check "429 storm: each 429 was retried (retries_total +3)" \
	[ $(( $(metric erpsync_http_client_retries_total 'system="woo-a"') - retries0 )) -ge 3 ]
# three sequential 429s each asking for 2 s: honoured, the write cannot land before 6 s
check "429 storm: Retry-After was honoured (converged after ${ta} ms >= 6000 ms)" [ "$ta" -ge 6000 ]
check "429 storm: nothing lost (200 events applied)" wait_for 10 inbox_is 200
check "429 storm: nothing left to write" wait_for 10 drained

# ---- 500 storm on shop A: 8 answers of 500 (more than one call's retries) ------------------------
# next round: quantity 30 + 3 = 33 (version 14); A 31, B 28
r5xx0=$(metric erpsync_http_client_requests_total 'system="woo-a",code="5xx"')
failed0=$(metric erpsync_stock_shop_calls_total 'shop="woo-a",result="failed"')
check "the 500 storm is armed on shop A" fault "$WOO_A_PORT" '{"mode":"500","count":8}'
stockgen -n 200 -s 50 -q 30 -v 10 -e storm500 >/dev/null
check "500 storm: shop A ends equal to the rule for all 50 SKUs (31)" wait_for 60 shop_all "$WOO_A_PORT" 31
check "500 storm: shop B ends equal to the rule for all 50 SKUs (28)" wait_for 30 shop_all "$WOO_B_PORT" 28
check "500 storm: every 500 was answered (the storm is over)" [ "$(woo_status "$WOO_A_PORT" 500)" -eq 8 ]
check "500 storm: the 500s are counted (requests_total{code=\"5xx\"} +8)" \
	[ $(( $(metric erpsync_http_client_requests_total 'system="woo-a",code="5xx"') - r5xx0 )) -eq 8 ]
check "500 storm: a write call failed after its retries and was tried again later" \
	[ $(( $(metric erpsync_stock_shop_calls_total 'shop="woo-a",result="failed"') - failed0 )) -ge 1 ]
check "500 storm: nothing lost (400 events applied)" wait_for 10 inbox_is 400
check "500 storm: nothing left to write" wait_for 10 drained

# ---- slow shop B: 3 calls answered after 1.5 s, then one past the client's 10 s timeout -------------
# next round: quantity 40 + 3 = 43 (version 24); A 41, B 38
check "shop B is made slow (3 calls of 1.5 s)" fault "$WOO_B_PORT" '{"mode":"slow","count":3,"delay_ms":1500}'
stockgen -n 200 -s 50 -q 40 -v 20 -e slow1 >/dev/null
check "slow shop: shop B still converges (38)" wait_for 60 shop_all "$WOO_B_PORT" 38
check "slow shop: shop A converges too (41)" wait_for 30 shop_all "$WOO_A_PORT" 41
err0=$(metric erpsync_http_client_requests_total 'system="woo-b",code="error"')
check "shop B is made slower than the client's timeout (one call of 11 s)" \
	fault "$WOO_B_PORT" '{"mode":"slow","count":1,"delay_ms":11000}'
# quantity 60 + 1 = 61 (version 32); A 59, B 56
t_slow=$(now_ms)
stockgen -n 100 -s 50 -q 60 -v 30 -e slow2 >/dev/null
check "timed-out shop: shop B converges after the timeout (56)" wait_for 60 shop_all "$WOO_B_PORT" 56
check "timed-out shop: shop A converges (59)" wait_for 30 shop_all "$WOO_A_PORT" 59
check "timed-out shop: the timeout was seen and retried (requests_total{code=\"error\"} +1)" \
	[ $(( $(metric erpsync_http_client_requests_total 'system="woo-b",code="error"') - err0 )) -ge 1 ]
check "slow shop: nothing lost (700 events applied)" wait_for 10 inbox_is 700
check "slow shop: nothing left to write" wait_for 10 drained
# the timed-out call is applied by the shop only when its 11 s are over; it carried the same
# absolute quantities as its retry, so the shop still shows the rule afterwards. Wait for it, not
# for a time: the shop counts a call once it has answered it, and stock-sync counts each attempt
# it made, so when the two agree the late call has been applied too.
answered_all() {
	[ "$(woo "http://127.0.0.1:$WOO_B_PORT/sandbox/stats" | jq -r '.calls // -1')" -eq \
		"$(metric erpsync_http_client_requests_total 'system="woo-b"')" ]
}
check "shop B has answered every call stock-sync made to it, the timed-out one included" \
	wait_for 30 answered_all
echo "   (the timed-out call was answered $(( $(now_ms) - t_slow )) ms after the round was produced)"
check "after the late answer of the timed-out call, shop B still shows the rule (56)" shop_all "$WOO_B_PORT" 56
