# A bad configuration: exit status 2, and every problem named in one start.
. "$(dirname "$0")/../lib.sh"

out=$(env -i PATH="$PATH" HTTP_PORT=70000 STOCK_POLL_INTERVAL=soon STOCK_COALESCE_WINDOW=5 \
	KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:1 KAFKA_NO_SUCH_PROPERTY=1 ERPSYNC_SHOPS=woo-a,BAD! \
	SHOP_WOO_A_URL=http://x SHOP_WOO_A_SECRET=hunter2-secret LOG_LEVEL=loud \
	timeout 10 "$BIN/stock-sync" 2>&1)
rc=$?
check "exit status is 2 (got $rc)" [ "$rc" -eq 2 ]
for what in PG_DSN ERP_TOKEN HTTP_PORT STOCK_POLL_INTERVAL STOCK_COALESCE_WINDOW LOG_LEVEL \
	KAFKA_NO_SUCH_PROPERTY no.such.property 'BAD!' SHOP_WOO_A_KEY SHOP_WOO_A_WAREHOUSES; do
	check "the problem with $what is reported" grep -qF -- "$what" <<<"$out"
done
no_secret() { ! grep -q hunter2-secret <<<"$out"; }
all_json() { jq -e . >/dev/null 2>&1 <<<"$out"; }
check "a secret value never reaches the log" no_secret
check "every log line is a JSON object" all_json
