# Secrets stay out of the log even when libpq quotes the connection string back in an error.
. "$(dirname "$0")/lib.sh"
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
