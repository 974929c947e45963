#!/usr/bin/env bash
# t0200-tcp — tcp:// and tcp-listen:// against socat and ncat: client both ways with
# half-close, server --echo, broadcast, jsonl routing, --exec, loopback-only binding.
. "$(dirname "$0")/lib.sh"

# peer_connect NAME PORT: a socat client whose stdin is the FIFO NAME.in (write to it through
# the fd the caller opens) and whose stdout is NAME.out.
peer_connect() {
	mkfifo "$1.in"
	bg "$1" socat -t 30 - TCP:127.0.0.1:"$2"
}

# established PORT N: N connections to local port PORT are established (server side).
established() {
	[ "$(awk -v p="$(printf ':%04X' "$1")" \
		'substr($2, length($2) - 4) == p && $4 == "01"' /proc/net/tcp | wc -l)" -ge "$2" ]
}

# ---- client -------------------------------------------------------------------------------

t_client_socat() {
	require_peer socat
	local p
	p=$(free_port)
	# The peer greets first, then reads until EOF (our half-close), then answers: the answer
	# must still arrive after our stdin ended.
	bg peer socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr \
		SYSTEM:'echo hello-from-socat; cat >got; echo got-eof-$(wc -l <got)-lines'
	wait_port $p
	printf 'line one\nline two\nline three\n' >in
	expect_code 0 oc client tcp://127.0.0.1:$p <in
	assert_content out "hello-from-socat
got-eof-3-lines
"
	assert_empty err
	expect_exit peer 0
	assert_file_eq in got
}
run_test "client <-> socat listener: both directions, half-close, reply after EOF" t_client_socat

t_client_ncat() {
	require_peer ncat
	local p
	p=$(free_port)
	# ncat closes the whole connection at our half-close, so stdin stays open until the answer
	bg peer ncat -l 127.0.0.1 $p --sh-exec 'echo ncat-greets; read x; echo ncat-saw-$x'
	wait_port $p
	mkfifo client.in
	bg client oc client tcp://127.0.0.1:$p
	exec 3>client.in
	echo ping >&3
	wait_line client.out '^ncat-saw-ping$'
	exec 3>&-
	expect_exit client 0
	assert_content client.out "ncat-greets
ncat-saw-ping
"
	assert_empty client.err
}
run_test "client <-> ncat listener" t_client_ncat

t_client_binary() {
	require_peer socat
	head -c 3000000 /dev/urandom >blob
	local p
	p=$(free_port)
	bg peer socat -u TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr CREATE:got
	wait_port $p
	expect_code 0 oc client --framing raw tcp://127.0.0.1:$p <blob
	expect_exit peer 0
	assert_file_eq blob got
	# and the other way: binary from the peer to our stdout
	p=$(free_port)
	bg peer2 socat -u OPEN:blob TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr
	wait_port $p
	oc client --framing raw tcp://127.0.0.1:$p </dev/null >got2
	assert_file_eq blob got2
}
run_test "client --framing raw: 3 MB of binary both ways, byte for byte" t_client_binary

t_client_lines_no_newline() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr SYSTEM:'cat >got'
	wait_port $p
	printf 'a\nlast-without-newline' | oc client tcp://127.0.0.1:$p
	expect_exit peer 0
	# line framing: the last, unterminated line is still a message (sent as a line)
	assert_grep got '^last-without-newline$'
	assert_grep got '^a$'
}
run_test "client: a final line without newline is not lost" t_client_lines_no_newline

t_client_long_lines() {
	require_peer socat
	# lines longer than any read buffer: 1 MiB and 16 MiB, each one message, both ways
	{
		head -c 1048576 /dev/zero | tr '\0' a
		echo
		echo short
		head -c 16777216 /dev/zero | tr '\0' b
		echo
	} >in
	local p
	p=$(free_port)
	bg peer socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr SYSTEM:'cat >got; cat got'
	wait_port $p
	expect_code 0 oc client --format '%S\n' tcp://127.0.0.1:$p <in
	assert_file_eq in got
	assert_content out "1048576
5
16777216
"
}
run_test "client: 1 MiB and 16 MiB lines go out and come back as single messages" t_client_long_lines

t_client_exec() {
	require_peer socat
	local p
	p=$(free_port)
	# the child talks to the peer instead of our stdio
	bg peer socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr SYSTEM:'echo question; read -r l; echo "$l" >got'
	wait_port $p
	expect_code 0 oc client tcp://127.0.0.1:$p --exec-shell 'read -r q; echo "answer to $q from ${OMNICAT_PEER:-?}"'
	expect_exit peer 0
	assert_empty out
	assert_grep got '^answer to question from '
}
run_test "client --exec-shell: the child talks to the socat peer" t_client_exec

t_client_exec_half_close() {
	# a peer that sends, half-closes, then reads the answer until we close
	cat >peer.py <<'EOF'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
c.sendall(b"hello\nworld\n"); c.shutdown(socket.SHUT_WR)
data = b""
while True:
    b = c.recv(65536)
    if not b: break
    data += b
open("got", "wb").write(data)
EOF
	local p
	p=$(free_port)
	bg peer "$PY" peer.py $p
	wait_line peer.out listening
	# tr answers only at EOF: the peer's half-close must reach it, and its answer the peer
	expect_code 0 oc client tcp://127.0.0.1:$p --exec 'tr a-z A-Z'
	expect_exit peer 0
	assert_content got "HELLO
WORLD
"
}
run_test "client --exec: the peer's half-close reaches the child, its answer reaches the peer" t_client_exec_half_close

# ---- server -------------------------------------------------------------------------------

t_server_echo() {
	require_peer socat
	local p
	p=$(free_port)
	bg srv oc server --echo tcp://127.0.0.1:$p
	wait_port $p
	printf 'alpha\nbeta\n' | timeout 20 socat -t 15 - TCP:127.0.0.1:$p >got
	assert_content got "alpha
beta
"
	# a second, concurrent pair of peers: each gets only its own lines back
	peer_connect a $p
	peer_connect b $p
	exec 4>a.in 5>b.in
	echo from-a >&4
	echo from-b >&5
	wait_line a.out '^from-a$'
	wait_line b.out '^from-b$'
	exec 4>&- 5>&-
	expect_exit a 0
	expect_exit b 0
	assert_content a.out "from-a
"
	assert_content b.out "from-b
"
	# what peers sent is printed too
	wait_lines srv.out 4
	assert_grep srv.out '^alpha$'
	assert_grep srv.out '^from-b$'
	running srv || fail "server ended"
}
run_test "socat clients -> server --echo" t_server_echo

t_server_broadcast() {
	require_peer socat
	local p
	p=$(free_port)
	mkfifo srv.in
	bg srv oc server tcp://127.0.0.1:$p
	exec 3>srv.in
	wait_port $p
	bg a socat -u TCP:127.0.0.1:$p -
	bg b socat -u TCP:127.0.0.1:$p -
	bg c socat -u TCP:127.0.0.1:$p -
	wait_for established $p 3
	seq 1 100000 >&3
	wait_lines a.out 100000
	wait_lines b.out 100000
	wait_lines c.out 100000
	seq 1 100000 >want
	assert_file_eq want a.out
	assert_file_eq want b.out
	assert_file_eq want c.out
	# the server outlives stdin EOF: it still serves peers
	exec 3>&-
	printf 'after-eof\n' | timeout 20 socat -u - TCP:127.0.0.1:$p
	wait_line srv.out '^after-eof$'
	running srv || fail "server ended after stdin EOF"
}
run_test "server broadcasts 100000 stdin lines to 3 socat clients and outlives stdin EOF" t_server_broadcast

t_server_many_peers() {
	require_peer socat
	local p n=20 lines=1000
	p=$(free_port)
	bg srv oc server -c $((n * lines)) --format '%e %s\n' tcp://127.0.0.1:$p
	wait_port $p
	local i pids=()
	for i in $(seq 1 $n); do
		seq -f "c$i-%g" 1 $lines >in.$i
		timeout 30 socat -u OPEN:in.$i TCP:127.0.0.1:$p &
		pids+=($!)
	done
	expect_exit srv 0
	wait "${pids[@]}"
	assert_eq $((n * lines)) "$(wc -l <srv.out)" "lines printed"
	# every client's lines, complete and in order, each from one peer address
	for i in $(seq 1 $n); do
		grep " c$i-" srv.out | cut -d' ' -f2 >got.$i
		assert_file_eq in.$i got.$i
		assert_eq 1 "$(grep " c$i-" srv.out | cut -d' ' -f1 | sort -u | wc -l)" "peers of client $i"
	done
}
run_test "server: 20 concurrent socat clients x 1000 lines, none lost, each in order" t_server_many_peers

t_server_waits_first_peer() {
	require_peer socat
	local p
	p=$(free_port)
	printf 'queued-1\nqueued-2\n' >srv.in
	bg srv oc server tcp://127.0.0.1:$p
	wait_port $p
	# stdin ended before anyone connected: the lines wait for the first peer
	timeout 20 socat -u TCP:127.0.0.1:$p - >got &
	wait_lines got 2
	assert_content got "queued-1
queued-2
"
	running srv || fail "server ended"
}
run_test "server waits for the first peer before broadcasting" t_server_waits_first_peer

t_server_big_stdin_first_peer() {
	require_peer socat
	local p
	p=$(free_port)
	# more stdin than any queue holds, all read before anyone connects: backpressure must
	# hold it back, nothing may be dropped
	seq 1 200000 >srv.in
	bg srv oc server tcp://127.0.0.1:$p
	wait_port $p
	bg peer socat -u TCP:127.0.0.1:$p -
	WAIT_MAX=10 try_wait _has_lines peer.out 200000 || true
	if ! cmp -s srv.in peer.out; then
		awk 'NR != $1 { print "first difference at line " NR ": got " $1; exit }' peer.out >&2
		fail "the first peer got $(wc -l <peer.out) of 200000 lines"
	fi
}
run_test "server: a big stdin waiting for the first peer arrives whole and in order" t_server_big_stdin_first_peer

t_server_jsonl_route() {
	require_peer socat
	local p
	p=$(free_port)
	mkfifo srv.in
	bg srv oc server --jsonl tcp://127.0.0.1:$p
	exec 3>srv.in
	wait_port $p
	peer_connect a $p
	peer_connect b $p
	exec 4>a.in 5>b.in
	echo i-am-a >&4
	echo i-am-b >&5
	wait_line srv.out '"i-am-a"'
	wait_line srv.out '"i-am-b"'
	local pa pb
	pa=$(grep '"i-am-a"' srv.out | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.readline())["peer"])')
	pb=$(grep '"i-am-b"' srv.out | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.readline())["peer"])')
	[[ $pa == 127.0.0.1:* ]] || fail "peer of a is '$pa'"
	[[ $pb == 127.0.0.1:* && $pb != "$pa" ]] || fail "peer of b is '$pb' (a: '$pa')"
	echo "{\"peer\":\"$pa\",\"payload\":\"only-for-a\"}" >&3
	echo "{\"peer\":\"$pb\",\"payload\":\"only-for-b\"}" >&3
	echo '{"payload":"for-all"}' >&3
	wait_line a.out '^for-all$'
	wait_line b.out '^for-all$'
	# TCP keeps order: had a routed line gone to the wrong peer, it would be before for-all
	assert_content a.out "only-for-a
for-all
"
	assert_content b.out "only-for-b
for-all
"
	exec 4>&- 5>&- 3>&-
}
run_test "server --jsonl: a line naming a peer goes to that peer only" t_server_jsonl_route

t_server_jsonl_unknown_peer() {
	require_peer socat
	local p
	p=$(free_port)
	mkfifo srv.in
	bg srv oc server --jsonl tcp://127.0.0.1:$p
	exec 3>srv.in
	wait_port $p
	peer_connect a $p
	exec 4>a.in
	echo hi >&4
	wait_line srv.out '"hi"'
	echo '{"peer":"127.0.0.1:1","payload":"to-nobody"}' >&3
	echo '{"payload":"for-all"}' >&3
	wait_line a.out '^for-all$'
	assert_content a.out "for-all
"
	exec 4>&- 3>&-
}
run_test "server --jsonl: a line naming an unknown peer reaches nobody else" t_server_jsonl_unknown_peer

t_server_exec() {
	require_peer socat
	local p
	p=$(free_port)
	# argv split with quotes, no shell of ours: the sh is the command itself
	bg srv oc server tcp://127.0.0.1:$p --exec "sh -c 'echo peer=\$OMNICAT_PEER; exec tr a-z A-Z'"
	wait_port $p
	local p1 p2
	p1=$(free_port)
	p2=$(free_port)
	mkfifo a.in b.in
	bg a socat -t 30 - TCP:127.0.0.1:$p,bind=127.0.0.1:$p1
	bg b socat -t 30 - TCP:127.0.0.1:$p,bind=127.0.0.1:$p2
	exec 4>a.in 5>b.in
	# both connections are open at once, each with its own child
	wait_line a.out "^peer=127.0.0.1:$p1\$"
	wait_line b.out "^peer=127.0.0.1:$p2\$"
	echo 'hello from a' >&4
	echo 'hello from b' >&5
	exec 4>&- 5>&-
	expect_exit a 0
	expect_exit b 0
	assert_content a.out "peer=127.0.0.1:$p1
HELLO FROM A
"
	assert_content b.out "peer=127.0.0.1:$p2
HELLO FROM B
"
	running srv || fail "server ended"
	# the plain form of the issue
	p=$(free_port)
	bg srv2 oc server tcp://127.0.0.1:$p --exec 'tr a-z A-Z'
	wait_port $p
	printf 'abc\n' | timeout 20 socat -t 15 - TCP:127.0.0.1:$p >got
	assert_content got "ABC
"
}
run_test "server --exec: one child per connection, OMNICAT_PEER set" t_server_exec

t_server_exec_shell() {
	require_peer ncat
	local p
	p=$(free_port)
	bg srv oc server tcp://127.0.0.1:$p --exec-shell 'read x; echo "got:$x:${OMNICAT_PEER%%:*}"'
	wait_port $p
	echo hi | timeout 20 ncat 127.0.0.1 $p >got
	assert_content got "got:hi:127.0.0.1
"
}
run_test "server --exec-shell, ncat client" t_server_exec_shell

t_server_ncat() {
	require_peer ncat
	local p
	p=$(free_port)
	bg srv oc server -c 3 tcp://127.0.0.1:$p
	wait_port $p
	printf 'n1\nn2\n' | timeout 20 ncat --send-only 127.0.0.1 $p
	printf 'n3\n' | timeout 20 ncat --send-only 127.0.0.1 $p
	expect_exit srv 0
	assert_content srv.out "n1
n2
n3
"
}
run_test "ncat clients -> server -c 3 ends with 0 after 3 messages" t_server_ncat

local_addr_of_listener() {
	awk -v p="$(printf ':%04X' "$1")" \
		'substr($2, length($2) - 4) == p && $4 == "0A" { print $2 }' /proc/net/tcp /proc/net/tcp6
}

t_server_loopback_default() {
	local p
	for url in "tcp://:%d" "tcp-listen://:%d"; do
		p=$(free_port)
		# shellcheck disable=SC2059
		bg srv$p oc server "$(printf "$url" $p)"
		wait_port $p
		assert_eq "0100007F:$(printf %04X $p)" "$(local_addr_of_listener $p)" "bound address of $url"
	done
	p=$(free_port)
	bg all oc server tcp://0.0.0.0:$p
	wait_port $p
	assert_eq "00000000:$(printf %04X $p)" "$(local_addr_of_listener $p)" "bound address of 0.0.0.0"
}
run_test "a listener without a host binds 127.0.0.1 only; 0.0.0.0 when asked" t_server_loopback_default

t_tcp_listen_scheme() {
	require_peer socat
	local p
	p=$(free_port)
	# tcp-listen:// works as a client's URL too (wait for one peer, talk to it)
	echo to-peer >srv.in
	bg srv oc client tcp-listen://127.0.0.1:$p
	wait_port $p
	printf 'from-peer\n' | timeout 20 socat -t 10 - TCP:127.0.0.1:$p >got
	assert_content got "to-peer
"
	wait_line srv.out '^from-peer$'
}
run_test "tcp-listen:// URL with client: talks to the peer that connects" t_tcp_listen_scheme

t_ipv6() {
	require_peer socat
	grep -q . /proc/net/if_inet6 2>/dev/null || skip "no IPv6"
	local p
	p=$(free_port)
	bg peer socat TCP6-LISTEN:$p,bind=[::1],reuseaddr SYSTEM:'cat >got; echo v6-ok'
	wait_port $p
	expect_code 0 oc client "tcp://[::1]:$p" <<<"hi6"
	assert_content out "v6-ok
"
	assert_content got "hi6
"
}
run_test "client tcp://[::1]:port" t_ipv6

done_testing
