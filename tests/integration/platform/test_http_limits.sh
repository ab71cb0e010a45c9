# stock-sync's HTTP limits (HTTP_MAX_BODY, HTTP_MAX_CONNECTIONS, HTTP_MAX_CONNECTIONS_PER_IP,
# HTTP_CLIENT_TIMEOUT). A request is routed, sized and authenticated before its body is read: an
# unknown route is 404, a wrong method 405, a declared body over the route's limit 413 and an
# unsigned webhook 401, each answered at once while the client still holds its body back. A chunked
# body that passes the limit is answered 413 and the connection closed, not read to its end.
# Connections beyond the per-address and the total cap are not served; a client that sends nothing
# is disconnected after HTTP_CLIENT_TIMEOUT.
. "$(dirname "$0")/../lib.sh"
reset_schema
it_topics
start_erp 0
start_woo "$WOO_A_PORT" 5
start_woo "$WOO_B_PORT" 5
SECRET=it-limits-secret-$$
start_stock ERP_WEBHOOK_SECRET="$SECRET" STOCK_POLL_INTERVAL=1h HTTP_MAX_BODY=65536 \
	HTTP_MAX_CONNECTIONS=6 HTTP_MAX_CONNECTIONS_PER_IP=4 HTTP_CLIENT_TIMEOUT=2s
check "stock-sync becomes ready" stock_ready 30

BASE=http://127.0.0.1:$STOCK_PORT
HOOK=$BASE/webhooks/erp/stock
sign() { printf '%s.%s' "$2" "$1" | openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/^.*= //'; }
ZERO_SIG=$(printf '0%.0s' {1..64})

# Raw-socket clients curl cannot be: connections held open from a chosen source address, a client
# that sends nothing, a chunked body that never ends.
PY=$IT_DIR/http_client.py
cat >"$PY" <<'PY'
import select, socket, sys, time

def connect(src, port):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s

def hold(src, port, n, flag):
    """n connections from src, each inside its request headers; a header line every 0.5 s keeps
    them from going idle. Writes flag once all are open; runs until killed."""
    conns = []
    for _ in range(n):
        s = connect(src, port)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        conns.append(s)
    open(flag, "w").write("%d\n" % n)
    while True:
        time.sleep(0.5)
        for s in conns:
            try:
                s.sendall(b"X-Hold: 1\r\n")
            except OSError:
                pass

def idle(port):
    """Opens a connection, sends half a request, then nothing: prints whether it was still open
    after 0.5 s and when the server closed it."""
    s = connect("127.0.0.1", port)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    t0 = time.monotonic()
    s.settimeout(0.5)
    try:
        still_open = s.recv(1) != b""
    except socket.timeout:
        still_open = True
    except OSError:
        still_open = False
    s.settimeout(max(0.1, 8 - (time.monotonic() - t0)))
    try:
        while s.recv(4096):
            pass
        closed = "%.1f" % (time.monotonic() - t0)
    except socket.timeout:
        closed = "never"
    except OSError:
        closed = "%.1f" % (time.monotonic() - t0)
    print("open_after_0.5s=%d closed_after=%s" % (still_open, closed))

def chunked(port, path, ts, sig):
    """POSTs a chunked body that never ends (16 KiB chunks, for at most 8 s) and prints the status
    the server answered with, how long that took and whether it then closed the connection."""
    s = connect("127.0.0.1", port)
    s.sendall(("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\nX-ERP-Timestamp: %s\r\nX-ERP-Signature: %s\r\n\r\n"
               % (path, port, ts, sig)).encode())
    chunk = b"4000\r\n" + b"[" * 0x4000 + b"\r\n"
    t0 = time.monotonic()
    sent = 0
    s.setblocking(False)
    while time.monotonic() - t0 < 8:
        r, w, _ = select.select([s], [s], [], 0.5)
        if r:
            break
        if w:
            try:
                sent += s.send(chunk)
            except BlockingIOError:
                pass
            except OSError:
                break
    answered = time.monotonic() - t0
    s.setblocking(True)
    s.settimeout(3)
    data = b""
    closed = 0
    try:
        while True:
            d = s.recv(65536)
            if not d:
                closed = 1
                break
            data += d
    except socket.timeout:
        pass
    except OSError:
        closed = 1
    status = data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "none"
    print("status=%s after=%.1f closed=%d sent_kib=%d" % (status, answered, closed, sent // 1024))

cmd = sys.argv[1]
if cmd == "hold":
    hold(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
elif cmd == "idle":
    idle(int(sys.argv[2]))
elif cmd == "chunked":
    chunked(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
PY

# early METHOD PATH LENGTH [curl args...]: announces a body of LENGTH bytes and never sends it;
# prints the status (000: no answer within 3 s)
early() {
	local m=$1 p=$2 n=$3; shift 3
	curl -s -o "$IT_DIR/early.json" -w '%{http_code}' --max-time 3 -X "$m" -H "Content-Length: $n" \
		-H 'Expect:' "$@" "$BASE$p"
}

# ---- refused before the body ---------------------------------------------------------------------
rec='{"sku":"SKU-000002","warehouse":"WH-MAIN","on_hand":9,"reserved":0,"available":9,"version":1,"changed_at":"2026-01-01T00:00:00Z"}'
ts=$(date +%s)
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	-H "X-ERP-Timestamp: $ts" -H "X-ERP-Signature: $(sign "$rec" "$ts")" --data-binary "$rec" "$HOOK")
check "a signed record within the limit is accepted (202, got $code)" [ "$code" = 202 ]
code=$(early POST /no/such/route 60000)
check "an unknown route announcing a body is answered 404 without it (got $code)" [ "$code" = 404 ]
code=$(early PUT /webhooks/erp/stock 60000)
check "a wrong method announcing a body is answered 405 without it (got $code)" [ "$code" = 405 ]
code=$(early POST /webhooks/erp/stock 60000)
check "an unsigned webhook announcing a body is answered 401 without it (got $code)" [ "$code" = 401 ]
code=$(early POST /webhooks/erp/stock 70000 -H "X-ERP-Timestamp: $(date +%s)" -H "X-ERP-Signature: $ZERO_SIG")
check "a webhook announcing more than HTTP_MAX_BODY (64 KiB) is answered 413 without it (got $code)" [ "$code" = 413 ]
code=$(early GET /healthz 60000)
check "/healthz announcing a body is answered 413 (it takes none; got $code)" [ "$code" = 413 ]

out=$(python3 "$PY" chunked "$STOCK_PORT" /webhooks/erp/stock "$(date +%s)" "$ZERO_SIG")
echo "   (endless chunked webhook body: $out)"
check "an endless chunked body is answered 413" grep -q 'status=413' <<<"$out"
check "... within 3 s, not after reading it to its end" \
	awk '{ split($2, a, "="); exit !(a[2] < 3) }' <<<"$out"
check "... and the connection is closed" grep -q 'closed=1' <<<"$out"
check "the refusals are counted by route (413 on /webhooks/erp/stock)" \
	[ "$(metric erpsync_http_server_requests_total 'route="/webhooks/erp/stock",code="413"')" -ge 2 ]
check "stock-sync still answers (/healthz 200)" wait_http "$BASE/healthz" 5

# ---- client timeout ------------------------------------------------------------------------------
out=$(python3 "$PY" idle "$STOCK_PORT")
echo "   (a client that sends half a request, then nothing: $out)"
check "a silent client's connection is open at first" grep -q 'open_after_0.5s=1' <<<"$out"
check "... and closed by the server after HTTP_CLIENT_TIMEOUT (2 s), within 5 s" \
	awk '{ split($2, a, "="); exit !(a[2] != "never" && a[2] >= 1.5 && a[2] < 5) }' <<<"$out"

# ---- connection caps -----------------------------------------------------------------------------
# get FROM: /healthz from source address FROM; prints the status (000: not served within 2 s)
get() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 --interface "$1" "$BASE/healthz"; }
held() { [ -s "$IT_DIR/held.$1" ]; }
check "before: 127.0.0.1 is served" [ "$(get 127.0.0.1)" = 200 ]
python3 "$PY" hold 127.0.0.1 "$STOCK_PORT" 4 "$IT_DIR/held.1" & HOLD1=$!
IT_PIDS+=("$HOLD1")
check "4 connections from 127.0.0.1 are held open" wait_for 5 held 1
code=$(get 127.0.0.1)
check "a 5th connection from 127.0.0.1 is not served (HTTP_MAX_CONNECTIONS_PER_IP=4; got $code)" [ "$code" != 200 ]
code=$(get 127.0.0.2)
check "meanwhile 127.0.0.2 is served (200, got $code)" [ "$code" = 200 ]
python3 "$PY" hold 127.0.0.2 "$STOCK_PORT" 2 "$IT_DIR/held.2" & HOLD2=$!
IT_PIDS+=("$HOLD2")
check "2 more from 127.0.0.2 are held open (6 in all)" wait_for 5 held 2
sleep 0.3
code=$(get 127.0.0.3)
check "a 7th connection, from 127.0.0.3, is not served (HTTP_MAX_CONNECTIONS=6; got $code)" [ "$code" != 200 ]
kill "$HOLD1" "$HOLD2" 2>/dev/null
wait "$HOLD1" "$HOLD2" 2>/dev/null
served() { [ "$(get "$1")" = 200 ]; }
check "once they are closed, 127.0.0.3 is served" wait_for 5 served 127.0.0.3
check "and so is 127.0.0.1" wait_for 5 served 127.0.0.1
