#!/usr/bin/env bash
# t0400-unix — unix:/path and unix-listen:/path against socat UNIX-LISTEN / UNIX-CONNECT.
. "$(dirname "$0")/lib.sh"

t_client() {
	require_peer socat
	bg peer socat UNIX-LISTEN:"$S/s.sock" SYSTEM:'echo greeting; cat >got; echo got-$(wc -l <got)'
	wait_unix "$S/s.sock"
	printf 'x\ny\n' >in
	expect_code 0 oc client unix:"$S/s.sock" <in
	assert_content out "greeting
got-2
"
	assert_empty err
	assert_file_eq in got
}
run_test "client unix:/path <-> socat UNIX-LISTEN: both directions, half-close" t_client

t_client_refused() {
	expect_code 6 oc client unix:"$S/nobody.sock"
	assert_one_line_error err
	assert_grep err "nobody.sock"
	# a socket file with nobody behind it
	"$PY" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$S/stale.sock"
	expect_code 6 oc client unix:"$S/stale.sock"
	assert_one_line_error err
}
run_test "client unix:/missing and unix:/stale: exit 6" t_client_refused

t_server() {
	require_peer socat
	mkfifo srv.in
	bg srv oc server unix:"$S/srv.sock"
	exec 3>srv.in
	wait_unix "$S/srv.sock"
	mkfifo a.in b.in
	bg a socat -t 30 - UNIX-CONNECT:"$S/srv.sock"
	bg b socat -t 30 - UNIX-CONNECT:"$S/srv.sock"
	exec 4>a.in 5>b.in
	echo from-a >&4
	echo from-b >&5
	wait_line srv.out '^from-a$'
	wait_line srv.out '^from-b$'
	echo broadcast >&3
	wait_line a.out '^broadcast$'
	wait_line b.out '^broadcast$'
	exec 3>&- 4>&- 5>&-
	expect_exit a 0
	expect_exit b 0
	assert_content a.out "broadcast
"
	running srv || fail "server ended"
}
run_test "socat UNIX-CONNECT clients <-> server unix:/path: both directions" t_server

t_server_listen_echo_jsonl() {
	require_peer socat
	bg srv oc server --echo --jsonl unix-listen:"$S/e.sock"
	wait_unix "$S/e.sock"
	printf 'one\ntwo\n' | timeout 20 socat -t 15 - UNIX-CONNECT:"$S/e.sock" >got
	assert_content got "one
two
"
	wait_lines srv.out 2
	# peer is unix:N for unix sockets
	"$PY" - srv.out <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert [l["payload"] for l in lines] == ["one", "two"], lines
assert all(l["peer"].startswith("unix:") and l["peer"][5:].isdigit() for l in lines), lines
EOF
}
run_test "server --echo --jsonl unix-listen:/path: echo, peer is unix:N" t_server_listen_echo_jsonl

t_server_exec() {
	require_peer socat
	bg srv oc server unix-listen:"$S/x.sock" --exec 'tr a-z A-Z'
	wait_unix "$S/x.sock"
	printf 'shout\n' | timeout 20 socat -t 15 - UNIX-CONNECT:"$S/x.sock" >got
	assert_content got "SHOUT
"
}
run_test "server --exec over a unix socket" t_server_exec

t_socket_file_lifecycle() {
	require_peer socat
	# a stale socket file (nobody listening) is taken over
	"$PY" -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$S/stale.sock"
	bg srv oc server unix-listen:"$S/stale.sock"
	wait_unix "$S/stale.sock"
	printf 'via-stale\n' | timeout 20 socat -u - UNIX-CONNECT:"$S/stale.sock"
	wait_line srv.out '^via-stale$'
	# a live one is not stolen: a second server fails with 6, the first still serves
	expect_code 6 oc server unix-listen:"$S/stale.sock"
	assert_one_line_error err
	printf 'still-first\n' | timeout 20 socat -u - UNIX-CONNECT:"$S/stale.sock"
	wait_line srv.out '^still-first$'
	# a regular file is never clobbered
	echo precious >"$S/file"
	expect_code 6 oc server unix-listen:"$S/file"
	assert_content "$S/file" "precious
"
	# the socket file goes away when the server ends
	kill -TERM "$(cmd_pid srv)"
	wait_gone srv
	[ ! -e "$S/stale.sock" ] || fail "socket file left behind after the server ended"
}
run_test "unix-listen: takes over a stale socket, never a live one or a regular file; removes it at exit" t_socket_file_lifecycle

done_testing
