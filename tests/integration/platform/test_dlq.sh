# A malformed record goes to <topic>.dlq with headers that say why and where it came from, and
# consumption goes on with the records behind it.
. "$(dirname "$0")/../lib.sh"
it_setup 20

stockgen -n 1 -s 1 -q 7 -v 100 -e good-before >/dev/null
stockgen -n 2 -s 1 -g >/dev/null
# a well-formed protobuf whose SKU is not UTF-8 (PostgreSQL would refuse it and stall the batch)
ev=ev-bad-utf8
printf '\x0a\x0d\x0a\x0b%s\x12\x03\xff\xfe\xfd\x1a\x07WH-MAIN\x40\x01' "$ev" >"$IT_DIR/bad-utf8.bin"
kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -P -t "$IT_TOPIC" -k 'bad|WH-MAIN' "$IT_DIR/bad-utf8.bin"
stockgen -n 1 -s 1 -q 9 -v 200 -e good-after >/dev/null
check "the records after the malformed ones are applied" wait_for 20 bash -c \
	"[ \"\$(psql \"$PG_DSN\" -XAtc \"SELECT available_milli FROM stock_sync.stock WHERE sku = 'SKU-000001' AND warehouse = 'WH-MAIN'\")\" = 9000 ]"
dlq=$(kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$IT_TOPIC.dlq" -o beginning -c 3 -e -q \
	-f '%h\n' 2>/dev/null)
check "three records are in the dead-letter topic" [ "$(grep -c dlq-error <<<"$dlq")" -eq 3 ]
check "the non-UTF-8 SKU is dead-lettered with its reason" grep -q 'dlq-error=sku missing, longer than 64 bytes or not UTF-8' <<<"$dlq"
for h in dlq-error=value dlq-service=stock-sync "dlq-source-topic=$IT_TOPIC" dlq-source-partition= \
	dlq-source-offset= dlq-attempts= dlq-time= event-id=; do
	check "dead letters carry header ${h%%=*}" grep -q -- "$h" <<<"$dlq"
done
check "the dead letters are counted" [ "$(metric erpsync_stock_events_dead_lettered_total)" -eq 3 ]
check "inbox holds exactly the two good events" [ "$(psql_q "SELECT count(*) FROM stock_sync.inbox")" -eq 2 ]
