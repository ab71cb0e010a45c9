# The inbox knows an event by its topic and id: two producers whose event ids collide across topics
# (an ERP's stock record and a shop's order event that happen to carry the same id) do not drop each
# other's events. Both are applied; neither counts as a duplicate.
. "$(dirname "$0")/../lib.sh"
it_setup 5
stockgen -n 1 -s 1 -q 20 -v 100 -e same-id >/dev/null
stored() { [ "$(psql_q "SELECT count(*) FROM stock_sync.stock WHERE sku = 'SKU-000001' AND version = 101")" -eq 1 ]; }
check "the stock record with event id same-id-0 is applied" wait_for 15 stored
order -s woo-a -o 5001 -k placed -S processing -l SKU-000001:3 -e same-id-0 >/dev/null
held() { [ "$(psql_q "SELECT count(*) FROM stock_sync.reservation WHERE order_id = '5001'")" -eq 1 ]; }
check "the order event with the same id on the orders topic is applied too (it holds stock)" wait_for 15 held
check "both shops follow the hold (A 20 - 3 - 2, B 20 - 3 - 5)" wait_for 15 bash -c \
	"[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/sandbox/stock | jq '.\"SKU-000001\"')\" = 15 ] &&
	 [ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_B_PORT/sandbox/stock | jq '.\"SKU-000001\"')\" = 12 ]"
check "the inbox holds the id once per topic" \
	[ "$(psql_q "SELECT count(DISTINCT topic) FROM stock_sync.inbox WHERE event_id = 'same-id-0'")" -eq 2 ]
check "neither was counted a duplicate" [ "$(metric erpsync_stock_events_duplicate_total)" -eq 0 ]
# the same event again on the same topic is still a duplicate
stockgen -n 1 -s 1 -q 20 -v 100 -e same-id >/dev/null
dup() { [ "$(metric erpsync_stock_events_duplicate_total)" -eq 1 ]; }
check "the stock record sent again (same topic, same id) is a duplicate" wait_for 15 dup
