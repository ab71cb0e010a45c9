# Secrets stay out of the log even when libpq quotes the connection string back in an error, and a
# shop whose credentials would travel in clear (Basic auth over http:// to a host that is not this
# machine) is warned about at start-up.
. "$(dirname "$0")/../lib.sh"
reset_schema
it_topics
start_erp 0
start_woo "$WOO_A_PORT" 5

# a DSN libpq cannot parse: its error quotes the token, which here holds the password
start_stock PG_DSN='postgresql://erpsync:s3cr3t-pw%zz@127.0.0.1:1/erpsync'
not_ready_logged() { grep -q '"message":"database not ready' "$IT_DIR/stock-sync.log"; }
check "stock-sync reports the database as not ready" wait_for 15 not_ready_logged
check "the error names the problem" grep -q 'percent-encoded' "$IT_DIR/stock-sync.log"
check "the password is not in the log" bash -c "! grep -q 's3cr3t' '$IT_DIR/stock-sync.log'"
kill -TERM "$STOCK_PID"
wait "$STOCK_PID" 2>/dev/null
mv "$IT_DIR/stock-sync.log" "$IT_DIR/stock-sync-dsn.log"

# shop B at a remote address over plain http (192.0.2.10: TEST-NET-1, nothing answers)
start_stock SHOP_WOO_B_URL=http://192.0.2.10:8080
started() { grep -q '"message":"shop woo-b: woocommerce at http://192.0.2.10:8080' "$IT_DIR/stock-sync.log"; }
check "stock-sync logs its shops" wait_for 15 started
check "a warning names shop B's credentials going over plain http" \
	wait_for 5 grep -q '"level":"warn".*"message":"shop woo-b: .*plain http' "$IT_DIR/stock-sync.log"
check "no such warning for shop A (loopback)" bash -c "! grep -q 'shop woo-a: .*plain http' '$IT_DIR/stock-sync.log'"
