# The ERP webhook (POST /webhooks/erp/stock, ERP_WEBHOOK_SECRET): a signed record is accepted
# (202) and reaches the shops without polling (poll interval 1 h); a wrong or missing signature is
# 401, so is a signed push whose timestamp is outside ERP_WEBHOOK_TOLERANCE (a replay); malformed
# JSON is 400, and a batch with one bad item 400 with none of its items applied.
. "$(dirname "$0")/../lib.sh"
reset_schema
it_topics
start_erp 0
start_woo "$WOO_A_PORT" 20
start_woo "$WOO_B_PORT" 20
SECRET=it-webhook-secret-$$
start_stock ERP_WEBHOOK_SECRET="$SECRET" STOCK_POLL_INTERVAL=1h ERP_WEBHOOK_TOLERANCE=60s
check "stock-sync becomes ready" stock_ready 30

HOOK=http://127.0.0.1:$STOCK_PORT/webhooks/erp/stock
# sign BODY SECRET [TIMESTAMP]: hex HMAC-SHA256 of "<timestamp>.<body>" (TS, default now)
TS=$(date +%s)
sign() { printf '%s.%s' "${3:-$TS}" "$1" | openssl dgst -sha256 -hmac "$2" -hex | sed 's/^.*= //'; }
# post BODY [SIGNATURE [TIMESTAMP]]: POSTs BODY with X-ERP-Timestamp (TS, "" for none) signed with
# the shared secret (or the signature given, "" for none); prints the HTTP status, the answer in
# $IT_DIR/answer.json
post() {
	TS=${3-$(date +%s)}
	local sig=${2-$(sign "$1" "$SECRET")}
	local -a h=(-H 'Content-Type: application/json')
	[ -n "$sig" ] && h+=(-H "X-ERP-Signature: $sig")
	[ -n "$TS" ] && h+=(-H "X-ERP-Timestamp: $TS")
	curl -s -o "$IT_DIR/answer.json" -w '%{http_code}' -X POST "${h[@]}" --data-binary "$1" "$HOOK"
}
# rec SKU WAREHOUSE ON_HAND RESERVED VERSION: a record as the ERP's stock API shows it
rec() {
	printf '{"sku":"%s","warehouse":"%s","on_hand":%d,"reserved":%d,"available":%d,"version":%d,"changed_at":"%s"}' \
		"$1" "$2" "$3" "$4" $(($3 - $4)) "$5" "$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)"
}
both_qty() { qty_is "$WOO_A_PORT" "$1" "$2" && qty_is "$WOO_B_PORT" "$1" "$3"; }
stored() { psql_q "SELECT count(*) FROM stock_sync.stock WHERE sku = '$1'"; }
polled() { metric erpsync_stock_erp_changes_total; }

# ---- a signed record ------------------------------------------------------------------------------
# SKU-000006: available 30 - 2 = 28; shop A 28 - 2 = 26, shop B 28 - 5 = 23
body=$(rec SKU-000006 WH-MAIN 30 2 1)
code=$(post "$body")
check "a correctly signed record is accepted (202, got $code)" [ "$code" = 202 ]
check "the answer says one record was accepted" [ "$(jq -r .accepted "$IT_DIR/answer.json")" = 1 ]
check "the shops follow (A 26, B 23)" wait_for 20 both_qty SKU-000006 26 23
check "it came through the webhook, not polling (no ERP changes polled)" [ "$(polled)" -eq 0 ]
check "the push is counted (erpsync_stock_erp_webhook_total{result=\"accepted\"})" \
	[ "$(metric erpsync_stock_erp_webhook_total 'result="accepted"')" -eq 1 ]

# a signed batch of two records (SKU-000010 and SKU-000011 in WH-MAIN): both applied
body=$(printf '{"items":[%s,%s]}' "$(rec SKU-000010 WH-MAIN 40 0 1)" "$(rec SKU-000011 WH-MAIN 41 0 1)")
code=$(post "$body")
check "a correctly signed batch is accepted (202, got $code)" [ "$code" = 202 ]
check "the batch's records reach the shops (SKU-000010 A 38 B 35, SKU-000011 A 39 B 36)" \
	wait_for 20 eval 'both_qty SKU-000010 38 35 && both_qty SKU-000011 39 36'

# ---- rejected pushes: nothing of them may be applied ---------------------------------------------
bad=$(rec SKU-000008 WH-MAIN 80 0 1)
code=$(post "$bad" "$(sign "$bad" wrong-secret)")
check "a signature made with another secret is refused (401, got $code)" [ "$code" = 401 ]
code=$(post "$bad" "")
check "a push without a signature is refused (401, got $code)" [ "$code" = 401 ]
code=$(post "$bad" "$(sign "$(rec SKU-000008 WH-MAIN 81 0 1)" "$SECRET")")
check "a signature of another body is refused (401, got $code)" [ "$code" = 401 ]
code=$(post "$bad" "zz$(sign "$bad" "$SECRET" | cut -c3-)")
check "a signature that is not hex is refused (401, got $code)" [ "$code" = 401 ]
code=$(post "$bad" "$(sign "$bad" "$SECRET" "")" "")
check "a push without X-ERP-Timestamp is refused (401, got $code)" [ "$code" = 401 ]
now=$(date +%s)
code=$(post "$bad" "$(sign "$bad" "$SECRET" $((now - 10)))" $((now - 11)))
check "a signature made for another timestamp is refused (401, got $code)" [ "$code" = 401 ]
# a captured push sent again later: correctly signed, but its timestamp is 2 min old (tolerance 60 s)
code=$(post "$bad" "$(sign "$bad" "$SECRET" $((now - 120)))" $((now - 120)))
check "a correctly signed push 2 min old is refused as a replay (401, got $code)" [ "$code" = 401 ]
check "the answer says why (stale_timestamp)" grep -q stale_timestamp "$IT_DIR/answer.json"
code=$(post "$bad" "$(sign "$bad" "$SECRET" $((now + 120)))" $((now + 120)))
check "so is one 2 min ahead of this host's clock (401, got $code)" [ "$code" = 401 ]
code=$(post '{"sku":"SKU-000012","warehouse":"WH-MAIN","on_hand":')
check "malformed JSON (correctly signed) is refused (400, got $code)" [ "$code" = 400 ]
code=$(post '{"sku":"SKU-000012","warehouse":"WH-MAIN","on_hand":5}')
check "a record missing fields is refused (400, got $code)" [ "$code" = 400 ]
# all or nothing: the first item is good, the second lacks "available"
body=$(printf '{"items":[%s,{"sku":"SKU-000013","warehouse":"WH-MAIN","on_hand":9,"reserved":0,"version":1,"changed_at":"2026-01-01T00:00:00Z"}]}' \
	"$(rec SKU-000012 WH-MAIN 90 0 1)")
code=$(post "$body")
check "a batch with one bad item is refused (400, got $code)" [ "$code" = 400 ]
check "the 400 names the bad item" grep -q 'item 1' "$IT_DIR/answer.json"
code=$(post '{"items":[]}')
check "an empty batch is refused (400, got $code)" [ "$code" = 400 ]
check "the rejected pushes are counted (bad_signature 6, stale_timestamp 2, malformed 4)" bash -c \
	"[ \"\$(curl -s http://127.0.0.1:$STOCK_PORT/metrics | awk '/^erpsync_stock_erp_webhook_total/ {print \$1, \$2}' | sort | tr '\n' ' ')\" = \
	 'erpsync_stock_erp_webhook_total{result=\"accepted\"} 2 erpsync_stock_erp_webhook_total{result=\"bad_signature\"} 6 erpsync_stock_erp_webhook_total{result=\"malformed\"} 4 erpsync_stock_erp_webhook_total{result=\"stale_timestamp\"} 2 ' ]"

# a good push after the rejected ones: once it has reached the shops, anything queued before it
# would have too
code=$(post "$(rec SKU-000014 WH-MAIN 20 0 1)")
check "a signed record after the rejected ones is accepted (202, got $code)" [ "$code" = 202 ]
check "it reaches the shops (A 18, B 15)" wait_for 20 both_qty SKU-000014 18 15
check "nothing of the wrongly signed pushes was applied (SKU-000008 unknown to stock-sync)" [ "$(stored SKU-000008)" -eq 0 ]
check "the shops still show SKU-000008's own quantity (demo 6)" both_qty SKU-000008 6 6
check "nothing of the malformed pushes was applied (SKU-000012, SKU-000013)" \
	[ "$(stored SKU-000012)" -eq 0 -a "$(stored SKU-000013)" -eq 0 ]
check "nothing was queued beyond the accepted records (4 events applied)" \
	[ "$(psql_q "SELECT count(*) FROM stock_sync.inbox")" -eq 4 ]
check "nothing is left in the outbox" [ "$(psql_q "SELECT count(*) FROM stock_sync.outbox")" -eq 0 ]

# ---- an older version pushed late does not overwrite a newer one ----------------------------------
code=$(post "$(rec SKU-000006 WH-MAIN 60 0 3)")
check "version 3 of SKU-000006 is accepted" [ "$code" = 202 ]
check "it reaches the shops (A 58, B 55)" wait_for 20 both_qty SKU-000006 58 55
code=$(post "$(rec SKU-000006 WH-MAIN 5 0 2)")
check "a late version 2 is accepted (202) as a delivery" [ "$code" = 202 ]
check "a signed record after it is accepted" [ "$(post "$(rec SKU-000015 WH-MAIN 20 0 1)")" = 202 ]
check "that record reaches the shops (A 18, B 15)" wait_for 20 both_qty SKU-000015 18 15
# SKU-000015 may travel on another partition than SKU-000006: that it arrived says nothing about
# the late version 2. Every accepted record claims one event id, so the inbox counts them: 4 above,
# version 3, the late version 2 and SKU-000015.
inbox_is() { [ "$(psql_q "SELECT count(*) FROM stock_sync.inbox")" -eq "$1" ]; }
check "the late version 2 is consumed (7 events applied)" wait_for 20 inbox_is 7
check "everything applied so far is written to the shops" wait_for 20 all_written
check "the late version 2 changed nothing (A 58, B 55)" both_qty SKU-000006 58 55
