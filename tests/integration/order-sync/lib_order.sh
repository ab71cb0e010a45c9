# order-sync's part of the integration scripts (sourced after ../lib.sh): its topics, environment
# and start, the sandbox shop's orders and webhooks, the sandbox ERP's orders, and counts.
IT_PAYMENTS_TOPIC="$IT_PREFIX.payments.v1"
IT_SHIPMENTS_TOPIC="$IT_PREFIX.shipments.v1"
IT_INVOICES_TOPIC="$IT_PREFIX.invoices.v1"
ORDER_PORT=${IT_ORDER_PORT:-29102}
ORDER_FIXTURE="$ROOT/tests/integration/order-sync/order_pl.json"
WHSEC_A=it-whsec-a
WHSEC_B=it-whsec-b

order_topics() {
	local t
	for t in "$IT_ORDERS_TOPIC" "$IT_ERP_ORDERS_TOPIC" "$IT_RETURNS_TOPIC" "$IT_PAYMENTS_TOPIC" \
		"$IT_SHIPMENTS_TOPIC" "$IT_INVOICES_TOPIC" "$IT_TOPIC" "$IT_ALERTS_TOPIC"; do
		printf '%s\t3\tdelete\t-1\tit\n%s.dlq\t1\tdelete\t-1\tit\n' "$t" "$t"
	done >"$IT_DIR/topics.tsv"
	"$BIN/erpsyncctl" topics create -b "$KAFKA_BOOTSTRAP_SERVERS" -f "$IT_DIR/topics.tsv" >/dev/null
}

order_env() {
	cat <<ENV
PG_DSN=$PG_DSN
KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS
HTTP_PORT=$ORDER_PORT
KAFKA_SESSION_TIMEOUT_MS=6000
ORDER_SHOP_ORDERS_TOPIC=$IT_ORDERS_TOPIC
ORDER_ERP_ORDERS_TOPIC=$IT_ERP_ORDERS_TOPIC
ORDER_PAYMENTS_TOPIC=$IT_PAYMENTS_TOPIC
ORDER_RETURNS_TOPIC=$IT_RETURNS_TOPIC
ORDER_SHIPMENTS_TOPIC=$IT_SHIPMENTS_TOPIC
ORDER_INVOICES_TOPIC=$IT_INVOICES_TOPIC
ORDER_GROUP_ID=it-order-$IT_NAME-$$
ORDER_POLL_INTERVAL=${IT_ORDER_POLL_INTERVAL:-1h}
ORDER_ERP_POLL_INTERVAL=300ms
ERP_URL=http://127.0.0.1:$ERP_PORT
ERP_TOKEN=$ERP_TOKEN
ERP_RATE=1000
HTTP_CLIENT_TIMEOUT=10s
ERPSYNC_SHOPS=woo-a,woo-b
SHOP_WOO_A_URL=http://127.0.0.1:$WOO_A_PORT
SHOP_WOO_A_KEY=ck_it
SHOP_WOO_A_SECRET=cs_it
SHOP_WOO_A_WEBHOOK_SECRET=$WHSEC_A
SHOP_WOO_A_RATE=200
SHOP_WOO_B_URL=http://127.0.0.1:$WOO_B_PORT
SHOP_WOO_B_KEY=ck_it
SHOP_WOO_B_SECRET=cs_it
SHOP_WOO_B_WEBHOOK_SECRET=$WHSEC_B
SHOP_WOO_B_RATE=200
ENV
}

# start_order [VAR=value ...]: order-sync with order_env plus overrides; sets ORDER_PID.
start_order() {
	local -a envs
	mapfile -t envs < <(order_env)
	it_spawn order-sync env -i PATH="$PATH" "${envs[@]}" "$@" "$BIN/order-sync"
	ORDER_PID=$LAST_PID
}
order_ready() { wait_http "http://127.0.0.1:$ORDER_PORT/readyz" "${1:-30}"; }
# order_assigned [N]: the N-th start of order-sync in this script has its partitions
order_assigned() {
	local n=${1:-1}
	wait_for 30 bash -c "[ \$(grep -c '\"message\":\"kafka group .*: assigned' '$IT_DIR/order-sync.log') -ge $n ]"
}
reset_order_schema() { psql_q "DROP SCHEMA IF EXISTS order_sync CASCADE" >/dev/null 2>&1; }

# order_setup [VAR=value ...]: a fresh schema and topics, the ERP (with the fixture's SKUs in its
# catalogue), two shops, order-sync (with the overrides), ready and assigned.
order_setup() {
	reset_order_schema
	order_topics
	start_erp 0
	erp_sku KUB-001 && erp_sku KSI-7 && erp_sku KAW-250-Z
	start_woo "$WOO_A_PORT" 0
	start_woo "$WOO_B_PORT" 0
	start_order "$@"
	if ! order_ready 30; then
		fail "order-sync becomes ready"
		tail -5 "$IT_DIR/order-sync.log"
		exit 1
	fi
	pass "order-sync becomes ready"
	order_assigned
}

# omet NAME [LABEL-FILTER]: the sum of a metric's series of order-sync (0 when absent).
omet() {
	curl -s "http://127.0.0.1:$ORDER_PORT/metrics" |
		awk -v n="$1" -v f="${2:-}" '$1 ~ "^"n"({|$)" && index($1, f) { s += $NF } END { printf "%d\n", s }'
}

# ---- the sandbox ERP ---------------------------------------------------------------------------------
erp_api() { # erp_api METHOD PATH [BODY]: the ERP's answer body
	curl -s -X "$1" -H "Authorization: Bearer $ERP_TOKEN" -H 'Content-Type: application/json' \
		${3:+-d "$3"} "http://127.0.0.1:$ERP_PORT$2"
}
erp_sku() { erp_api POST /sandbox/skus "{\"sku\":\"$1\"}" >/dev/null; }
# erp_orders_of SHOP ID: how many ERP orders carry the reference SHOP|ID
erp_orders_of() { erp_api GET "/api/v1/orders?external_ref=$1%7C$2" | jq '.items | length'; }
erp_order_json() { erp_api GET "/api/v1/orders?external_ref=$1%7C$2" | jq -c '.items[0]'; }
erp_stats() { erp_api GET /sandbox/stats; }
# erp_fault MODE [COUNT] [PATH-PREFIX]: the ERP sandbox's fault switch
erp_fault() {
	erp_api POST /sandbox/faults "{\"mode\":\"$1\",\"count\":${2:-1}${3:+,\"path\":\"$3\"}}" >/dev/null
}

# ---- the sandbox shop --------------------------------------------------------------------------------
woo_api() { # woo_api PORT METHOD PATH [BODY]
	curl -s -u ck_it:cs_it -X "$2" -H 'Content-Type: application/json' ${4:+-d "$4"} "http://127.0.0.1:$1$3"
}
# woo_hook PORT SECRET [TOPIC...]: the shop delivers these topics (default created, updated, deleted)
# to order-sync, signed with SECRET
woo_hook() {
	local port=$1 secret=$2 shop t; shift 2
	shop=woo-a
	[ "$port" = "$WOO_B_PORT" ] && shop=woo-b
	for t in "${@:-order.created order.updated order.deleted}"; do
		for t in $t; do
			woo_api "$port" POST /wp-json/wc/v3/webhooks \
				"{\"name\":\"erpsync $t\",\"topic\":\"$t\",\"secret\":\"$secret\",\"delivery_url\":\"http://127.0.0.1:$ORDER_PORT/webhooks/shop/$shop\"}" >/dev/null
		done
	done
}
# woo_order PORT [JQ-FILTER]: creates an order in the sandbox shop from the fixture (the filter edits
# it first); prints the new order's id
woo_order() {
	local port=$1 filter=${2:-.}
	jq -c "$filter" "$ORDER_FIXTURE" >"$IT_DIR/order.json"
	curl -s -u ck_it:cs_it -X POST -H 'Content-Type: application/json' --data-binary "@$IT_DIR/order.json" \
		"http://127.0.0.1:$port/sandbox/orders" | jq -r '.id'
}
woo_status() { woo_api "$1" GET "/wp-json/wc/v3/orders/$2" | jq -r '.status'; }
woo_notes() { woo_api "$1" GET "/wp-json/wc/v3/orders/$2/notes"; }
woo_hook_fault() { woo_api "$1" POST /sandbox/webhooks/faults "{\"mode\":\"$2\",\"count\":${3:-1}}" >/dev/null; }
woo_hook_stats() { woo_api "$1" GET /sandbox/webhooks/stats; }

# sign SECRET FILE: the X-WC-Webhook-Signature of FILE's bytes
sign() { openssl dgst -sha256 -hmac "$1" -binary "$2" | base64 -w0; }
# post_hook SHOP FILE [SIGNATURE] [DELIVERY-ID] [TOPIC]: delivers FILE to order-sync's webhook as the
# shop would; prints the HTTP status
post_hook() {
	local shop=$1 file=$2 sig=${3-} did=${4:-} topic=${5:-order.created}
	local -a h=(-H 'Content-Type: application/json' -H "X-WC-Webhook-Topic: $topic" -H 'X-WC-Webhook-Source: http://shop/')
	[ -n "$sig" ] && h+=(-H "X-WC-Webhook-Signature: $sig")
	[ -n "$did" ] && h+=(-H "X-WC-Webhook-Delivery-ID: $did")
	curl -s -o "$IT_DIR/hook.out" -w '%{http_code}' "${h[@]}" --data-binary "@$file" \
		"http://127.0.0.1:$ORDER_PORT/webhooks/shop/$shop"
}
# order_row SHOP ID COLUMN: a column of order-sync's row of the order
order_row() { psql_q "SELECT $3 FROM order_sync.orders WHERE shop_id = '$1' AND external_id = '$2'"; }
order_booked() { [ -n "$(order_row "$1" "$2" erp_id)" ]; }
order_outbox_empty() { [ "$(psql_q "SELECT count(*) FROM order_sync.outbox")" = 0 ]; }
# topic_count TOPIC [GREP]: records on a topic (whose key matches GREP)
topic_count() {
	kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$1" -o beginning -e -q -f '%k\n' 2>/dev/null | grep -c "${2:-.}"
}
# all_claimed TOPIC: every record on TOPIC has been consumed and applied by order-sync (the outbox
# is empty, and the inbox holds every distinct event id the topic carries) — the proof a check that
# something did not happen waits for
all_claimed() {
	order_outbox_empty || return 1
	local n c
	n=$(kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$1" -o beginning -e -q -f '%h\n' 2>/dev/null |
		grep -o 'event-id=[^,]*' | sort -u | wc -l)
	c=$(psql_q "SELECT count(*) FROM order_sync.inbox WHERE topic = '$1'")
	[ "$n" -gt 0 ] && [ "$n" = "$c" ]
}
