# Who may use /admin/...: decided by the caller, never by HTTP_BIND. Without ADMIN_TOKEN only a
# caller whose peer address is loopback, and not one relayed by a proxy; with ADMIN_TOKEN always
# "Authorization: Bearer <token>", from anywhere. Either way the Host header must name this service
# (a loopback name or address with its port, the bind address, or HTTP_ALLOWED_HOSTS): 421 else,
# which stops DNS rebinding. A state-changing request that a browser could send cross-site (a
# foreign Origin or Sec-Fetch-Site, a form or text content type) is refused.
. "$(dirname "$0")/../lib.sh"
reset_schema
it_topics
start_erp 0
start_woo "$WOO_A_PORT" 5
start_woo "$WOO_B_PORT" 5
HOST_IP=$(ip -4 -o addr show scope global | awk '{ sub("/.*", "", $4); print $4; exit }')
echo "   (this host's non-loopback address: ${HOST_IP:-none})"

URL=http://127.0.0.1:$STOCK_PORT/admin/reconcile
# req METHOD [curl args...]: /admin/reconcile on 127.0.0.1 unless a URL is given last; prints the
# status, the answer in $IT_DIR/admin.json
req() {
	local m=$1; shift
	curl -s -o "$IT_DIR/admin.json" -w '%{http_code}' --max-time 5 -X "$m" "$@"
}
# allowed CODE: an answer that got past the access rules (GET 200; POST 202, or 409 while a run is
# requested or going on)
allowed() { [ "$1" = 200 ] || [ "$1" = 202 ] || [ "$1" = 409 ]; }
# restart [VAR=value ...]: stock-sync anew with these settings, once its admin routes answer
restart() {
	if [ -n "${STOCK_PID:-}" ]; then kill -TERM "$STOCK_PID"; wait "$STOCK_PID"; fi
	start_stock STOCK_POLL_INTERVAL=1h "$@"
	wait_for 30 bash -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$STOCK_PORT/admin/unknown-skus -H 'Authorization: Bearer ${TOKEN:-x}' | grep -qv '^000\$\|^404\$'"
}
status() { curl -s --max-time 5 "$URL"; }
started() { status | jq -r .started_unix_us; }
is_leader() { [ "$(status | jq -r .leader)" = true ]; }

# ---- no token, bound to loopback -----------------------------------------------------------------
restart HTTP_ALLOWED_HOSTS=admin.example.test,ops.example.test:8443
check "stock-sync (no ADMIN_TOKEN, HTTP_BIND 127.0.0.1) answers /admin/..." [ "$(req GET "$URL")" = 200 ]
check "it becomes the leader (runs reconciliations)" wait_for 30 is_leader
idle() { [ "$(status | jq -r .state)" = idle ] && [ "$(status | jq -r .requested)" = false ]; }
wait_for 60 idle
s0=$(started)
code=$(req POST "$URL")
check "a plain POST from this host is accepted (202, got $code)" [ "$code" = 202 ]
started_since() { [ "$(started)" != "$1" ]; }
check "... and starts a reconciliation (the positive marker for the refusals below)" wait_for 20 started_since "$s0"
check "... which ends" wait_for 60 idle
s0=$(started)

code=$(req GET "$URL" -H "Host: localhost:$STOCK_PORT")
check "Host localhost:<port> is this service's (got $code)" allowed "$code"
code=$(req GET "$URL" -H "Host: [::1]:$STOCK_PORT")
check "Host [::1]:<port> is this service's (got $code)" allowed "$code"
code=$(req GET "$URL" -H "Host: admin.example.test")
check "a name in HTTP_ALLOWED_HOSTS is accepted (got $code)" allowed "$code"
code=$(req GET "$URL" -H "Host: ops.example.test:8443")
check "a name:port in HTTP_ALLOWED_HOSTS is accepted (got $code)" allowed "$code"
code=$(req GET "$URL" -H "Host: rebind.attacker.example:$STOCK_PORT")
check "a foreign Host (DNS rebinding) is refused with 421 (got $code)" [ "$code" = 421 ]
code=$(req GET "$URL" -H "Host: ops.example.test:9999")
check "a listed name on another port is refused (421, got $code)" [ "$code" = 421 ]
code=$(req POST "$URL" -H "Host: rebind.attacker.example:$STOCK_PORT")
check "a POST with a foreign Host is refused (421, got $code)" [ "$code" = 421 ]
code=$(req POST "$URL" -H "Host: rebind.attacker.example:$STOCK_PORT" -H 'Content-Length: 2000' -H 'Expect:' --max-time 3)
check "... at once, before the 2,000-byte body it announces and never sends (421, got $code)" [ "$code" = 421 ]
code=$(req POST "$URL" -H "Origin: https://evil.example")
check "a POST with a cross-site Origin is refused (403, got $code)" [ "$code" = 403 ]
code=$(req POST "$URL" -H "Origin: null")
check "a POST with Origin: null is refused (403, got $code)" [ "$code" = 403 ]
code=$(req POST "$URL" -H "Sec-Fetch-Site: cross-site")
check "a POST marked Sec-Fetch-Site: cross-site is refused (403, got $code)" [ "$code" = 403 ]
code=$(req POST "$URL" -H 'Content-Type: application/x-www-form-urlencoded' --data-binary 'a=1')
check "a POST with a form content type (what a cross-site form sends) is refused (got $code)" \
	bash -c "[ '$code' = 403 ] || [ '$code' = 415 ]"
code=$(req POST "$URL" -H 'Content-Type: text/plain' --data-binary 'a')
check "a POST with text/plain is refused (got $code)" bash -c "[ '$code' = 403 ] || [ '$code' = 415 ]"
code=$(req POST "$URL" -H 'X-Forwarded-For: 203.0.113.9')
check "a POST relayed by a proxy (X-Forwarded-For) is refused without ADMIN_TOKEN (403, got $code)" [ "$code" = 403 ]
code=$(req GET "$URL" -H 'Forwarded: for=203.0.113.9')
check "so is a GET relayed by a proxy (Forwarded) (403, got $code)" [ "$code" = 403 ]
sleep 3
check "none of the refused POSTs started a reconciliation" [ "$(started)" = "$s0" ]
code=$(req POST "$URL" -H "Origin: http://127.0.0.1:$STOCK_PORT" -H 'Content-Type: application/json' -H 'Sec-Fetch-Site: same-origin')
check "a same-origin JSON POST is accepted (got $code)" allowed "$code"
check "... and starts a run" wait_for 20 started_since "$s0"
code=$(req PUT "$URL")
check "PUT /admin/reconcile is 405 (got $code)" [ "$code" = 405 ]

# ---- no token, bound to every address ------------------------------------------------------------
if [ -n "$HOST_IP" ]; then
	restart HTTP_BIND=0.0.0.0 HTTP_ALLOWED_HOSTS="$HOST_IP:$STOCK_PORT"
	code=$(req GET "$URL")
	check "bound to 0.0.0.0 without a token, a loopback caller is served (got $code)" allowed "$code"
	code=$(req GET "http://$HOST_IP:$STOCK_PORT/admin/reconcile" --interface "$HOST_IP")
	check "... a caller from $HOST_IP (not loopback) is refused (403, got $code)" [ "$code" = 403 ]
	code=$(req GET "http://$HOST_IP:$STOCK_PORT/healthz" --interface "$HOST_IP")
	check "... though it reaches the service (/healthz 200, got $code)" [ "$code" = 200 ]
else
	fail "no non-loopback address on this host to call from"
fi

# ---- with ADMIN_TOKEN -------------------------------------------------------------------------------
TOKEN=it-admin-token-$$
if [ -n "$HOST_IP" ]; then
	restart HTTP_BIND=0.0.0.0 ADMIN_TOKEN="$TOKEN" HTTP_ALLOWED_HOSTS="$HOST_IP:$STOCK_PORT"
	code=$(req GET "http://$HOST_IP:$STOCK_PORT/admin/reconcile" --interface "$HOST_IP" -H "Authorization: Bearer $TOKEN")
	check "with ADMIN_TOKEN, a caller from $HOST_IP with the token is served (got $code)" allowed "$code"
	code=$(req GET "http://$HOST_IP:$STOCK_PORT/admin/reconcile" --interface "$HOST_IP")
	check "... without it, refused (401, got $code)" [ "$code" = 401 ]
fi
restart ADMIN_TOKEN="$TOKEN"
code=$(req GET "$URL")
check "with ADMIN_TOKEN, a loopback caller without the token is refused (401, got $code)" [ "$code" = 401 ]
code=$(req GET "$URL" -H "Authorization: Bearer wrong-$TOKEN")
check "... so is one with a wrong token (401, got $code)" [ "$code" = 401 ]
code=$(req GET "$URL" -H "Authorization: Bearer $TOKEN")
check "... one with the token is served (got $code)" allowed "$code"
code=$(req GET "$URL" -H "Authorization: bearer $TOKEN")
check "... the scheme's case does not matter (got $code)" allowed "$code"
code=$(req GET "$URL" -H "Authorization: Bearer $TOKEN" -H 'X-Forwarded-For: 203.0.113.9')
check "... through a proxy too (got $code)" allowed "$code"
code=$(req GET "$URL" -H "Authorization: Bearer $TOKEN" -H "Host: rebind.attacker.example:$STOCK_PORT")
check "... but not with a foreign Host (421, got $code)" [ "$code" = 421 ]
check "the log has the effective configuration" grep -q 'ADMIN_TOKEN' "$IT_DIR/stock-sync.log"
check "... and never the token" bash -c "! grep -q -- '$TOKEN' '$IT_DIR/stock-sync.log'"
