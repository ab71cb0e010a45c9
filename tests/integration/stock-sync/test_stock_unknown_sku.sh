# A SKU a shop does not have: the other SKUs of the same batch are written, the unknown one is
# recorded (stock_sync.unknown_sku, GET /admin/unknown-skus, erpsync_stock_unknown_skus{shop})
# and does not stay stuck; once the shop has the product, the next change reaches it.
. "$(dirname "$0")/../lib.sh"
reset_schema
it_topics
start_erp 0
start_woo "$WOO_A_PORT" 20 SANDBOX_WOO_SKIP_SKUS=SKU-000007
start_woo "$WOO_B_PORT" 20
# unknown SKUs are looked up again after 3 s here (1 min by default)
start_stock STOCK_UNKNOWN_RECHECK=3s
check "stock-sync becomes ready" stock_ready 30

woo() { curl -s -u ck_it:cs_it "$@"; }
# count_is PORT N VALUE: N SKUs of the shop show VALUE
count_is() {
	[ "$(woo "http://127.0.0.1:$1/sandbox/stock" |
		jq --argjson v "$3" '[to_entries[] | select(.value == $v)] | length')" -eq "$2" ]
}
unknown_rows() { psql_q "SELECT string_agg(shop || ':' || sku, ',' ORDER BY shop, sku) FROM stock_sync.unknown_sku"; }
unknown_is() { [ "$(unknown_rows)" = "$1" ]; }
check "shop A does not have SKU-000007" [ "$(woo "http://127.0.0.1:$WOO_A_PORT/sandbox/stock" | jq -r '."SKU-000007" // "absent"')" = absent ]

# one record for each of SKU-000001..20 (quantity 30, version 1): they are applied and written in
# the same cycle, so SKU-000007 travels in the same batch as the 19 others
stockgen -n 20 -s 20 -q 30 -v 0 -e unknown1 >/dev/null
check "shop A gets the 19 SKUs it has (30 - 2 = 28)" wait_for 30 count_is "$WOO_A_PORT" 19 28
check "shop B gets all 20, SKU-000007 included (30 - 5 = 25)" wait_for 30 count_is "$WOO_B_PORT" 20 25
check "the unknown SKU is recorded for shop A only" wait_for 10 unknown_is "woo-a:SKU-000007"
drained() { [ "$(psql_q "SELECT (SELECT count(*) FROM stock_sync.shop_dirty) + (SELECT count(*) FROM stock_sync.shop_mark)")" -eq 0 ]; }
check "the unknown SKU does not stay dirty (nothing left to write)" wait_for 10 drained
admin=$(curl -s "http://127.0.0.1:$STOCK_PORT/admin/unknown-skus")
echo "   (GET /admin/unknown-skus: $admin)"
check "GET /admin/unknown-skus lists SKU-000007 under woo-a" \
	[ "$(jq -r '[.["woo-a"][].sku] | join(",")' <<<"$admin")" = SKU-000007 ]
check "GET /admin/unknown-skus lists nothing for woo-b" [ "$(jq -r '.["woo-b"] // [] | length' <<<"$admin")" -eq 0 ]
check "erpsync_stock_unknown_skus{shop=\"woo-a\"} is 1" \
	[ "$(metric erpsync_stock_unknown_skus 'shop="woo-a"')" -eq 1 ]
check "erpsync_stock_unknown_skus{shop=\"woo-b\"} is 0" \
	[ "$(metric erpsync_stock_unknown_skus 'shop="woo-b"')" -eq 0 ]
check "the log names the shop and the unknown SKU" \
	grep -q '"sku":"SKU-000007".*does not know\|does not know.*"sku":"SKU-000007"' "$IT_DIR/stock-sync.log"

# a second round: still recorded (seen again), still not blocking the others
stockgen -n 20 -s 20 -q 40 -v 10 -e unknown2 >/dev/null
check "a later round reaches shop A's other SKUs (40 - 2 = 38)" wait_for 30 count_is "$WOO_A_PORT" 19 38
seen_twice() { [ "$(psql_q "SELECT times FROM stock_sync.unknown_sku WHERE shop = 'woo-a' AND sku = 'SKU-000007'")" -ge 2 ]; }
check "the unknown SKU is counted as seen again" wait_for 10 seen_twice

# the shop gets the product: the next change is looked up, written, and no longer unknown
check "SKU-000007 is added to shop A" bash -c "curl -s -u ck_it:cs_it -X POST -o /dev/null -w '%{http_code}' \
	-d '{\"id\":1007,\"name\":\"late product\",\"sku\":\"SKU-000007\",\"manage_stock\":true,\"stock_quantity\":0}' \
	http://127.0.0.1:$WOO_A_PORT/sandbox/products | grep -q '^201$'"
sleep 3   # the recheck interval: until then the shop is taken at its word that it has no such SKU
stockgen -n 7 -s 7 -q 50 -v 20 -e unknown3 >/dev/null   # SKU-000001..7, quantity 50
check "once the shop has it, SKU-000007 is written to shop A (50 - 2 = 48)" \
	wait_for 30 qty_is "$WOO_A_PORT" SKU-000007 48
check "and it is no longer recorded as unknown" wait_for 10 unknown_is ""
metric_is() { [ "$(metric "$1" "$2")" -eq "$3" ]; }
check "erpsync_stock_unknown_skus{shop=\"woo-a\"} is back to 0" \
	wait_for 10 metric_is erpsync_stock_unknown_skus 'shop="woo-a"' 0
