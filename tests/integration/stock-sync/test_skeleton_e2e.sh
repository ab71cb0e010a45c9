# The walking skeleton end to end: a stock change in the ERP is polled, published to Kafka,
# consumed, and written to both shops with each shop's own warehouses and safety buffer.
. "$(dirname "$0")/../lib.sh"
it_setup 20

erp_set SKU-000003 WH-MAIN 40 4
erp_set SKU-000003 WH-SOUTH 10
# shop A sells WH-MAIN + WH-SOUTH minus buffer 2: (40-4) + 10 - 2 = 44; shop B WH-MAIN minus 5: 31
check "shop A shows available of both warehouses minus its buffer (44)" \
	wait_for 20 bash -c "[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/sandbox/stock | jq -r '.\"SKU-000003\"')\" = 44 ]"
check "shop B shows its one warehouse minus its buffer (31)" \
	wait_for 20 bash -c "[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_B_PORT/sandbox/stock | jq -r '.\"SKU-000003\"')\" = 31 ]"

# the ERP drops below the buffer: never negative in the shop
erp_set SKU-000003 WH-MAIN 3
erp_set SKU-000003 WH-SOUTH 0
check "below the buffer a shop shows 0, not a negative number" \
	wait_for 20 bash -c "[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/sandbox/stock | jq -r '.\"SKU-000003\"')\" = 1 ] && [ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_B_PORT/sandbox/stock | jq -r '.\"SKU-000003\"')\" = 0 ]"
check "the cursor was persisted" bash -c "[ -n \"\$(psql \"$PG_DSN\" -XAtc \"SELECT cursor FROM stock_sync.erp_cursor WHERE source = 'erp'\")\" ]"
check "end-to-end latency is measured" bash -c "[ \$(curl -s http://127.0.0.1:$STOCK_PORT/metrics | grep -c '^erpsync_stock_e2e_latency_seconds_count') -ge 1 ]"
check "/healthz answers 200" wait_http "http://127.0.0.1:$STOCK_PORT/healthz" 2
check "/metrics is valid Prometheus text" bash -c "curl -s http://127.0.0.1:$STOCK_PORT/metrics | (command -v promtool >/dev/null && promtool check metrics || grep -q '^# TYPE')"
