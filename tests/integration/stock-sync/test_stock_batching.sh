# Coalescing and batching: 1,000 changes of the same 100 SKUs reach each shop as a handful of
# batch calls (not 1,000 single writes), no batch over the shop's 100-item limit, and each shop
# ends equal to the rule for every SKU (last quantity - the shop's buffer).
. "$(dirname "$0")/../lib.sh"
it_setup 100

# woo_stat PORT FIELD: a number from the sandbox shop's /sandbox/stats
woo_stat() { curl -s -u ck_it:cs_it "http://127.0.0.1:$1/sandbox/stats" | jq -r ".$2 // 0"; }
# shop_all PORT N: every one of the 100 demo SKUs shows N
shop_all() {
	[ "$(curl -s -u ck_it:cs_it "http://127.0.0.1:$1/sandbox/stock" |
		jq --argjson n "$2" '[to_entries[] | select(.value == $n)] | length')" -eq 100 ]
}
mapped() { [ "$(psql_q "SELECT count(*) FROM stock_sync.sku_map")" -eq 200 ]; }
# the writer learns both shops' listings before the run, so the counts below are the run's alone
check "both shops' SKU maps are learned (100 each)" wait_for 30 mapped

a0=$(woo_stat "$WOO_A_PORT" batch_calls)
b0=$(woo_stat "$WOO_B_PORT" batch_calls)
wa0=$(woo_stat "$WOO_A_PORT" writes)
wb0=$(woo_stat "$WOO_B_PORT" writes)
# 10 rounds over SKU-000001..100: round r carries quantity 50 + r and version r + 1, so the last
# of each SKU is 59 (version 10); shop A shows 59 - 2 = 57, shop B 59 - 5 = 54
check "stockgen produces 1,000 records" stockgen -n 1000 -s 100 -q 50 -v 0 -e batching
check "all 1,000 events are applied" wait_for 30 bash -c \
	"[ \$(psql \"$PG_DSN\" -XAtc 'SELECT count(*) FROM stock_sync.inbox') -eq 1000 ]"
check "shop A shows 57 (59 - buffer 2) for all 100 SKUs" wait_for 30 shop_all "$WOO_A_PORT" 57
check "shop B shows 54 (59 - buffer 5) for all 100 SKUs" wait_for 30 shop_all "$WOO_B_PORT" 54
drained() { [ "$(psql_q "SELECT (SELECT count(*) FROM stock_sync.shop_dirty) + (SELECT count(*) FROM stock_sync.shop_mark)")" -eq 0 ]; }
check "nothing is left to write" wait_for 10 drained

da=$(($(woo_stat "$WOO_A_PORT" batch_calls) - a0))
db=$(($(woo_stat "$WOO_B_PORT" batch_calls) - b0))
wa=$(($(woo_stat "$WOO_A_PORT" writes) - wa0))
wb=$(($(woo_stat "$WOO_B_PORT" writes) - wb0))
echo "   (batch calls: shop A $da, shop B $db; item writes: shop A $wa, shop B $wb)"
check "1,000 changes became at most 5 batch calls in shop A (got $da)" [ "$da" -ge 1 -a "$da" -le 5 ]
check "1,000 changes became at most 5 batch calls in shop B (got $db)" [ "$db" -ge 1 -a "$db" -le 5 ]
# at most 100 items a call: more would have been answered 413 and counted there
check "no batch exceeded the shop's 100-item limit (no 413)" bash -c \
	"[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/sandbox/stats | jq '.by_status.\"413\" // 0')\" = 0 ] &&
	 [ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_B_PORT/sandbox/stats | jq '.by_status.\"413\" // 0')\" = 0 ]"
check "changes coalesced: at most 500 item writes per shop for 1,000 changes (A $wa, B $wb)" \
	[ "$wa" -le 500 -a "$wb" -le 500 ]
check "no single write calls were made (everything through the batch endpoint)" bash -c \
	"[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/sandbox/stats | jq '.by_route.\"PUT /products/{id}\" // 0')\" = 0 ]"
check "the writes are counted by stock-sync" [ "$(metric erpsync_stock_shop_writes_total)" -ge 200 ]
