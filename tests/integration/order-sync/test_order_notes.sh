# Back to the customer: a shipment puts exactly one note with carrier, tracking number and link on
# the shop order, also when shipments.v1 delivers it again; delivery completes the order; an
# invoice puts its number and link on the order once.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib_order.sh"
order_setup
woo_hook "$WOO_A_PORT" "$WHSEC_A"
ship() { "$BIN/ordergen" -t "$IT_SHIPMENTS_TOPIC" -s woo-a "$@"; }
notes_with() { woo_notes "$WOO_A_PORT" "$1" | jq --arg t "$2" '[.[] | select(.note | contains($t))] | length'; }

a=$(woo_order "$WOO_A_PORT")
check "order $a is booked" wait_for 30 order_booked woo-a "$a"
ship -o "$a" -T 620000111222333444555666 -U https://inpost.pl/sledzenie-przesylek?number=620000111222333444555666 -e ship-1
ship -o "$a" -T 620000111222333444555666 -U https://inpost.pl/sledzenie-przesylek?number=620000111222333444555666 -e ship-1
ship -o "$a" -T 620000111222333444555666 -U https://inpost.pl/sledzenie-przesylek?number=620000111222333444555666 -e ship-1-redelivered
check "the tracking note is on the order" wait_for 20 bash -c "[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/wp-json/wc/v3/orders/$a/notes | jq '[.[] | select(.note | contains(\"620000111222333444555666\"))] | length')\" -ge 1 ]"
check "every shipment record is consumed" wait_for 30 all_claimed "$IT_SHIPMENTS_TOPIC"
check "exactly one tracking note, though the shipment came three times" [ "$(notes_with "$a" 620000111222333444555666)" = 1 ]
note=$(woo_notes "$WOO_A_PORT" "$a" | jq -c '[.[] | select(.note | contains("620000111222333444555666"))][0]')
check "it is a note to the customer" [ "$(jq .customer_note <<<"$note")" = true ]
check "naming the carrier and the link" bash -c "grep -q inpost <<<'$note' && grep -q 'https://inpost.pl/sledzenie' <<<'$note'"
ship -o "$a" -T 620000111222333444555666 -d -e ship-delivered
check "delivery completes the shop order" wait_for 20 bash -c "[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/wp-json/wc/v3/orders/$a | jq -r .status)\" = completed ]"

"$BIN/ordergen" -t "$IT_INVOICES_TOPIC" -s woo-a -o "$a" -I FV/2026/12/000042 -U https://faktury.example/FV-2026-12-000042.pdf -e inv-1
"$BIN/ordergen" -t "$IT_INVOICES_TOPIC" -s woo-a -o "$a" -I FV/2026/12/000042 -U https://faktury.example/FV-2026-12-000042.pdf -e inv-1-again
check "the invoice note is on the order" wait_for 20 bash -c "[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/wp-json/wc/v3/orders/$a/notes | jq '[.[] | select(.note | contains(\"FV/2026/12/000042\"))] | length')\" -ge 1 ]"
check "every invoice record is consumed" wait_for 30 all_claimed "$IT_INVOICES_TOPIC"
check "exactly one invoice note, with its link" bash -c "[ \"\$(curl -s -u ck_it:cs_it http://127.0.0.1:$WOO_A_PORT/wp-json/wc/v3/orders/$a/notes | jq '[.[] | select(.note | contains(\"FV/2026/12/000042\")) | select(.note | contains(\"https://faktury.example\"))] | length')\" = 1 ]"
check "notes are counted" [ "$(omet erpsync_order_notes_added_total 'shop="woo-a"')" = 2 ]

# a note whose addition the shop took but order-sync never recorded (its answer lost): found on the
# order, not added twice
psql_q "DELETE FROM order_sync.note WHERE note_key LIKE 'invoice:%'" >/dev/null
"$BIN/ordergen" -t "$IT_INVOICES_TOPIC" -s woo-a -o "$a" -I FV/2026/12/000042 -U https://faktury.example/FV-2026-12-000042.pdf -e inv-1-after-loss
check "the invoice record after the loss is consumed" wait_for 30 all_claimed "$IT_INVOICES_TOPIC"
check "still exactly one invoice note" [ "$(notes_with "$a" FV/2026/12/000042)" = 1 ]
