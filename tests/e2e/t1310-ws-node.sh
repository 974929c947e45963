#!/usr/bin/env bash
# t1310-ws-node — WebSocket client and server against node's `ws` (a second implementation
# besides python3-websockets in t1300), ping/pong both ways, sub -c, and malformed peers
# (hand-written frames over node's `net`: bad UTF-8, a frame cut short, garbage).
. "$(dirname "$0")/lib.sh"

WSN=$LIB_DIR/peers/ws_node.js

# node with the ws package (make node-peers): a failure under OMNICAT_REQUIRE_PEERS=1.
node_ws() {
	require_peer node
	[ -f "$ROOT/tests/node/node_modules/ws/package.json" ] ||
		if [ "${OMNICAT_REQUIRE_PEERS:-0}" = 1 ]; then fail "node's ws is missing (make node-peers)"; else skip "no node ws (make node-peers)"; fi
}

# wsn MODE ARGS...: a ws_node.js client in the foreground, bounded like `oc`.
wsn() { timeout -k 5 "$T_FG" node "$WSN" "$@"; }

# peer NAME MODE ARGS...: a ws_node.js server on a free port; sets $PORT.
peer() {
	local name=$1 mode=$2
	shift 2
	PORT=$(free_port)
	bg "$name" node "$WSN" "$mode" "$PORT" "$@"
	wait_line "$name.out" '^listening'
}

# echo_server NAME [OPTIONS...]: `omnicat server ws://127.0.0.1:P --echo` on a free port.
echo_server() {
	local name=$1
	shift
	PORT=$(free_port)
	bg "$name" oc server "ws://127.0.0.1:$PORT" --echo "$@"
	wait_port "$PORT"
}

# ---- omnicat client -> node echo server ---------------------------------------------------

t_client_text() {
	node_ws
	peer echo echo
	printf 'hello\nwörld\n\nlast\n' | expect_code 0 oc client "ws://127.0.0.1:$PORT/"
	assert_content out $'hello\nwörld\n\nlast\n'
	wait_line echo.out '^close 1000$' # and it said goodbye properly
	# many at once: the socket fills, lws keeps the rest of a frame, nothing is lost
	seq 1 200000 >many
	expect_code 0 oc client "ws://127.0.0.1:$PORT/" <many
	assert_file_eq many out
}
run_test "client: text messages to a node echo server, answers in order, close 1000" t_client_text

t_client_binary() {
	node_ws
	peer echo echo
	node -e 'process.stdout.write(Buffer.from([...Array(256).keys()]))' >all.bin
	expect_code 0 oc client "ws://127.0.0.1:$PORT/" --framing raw <all.bin
	assert_file_eq all.bin out
}
run_test "client: a binary message with all 256 byte values, echoed whole" t_client_binary

t_client_big() {
	node_ws
	peer echo echo
	head -c 12582912 /dev/urandom | base64 -w0 >big # 16 MiB of text
	echo >>big
	expect_code 0 oc client "ws://127.0.0.1:$PORT/" <big
	assert_file_eq big out
	head -c 16777216 /dev/urandom >big.bin
	expect_code 0 oc client "ws://127.0.0.1:$PORT/" --framing raw <big.bin
	assert_file_eq big.bin out
}
run_test "client: a 16 MiB text and a 16 MiB binary message out and back" t_client_big

# ---- node client -> omnicat server --------------------------------------------------------

t_server_echo() {
	node_ws
	echo_server srv
	wsn send "ws://127.0.0.1:$PORT/" one 'twö' three >got
	assert_content got $'one\ntwö\nthree\n'
	# 20000 messages of 1000 bytes sent without waiting: echoed whole and in order
	wsn flood "ws://127.0.0.1:$PORT/" 20000 1000 >got
	assert_content got $'ok 20000\n'
	node -e 'process.stdout.write(Buffer.from([...Array(256).keys()]))' >all.bin
	wsn sendfile "ws://127.0.0.1:$PORT/" all.bin >got
	assert_file_eq all.bin got
	head -c 16777216 /dev/urandom >big.bin
	wsn sendfile "ws://127.0.0.1:$PORT/" big.bin >got
	assert_file_eq big.bin got
	head -c 12582912 /dev/urandom | base64 -w0 >big.txt
	wsn sendfile "ws://127.0.0.1:$PORT/" big.txt text >got
	assert_file_eq big.txt got
	running srv || fail "the server ended"
}
run_test "server --echo: node client's text, 256 byte values, 16 MiB binary and text" t_server_echo

t_server_term() {
	node_ws
	mkfifo srv.in
	PORT=$(free_port)
	bg srv oc server "ws://127.0.0.1:$PORT"
	exec 7>srv.in
	wait_port "$PORT"
	for i in 1 2; do bg c$i node "$WSN" recv "ws://127.0.0.1:$PORT/"; done
	for i in 1 2; do wait_line c$i.out '^connected$'; done
	echo broadcast >&7
	for i in 1 2; do wait_line c$i.out '^broadcast$'; done
	# twice at once, as timeout(1) does (the command, then its process group): a repeated
	# SIGTERM must not cut the clean finish short
	local p
	p=$(cmd_pid srv)
	kill -TERM "$p"
	kill -TERM "$p"
	expect_exit srv 143 # 128 + SIGTERM, after a clean finish
	exec 7>&-
	# each client heard a close frame (1000), not a dropped connection (1006)
	for i in 1 2; do expect_exit c$i 0; assert_content c$i.out $'connected\nbroadcast\nclose 1000\n'; done
}
run_test "server: SIGTERM (twice, as timeout(1) sends it) sends each node client a close frame (1000)" t_server_term

# ---- ping and pong ------------------------------------------------------------------------

t_pong() {
	node_ws
	echo_server srv
	wsn ping "ws://127.0.0.1:$PORT/" are-you-there >got
	assert_content got $'pong are-you-there\n'
	# and a client answers the server's pings
	peer pinger pinger
	mkfifo cl.in
	bg cl oc client "ws://127.0.0.1:$PORT/"
	exec 7>cl.in
	wait_line pinger.out '^pong hi$'
	echo still-here >&7
	exec 7>&-
	expect_exit cl 0
	assert_content cl.out $'still-here\n'
}
run_test "omnicat answers node's pings: server and client (pong with the ping's data)" t_pong

t_ping() {
	node_ws
	peer echo echo
	mkfifo cl.in
	bg cl oc client "ws://127.0.0.1:$PORT/" --ping 1
	exec 7>cl.in
	wait_line echo.out '^ping' # a second of silence, then omnicat pings
	echo after-ping >&7
	exec 7>&-
	expect_exit cl 0
	assert_content cl.out $'after-ping\n'
	# without --ping, no ping: silence long enough for one (the echo server is quiet too)
	peer echo2 echo
	mkfifo c2.in
	bg c2 oc client "ws://127.0.0.1:$PORT/"
	exec 8>c2.in
	WAIT_MAX=2 try_wait grep -q '^ping' echo2.out && fail "a ping without --ping"
	exec 8>&-
	expect_exit c2 0
}
run_test "--ping 1: node's server sees pings after a quiet second (none without it)" t_ping

# ---- sub -c ---------------------------------------------------------------------------------

t_sub_count() {
	node_ws
	peer push push 5
	expect_code 0 oc sub "ws://127.0.0.1:$PORT/" -c 2
	assert_content out $'msg1\nmsg2\n'
	wait_line push.out '^close 1000$'
}
run_test "sub -c 2: two messages, then a close with 1000 and exit 0" t_sub_count

# ---- malformed peers ----------------------------------------------------------------------

t_bad_utf8() {
	node_ws
	peer raw raw badutf8
	mkfifo cl.in
	bg cl oc client "ws://127.0.0.1:$PORT/"
	exec 7>cl.in
	expect_exit cl 9
	exec 7>&-
	assert_one_line_error cl.err
	assert_grep cl.err '1007'
	assert_empty cl.out
}
run_test "a server's text frame that is not UTF-8: exit 9, one line naming 1007" t_bad_utf8

t_cut() {
	node_ws
	peer raw raw cut
	mkfifo cl.in
	bg cl oc client "ws://127.0.0.1:$PORT/"
	exec 7>cl.in
	expect_exit cl 13
	exec 7>&-
	assert_one_line_error cl.err
	assert_grep cl.err '1006'
	assert_empty cl.out # the 10 bytes of a 1000-byte message are no message
}
run_test "a connection cut mid-frame (10 of 1000 bytes): exit 13, nothing printed" t_cut

t_server_survives() {
	node_ws
	require_peer socat
	echo_server srv -v
	# garbage instead of a handshake: an HTTP error and the end of that connection
	printf 'GARBAGE\r\n\r\n' | timeout 10 socat -t 5 - "TCP:127.0.0.1:$PORT" >answer
	assert_grep answer '^HTTP/1\.[01] 4[0-9][0-9] '
	# a text frame that is not UTF-8: the server closes that connection with 1007
	wsn badutf8 "ws://127.0.0.1:$PORT/" >got
	assert_content got $'close 1007\n'
	# after a good handshake, bad frames (each masked, empty): the reserved opcode 3, RSV1
	# without a negotiated extension, a ping without FIN. Each gets a close with 1002.
	# (lws accepts an unmasked client frame, which RFC 6455 forbids: not tested here.)
	local f
	for f in 8380aabbccdd c180aabbccdd 0980aabbccdd; do
		wsn rawframe "ws://127.0.0.1:$PORT/" $f >got
		assert_content got $'close 1002\n'
	done
	# a good client still gets its echo
	running srv || fail "the server ended"
	wsn send "ws://127.0.0.1:$PORT/" still-serving >got
	assert_content got $'still-serving\n'
	running srv || fail "the server ended"
}
run_test "server: garbage, bad UTF-8 (1007) and bad frames (1002) end only that client" t_server_survives

done_testing
