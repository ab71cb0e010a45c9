# Liveness never waits on I/O. PostgreSQL hangs (every process of the stack's PostgreSQL stopped):
# webhooks stick inside their database calls and many /readyz probes run at once, yet every /healthz
# is answered within 100 ms; /readyz too answers at once, from state, and reports the outage within
# a bounded time; once PostgreSQL runs again /readyz turns 200 and the stuck webhooks complete.
. "$(dirname "$0")/../lib.sh"
: "${ERPSYNC_STATE_DIR:?}"
reset_schema
it_topics
start_erp 0
start_woo "$WOO_A_PORT" 5
start_woo "$WOO_B_PORT" 5
SECRET=it-liveness-secret-$$
start_stock ERP_WEBHOOK_SECRET="$SECRET" STOCK_POLL_INTERVAL=1h HTTP_MAX_CONNECTIONS_PER_IP=0 \
	HTTP_MAX_CONNECTIONS=128
check "stock-sync becomes ready" stock_ready 30

BASE=http://127.0.0.1:$STOCK_PORT
HOOK=$BASE/webhooks/erp/stock
sign() { printf '%s.%s' "$2" "$1" | openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/^.*= //'; }
# hook N: a signed record for SKU-00000N; its status lands in $IT_DIR/hook.N
hook() {
	local rec ts
	rec=$(printf '{"sku":"SKU-00000%d","warehouse":"WH-MAIN","on_hand":%d,"reserved":0,"available":%d,"version":1,"changed_at":"2026-01-01T00:00:00Z"}' "$1" $((30 + $1)) $((30 + $1)))
	ts=$(date +%s)
	curl -s -o /dev/null -w '%{http_code}' --max-time 60 -X POST -H 'Content-Type: application/json' \
		-H "X-ERP-Timestamp: $ts" -H "X-ERP-Signature: $(sign "$rec" "$ts")" --data-binary "$rec" "$HOOK" \
		>"$IT_DIR/hook.$1"
}
# ms URL: how long URL took to answer, in ms, and its status ("<ms> <status>")
ms() { curl -s -o /dev/null -w '%{time_total} %{http_code}' --max-time 5 "$1" | awk '{ printf "%d %s\n", $1 * 1000, $2 }'; }
hook 1
check "the webhook works before (202, got $(cat "$IT_DIR/hook.1"))" [ "$(cat "$IT_DIR/hook.1")" = 202 ]

# ---- PostgreSQL hangs ----------------------------------------------------------------------------
pg_pids() {
	local master
	master=$(head -1 "$ERPSYNC_PG_DATA/postmaster.pid")
	echo "$master" $(pgrep -P "$master")
}
pg_thaw() { kill -CONT $(pg_pids) 2>/dev/null; }
trap 'pg_thaw; it_cleanup' EXIT
kill -STOP $(pg_pids)
t_stop=$(date +%s%3N)
hooks=()
for i in 2 3 4 5; do hook "$i" & hooks+=($!); done
# probes: 8 clients asking /readyz back to back for 6 s
probe_loop() { local end=$(($(date +%s) + 6)); while [ "$(date +%s)" -lt "$end" ]; do curl -s -o /dev/null --max-time 5 "$BASE/readyz"; done; }
probes=()
for i in 1 2 3 4 5 6 7 8; do probe_loop & probes+=($!); done
sleep 1
check "the webhooks are stuck in PostgreSQL (none answered after 1 s)" \
	bash -c "[ -z \"\$(cat $IT_DIR/hook.[2-5] 2>/dev/null)\" ]"

worst=0
slow=0
for i in $(seq 1 30); do
	read -r t code < <(ms "$BASE/healthz")
	[ "$code" = 200 ] && [ "$t" -lt 100 ] || slow=$((slow + 1))
	[ "$t" -gt "$worst" ] && worst=$t
	sleep 0.1
done
check "every /healthz is 200 within 100 ms while PostgreSQL hangs (30 asked, $slow not; worst ${worst} ms)" [ "$slow" -eq 0 ]
read -r t code < <(ms "$BASE/readyz")
check "/readyz answers at once too (within 100 ms: ${t} ms, $code)" [ "$t" -lt 100 ]
not_ready() { [ "$(curl -s -o "$IT_DIR/readyz.json" -w '%{http_code}' --max-time 3 "$BASE/readyz")" = 503 ]; }
check "/readyz reports the outage (503) within 10 s of it" wait_for 10 not_ready
echo "   (/readyz $(( $(date +%s%3N) - t_stop )) ms after PostgreSQL stopped: $(cat "$IT_DIR/readyz.json"))"
check "/readyz says PostgreSQL" grep -q PostgreSQL "$IT_DIR/readyz.json"
wait "${probes[@]}"

# ---- PostgreSQL runs again -----------------------------------------------------------------------
pg_thaw
check "/readyz turns 200 once PostgreSQL runs again" stock_ready 30
wait "${hooks[@]}"
check "the stuck webhooks complete (202 each: $(cat "$IT_DIR"/hook.[2-5] | tr '\n' ' '))" \
	bash -c "[ \"\$(cat $IT_DIR/hook.[2-5] | tr -d '\n')\" = 202202202202 ]"
