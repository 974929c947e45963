#!/usr/bin/env bash
# t1300-ws — WebSocket client and server against python3-websockets, and malformed peers.
. "$(dirname "$0")/lib.sh"

WSP=$LIB_DIR/peers/ws_peer.py

# peer NAME ARGS...: a ws_peer.py server on a free port; sets $PORT.
peer() {
	local name=$1 mode=$2
	shift 2
	PORT=$(free_port)
	bg "$name" "$PY" "$WSP" "$mode" "$PORT" "$@"
	wait_line "$name.out" '^listening'
}

ws_module() {
	"$PY" -c 'import websockets' 2>/dev/null ||
		if [ "${OMNICAT_REQUIRE_PEERS:-0}" = 1 ]; then fail "python3-websockets is missing"; else skip "no python3-websockets"; fi
}

t_echo_text() {
	ws_module
	peer echo echo
	printf 'hello\nwörld\n' | expect_code 0 oc client "ws://127.0.0.1:$PORT/"
	printf 'hello\nwörld\n' >want
	assert_file_eq want out
}
run_test "client: text messages to an echo server, all answers before the close" t_echo_text

t_binary() {
	ws_module
	peer echo echo
	"$PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))' >all.bin
	expect_code 0 oc client "ws://127.0.0.1:$PORT/" --framing raw <all.bin
	assert_file_eq all.bin out
	# as jsonl: payload_b64
	expect_code 0 oc client "ws://127.0.0.1:$PORT/" --framing raw --jsonl -d @all.bin
	assert_grep out '"payload_b64":"AAECAwQF'
	# forced binary for text
	peer count count
	printf 'abc\n' | expect_code 0 oc pub "ws://127.0.0.1:$PORT/" --binary
	wait_line count.out '^hex:616263$'
}
run_test "binary messages: all 256 byte values, payload_b64 in jsonl, --binary" t_binary

t_big() {
	ws_module
	peer echo echo
	head -c 16777216 /dev/urandom | base64 -w0 >big
	echo >>big
	expect_code 0 oc client "ws://127.0.0.1:$PORT/" <big
	assert_file_eq big out
}
run_test "a 16 MiB message out and back" t_big

t_server_big() {
	ws_module
	PORT=$(free_port)
	bg srv oc server "ws://127.0.0.1:$PORT" --echo --framing raw
	wait_port "$PORT"
	head -c 16777216 /dev/urandom >big
	"$PY" "$WSP" sendfile "ws://127.0.0.1:$PORT/" big >got
	assert_file_eq big got
}
run_test "server: a 16 MiB binary message from a client, echoed whole" t_server_big

t_subprotocol() {
	ws_module
	peer echo echo --protocols chat,superchat
	echo x | expect_code 0 oc client -v --protocol superchat "ws://127.0.0.1:$PORT/"
	assert_grep err 'protocol superchat'
	assert_content out $'x\n'
}
run_test "subprotocol negotiation" t_subprotocol

t_compress() {
	ws_module
	peer echo echo
	head -c 100000 /dev/zero | tr '\0' a >long
	echo >>long
	expect_code 0 oc client --trace "ws://127.0.0.1:$PORT/" <long
	assert_file_eq long out
	assert_grep err 'permessage-deflate'
	expect_code 0 oc client --no-compress "ws://127.0.0.1:$PORT/" <long
	assert_file_eq long out
	peer plain echo --no-compress
	expect_code 0 oc client "ws://127.0.0.1:$PORT/" <long
	assert_file_eq long out
}
run_test "permessage-deflate on and off" t_compress

t_close_codes() {
	ws_module
	peer bye close 4001 'go away'
	echo x | expect_code 10 oc client "ws://127.0.0.1:$PORT/"
	assert_one_line_error err
	assert_grep err '4001'
	assert_grep err 'go away'
	peer fine close 1001 'leaving'
	echo x | expect_code 0 oc client "ws://127.0.0.1:$PORT/"
	# the close we send
	PORT=$(free_port)
	bg srv oc server "ws://127.0.0.1:$PORT" -v
	wait_port "$PORT"
	echo x | expect_code 0 oc client "ws://127.0.0.1:$PORT/" --close-code 4002 --close-reason bye-now
	wait_line srv.err 'closed by the peer with 4002 bye-now'
}
run_test "close codes both ways: 4001 exits 10 with its reason, 1001 is normal, --close-code" t_close_codes

t_server_broadcast() {
	ws_module
	mkfifo srv.in
	PORT=$(free_port)
	bg srv oc server "ws://127.0.0.1:$PORT" --jsonl
	exec 7>srv.in
	wait_port "$PORT"
	for i in 1 2 3; do bg c$i "$PY" "$WSP" recv "ws://127.0.0.1:$PORT/" 2; done
	for i in 1 2 3; do wait_line c$i.out connected; done
	echo '{"payload":"to all"}' >&7
	for i in 1 2 3; do wait_line c$i.out 'to all'; done
	local peer
	"$PY" "$WSP" send "ws://127.0.0.1:$PORT/" 'hello server' >/dev/null 2>&1 &
	wait_line srv.out '"payload":"hello server"'
	peer=$(grep -o '"peer":"[^"]*"' srv.out | head -1 | cut -d'"' -f4)
	[[ $peer == 127.0.0.1:* ]] || fail "peer is '$peer'"
	echo '{"payload":"second"}' >&7
	for i in 1 2 3; do wait_line c$i.out second; expect_exit c$i 0; done
	exec 7>&-
}
run_test "server: stdin broadcast to 3 clients; their messages on stdout with the peer" t_server_broadcast

t_server_exec() {
	ws_module
	PORT=$(free_port)
	bg srv oc server "ws://127.0.0.1:$PORT" --exec 'sed -u y/abcdefghijklmnopqrstuvwxyz/ABCDEFGHIJKLMNOPQRSTUVWXYZ/'
	wait_port "$PORT"
	"$PY" "$WSP" send "ws://127.0.0.1:$PORT/" 'shout' >got
	assert_content got $'SHOUT\n'
	PORT=$(free_port)
	bg echo oc server "ws://127.0.0.1:$PORT" --echo
	wait_port "$PORT"
	"$PY" "$WSP" send "ws://127.0.0.1:$PORT/" 'one' 'two' >got
	assert_content got $'one\ntwo\n'
	# a binary message that happens to be UTF-8 comes back binary
	"$PY" "$WSP" sendbin "ws://127.0.0.1:$PORT/" 'abc' >got
	assert_content got $'hex:616263\n'
}
run_test "server --exec (one child per connection) and --echo (frame types kept)" t_server_exec

t_reconnect() {
	ws_module
	PORT=$(free_port)
	bg count "$PY" "$WSP" count "$PORT"
	wait_line count.out '^listening'
	mkfifo cl.in
	bg cl oc pub "ws://127.0.0.1:$PORT/" --reconnect -v
	exec 7>cl.in
	wait_line cl.err 'connected'
	echo before >&7
	wait_line count.out '^before$'
	kill "$(pid_of count)"
	wait_gone count
	bg count2 "$PY" "$WSP" count "$PORT" 7>&- # not a writer of cl.in: cl must see its end
	wait_line count2.out '^listening'
	wait_line cl.err 'reconnecting'
	for i in 1 2 3 4 5; do echo "after$i" >&7; done
	wait_line count2.out '^after5$'
	exec 7>&-
	expect_exit cl 0
}
run_test "--reconnect: after the server restarts, messages arrive again" t_reconnect

t_vanish() {
	ws_module
	peer count count
	mkfifo cl.in
	bg cl oc client "ws://127.0.0.1:$PORT/"
	exec 7>cl.in
	echo first >&7
	wait_line count.out '^first$'
	kill "$(pid_of count)"
	expect_exit cl 13
	exec 7>&-
	assert_one_line_error cl.err
	assert_grep cl.err '1006'
}
run_test "a server that vanishes: the client exits 13 (1006)" t_vanish

# answering PORT FILE: a TCP server on PORT that answers every connection with FILE's bytes
# and keeps it open a while (what it reads is ignored).
answering() {
	bg "answer$1" socat TCP-LISTEN:$1,bind=127.0.0.1,reuseaddr,fork SYSTEM:"cat $PWD/$2; sleep 3"
	wait_port "$1"
}

t_malformed() {
	require_peer socat
	local p
	# a "server" that answers the handshake with garbage
	printf 'HELLO THERE\r\n\r\n' >garbage
	p=$(free_port)
	answering "$p" garbage
	echo x | expect_code 9 oc client "ws://127.0.0.1:$p/"
	assert_one_line_error err
	# a handshake refused with 403
	printf 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n' >forbidden
	p=$(free_port)
	answering "$p" forbidden
	echo x | expect_code 8 oc client "ws://127.0.0.1:$p/"
	assert_grep err 403
	# 404: another refusal
	printf 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n' >notfound
	p=$(free_port)
	answering "$p" notfound
	echo x | expect_code 10 oc client "ws://127.0.0.1:$p/"
	assert_grep err 404
	# a 101 without the accept key
	printf 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n' >nokey
	p=$(free_port)
	answering "$p" nokey
	echo x | expect_code 9 oc client "ws://127.0.0.1:$p/"
	assert_one_line_error err
	# nothing listening
	echo x | expect_code 6 oc client "ws://127.0.0.1:$(free_port)/"
	assert_one_line_error err
}
run_test "bad handshakes: garbage 9, 403 8, 404 10, no accept key 9, refused 6" t_malformed

t_max_size() {
	ws_module
	peer echo echo
	head -c 5000 /dev/zero | tr '\0' a >big
	echo >>big
	expect_code 9 oc client --max-size 1000 "ws://127.0.0.1:$PORT/" <big
	assert_one_line_error err
	assert_grep err '1009'
}
run_test "a message over --max-size closes with 1009 and exits 9" t_max_size

t_relay() {
	ws_module
	require_peer socat
	local tp
	tp=$(free_port)
	bg up socat TCP-LISTEN:$tp,bind=127.0.0.1,reuseaddr,fork EXEC:'sed -u y/abcdefghijklmnopqrstuvwxyz/ABCDEFGHIJKLMNOPQRSTUVWXYZ/'
	wait_port "$tp"
	PORT=$(free_port)
	bg relay oc relay "ws-listen://127.0.0.1:$PORT" "tcp://127.0.0.1:$tp"
	wait_port "$PORT"
	"$PY" "$WSP" send "ws://127.0.0.1:$PORT/" 'websockify' >got
	assert_content got $'WEBSOCKIFY\n'
	# and the other way: tcp-listen -> ws
	peer echo echo
	local lp
	lp=$(free_port)
	bg relay2 oc relay "tcp-listen://127.0.0.1:$lp" "ws://127.0.0.1:$PORT/"
	wait_port "$lp"
	printf 'through\n' | timeout 10 socat -t 3 - TCP:127.0.0.1:$lp >got2 || true
	assert_content got2 $'through\n'
}
run_test "relay ws-listen -> tcp (websockify) and tcp-listen -> ws" t_relay

t_wss() {
	ws_module
	require_peer openssl
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
		-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
	PORT=$(free_port)
	bg srv oc server "wss://127.0.0.1:$PORT" --cert cert.pem --key key.pem --echo
	wait_port "$PORT"
	echo secure | expect_code 7 oc client "wss://localhost:$PORT/"
	echo secure | expect_code 0 oc client -k "wss://localhost:$PORT/"
	assert_content out $'secure\n'
	echo secure | expect_code 0 oc client --cacert cert.pem "wss://localhost:$PORT/"
	assert_content out $'secure\n'
}
run_test "wss: a self-signed server exits 7; -k and --cacert pass" t_wss

done_testing
