# erp.stock.v1 is compacted: an ERP that deletes a SKU+warehouse publishes a tombstone (no value,
# key SKU|warehouse). stock-sync takes it as "holds nothing" — both shops follow — not as a
# malformed record; only a newer version brings the stock back, and a tombstone without a usable
# key goes to the DLQ.
. "$(dirname "$0")/../lib.sh"
it_setup 20

stockgen -n 1 -s 1 -q 7 -v 100 >/dev/null
check "the record reaches both shops (A 7 - 2, B 7 - 5)" wait_for 15 bash -c \
	"[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/sandbox/stock | jq '.\"SKU-000001\"')\" = 5 ] &&
	 [ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_B_PORT/sandbox/stock | jq '.\"SKU-000001\"')\" = 2 ]"
# kcat -Z sends the empty value as NULL: a tombstone
printf 'SKU-000001|WH-MAIN:\n' | kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -P -t "$IT_TOPIC" -K: -Z
sku1_zero() { qty_is "$WOO_A_PORT" SKU-000001 0 && qty_is "$WOO_B_PORT" SKU-000001 0; }
check "after the tombstone both shops show 0" wait_for 15 sku1_zero
check "the stock row holds nothing and keeps its version" \
	[ "$(psql_q "SELECT available_milli || '/' || on_hand_milli || '/' || version FROM stock_sync.stock WHERE sku = 'SKU-000001'")" = "0/0/101" ]
check "the tombstone is claimed in the inbox like any event" \
	[ "$(psql_q "SELECT count(*) FROM stock_sync.inbox WHERE event_id LIKE 'tombstone/%'")" -eq 1 ]
stockgen -n 1 -s 1 -q 8 -v 50 -e older >/dev/null
# SKU-000001 at version 101 again (not newer; the marker behind the older one: the same key, so the
# same partition) and SKU-000002 (another key, perhaps another partition: it proves nothing about
# SKU-000001's records)
stockgen -n 2 -s 2 -q 4 -v 100 -e marker >/dev/null
check "records after it are applied (SKU-000002)" wait_for 15 bash -c \
	"[ \"\$(psql \"$PG_DSN\" -XAtc \"SELECT count(*) FROM stock_sync.stock WHERE sku = 'SKU-000002'\")\" = 1 ]"
check "the older record and the marker behind it are consumed" wait_for 15 claimed older-0 marker-0
check "the stock row still holds nothing at version 101" \
	[ "$(psql_q "SELECT available_milli || '/' || version FROM stock_sync.stock WHERE sku = 'SKU-000001'")" = "0/101" ]
# a change they made would have marked SKU-000001 for the writer in the same transaction
check "everything applied so far is written to the shops" wait_for 15 all_written
check "an older version does not bring the deleted stock back" sku1_zero
stockgen -n 1 -s 1 -q 9 -v 200 -e newer >/dev/null
check "a newer version does (A 9 - 2, B 9 - 5)" wait_for 15 bash -c \
	"[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/sandbox/stock | jq '.\"SKU-000001\"')\" = 7 ] &&
	 [ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_B_PORT/sandbox/stock | jq '.\"SKU-000001\"')\" = 4 ]"
printf 'no-bar-key:\n' | kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -P -t "$IT_TOPIC" -K: -Z
# read the DLQ until the dead letter is there (stock-sync sends it when it has consumed the record)
dlq_has_it() {
	kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$IT_TOPIC.dlq" -o beginning -c 1 -e -q -f '%k %h\n' 2>/dev/null |
		grep -q '^no-bar-key .*dlq-error=tombstone without a SKU|warehouse key'
}
check "a tombstone without a SKU|warehouse key goes to the DLQ with the reason" wait_for 15 dlq_has_it
dead_lettered_one() { [ "$(metric erpsync_stock_events_dead_lettered_total)" -eq 1 ]; }
check "only that one was dead-lettered" wait_for 5 dead_lettered_one
