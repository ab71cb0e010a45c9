# Shutdown has one bound, SHUTDOWN_TIMEOUT, whatever it waits for. With PostgreSQL frozen while
# records stream in (every process of the test instance stopped: statements, commits and new
# connections neither answer nor fail, TCP still accepts), a SIGTERM still ends stock-sync within
# SHUTDOWN_TIMEOUT (3 s here) and a small margin, with exit status 0. Started again with
# PostgreSQL back, every event is applied exactly once.
. "$(dirname "$0")/../lib.sh"
pm=$(head -1 "$ERPSYNC_PG_DATA/postmaster.pid")
pg_pids() { echo "$pm" $(ps -o pid= --ppid "$pm"); }
thaw() { kill -CONT $(pg_pids) 2>/dev/null; }
trap 'thaw; it_cleanup' EXIT
it_setup 20 SHUTDOWN_TIMEOUT=3s

inbox_is() { [ "$(psql_q "SELECT count(*) FROM stock_sync.inbox")" -eq "$1" ]; }
stockgen -n 500 -s 20 -q 10 -e before >/dev/null
check "500 events applied before the freeze" wait_for 30 inbox_is 500
stockgen -n 10000 -s 20 -q 100 -r 2000 -e during >/dev/null &
gen=$!
sleep 2
kill -STOP $(pg_pids)
# the freeze must hold, or the bound below is measured against a PostgreSQL that answers
pg_frozen() { ! timeout 2 psql "$PG_DSN" -XAtqc 'SELECT 1' >/dev/null 2>&1; }
check "PostgreSQL is frozen (postmaster $pm and its children stopped: a query gets no answer in 2 s)" pg_frozen
sleep 1.5      # the apply lanes, the writer, the shops and the poller now wait on PostgreSQL
t0=$(date +%s%3N)
kill -TERM "$STOCK_PID"
gone() { [ ! -d "/proc/$STOCK_PID" ] || grep -q '^State:.*Z' "/proc/$STOCK_PID/status" 2>/dev/null; }
wait_for 30 gone
exited=$?
ms=$(( $(date +%s%3N) - t0 ))
[ "$exited" -eq 0 ] || kill -KILL "$STOCK_PID" 2>/dev/null
wait "$STOCK_PID"
rc=$?
thaw
echo "   (stopped in $ms ms with PostgreSQL frozen)"
check "with PostgreSQL frozen, SIGTERM ends stock-sync within SHUTDOWN_TIMEOUT + 1.5 s ($ms ms)" \
	[ "$exited" -eq 0 -a "$ms" -lt 4500 ]
check "exit status 0 (got $rc)" [ "$rc" -eq 0 ]
check "the log says it stopped" grep -q '"message":"stopped"' "$IT_DIR/stock-sync.log"
wait "$gen"
start_stock SHUTDOWN_TIMEOUT=3s
check "stock-sync is ready again with PostgreSQL back" stock_ready 30
check "every one of the 10,500 events is applied exactly once" wait_for 60 inbox_is 10500
check "each SKU holds its last version" \
	wait_for 15 bash -c "[ \"\$(psql \"$PG_DSN\" -XAtc 'SELECT count(*) FROM stock_sync.stock WHERE version = 500 AND available_milli = 599000')\" -eq 20 ]"
