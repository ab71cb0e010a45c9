# An operator sees the dead letters and replays one once its cause is fixed: `erpsyncctl dlq list`
# shows each letter with its reason, `dlq replay` sends a fixable one back to its topic where it is
# applied once, a second replay replays nothing, and two operators replaying at once replay each
# letter once.
. "$(dirname "$0")/../lib.sh"
it_setup 20

DLQ="$IT_TOPIC.dlq"
KEY='SKU-000001|WH-MAIN'
ctl() { "$BIN/erpsyncctl" dlq "$1" -b "$KAFKA_BOOTSTRAP_SERVERS" -t "$DLQ" "${@:2}"; }
# letters JQ [list options...]: jq's answer over the listed letters (as one array)
letters() { local q=$1; shift; ctl list --json "$@" | jq -s "$q"; }
letters_are() { [ "$(letters length "${@:2}")" = "$1" ]; }
pending() { letters '[.[] | select(.state == "pending")] | length'; }
# the records of the stock topic that are replays (they carry dlq-replayed-from), one a line
replayed_copies() {
	kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -C -t "$IT_TOPIC" -o beginning -e -q -f '%h\n' 2>/dev/null |
		grep -o 'dlq-replayed-from=[^,]*'
}
# ran RC WANT-RC PATTERN: the command exited WANT-RC and its output ($out) has a line matching PATTERN
ran() { [ "$1" = "$2" ] && grep -qP -- "$3" <<<"$out"; }

# A record PostgreSQL refuses while an operator's constraint holds (fixable), and a poison record
# whose SKU is not UTF-8 (never applicable).
psql_q "ALTER TABLE stock_sync.stock ADD CONSTRAINT it_hold_main CHECK (warehouse <> 'WH-MAIN')"
stockgen -n 1 -s 1 -q 7 -v 100 -e held >/dev/null
printf '\x0a\x0d\x0a\x0b%s\x12\x03\xff\xfe\xfd\x1a\x07WH-MAIN\x40\x01' ev-bad-utf8 >"$IT_DIR/bad-utf8.bin"
kcat -b "$KAFKA_BOOTSTRAP_SERVERS" -P -t "$IT_TOPIC" -k 'bad|WH-MAIN' "$IT_DIR/bad-utf8.bin"

check "dlq list shows both dead letters" wait_for 40 letters_are 2
out=$(ctl list); rc=$?
check "dlq list (text) shows the poison record with its reason, pending" ran $rc 0 \
	'^0:\d+\t\S+Z\tbad\|WH-MAIN\t'"$IT_TOPIC"':\d+:\d+\tstock-sync\tpending\tsku missing, longer than 64 bytes or not UTF-8$'
check "dlq list (text) ends with a count" ran $rc 0 '^dead letters: 2 \(2 pending, 0 replayed, 0 unreplayable\)$'
held=$(ctl list --json --key "$KEY")
check "dlq list --key shows the held record alone" [ "$(jq -s length <<<"$held")" = 1 ]
check "the held record: key, source, service, PostgreSQL's reason, pending" \
	jq -e --arg t "$IT_TOPIC" --arg k "$KEY" '.key == $k and .source_topic == $t and .source_partition >= 0 and
	 .source_offset >= 0 and .service == "stock-sync" and (.reason | test("refused by PostgreSQL: .*it_hold_main"))
	 and .state == "pending" and .replayed == false and .attempts == 1' <<<"$held" >/dev/null
pos=$(jq -r '"\(.partition):\(.offset)"' <<<"$held")
check "dlq list --since-offset past the letters shows none" letters_are 0 --since-offset 1000
check "the held record is not applied" [ "$(psql_q "SELECT count(*) FROM stock_sync.inbox WHERE event_id = 'held-0'")" = 0 ]

out=$(ctl replay --key "$KEY" --dry-run); rc=$?
check "dlq replay --dry-run names the letter and exits 0" ran $rc 0 "^would replay $pos to $IT_TOPIC\$"
check "a dry run replays nothing" [ "$(pending)" = 2 ]
out=$(ctl replay 2>&1); rc=$?
check "dlq replay without a selection is a usage error (exit 2)" ran $rc 2 'say what to replay'

# the cause is fixed: the record is replayed and applied once, under its own event id
psql_q "ALTER TABLE stock_sync.stock DROP CONSTRAINT it_hold_main"
out=$(ctl replay --key "$KEY"); rc=$?
check "dlq replay exits 0 and says where the letter went" ran $rc 0 "^replayed $pos to $IT_TOPIC:\\d+:\\d+\$"
check "the replayed record is applied under its own event id" wait_for 20 claimed held-0
check "its stock is stored" [ "$(psql_q "SELECT available_milli FROM stock_sync.stock WHERE sku = 'SKU-000001' AND warehouse = 'WH-MAIN'")" = 7000 ]
check "dlq list shows it replayed, and where to" [ "$(ctl list --json --key "$KEY" |
	jq --arg t "$IT_TOPIC" '.state == "replayed" and (.replayed_to | startswith($t + ":"))')" = true ]

out=$(ctl replay --key "$KEY"); rc=$?
check "a second replay exits 0, says the letter was replayed" ran $rc 0 "^already replayed $pos "
check "a second replay replays nothing" ran $rc 0 '^dlq replay: 0 replayed, 0 not$'
out=$(ctl replay --offset "$pos"); rc=$?
check "replaying it by its position replays nothing either" ran $rc 0 '^dlq replay: 0 replayed, 0 not$'
out=$(ctl replay --offset 0:999999 2>&1); rc=$?
check "a position that holds no letter fails (exit 1) and says so" ran $rc 1 'no dead letter at 0:999999'
# the marker: a record of the same key (the same partition, consumed in order) after the replays
stockgen -n 1 -s 1 -q 8 -v 200 -e after >/dev/null
check "a record produced after the replays is applied" wait_for 20 claimed after-0
check "exactly one replayed copy is in the topic" [ "$(replayed_copies | wc -l)" = 1 ]
check "no duplicate reached stock-sync" [ "$(metric erpsync_stock_events_duplicate_total)" = 0 ]

# Two operators at once: ten letters of one key, replayed by two commands started together.
psql_q "ALTER TABLE stock_sync.stock ADD CONSTRAINT it_hold_south CHECK (warehouse <> 'WH-SOUTH')"
stockgen -n 10 -s 1 -w WH-SOUTH -q 3 -v 300 -e twin >/dev/null
check "the ten refused records are dead letters" wait_for 60 letters_are 10 --key 'SKU-000001|WH-SOUTH'
psql_q "ALTER TABLE stock_sync.stock DROP CONSTRAINT it_hold_south"
ctl replay --key 'SKU-000001|WH-SOUTH' >"$IT_DIR/op1.out" 2>&1 &
op1=$!
ctl replay --key 'SKU-000001|WH-SOUTH' >"$IT_DIR/op2.out" 2>&1 &
op2=$!
wait "$op1"
wait "$op2"
# one of them may have been fenced by the other: a third run replays what is left
ctl replay --key 'SKU-000001|WH-SOUTH' >"$IT_DIR/op3.out" 2>&1
check "every letter of the two operators is replayed (the poison one is left)" [ "$(pending)" = 1 ]
check "no letter was replayed by both operators" \
	[ -z "$(cat "$IT_DIR"/op[12].out | grep -o '^replayed [0-9:]*' | sort | uniq -d)" ]
check "each letter is in the topic once: eleven replayed copies, none twice" \
	[ "$(replayed_copies | sort -u | wc -l)" = 11 -a "$(replayed_copies | wc -l)" = 11 ]
check "the ten are applied" wait_for 20 claimed twin-0 twin-1 twin-2 twin-3 twin-4 twin-5 twin-6 twin-7 twin-8 twin-9
