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

# An ERP that deletes a SKU+warehouse and creates it again publishes a tombstone and then the new
# record, back to back, so both usually land in one batch: the record after the tombstone wins
# (stock rows and tombstones take effect in the order of the topic). 20 SKUs at quantity 30,
# version 301; A 30 - 2, B 30 - 5.
stockgen -n 20 -s 20 -q 30 -v 300 -d -e recreate >/dev/null
recreated_claimed() {
	[ "$(psql_q "SELECT count(*) FROM stock_sync.inbox WHERE event_id LIKE 'recreate-%'")" -eq 40 ]
}
check "the 20 tombstones and 20 records after them are claimed" wait_for 15 recreated_claimed
check "delete then re-create in one batch: every row holds the new record (30 at version 301)" \
	[ "$(psql_q "SELECT count(*) FROM stock_sync.stock WHERE version = 301 AND available_milli = 30000")" -eq 20 ]
recreated_in_shops() {
	[ "$(curl -s -u ck_it:cs_it "http://127.0.0.1:$WOO_A_PORT/sandbox/stock" |
		jq '[to_entries[] | select(.value == 28)] | length')" -eq 20 ] &&
	[ "$(curl -s -u ck_it:cs_it "http://127.0.0.1:$WOO_B_PORT/sandbox/stock" |
		jq '[to_entries[] | select(.value == 25)] | length')" -eq 20 ]
}
check "delete then re-create: both shops show the new quantity for all 20 SKUs (A 28, B 25)" \
	wait_for 15 recreated_in_shops

# A tombstone may say which version the deletion is (header "version"): it applies only when it is
# not older than the stored version. SKU-000003 is at version 301.
printf 'SKU-000003|WH-MAIN:\n' | kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -P -t "$IT_TOPIC" -K: -Z -H version=250 -H event-id=old-del
stockgen -n 1 -s 1 -q 5 -v 500 -w WH-SOUTH -e marker2 >/dev/null
marker2() { [ "$(psql_q "SELECT count(*) FROM stock_sync.inbox WHERE event_id IN ('old-del', 'marker2-0')")" -eq 2 ]; }
check "a tombstone of version 250 and a record after it are claimed" wait_for 15 marker2
check "the tombstone older than the stored version (301) changes nothing" \
	[ "$(psql_q "SELECT available_milli || '/' || version FROM stock_sync.stock WHERE sku = 'SKU-000003' AND warehouse = 'WH-MAIN'")" = "30000/301" ]
printf 'SKU-000003|WH-MAIN:\n' | kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -P -t "$IT_TOPIC" -K: -Z -H version=400 -H event-id=new-del
stockgen -n 3 -s 3 -q 6 -v 349 -e older3 >/dev/null     # SKU-000003 at version 350: older than the tombstone
older3() { [ "$(psql_q "SELECT count(*) FROM stock_sync.inbox WHERE event_id IN ('new-del', 'older3-2')")" -eq 2 ]; }
check "a tombstone of version 400 and an older record after it are claimed" wait_for 15 older3
check "the newer tombstone zeroes the row and takes its version; the older record stays out" \
	[ "$(psql_q "SELECT available_milli || '/' || version FROM stock_sync.stock WHERE sku = 'SKU-000003' AND warehouse = 'WH-MAIN'")" = "0/400" ]
check "shop B follows (0)" wait_for 15 qty_is "$WOO_B_PORT" SKU-000003 0
