# One shop's calls never hold up another's. Shop A hangs (every call answered after 30 s, past the
# client's 10 s timeout, so each of its writes is tried five times and fails after ~50 s) while
# shop B answers at once: changes keep reaching B within its usual latency, one after another, and
# A backs off alone. Then shop B's SKU lookups fail: a cycle that could only look up and failed is
# a failure with a back-off, not a success that starts again at once.
. "$(dirname "$0")/../lib.sh"
it_setup 20

woo() { curl -s -u ck_it:cs_it "$@"; }
fault() { woo -o /dev/null -w '%{http_code}' -X POST -d "$2" "http://127.0.0.1:$1/sandbox/faults" | grep -q '^200$'; }
woo_status() { woo "http://127.0.0.1:$1/sandbox/stats" | jq -r ".by_status.\"$2\" // 0"; }
mapped() { [ "$(psql_q "SELECT count(*) FROM stock_sync.sku_map")" -eq 40 ]; }
now_ms() { date +%s%3N; }
check "both shops' SKU maps are learned" wait_for 30 mapped

# ---- shop A hangs; five changes in a row reach shop B, each within 2 s ----------------------------
check "shop A hangs (every call answered after 30 s)" fault "$WOO_A_PORT" '{"mode":"slow","count":-1,"delay_ms":30000}'
for i in 1 2 3 4 5; do
	q=$((20 + i))
	t0=$(now_ms)
	stockgen -n 1 -s 1 -q "$q" -v $((100 + i)) -e "iso$i" >/dev/null
	wait_for 20 qty_is "$WOO_B_PORT" SKU-000001 $((q - 5))
	ok=$?
	ms=$(( $(now_ms) - t0 ))
	check "while A hangs, change $i reaches shop B within 2 s (B shows $((q - 5)) after $ms ms)" \
		[ "$ok" -eq 0 -a "$ms" -lt 2000 ]
	sleep 0.5
done
check "shop A was being called meanwhile (its calls hang)" [ "$(woo "http://127.0.0.1:$WOO_A_PORT/sandbox/stats" | jq -r '.calls')" -ge 1 ]
check "shop A is released" fault "$WOO_A_PORT" '{"mode":"none"}'
check "shop A converges once released (25 - 2)" wait_for 90 qty_is "$WOO_A_PORT" SKU-000001 23

# ---- shop B's lookups fail: counted as a failed call, with a back-off --------------------------
# the only change is to SKU-000025, which neither shop's listing has: all there is to do for it is
# a lookup (shop A does not know it; shop B answers 500 to every call)
failed0=$(metric erpsync_stock_shop_calls_total 'shop="woo-b",result="failed"')
check "shop B answers 500 to every call" fault "$WOO_B_PORT" '{"mode":"500","count":-1}'
check "an ERP change to SKU-000025 only" erp_set SKU-000025 WH-MAIN 40
lookups_failing() { [ "$(woo_status "$WOO_B_PORT" 500)" -ge 5 ]; }
check "shop B's lookups are being answered 500" wait_for 30 lookups_failing
failed_counted() {
	[ $(( $(metric erpsync_stock_shop_calls_total 'shop="woo-b",result="failed"') - failed0 )) -ge 1 ]
}
check "a cycle whose lookups all failed (nothing else to write) counts as a failed call" wait_for 30 failed_counted
check "and shop B backs off (logged with its pause)" \
	wait_for 10 grep -q '"message":"shop woo-b: lookups failed, nothing written; next attempt in [0-9]* ms' \
	"$IT_DIR/stock-sync.log"
sleep 3        # past the first pauses (0.5 s, 1 s, 2 s ...)
n500=$(woo_status "$WOO_B_PORT" 500)
sleep 4
n500=$(( $(woo_status "$WOO_B_PORT" 500) - n500 ))
echo "   (shop B answered $n500 more 500s in 4 s)"
check "backing off, shop B is not asked over and over (one lookup of 5 attempts per cycle: <= 10 calls in 4 s, got $n500)" \
	[ "$n500" -le 10 ]
check "shop B is released" fault "$WOO_B_PORT" '{"mode":"none"}'
unknown_b() { [ "$(psql_q "SELECT count(*) FROM stock_sync.unknown_sku WHERE shop = 'woo-b' AND sku = 'SKU-000025'")" -eq 1 ]; }
check "once released, shop B's lookup goes through (SKU-000025: not known to B)" wait_for 60 unknown_b
