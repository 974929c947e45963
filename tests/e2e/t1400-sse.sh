#!/usr/bin/env bash
# t1400-sse — Server-Sent Events: omnicat's client against a node http-module server
# (peers/sse_node.js), omnicat's server against curl -N and python, relays into SSE.
. "$(dirname "$0")/lib.sh"

SSEP=$LIB_DIR/peers/sse_node.js

# node_sse NAME ARGS...: a sse_node.js server on a free port; sets $PORT.
node_sse() {
	local name=$1
	shift
	require_peer node
	PORT=$(free_port)
	bg "$name" node "$SSEP" "$PORT" "$@"
	wait_line "$name.out" '^listening'
}

# oc_sse NAME ARGS...: `omnicat server sse://127.0.0.1:PORT/events -v ARGS` with stdin from
# NAME.in (a FIFO the test writes to on fd 7); sets $PORT. OC_SSE=oc_rel runs the optimised
# build (for memory figures: ASan's quarantine holds on to freed memory).
oc_sse() {
	local name=$1
	shift
	PORT=$(free_port)
	mkfifo "$name.in"
	bg "$name" "${OC_SSE:-oc}" server "sse://127.0.0.1:$PORT/events" -v "$@"
	exec 7>"$name.in"
	wait_port "$PORT"
}

# subscribed NAME N: wait until server (or relay) NAME has seen N subscriptions in all.
subscribed() { wait_for sh -c "[ \$(grep -c ' subscribed (' '$1.err') -ge $2 ]"; }

# curl_sse NAME [CURL ARGS...]: curl -N on the server's stream in the background.
curl_sse() {
	local name=$1
	shift
	bg "$name" curl -sSN "$@" "http://127.0.0.1:$PORT/events"
}

t_client_events() {
	node_sse srv --events 4
	expect_code 0 oc sub -c 4 "sse://127.0.0.1:$PORT/events"
	printf 'line 1\nsecond 1\nline 2\nsecond 2\nline 3\nsecond 3\nline 4\nsecond 4\n' >want
	assert_file_eq want out
	expect_code 0 oc sub -c 2 --jsonl "sse://127.0.0.1:$PORT/events"
	assert_grep out '^{"payload":"line 1\\nsecond 1","id":"1"'
	assert_grep out '^{"topic":"tick","payload":"line 2\\nsecond 2","id":"2"'
	expect_code 0 oc sub -c 2 --format '%t|%s\n' "sse://127.0.0.1:$PORT/events"
	assert_content out $'|line 1\nsecond 1\ntick|line 2\nsecond 2\n'
}
run_test "sub sse:// against node: data lines joined, event name as topic, id, -c N" t_client_events

t_client_drop() {
	node_sse srv --events 5 --drop 2
	expect_code 13 oc sub "sse://127.0.0.1:$PORT/events"
	assert_one_line_error err
	assert_content out $'line 1\nsecond 1\nline 2\nsecond 2\n'
}
run_test "a dropped stream without --reconnect: what came is kept, exit 13" t_client_drop

t_client_reconnect() {
	node_sse srv --events 6 --drop 2 --retry 200
	expect_code 0 oc sub -c 6 --jsonl --reconnect -v "sse://127.0.0.1:$PORT/events"
	for i in 1 2 3 4 5 6; do assert_grep out "\"id\":\"$i\""; done
	[ "$(wc -l <out)" = 6 ] || fail "expected 6 events, got $(wc -l <out)"
	assert_grep srv.out '^connect last-event-id=-$'
	assert_grep srv.out '^connect last-event-id=2$'
	assert_grep srv.out '^connect last-event-id=4$'
	assert_grep err 'reconnecting in 200 ms with Last-Event-ID 2'
}
run_test "--reconnect honours retry: and resumes with Last-Event-ID, nothing lost or repeated" t_client_reconnect

t_client_errors() {
	node_sse srv
	expect_code 8 oc sub "sse://127.0.0.1:$PORT/auth"
	assert_one_line_error err
	expect_code 10 oc sub "sse://127.0.0.1:$PORT/missing"
	assert_grep err '404'
	expect_code 9 oc sub "sse://127.0.0.1:$PORT/plain"
	assert_grep err 'not an event stream'
	expect_code 0 oc sub "sse://127.0.0.1:$PORT/nocontent"
	expect_code 6 oc sub "sse://127.0.0.1:$(free_port)/events"
	assert_one_line_error err
	# --reconnect does not retry a refusal
	expect_code 8 oc sub --reconnect "sse://127.0.0.1:$PORT/auth"
}
run_test "client errors: 401 exits 8, 404 10, not text/event-stream 9, 204 ends, refused 6" t_client_errors

t_server_curl() {
	oc_sse srv --jsonl
	curl_sse c1
	subscribed srv 1
	echo '{"payload":"first\nsecond line","topic":"greet"}' >&7
	echo '{"payload":"plain"}' >&7
	echo '{"payload":"mine","id":"custom-7"}' >&7
	wait_line c1.out '^data: mine$'
	printf 'event: greet\nid: 1\ndata: first\ndata: second line\n\nid: 2\ndata: plain\n\nid: custom-7\ndata: mine\n\n' >want
	assert_file_eq want c1.out
}
run_test "server sse:// with curl -N: multi-line data, event names from topic, ids numbered or kept" t_server_curl

t_server_history() {
	oc_sse srv --history 3 --keepalive 0.2
	for i in 1 2 3 4 5; do echo "event $i" >&7; done
	# no subscriber yet: the events are only in the history (the last 3)
	wait_for sh -c "[ \$(grep -c 'message of' srv.err) -ge 5 ]"
	expect_code 28 curl -sSN -m 1 -H 'Last-Event-ID: 3' "http://127.0.0.1:$PORT/events"
	printf 'id: 4\ndata: event 4\n\nid: 5\ndata: event 5\n\n' >want
	head -c "$(wc -c <want)" out >got
	assert_file_eq want got
	# keepalive comments arrive on an idle stream
	assert_grep out '^:$'
	# an id the history no longer holds: everything it holds
	expect_code 28 curl -sSN -m 1 -H 'Last-Event-ID: 1' "http://127.0.0.1:$PORT/events"
	assert_grep out '^data: event 3$'
	# no Last-Event-ID: only new events
	curl_sse c1
	subscribed srv 3
	echo "event 6" >&7
	wait_line c1.out '^data: event 6$'
	assert_no_grep c1.out 'event 5'
}
run_test "--history replays after Last-Event-ID; --keepalive comments; new clients get new events" t_server_history

t_server_many() {
	oc_sse srv
	require_peer node
	cat >many.js <<'EOF'
// 100 clients on one stream; each prints how many events it got once it has all of them.
const http = require('http');
const [port, n, want] = process.argv.slice(2).map(Number);
let done = 0, connected = 0;
for (let i = 0; i < n; i++) {
	http.get({ host: '127.0.0.1', port, path: '/events' }, (res) => {
		if (++connected === n) console.log('all connected');
		let got = 0, buf = '';
		res.setEncoding('utf8');
		res.on('data', (d) => {
			buf += d;
			const parts = buf.split('\n\n');
			buf = parts.pop();
			got += parts.filter((p) => p.includes('data: ')).length;
			if (got === want && ++done === n) { console.log(`${n} clients got ${want}`); process.exit(0); }
		});
	});
}
EOF
	bg many node many.js "$PORT" 100 1000
	wait_line many.out 'all connected'
	seq 1 1000 >&7
	wait_line many.out '^100 clients got 1000$'
	expect_exit many 0
}
run_test "100 concurrent clients each get all 1000 events" t_server_many

t_server_slow() {
	OC_SSE=oc_rel oc_sse srv
	# a client that subscribes and then never reads
	cat >slow.py <<'EOF'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
print("subscribed", flush=True)
time.sleep(60)
EOF
	bg slow "$PY" slow.py "$PORT"
	subscribed srv 1
	curl_sse good
	subscribed srv 2
	# 40 MB of events: far more than the slow client may have unsent
	head -c 30000000 /dev/zero | base64 -w 1000 >&7
	echo "last one" >&7
	wait_line good.out '^data: last one$'
	wait_line srv.err 'too slow'
	grep 'too slow' srv.err >slow.err
	assert_one_line_error slow.err
	local rss
	rss=$(awk '/VmHWM/ { print $2 }' "/proc/$(cmd_pid srv)/status")
	[ "$rss" -lt 100000 ] || fail "server peak RSS ${rss} KiB"
}
run_test "a client that stops reading is dropped with an error; the others go on; memory stays bounded" t_server_slow

t_relay_into_sse() {
	require_peer socat
	local tp
	tp=$(free_port)
	PORT=$(free_port)
	bg relay oc relay -v "tcp-listen://127.0.0.1:$tp" "sse-listen://127.0.0.1:$PORT/events"
	wait_port "$PORT"
	curl_sse c1
	subscribed relay 1
	printf 'from tcp\nanother\n' | timeout 10 socat -u - "TCP:127.0.0.1:$tp"
	wait_line c1.out '^data: another$'
	assert_grep c1.out '^data: from tcp$'
}
run_test "relay tcp-listen -> sse-listen: lines become events" t_relay_into_sse

t_sses() {
	require_peer openssl
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
		-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
	PORT=$(free_port)
	mkfifo srv.in
	bg srv oc server "sses://127.0.0.1:$PORT/events" -v --cert cert.pem --key key.pem
	exec 7>srv.in
	wait_port "$PORT"
	bg c1 curl -sSN --cacert cert.pem "https://localhost:$PORT/events"
	bg c2 oc sub -c 1 --cacert cert.pem "sses://localhost:$PORT/events"
	subscribed srv 2
	echo "secret" >&7
	wait_line c1.out '^data: secret$'
	expect_exit c2 0
	assert_content c2.out $'secret\n'
	# a self-signed server without -k or --cacert
	expect_code 7 oc sub "sses://localhost:$PORT/events"
	assert_one_line_error err
}
run_test "sses: TLS server with curl --cacert and omnicat sub; self-signed without -k exits 7" t_sses

done_testing
