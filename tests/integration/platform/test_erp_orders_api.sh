# The sandbox ERP's order API as order-sync relies on it: refusals with their causes, external
# references not unique (and counted), cancel rules, the status feed (creation included, every
# transition once), payments/returns/complaints by reference, the lost-answer fault (done, never
# answered), the 500 fault on the new endpoints, and the signed push of order changes with its
# X-ERP-Event header. Ends with a rough rate of POST /api/v1/orders from one curl process.
. "$(dirname "$0")/../lib.sh"
HOOK_PORT=$((ERP_PORT + 3))
HOOK_SECRET=it-order-hook
# a receiver that checks the signature and keeps "<event> <status>" per push
cat >"$IT_DIR/hook.py" <<'PY'
import hashlib, hmac, http.server, json, sys
port, secret, out = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ts, sig = self.headers.get("X-ERP-Timestamp", ""), self.headers.get("X-ERP-Signature", "")
        good = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest() == sig
        with open(out, "a") as f:
            f.write("%s %s %s\n" % (self.headers.get("X-ERP-Event"), json.loads(body).get("status"), good))
        self.send_response(200 if good else 401); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
it_spawn hook python3 "$IT_DIR/hook.py" "$HOOK_PORT" "$HOOK_SECRET" "$IT_DIR/pushed"
start_erp 3 SANDBOX_ERP_ORDER_WEBHOOK_URL="http://127.0.0.1:$HOOK_PORT/erp" SANDBOX_ERP_WEBHOOK_SECRET="$HOOK_SECRET"

api() { # api METHOD PATH [BODY]: prints "<status> <body>"
	curl -s -X "$1" -H "Authorization: Bearer $ERP_TOKEN" -H 'Content-Type: application/json' \
		${3:+-d "$3"} -w ' %{http_code}' "http://127.0.0.1:$ERP_PORT$2" | awk '{s=$NF; $NF=""; print s, $0}'
}
status_is() { [ "$(api "$1" "$2" "${4:-}" | cut -d' ' -f1)" = "$3" ]; }
json_of() { api "$@" | cut -d' ' -f2-; }
stat() { json_of GET /sandbox/stats | jq -r "$1"; }

line='{"sku":"SKU-000001","name":"Kubek","quantity_milli":2000,"unit_price_minor":1230,"price_basis":"gross","vat_rate_bp":2300,"net_minor":2000,"tax_minor":460,"gross_minor":2460,"kind":"item"}'
ship='{"name":"InPost","kind":"shipping","vat_rate_bp":2300,"net_minor":1000,"tax_minor":230,"gross_minor":1230}'
addr='{"name":"Jan","line1":"Długa 5","city":"Kraków","postal_code":"30-001","country_code":"PL"}'
order() { # order REF [LINE2] [SHIPPING-ADDRESS] [GROSS] [NET] [TAX]
	echo "{\"external_ref\":\"$1\",\"customer_id\":\"$CUS\",\"currency\":\"PLN\",\"lines\":[$line,${2:-$ship}],\"shipping\":${3:-$addr},\"totals\":{\"net_minor\":${5:-3000},\"tax_minor\":${6:-690},\"gross_minor\":${4:-3690}}}"
}

CUS=$(json_of POST /api/v1/customers '{"name":"Jan Kowalski","nip":"5260250274","email":"Jan@Example.pl"}' | jq -r .id)
check "a customer is created and found by NIP and by e-mail (any case)" bash -c \
	"[ \"\$(curl -s -H 'Authorization: Bearer $ERP_TOKEN' 'http://127.0.0.1:$ERP_PORT/api/v1/customers?nip=5260250274' | jq -r '.items[0].id')\" = $CUS ] &&
	 [ \"\$(curl -s -H 'Authorization: Bearer $ERP_TOKEN' 'http://127.0.0.1:$ERP_PORT/api/v1/customers?email=jan%40example.pl' | jq -r '.items[0].id')\" = $CUS ]"

R=$(api POST /api/v1/orders "$(order 'woo-a|1')")
check "an order is booked: 201, SO number, confirmed" bash -c "[[ '$R' == 201* ]] && echo '${R#* }' | jq -e '.number == \"SO/'\$(date -u +%Y)'/00001\" and .status == \"confirmed\"' >/dev/null"
ORD=$(echo "${R#* }" | jq -r .id)
R=$(api POST /api/v1/orders "$(order 'woo-a|2' "${line/SKU-000001/NOPE-1}")")
check "an unknown SKU is 422 unknown_sku naming it and its line" \
	bash -c "[ '$(echo "$R" | cut -c1-3)' = 422 ] && echo '${R#* }' | jq -e '.error == \"unknown_sku\" and .message == \"unknown SKU NOPE-1 on line 2\"' >/dev/null"
check "a SKU added to the catalogue is known then" bash -c \
	"curl -s -H 'Authorization: Bearer $ERP_TOKEN' -d '{\"sku\":\"NOPE-1\"}' http://127.0.0.1:$ERP_PORT/sandbox/skus >/dev/null"
check "  and the same order is booked" status_is POST /api/v1/orders 201 "$(order 'woo-a|2' "${line/SKU-000001/NOPE-1}" "$addr" 4920 4000 920)"
check "a shipped order without a postal code is 422 invalid_address" \
	bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $ERP_TOKEN' -d '$(order 'woo-a|3' "$ship" '{"city":"Kraków","country_code":"PL"}')' http://127.0.0.1:$ERP_PORT/api/v1/orders)\" = 422 ]"
check "lines that do not add up to the totals are 422 totals_mismatch" \
	bash -c "curl -s -H 'Authorization: Bearer $ERP_TOKEN' -d '$(order 'woo-a|3' "$ship" "$addr" 3691)' http://127.0.0.1:$ERP_PORT/api/v1/orders | jq -e '.error == \"totals_mismatch\"' >/dev/null"
check "a second order with the same reference is booked too (the ERP does not enforce it)" \
	status_is POST /api/v1/orders 201 "$(order 'woo-a|1')"
check "  the lookup by reference returns both, oldest first" \
	bash -c "curl -s -H 'Authorization: Bearer $ERP_TOKEN' 'http://127.0.0.1:$ERP_PORT/api/v1/orders?external_ref=woo-a%7C1' | jq -e '(.items | length) == 2 and .items[0].id == \"$ORD\"' >/dev/null"
check "  and the statistics count it as a duplicated reference" bash -c "[ \"\$(curl -s -H 'Authorization: Bearer $ERP_TOKEN' http://127.0.0.1:$ERP_PORT/sandbox/stats | jq -c '[.orders, .external_refs, .duplicated_external_refs]')\" = '[3,2,1]' ]"

check "cancel: 200" status_is POST "/api/v1/orders/$ORD/cancel" 200 '{"reason":"customer"}'
check "cancel again: 200 (already cancelled)" status_is POST "/api/v1/orders/$ORD/cancel" 200
ORD2=$(json_of GET '/api/v1/orders?external_ref=woo-a%7C2' | jq -r '.items[0].id')
check "an invoiced order is 409 not_cancellable" bash -c \
	"curl -s -X POST -H 'Authorization: Bearer $ERP_TOKEN' http://127.0.0.1:$ERP_PORT/sandbox/orders/$ORD2/invoiced >/dev/null &&
	 [ \"\$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer $ERP_TOKEN' http://127.0.0.1:$ERP_PORT/api/v1/orders/$ORD2/cancel)\" = 409 ]"
check "the sandbox switch moves an order on" status_is POST "/sandbox/orders/$ORD2/status" 200 '{"status":"shipped","reason":"DPD 1"}'
check "the feed holds every change once, creations included, in order" bash -c \
	"[ \"\$(curl -s -H 'Authorization: Bearer $ERP_TOKEN' 'http://127.0.0.1:$ERP_PORT/api/v1/order-changes?since=0&limit=2' | jq -r '[.items[].status] | join(\",\")')\" = confirmed,confirmed ] &&
	 [ \"\$(curl -s -H 'Authorization: Bearer $ERP_TOKEN' 'http://127.0.0.1:$ERP_PORT/api/v1/order-changes?since=2&limit=100' | jq -c '[[.items[].status], .next_cursor, .has_more]')\" = '[[\"confirmed\",\"cancelled\",\"shipped\"],\"5\",false]' ]"

check "a payment is booked against the order and found by its reference" bash -c \
	"curl -s -H 'Authorization: Bearer $ERP_TOKEN' -d '{\"order_id\":\"$ORD2\",\"external_ref\":\"woo-a|2|p1\",\"amount_minor\":4920,\"currency\":\"PLN\"}' http://127.0.0.1:$ERP_PORT/api/v1/payments | jq -e '.id' >/dev/null &&
	 curl -s -H 'Authorization: Bearer $ERP_TOKEN' 'http://127.0.0.1:$ERP_PORT/api/v1/payments?external_ref=woo-a%7C2%7Cp1' | jq -e '.items | length == 1' >/dev/null"
check "a payment of an unknown order is 404" status_is POST /api/v1/payments 404 '{"order_id":"ord_999","external_ref":"x","amount_minor":1,"currency":"PLN"}'
check "a return within the order's total: 201 RET number" bash -c \
	"curl -s -H 'Authorization: Bearer $ERP_TOKEN' -d '{\"order_id\":\"$ORD2\",\"external_ref\":\"woo-a|2|r1\",\"kind\":\"refund_only\",\"total_minor\":4000}' http://127.0.0.1:$ERP_PORT/api/v1/returns | jq -e '.number | startswith(\"RET/\")' >/dev/null"
check "a return past what is left of it: 422" status_is POST /api/v1/returns 422 "{\"order_id\":\"$ORD2\",\"external_ref\":\"woo-a|2|r2\",\"kind\":\"refund_only\",\"total_minor\":921}"
REK=$(json_of POST /api/v1/complaints "{\"order_id\":\"$ORD2\",\"external_ref\":\"woo-a|2|c1\",\"lines\":[{\"sku\":\"NOPE-1\",\"quantity_milli\":1000,\"reason\":\"broken\"}],\"reason\":\"defective\",\"requested_remedy\":\"refund\"}" | jq -r .id)
api POST "/sandbox/complaints/$REK/decision" '{"status":"accepted","resolution":"refund","note":"ok","refund_minor":1230}' >/dev/null
check "a complaint's decision is in the complaint feed" bash -c \
	"curl -s -H 'Authorization: Bearer $ERP_TOKEN' 'http://127.0.0.1:$ERP_PORT/api/v1/complaint-changes?since=0' | jq -e '[.items[].status] == [\"open\",\"accepted\"] and .items[1].refund_minor == 1230' >/dev/null"

# the write is done, the answer lost: the lookup before it does not use the fault up
api POST /sandbox/faults '{"mode":"lost_answer","path":"/api/v1/orders"}' >/dev/null
check "a read while lost_answer is armed answers normally" status_is GET '/api/v1/orders?external_ref=woo-a%7C9' 200
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ERP_TOKEN" -d "$(order 'woo-a|9')" "http://127.0.0.1:$ERP_PORT/api/v1/orders")
check "lost_answer: the create gets no answer" [ "$code" = 000 ]
check "  but the order is there" bash -c "curl -s -H 'Authorization: Bearer $ERP_TOKEN' 'http://127.0.0.1:$ERP_PORT/api/v1/orders?external_ref=woo-a%7C9' | jq -e '.items | length == 1' >/dev/null"
api POST /sandbox/faults '{"mode":"500","count":1}' >/dev/null
check "the 500 fault applies to the order API" status_is GET '/api/v1/order-changes?since=0' 500
api POST /sandbox/faults '{"mode":"429","count":1}' >/dev/null
check "the 429 fault too" status_is POST /api/v1/payments 429 '{}'

check "every order change and complaint decision was pushed, signed, with its event" wait_for 10 bash -c \
	"[ \"\$(grep -c 'order.status_changed .* True' '$IT_DIR/pushed')\" = 6 ] && [ \"\$(grep -c 'complaint.decided .* True' '$IT_DIR/pushed')\" = 2 ]"
check "the calls are counted per endpoint" bash -c "curl -s -H 'Authorization: Bearer $ERP_TOKEN' http://127.0.0.1:$ERP_PORT/sandbox/stats | jq -e '.calls_by_endpoint[\"POST /api/v1/orders\"] == 7' >/dev/null"

# a rough rate: one curl process, 8 connections in parallel, 2000 orders (each block ends in
# "next", or curl would join every body into one)
esc=$(order 'bench|x' | sed 's/"/\\"/g')
for i in $(seq 1 2000); do
	[ "$i" -gt 1 ] && echo next
	printf 'url = "http://127.0.0.1:%s/api/v1/orders"\nheader = "Authorization: Bearer %s"\ndata = "%s"\noutput = /dev/null\n' \
		"$ERP_PORT" "$ERP_TOKEN" "${esc/bench|x/bench|$i}"
done >"$IT_DIR/bench.cfg"
start=$(date +%s%N)
curl -s -Z --parallel-max 8 -K "$IT_DIR/bench.cfg" 2>/dev/null
ms=$((($(date +%s%N) - start) / 1000000))
echo "  2000 POST /api/v1/orders from one curl (8 in parallel) in $ms ms ($((2000000 / (ms > 0 ? ms : 1))) orders/s)"
check "the 2000 orders were all booked" bash -c "curl -s -H 'Authorization: Bearer $ERP_TOKEN' http://127.0.0.1:$ERP_PORT/sandbox/stats | jq -e '.orders == 2004' >/dev/null"
