#!/usr/bin/env bash
# t0300-udp — udp:// and udp-listen:// against socat: one message is one datagram, both
# ways; an oversized message is an error naming its size, never a truncation.
. "$(dirname "$0")/lib.sh"

# datagram_lengths LOG: the lengths of the datagrams a `socat -x` receiver logged, one a line.
datagram_lengths() {
	sed -n 's/.*length=\([0-9]*\).*/\1/p' "$1"
}

t_client_roundtrip() {
	require_peer socat stdbuf
	local p
	p=$(free_port)
	bg peer socat UDP-LISTEN:$p,bind=127.0.0.1 SYSTEM:'stdbuf -o0 tr a-z A-Z'
	wait_udp_port $p
	expect_code 0 oc client -c 1 udp://127.0.0.1:$p <<<"hello udp"
	assert_content out "HELLO UDP
"
	assert_empty err
}
run_test "client udp:// <-> socat UDP-LISTEN: request and answer" t_client_roundtrip

t_client_recvfrom() {
	require_peer socat stdbuf
	local p
	p=$(free_port)
	# one child per datagram, each answers its own
	bg peer socat -T 2 UDP-RECVFROM:$p,bind=127.0.0.1,fork SYSTEM:'stdbuf -o0 tr a-z A-Z'
	wait_udp_port $p
	mkfifo client.in
	bg client oc client -c 3 udp://127.0.0.1:$p
	exec 3>client.in
	echo one >&3
	wait_line client.out '^ONE$'
	echo two >&3
	wait_line client.out '^TWO$'
	echo three >&3
	expect_exit client 0
	exec 3>&-
	assert_content client.out "ONE
TWO
THREE
"
}
run_test "client udp:// <-> socat UDP-RECVFROM,fork: one answer per datagram" t_client_recvfrom

t_datagram_per_message() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat -u -x UDP-RECV:$p,bind=127.0.0.1 CREATE:got
	wait_udp_port $p
	printf 'a\nbb\nccc\n' | oc pub udp://127.0.0.1:$p
	wait_for test "$(datagram_lengths peer.err | wc -l)" -ge 3
	assert_eq "1 2 3" "$(datagram_lengths peer.err | tr '\n' ' ' | sed 's/ $//')" "datagram lengths"
	assert_content got "abbccc"
	# --framing raw is meaningless for datagrams, but -d sends exact bytes: one datagram
	oc pub -d "$(printf 'x\ny')" udp://127.0.0.1:$p
	wait_for test "$(datagram_lengths peer.err | wc -l)" -ge 4
	assert_eq 3 "$(datagram_lengths peer.err | tail -n 1)" "length of the -d datagram"
}
run_test "pub udp://: each line is one datagram (socat -x shows the boundaries)" t_datagram_per_message

t_client_ends_at_eof() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat -u UDP-RECV:$p,bind=127.0.0.1 CREATE:got
	wait_udp_port $p
	# like `echo x | ncat -u` / socat: stdin ends, nothing to wait for, the run ends
	T_FG=10 expect_code 0 oc client udp://127.0.0.1:$p <<<"fire-and-forget"
	assert_content got "fire-and-forget"
}
run_test "client udp://: ends after stdin EOF (does not hang)" t_client_ends_at_eof

t_server() {
	require_peer socat
	local p
	p=$(free_port)
	mkfifo srv.in
	bg srv oc server udp://127.0.0.1:$p
	exec 3>srv.in
	wait_udp_port $p
	mkfifo a.in
	bg a socat -t 30 - UDP:127.0.0.1:$p
	exec 4>a.in
	printf 'hello-from-socat' >&4
	wait_line srv.out '^hello-from-socat$'
	# stdin goes back to the peers the server has heard from
	echo to-the-peer >&3
	wait_line a.out 'to-the-peer'
	assert_content a.out "to-the-peer"
	exec 4>&- 3>&-
	assert_content srv.out "hello-from-socat
"
}
run_test "socat UDP client <-> server udp://: both directions" t_server

t_server_jsonl_route() {
	require_peer socat
	local p
	p=$(free_port)
	mkfifo srv.in
	bg srv oc server --jsonl udp://127.0.0.1:$p
	exec 3>srv.in
	wait_udp_port $p
	mkfifo a.in b.in
	bg a socat -t 30 - UDP:127.0.0.1:$p
	bg b socat -t 30 - UDP:127.0.0.1:$p
	exec 4>a.in 5>b.in
	printf 'hi-a' >&4
	printf 'hi-b' >&5
	wait_line srv.out '"hi-a"'
	wait_line srv.out '"hi-b"'
	local pa
	pa=$(grep '"hi-a"' srv.out | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.readline())["peer"])')
	echo "{\"peer\":\"$pa\",\"payload\":\"only-a\"}" >&3
	echo '{"payload":"all"}' >&3
	wait_for grep -q all a.out
	wait_for grep -q all b.out
	assert_content a.out "only-aall"
	assert_content b.out "all"
	exec 3>&- 4>&- 5>&-
}
run_test "server --jsonl udp://: a line naming a peer goes to that peer only" t_server_jsonl_route

t_server_listen_scheme_echo() {
	require_peer socat
	local p
	p=$(free_port)
	bg srv oc server --echo udp-listen://:$p
	wait_udp_port $p
	mkfifo a.in b.in
	bg a socat -t 30 - UDP:127.0.0.1:$p
	bg b socat -t 30 - UDP:127.0.0.1:$p
	exec 4>a.in 5>b.in
	printf 'ping-a' >&4
	wait_for grep -q 'ping-a' a.out
	printf 'ping-b' >&5
	wait_for grep -q 'ping-b' b.out
	printf 'again-a' >&4
	wait_for grep -q 'again-a' a.out
	exec 4>&- 5>&-
	assert_content a.out "ping-aagain-a"
	assert_content b.out "ping-b"
	wait_lines srv.out 3
	assert_eq "again-a ping-a ping-b" "$(sort srv.out | tr '\n' ' ' | sed 's/ $//')"
}
run_test "server --echo udp-listen://:port: each datagram back to its sender" t_server_listen_scheme_echo

t_oversize() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat -b 131072 -u -x UDP-RECV:$p,bind=127.0.0.1 CREATE:got
	wait_udp_port $p
	{
		echo small
		head -c 70000 /dev/zero | tr '\0' a
		echo
		echo after
	} >in
	local rc=0
	oc client udp://127.0.0.1:$p <in >out 2>err || rc=$?
	[ "$rc" -ne 0 ] || fail "an oversized datagram exited 0"
	[ "$rc" -ne 124 ] || fail "hung"
	assert_one_line_error err
	assert_grep err '70000'
	# what came before was sent, and no truncated piece of the big one went out
	wait_for test "$(datagram_lengths peer.err | wc -l)" -ge 1
	assert_grep got '^small'
	if datagram_lengths peer.err | grep -qxE '65507|65535|70000'; then
		fail "a truncated datagram went out"
	fi
}
run_test "client udp://: a 70000-byte message is an error naming its size" t_oversize

t_oversize_pub() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat -b 131072 -u -x UDP-RECV:$p,bind=127.0.0.1 CREATE:got
	wait_udp_port $p
	head -c 70000 /dev/zero >blob
	local rc=0
	oc pub -d @blob udp://127.0.0.1:$p >out 2>err || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "pub -d @70000-byte file: exit $rc"
	assert_one_line_error err
	assert_grep err '70000'
	rc=0
	head -c 70000 /dev/zero | tr '\0' a | oc pub udp://127.0.0.1:$p >out 2>err || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "pub of a 70000-byte line: exit $rc"
	assert_grep err '70000'
}
run_test "pub udp://: a 70000-byte message is an error naming its size" t_oversize_pub

t_max_datagram() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat -b 131072 -u UDP-RECV:$p,bind=127.0.0.1 CREATE:got
	wait_udp_port $p
	head -c 65507 /dev/urandom | base64 -w0 | head -c 65507 >blob
	oc pub -d @blob udp://127.0.0.1:$p
	wait_size got 65507
	assert_file_eq blob got
}
run_test "a 65507-byte message (the IPv4 maximum) goes out whole" t_max_datagram

t_refused() {
	local p
	p=$(free_port)
	# nobody listens: the ICMP port unreachable shows up as refused once we send
	mkfifo client.in
	bg client oc client udp://127.0.0.1:$p
	exec 3>client.in
	printf 'one\ntwo\n' >&3
	expect_exit client 6
	exec 3>&-
	assert_one_line_error client.err
	assert_grep client.err "127.0.0.1:$p"
}
run_test "client udp:// to a closed port: exit 6" t_refused

done_testing
