#!/usr/bin/env bash
# t0260-options — run options against real peers: -o, -s/-S, -v and --trace (stderr only),
# -d (text, @file, @-), --reconnect, -c with --timeout/--idle (whichever comes first).
. "$(dirname "$0")/lib.sh"

t_output_file() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr SYSTEM:'echo to-file; echo line2'
	wait_port $p
	expect_code 0 oc client -o "$T/o.txt" tcp://127.0.0.1:$p
	assert_empty out
	assert_empty err
	assert_content o.txt "to-file
line2
"
}
run_test "-o FILE: what stdout would get goes to FILE" t_output_file

t_silent() {
	local p
	p=$(free_port)
	expect_code 6 oc client -s tcp://127.0.0.1:$p
	assert_empty err
	expect_code 6 oc client -sS tcp://127.0.0.1:$p
	assert_one_line_error err
	assert_grep err 'cannot connect'
	expect_code 2 oc client -s --bogus tcp://127.0.0.1:$p
	note "usage errors with -s: $(wc -l <err) line(s) on stderr"
}
run_test "-s: no messages on stderr; -sS: errors still shown" t_silent

t_verbose_stderr_only() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr,fork SYSTEM:'cat'
	wait_port $p
	printf 'a\nb\n' >in
	expect_code 0 oc client tcp://127.0.0.1:$p <in
	cp out plain
	expect_code 0 oc client -vv tcp://127.0.0.1:$p <in
	assert_file_eq plain out
	assert_grep err "connected to '127.0.0.1:$p'"
	expect_code 0 oc client --trace tcp://127.0.0.1:$p <in
	assert_file_eq plain out
	[ -s err ] || fail "--trace wrote nothing on stderr"
}
run_test "-v and --trace write to stderr only; stdout is the same" t_verbose_stderr_only

t_data() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat -u TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr,fork OPEN:got,creat,append
	wait_port $p
	# -d replaces stdin (which would otherwise be read)
	echo not-this | oc client -d 'text data' tcp://127.0.0.1:$p
	printf 'from a file' >f
	oc client -d @f --framing raw tcp://127.0.0.1:$p
	printf 'from stdin' | oc client -d @- --framing raw tcp://127.0.0.1:$p
	wait_size got 31
	assert_content got "text data
from a filefrom stdin"
	expect_code 12 oc client -d @"$T/missing" tcp://127.0.0.1:$p
	assert_one_line_error err
	assert_grep err missing
}
run_test "-d TEXT, -d @file, -d @- replace stdin" t_data

t_reconnect() {
	require_peer socat
	local p
	p=$(free_port)
	# each connection says one line and closes
	bg peer socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr,fork SYSTEM:'echo conn-$$'
	wait_port $p
	mkfifo cl.in
	bg cl oc client --reconnect -c 3 tcp://127.0.0.1:$p
	exec 3>cl.in
	expect_exit cl 0
	exec 3>&-
	assert_eq 3 "$(grep -c '^conn-[0-9]*$' cl.out)" "lines"
	assert_eq 3 "$(sort -u cl.out | wc -l)" "distinct connections"
}
run_test "--reconnect: a closed connection is reopened" t_reconnect

t_no_reconnect_peer_close() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr,fork SYSTEM:'echo conn-$$'
	wait_port $p
	# stdin stays open; the peer closes: without --reconnect a lost connection ends the run
	# (DESIGN §4), and -c 3 was not reached: 13
	T_BG=10
	mkfifo c1.in
	bg c1 oc client -c 3 tcp://127.0.0.1:$p
	exec 3>c1.in
	expect_exit c1 13
	exec 3>&-
	assert_one_line_error c1.err
	mkfifo c2.in
	bg c2 oc client tcp://127.0.0.1:$p
	exec 4>c2.in
	expect_exit c2 0
	exec 4>&-
	assert_grep c2.out '^conn-'
}
run_test "without --reconnect, the peer closing ends the run even while stdin is open" t_no_reconnect_peer_close

t_reconnect_late_peer() {
	require_peer socat
	local p
	p=$(free_port)
	mkfifo cl.in
	bg cl oc client -v --reconnect -c 1 tcp://127.0.0.1:$p
	exec 3>cl.in
	# it keeps trying while nobody listens
	wait_line cl.err 'retrying'
	bg peer socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr SYSTEM:'echo finally'
	expect_exit cl 0
	exec 3>&-
	assert_content cl.out "finally
"
}
run_test "--reconnect: waits for a peer that is not up yet" t_reconnect_late_peer

t_count_vs_timeout() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr,fork SYSTEM:'echo a; echo b; sleep 30'
	wait_port $p
	mkfifo c1.in
	# count first: 0
	bg c1 oc client -c 2 -m 20 tcp://127.0.0.1:$p
	exec 3>c1.in
	expect_exit c1 0
	exec 3>&-
	# time first: 11, with what arrived printed
	mkfifo c2.in
	bg c2 oc client -c 5 -m 1.5 tcp://127.0.0.1:$p
	exec 4>c2.in
	expect_exit c2 11
	exec 4>&-
	assert_content c2.out "a
b
"
	mkfifo c3.in
	bg c3 oc client -c 5 --idle 1.5 tcp://127.0.0.1:$p
	exec 5>c3.in
	expect_exit c3 11
	exec 5>&-
	assert_content c3.out "a
b
"
}
run_test "-c with -m / --idle: whichever comes first decides (0 or 11)" t_count_vs_timeout

t_server_count() {
	require_peer socat
	local p
	p=$(free_port)
	bg srv oc server -c 3 tcp://127.0.0.1:$p
	wait_port $p
	printf '1\n2\n' | timeout 20 socat -u - TCP:127.0.0.1:$p
	printf '3\n4\n' | timeout 20 socat -u - TCP:127.0.0.1:$p
	expect_exit srv 0
	assert_content srv.out "1
2
3
"
}
run_test "server -c 3 counts messages from all peers and stops at 3" t_server_count

t_server_closed_stdout() {
	require_peer socat
	local p
	p=$(free_port)
	# the server's stdout is closed by head after one line
	(
		set +e
		timeout 20 "$OMNICAT" server tcp://127.0.0.1:$p 2>err </dev/null | head -1 >out
		echo "${PIPESTATUS[0]}" >rc
	) &
	local sub=$!
	wait_port $p
	bg src socat -u SYSTEM:'yes data' TCP:127.0.0.1:$p
	wait $sub
	assert_eq 0 "$(cat rc)" "server exit status"
	assert_empty err
	assert_content out "data
"
}
run_test "server | head -1: exits 0 quietly when stdout closes" t_server_closed_stdout

done_testing
