# A record PostgreSQL refuses (here: a CHECK constraint an operator added, which no validation in
# stock-sync knows of) must not stall its batch forever: after three refusals the batch goes one
# record at a time, the refused record goes to the DLQ with the database's reason, every other
# record of the batch is applied exactly once, and consumption goes on.
. "$(dirname "$0")/../lib.sh"
it_setup 20

psql_q "ALTER TABLE stock_sync.stock ADD CONSTRAINT it_refuse_sku7 CHECK (sku <> 'SKU-000007')"
# 40 records of 20 SKUs (two versions each), SKU-000007's two among them
stockgen -n 40 -s 20 -q 30 -v 100 >/dev/null
check "the other 19 SKUs are stored with their newer version" wait_for 30 bash -c \
	"[ \"\$(psql \"$PG_DSN\" -XAtc \"SELECT count(*) FROM stock_sync.stock WHERE available_milli = 31000\")\" = 19 ]"
check "SKU-000007 is not stored" [ "$(psql_q "SELECT count(*) FROM stock_sync.stock WHERE sku = 'SKU-000007'")" -eq 0 ]
check "the inbox holds the 38 applied events, not the refused two" \
	[ "$(psql_q "SELECT count(*) FROM stock_sync.inbox")" -eq 38 ]
check "the batch was tried three times before going one by one" \
	[ "$(metric erpsync_stock_apply_failures_total)" -ge 3 ]
dlq=$(kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$IT_TOPIC.dlq" -o beginning -c 2 -e -q \
	-f '%k %h\n' 2>/dev/null)
check "both records of SKU-000007 are in the dead-letter topic, keyed as produced" \
	[ "$(grep -c '^SKU-000007|WH-MAIN ' <<<"$dlq")" -eq 2 ]
check "the dead letters say PostgreSQL refused them, and why" \
	grep -q 'dlq-error=refused by PostgreSQL: .*it_refuse_sku7.*SQLSTATE 23514' <<<"$dlq"
check "the dead letters name where they came from" grep -q "dlq-source-topic=$IT_TOPIC" <<<"$dlq"
value=$(kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$IT_TOPIC.dlq" -o beginning -c 1 -e -q -f '%s' 2>/dev/null | tr -c '[:print:]' ' ')
check "a dead letter holds the record, encoded again (SKU, warehouse)" \
	bash -c "grep -q 'SKU-000007' <<<'$value' && grep -q 'WH-MAIN' <<<'$value'"
check "the refused records are counted as dead-lettered" [ "$(metric erpsync_stock_events_dead_lettered_total)" -eq 2 ]
sku1_in_shops() { qty_is "$WOO_A_PORT" SKU-000001 29 && qty_is "$WOO_B_PORT" SKU-000001 26; }
check "the shops got the others (SKU-000001: A 31 - 2, B 31 - 5)" wait_for 15 sku1_in_shops
stockgen -n 1 -s 1 -q 40 -v 1000 >/dev/null
check "records after them are applied in batches again" wait_for 20 bash -c \
	"[ \"\$(psql \"$PG_DSN\" -XAtc \"SELECT available_milli FROM stock_sync.stock WHERE sku = 'SKU-000001'\")\" = 40000 ]"
