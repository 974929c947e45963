#!/usr/bin/env bash
# t0700-relay — relay A B: the tcp port forwarder (one outbound connection per accepted one,
# both directions, half-close), and relays between other pairs of schemes, against socat.
. "$(dirname "$0")/lib.sh"

# The target of the forwarder: per connection, says who it is, upper-cases each line as it
# comes, and after EOF (the half-close that crossed the relay) says goodbye with a count.
TARGET_CHILD='echo conn-$$; n=0; while read -r l; do n=$((n+1)); echo "$l" | tr a-z A-Z; done; echo bye-$n'

t_forwarder() {
	require_peer socat
	local p1 p2
	p1=$(free_port)
	p2=$(free_port)
	bg target socat TCP-LISTEN:$p2,bind=127.0.0.1,reuseaddr,fork SYSTEM:"$TARGET_CHILD"
	wait_port $p2
	bg relay oc relay tcp-listen://127.0.0.1:$p1 tcp://127.0.0.1:$p2
	wait_port $p1
	mkfifo a.in b.in
	bg a socat -t 30 - TCP:127.0.0.1:$p1
	bg b socat -t 30 - TCP:127.0.0.1:$p1
	exec 4>a.in 5>b.in
	# both sessions are open at once, each with its own target connection
	wait_line a.out '^conn-[0-9]+$'
	wait_line b.out '^conn-[0-9]+$'
	[ "$(head -1 a.out)" != "$(head -1 b.out)" ] || fail "both sessions share one target connection"
	echo 'a one' >&4
	echo 'b one' >&5
	wait_line a.out '^A ONE$'
	wait_line b.out '^B ONE$'
	echo 'a two' >&4
	wait_line a.out '^A TWO$'
	# a half-closes: its target sees EOF and still answers; b is unaffected
	exec 4>&-
	expect_exit a 0
	assert_content a.out "$(head -1 a.out)
A ONE
A TWO
bye-2
"
	running b || fail "b ended with a"
	echo 'b two' >&5
	wait_line b.out '^B TWO$'
	exec 5>&-
	expect_exit b 0
	assert_content b.out "$(head -1 b.out)
B ONE
B TWO
bye-2
"
	running relay || fail "the relay ended"
}
run_test "relay tcp-listen -> tcp: two concurrent independent sessions, half-close" t_forwarder

t_forwarder_binary() {
	require_peer socat
	local p1 p2
	p1=$(free_port)
	p2=$(free_port)
	head -c 5000000 /dev/urandom >blob
	# the target echoes raw bytes back through cat, as the other forwarder tests do (-t: time
	# to drain the echo after our half-close; -d -d: why a connection ended, in target.err;
	# socat's PIPE echo once closed a connection under load with data still coming)
	bg target socat -d -d -t 30 TCP-LISTEN:$p2,bind=127.0.0.1,reuseaddr,fork EXEC:cat
	wait_port $p2
	bg relay oc relay tcp-listen://127.0.0.1:$p1 tcp://127.0.0.1:$p2
	wait_port $p1
	# a stalled session: sends and never reads its echo, so its path fills up and blocks
	cat >stall.py <<'PYEOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print("connected", flush=True)
chunk = b"x" * 1048576
while True:  # blocks for good once every buffer on the way is full
    s.sendall(chunk)
PYEOF
	bg stall "$PY" stall.py $p1
	wait_line stall.out connected
	# the checked session is not held up by the stalled one
	timeout 30 socat -t 20 - TCP:127.0.0.1:$p1 <blob >back
	assert_file_eq blob back
	running stall || fail "the stalled client ended"
	running relay || fail "the relay ended"
}
run_test "relay forwarder: 5 MB out and back unchanged while another session is stalled" t_forwarder_binary

t_forwarder_many() {
	require_peer socat
	local p1 p2 n=20
	p1=$(free_port)
	p2=$(free_port)
	bg target socat -t 30 TCP-LISTEN:$p2,bind=127.0.0.1,reuseaddr,fork SYSTEM:'tr a-z A-Z'
	wait_port $p2
	bg relay oc relay tcp-listen://127.0.0.1:$p1 tcp://127.0.0.1:$p2
	wait_port $p1
	local i pids=()
	for i in $(seq 1 $n); do
		head -c 200000 /dev/urandom | base64 | tr A-Z a-z | sed "s/^/s$i /" >in.$i
		timeout 30 socat -t 20 - TCP:127.0.0.1:$p1 <in.$i >out.$i &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq 1 $n); do
		tr a-z A-Z <in.$i >want.$i
		assert_file_eq want.$i out.$i
	done
	running relay || fail "the relay ended"
}
run_test "relay forwarder: 20 concurrent sessions of 270 KB each, all intact" t_forwarder_many

t_forwarder_target_down() {
	require_peer socat
	local p1 p2
	p1=$(free_port)
	p2=$(free_port)
	bg relay oc relay tcp-listen://127.0.0.1:$p1 tcp://127.0.0.1:$p2
	wait_port $p1
	echo x | timeout 20 socat -t 10 - TCP:127.0.0.1:$p1 >got
	assert_empty got
	wait_line relay.err "cannot connect to '127.0.0.1:$p2'"
	running relay || fail "a refused outbound connection ended the relay"
	# once the target is up, the next peer gets through
	bg target socat TCP-LISTEN:$p2,bind=127.0.0.1,reuseaddr SYSTEM:'cat'
	wait_port $p2
	echo now-up | timeout 20 socat -t 10 - TCP:127.0.0.1:$p1 >got
	assert_content got "now-up
"
}
run_test "relay forwarder: a refused target closes that peer only" t_forwarder_target_down

t_relay_unix_to_tcp() {
	require_peer socat
	local p
	p=$(free_port)
	bg target socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr,fork SYSTEM:"$TARGET_CHILD"
	wait_port $p
	bg relay oc relay unix-listen:"$S/r.sock" tcp://127.0.0.1:$p
	wait_unix "$S/r.sock"
	printf 'via unix\n' | timeout 20 socat -t 10 - UNIX-CONNECT:"$S/r.sock" >got
	assert_eq "VIA UNIX" "$(sed -n 2p got)"
	assert_eq "bye-1" "$(sed -n 3p got)"
}
run_test "relay unix-listen -> tcp" t_relay_unix_to_tcp

t_relay_file_to_tcp() {
	require_peer socat
	local p
	p=$(free_port)
	seq 1 10000 >src
	bg target socat -u TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr CREATE:got
	wait_port $p
	expect_code 0 oc relay file:"$T/src" tcp://127.0.0.1:$p
	expect_exit target 0
	assert_file_eq src got
}
run_test "relay file: -> tcp://" t_relay_file_to_tcp

t_relay_tcp_to_file() {
	require_peer socat
	local p
	p=$(free_port)
	echo old >dst
	bg relay oc relay tcp-listen://127.0.0.1:$p file:"$T/dst"
	wait_port $p
	printf 'from-1\n' | timeout 20 socat -u - TCP:127.0.0.1:$p
	wait_line dst '^from-1$'
	printf 'from-2\n' | timeout 20 socat -u - TCP:127.0.0.1:$p
	wait_line dst '^from-2$'
	assert_content dst "old
from-1
from-2
"
}
run_test "relay tcp-listen -> file: (appends what each peer sends)" t_relay_tcp_to_file

t_relay_udp_to_dir() {
	require_peer socat
	local p
	p=$(free_port)
	mkdir spool
	bg relay oc relay udp-listen://127.0.0.1:$p dir:"$T/spool"
	wait_udp_port $p
	_nfiles() { [ "$(find spool -maxdepth 1 -type f ! -name '.*' | wc -l)" -ge "$1" ]; }
	local m n=0
	for m in d1 d2 d3; do
		printf '%s' "$m" | timeout 20 socat -u - UDP:127.0.0.1:$p
		n=$((n + 1))
		wait_for _nfiles $n
	done
	local got=""
	for f in $(find spool -maxdepth 1 -type f ! -name '.*' -printf '%f\n' | LC_ALL=C sort); do
		got="$got$(cat "spool/$f")|"
	done
	assert_eq "d1|d2|d3|" "$got"
}
run_test "relay udp-listen -> dir: one spool file per datagram" t_relay_udp_to_dir

t_relay_udp_forwarder() {
	require_peer socat stdbuf
	local p1 p2
	p1=$(free_port)
	p2=$(free_port)
	# the target answers each datagram (one child per datagram)
	bg target socat -T 2 UDP-RECVFROM:$p2,bind=127.0.0.1,fork SYSTEM:'stdbuf -o0 tr a-z A-Z'
	wait_udp_port $p2
	bg relay oc relay udp-listen://127.0.0.1:$p1 udp://127.0.0.1:$p2
	wait_udp_port $p1
	# two clients, each its own source port: each gets its own answer, starting with its very
	# first datagram (a DNS-style forwarder: one query, one answer)
	mkfifo a.in b.in
	bg a socat -t 30 - UDP:127.0.0.1:$p1
	bg b socat -t 30 - UDP:127.0.0.1:$p1
	exec 4>a.in 5>b.in
	printf 'query-a' >&4
	printf 'query-b' >&5
	wait_for grep -q 'QUERY-A' a.out
	wait_for grep -q 'QUERY-B' b.out
	printf 'again-a' >&4
	wait_for grep -q 'AGAIN-A' a.out
	exec 4>&- 5>&-
	assert_content a.out "QUERY-AAGAIN-A"
	assert_content b.out "QUERY-B"
}
run_test "relay udp-listen -> udp: forwards every datagram, answers go back to each sender" t_relay_udp_forwarder

t_relay_dir_to_udp() {
	require_peer socat
	local p
	p=$(free_port)
	mkdir spool
	printf 'x1\nx2\n' | oc pub dir:"$T/spool"
	bg target socat -u -x UDP-RECV:$p,bind=127.0.0.1 CREATE:got
	wait_udp_port $p
	expect_code 0 oc relay dir:"$T/spool" udp://127.0.0.1:$p
	wait_size got 4
	assert_content got "x1x2"
	assert_eq 2 "$(grep -c 'length=2' target.err)" "datagrams of 2 bytes"
	assert_eq 0 "$(find spool -type f | wc -l)" "files left"
}
run_test "relay dir: -> udp:// (each file one datagram, consumed)" t_relay_dir_to_udp

t_relay_scoped_framing() {
	require_peer socat
	local p
	p=$(free_port)
	printf 'one\0two\0' >src
	bg target socat -u TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr CREATE:got
	wait_port $p
	# --framing after a URL applies to that endpoint only: NULs in, lines out
	expect_code 0 oc relay file:"$T/src" --framing nul tcp://127.0.0.1:$p --framing line
	expect_exit target 0
	assert_content got "one
two
"
	# before the first URL it applies to both: NULs in, NULs out
	p=$(free_port)
	bg target2 socat -u TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr CREATE:got2
	wait_port $p
	expect_code 0 oc relay --framing nul file:"$T/src" tcp://127.0.0.1:$p
	expect_exit target2 0
	assert_file_eq src got2
}
run_test "relay: --framing after a URL is that endpoint's, before both" t_relay_scoped_framing

t_relay_stdio_tcp() {
	require_peer socat
	local p
	p=$(free_port)
	bg target socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr SYSTEM:"$TARGET_CHILD"
	wait_port $p
	printf 'hello\nworld\n' | oc relay - tcp://127.0.0.1:$p >out
	assert_eq "HELLO WORLD bye-2" "$(sed 1d out | tr '\n' ' ' | sed 's/ $//')"
}
run_test "relay - tcp:// behaves like client" t_relay_stdio_tcp

done_testing
