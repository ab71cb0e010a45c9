#!/usr/bin/env bash
# The whole system on this machine: local Kafka + PostgreSQL (stack.sh, instance "dev"), the
# sandbox peers with a small demo catalogue, and every built service.
#
#   deploy/local/erpsync.sh run     in the foreground; Ctrl-C stops everything
#   deploy/local/erpsync.sh up      in the background; prints where to look
#   deploy/local/erpsync.sh down    stops what `up` started
#
# Logs: .local/dev/logs/<program>.log (JSON lines). Settings: see README.md; anything set in the
# environment (e.g. SHOP_WOO_A_BUFFER) overrides the defaults below.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
BIN=$ROOT/${BUILD:-build}/bin
STACK=$ROOT/deploy/local/stack.sh
STATE=$ROOT/.local/dev
LOGS=$STATE/logs
PIDS=$STATE/pids

ERP_PORT=${SANDBOX_ERP_PORT:-19180}
WOO_A_PORT=${SANDBOX_WOO_A_PORT:-19181}
WOO_B_PORT=${SANDBOX_WOO_B_PORT:-19182}
STOCK_PORT=${STOCK_HTTP_PORT:-19101}
ORDER_PORT=${ORDER_HTTP_PORT:-19102}
WHSEC_A=${SHOP_WOO_A_WEBHOOK_SECRET:-whsec-dev-a}
WHSEC_B=${SHOP_WOO_B_WEBHOOK_SECRET:-whsec-dev-b}
DEMO_SKUS=${ERPSYNC_DEMO_SKUS:-200}

say() { printf 'erpsync: %s\n' "$*"; }

spawn() {   # spawn NAME env... -- program
	local name=$1; shift
	"$@" >>"$LOGS/$name.log" 2>&1 &
	echo "$! $name" >>"$PIDS"
}

wait_ready() {   # wait_ready URL SECONDS
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		curl -sf -o /dev/null --max-time 2 "$1" && return 0
		sleep 0.1
	done
	return 1
}

start_all() {
	local t0 t1
	t0=$(date +%s%3N)
	"$STACK" start dev
	eval "$("$STACK" env dev)"
	mkdir -p "$LOGS"
	: >"$PIDS"
	spawn sandbox-erp env SANDBOX_ERP_PORT="$ERP_PORT" SANDBOX_ERP_DEMO="$DEMO_SKUS" "$BIN/sandbox-erp"
	# each shop delivers its order webhooks to order-sync, signed as WooCommerce signs them
	spawn sandbox-woo-a env SANDBOX_WOO_PORT="$WOO_A_PORT" SANDBOX_WOO_SHOP_NAME="Shop A" \
		SANDBOX_WOO_DEMO="$DEMO_SKUS" SANDBOX_WOO_WEBHOOK="http://127.0.0.1:$ORDER_PORT/webhooks/shop/woo-a,$WHSEC_A" \
		"$BIN/sandbox-woo"
	spawn sandbox-woo-b env SANDBOX_WOO_PORT="$WOO_B_PORT" SANDBOX_WOO_SHOP_NAME="Shop B" \
		SANDBOX_WOO_DEMO="$DEMO_SKUS" SANDBOX_WOO_WEBHOOK="http://127.0.0.1:$ORDER_PORT/webhooks/shop/woo-b,$WHSEC_B" \
		"$BIN/sandbox-woo"
	spawn stock-sync env PG_DSN="$PG_DSN" KAFKA_BOOTSTRAP_SERVERS="$KAFKA_BOOTSTRAP_SERVERS" \
		HTTP_PORT="$STOCK_PORT" ERP_URL="http://127.0.0.1:$ERP_PORT" ERP_TOKEN="${ERP_TOKEN:-erp-dev-token}" \
		ERPSYNC_SHOPS="${ERPSYNC_SHOPS:-woo-a,woo-b}" \
		SHOP_WOO_A_URL="${SHOP_WOO_A_URL:-http://127.0.0.1:$WOO_A_PORT}" SHOP_WOO_A_KEY="${SHOP_WOO_A_KEY:-ck_dev}" \
		SHOP_WOO_A_SECRET="${SHOP_WOO_A_SECRET:-cs_dev}" SHOP_WOO_A_WAREHOUSES="${SHOP_WOO_A_WAREHOUSES:-WH-MAIN,WH-SOUTH}" \
		SHOP_WOO_A_BUFFER="${SHOP_WOO_A_BUFFER:-2}" \
		SHOP_WOO_B_URL="${SHOP_WOO_B_URL:-http://127.0.0.1:$WOO_B_PORT}" SHOP_WOO_B_KEY="${SHOP_WOO_B_KEY:-ck_dev}" \
		SHOP_WOO_B_SECRET="${SHOP_WOO_B_SECRET:-cs_dev}" SHOP_WOO_B_WAREHOUSES="${SHOP_WOO_B_WAREHOUSES:-WH-MAIN}" \
		SHOP_WOO_B_BUFFER="${SHOP_WOO_B_BUFFER:-5}" "$BIN/stock-sync"
	spawn order-sync env PG_DSN="$PG_DSN" KAFKA_BOOTSTRAP_SERVERS="$KAFKA_BOOTSTRAP_SERVERS" \
		HTTP_PORT="$ORDER_PORT" ERP_URL="http://127.0.0.1:$ERP_PORT" ERP_TOKEN="${ERP_TOKEN:-erp-dev-token}" \
		ERPSYNC_SHOPS="${ERPSYNC_SHOPS:-woo-a,woo-b}" \
		SHOP_WOO_A_URL="${SHOP_WOO_A_URL:-http://127.0.0.1:$WOO_A_PORT}" SHOP_WOO_A_KEY="${SHOP_WOO_A_KEY:-ck_dev}" \
		SHOP_WOO_A_SECRET="${SHOP_WOO_A_SECRET:-cs_dev}" SHOP_WOO_A_WEBHOOK_SECRET="$WHSEC_A" \
		SHOP_WOO_B_URL="${SHOP_WOO_B_URL:-http://127.0.0.1:$WOO_B_PORT}" SHOP_WOO_B_KEY="${SHOP_WOO_B_KEY:-ck_dev}" \
		SHOP_WOO_B_SECRET="${SHOP_WOO_B_SECRET:-cs_dev}" SHOP_WOO_B_WEBHOOK_SECRET="$WHSEC_B" "$BIN/order-sync"
	local svc port
	for svc in stock-sync:$STOCK_PORT order-sync:$ORDER_PORT; do
		port=${svc#*:}
		if ! wait_ready "http://127.0.0.1:$port/readyz" 60; then
			say "${svc%%:*} did not become ready; see $LOGS/${svc%%:*}.log"
			return 1
		fi
	done
	t1=$(date +%s%3N)
	cat <<TXT
erpsync: everything ready in $(( (t1 - t0) / 1000 )).$(( (t1 - t0) % 1000 / 100 )) s
  stock-sync      http://127.0.0.1:$STOCK_PORT/metrics  /readyz  /healthz
  order-sync      http://127.0.0.1:$ORDER_PORT/metrics  /readyz  /healthz  /admin/orders/<shop>/<id>
  sandbox ERP     http://127.0.0.1:$ERP_PORT/api/v1/stock?since=0   (Bearer erp-dev-token)
  sandbox shop A  http://127.0.0.1:$WOO_A_PORT/sandbox/stock          (ck_dev:cs_dev)
  sandbox shop B  http://127.0.0.1:$WOO_B_PORT/sandbox/stock
  Kafka           $KAFKA_BOOTSTRAP_SERVERS   (kcat -b $KAFKA_BOOTSTRAP_SERVERS -L)
  PostgreSQL      $PG_DSN
  logs            $LOGS/
  try: curl -X POST -H 'Authorization: Bearer erp-dev-token' -d '{"sku":"SKU-000001","warehouse":"WH-MAIN","on_hand":7}' http://127.0.0.1:$ERP_PORT/sandbox/stock
       curl -u ck_dev:cs_dev -X POST -d @deploy/local/demo-order.json http://127.0.0.1:$WOO_A_PORT/sandbox/orders   (then GET /admin/orders/woo-a/<id> on order-sync)
TXT
}

stop_all() {
	if [ -f "$PIDS" ]; then
		local pid name
		while read -r pid name; do
			kill -TERM "$pid" 2>/dev/null && say "stopping $name" || true
		done <"$PIDS"
		while read -r pid name; do
			for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -KILL "$pid" 2>/dev/null || true
		done <"$PIDS"
		rm -f "$PIDS"
	fi
	"$STACK" stop dev
}

case ${1:-} in
run)
	trap 'stop_all; exit 0' INT TERM
	start_all || { stop_all; exit 1; }
	say "running in the foreground; Ctrl-C stops everything"
	while sleep 1; do :; done
	;;
up)
	start_all || { stop_all; exit 1; }
	say "running in the background; 'make down' stops it"
	;;
down) stop_all ;;
*) echo "usage: $0 run|up|down" >&2; exit 2 ;;
esac
