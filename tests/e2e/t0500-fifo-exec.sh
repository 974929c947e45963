#!/usr/bin/env bash
# t0500-fifo-exec — fifo:/path (named pipes, with cat and shell writers as the peers) and
# exec:CMD (a child's stdin/stdout, argv split without a shell), also as relay targets.
. "$(dirname "$0")/lib.sh"

# ---- fifo ---------------------------------------------------------------------------------

t_pub_fifo() {
	mkfifo f
	bg reader cat f
	expect_code 0 oc pub fifo:"$T/f" <<<"$(printf 'a\nb\nc')"
	assert_empty err
	expect_exit reader 0
	assert_content reader.out "a
b
c
"
}
run_test "pub fifo: into a FIFO read by cat" t_pub_fifo

t_pub_fifo_creates() {
	printf 'x\ny\n' >pub.in
	bg pub oc pub fifo:"$T/new"
	wait_for test -p "$T/new"
	timeout 20 cat "$T/new" >got
	expect_exit pub 0
	assert_content got "x
y
"
}
run_test "pub fifo: creates a missing FIFO and waits for a reader" t_pub_fifo_creates

t_sub_fifo() {
	bg sub oc sub fifo:"$T/f"
	wait_for test -p "$T/f"
	# a shell writes, then closes: without --follow, sub ends with the writer
	(echo first; echo second) >"$T/f"
	expect_exit sub 0
	assert_content sub.out "first
second
"
	assert_empty sub.err
}
run_test "sub fifo: from a FIFO written by a shell ends with the writer" t_sub_fifo

t_sub_fifo_follow() {
	mkfifo f
	bg sub oc sub --follow fifo:"$T/f"
	# several writers, one after another (the reader waits for new writers)
	echo w1 >f
	wait_line sub.out '^w1$'
	echo w2 >f
	wait_line sub.out '^w2$'
	printf 'w3a\nw3b\n' >f
	wait_line sub.out '^w3b$'
	running sub || fail "sub --follow ended after a writer closed"
	assert_content sub.out "w1
w2
w3a
w3b
"
}
run_test "sub --follow fifo: outlives writers" t_sub_fifo_follow

t_sub_fifo_count() {
	mkfifo f
	bg sub oc sub --follow -c 2 fifo:"$T/f"
	exec 3>f
	printf 'one\ntwo\nthree\n' >&3
	expect_exit sub 0
	exec 3>&-
	assert_content sub.out "one
two
"
}
run_test "sub --follow -c 2 fifo: stops after 2 messages" t_sub_fifo_count

t_fifo_not_fifo() {
	echo regular >plain
	local rc=0
	oc sub fifo:"$T/plain" >out 2>err || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "sub fifo: on a regular file: exit $rc"
	assert_one_line_error err
	assert_grep err "plain"
}
run_test "sub fifo: on a regular file is an error" t_fifo_not_fifo

# ---- exec ---------------------------------------------------------------------------------

t_client_exec_sort() {
	printf 'pear\napple\nfig\n' >in
	expect_code 0 oc client exec:sort <in
	assert_content out "apple
fig
pear
"
	assert_empty err
}
run_test "client exec:sort (stdin EOF reaches the child; its output comes back)" t_client_exec_sort

t_exec_argv_quoting() {
	expect_code 0 oc client "exec:printf '%s|' 'a b' \"c d\" e\\ f \$HOME '*'" </dev/null
	# no shell: no expansion of $HOME or *, quotes group words
	assert_content out "a b|c d|e f|\$HOME|*|
"
}
run_test "exec: argv split with quotes and no expansion" t_exec_argv_quoting

t_exec_errors() {
	local rc=0
	oc client exec:/nonexistent/program </dev/null >out 2>err || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "exit $rc"
	assert_one_line_error err
	assert_grep err "/nonexistent/program"
	rc=0
	oc client exec:false </dev/null >out 2>err || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "exec:false exit $rc"
	assert_one_line_error err
	assert_grep err "status 1"
}
run_test "exec: a missing program / failing child is an error naming it" t_exec_errors

t_exec_big() {
	head -c 2000000 /dev/urandom | base64 >in
	expect_code 0 oc client --framing raw exec:cat <in
	assert_file_eq in out
}
run_test "client exec:cat moves 2.7 MB unchanged" t_exec_big

t_relay_to_exec() {
	printf 'shout\nlouder\n' >in
	expect_code 0 oc relay - "exec:tr a-z A-Z" <in
	assert_content out "SHOUT
LOUDER
"
	# a listener relayed to exec: one child per connection (socat's TCP-LISTEN,fork EXEC)
	require_peer socat
	local p
	p=$(free_port)
	bg relay oc relay tcp-listen://127.0.0.1:$p "exec:sh -c 'echo child-\$\$; exec tr a-z A-Z'"
	wait_port $p
	mkfifo a.in b.in
	bg a socat -t 30 - TCP:127.0.0.1:$p
	bg b socat -t 30 - TCP:127.0.0.1:$p
	exec 4>a.in 5>b.in
	wait_line a.out '^child-[0-9]+$'
	wait_line b.out '^child-[0-9]+$'
	echo from a >&4
	echo from b >&5
	exec 4>&- 5>&-
	expect_exit a 0
	expect_exit b 0
	assert_eq "FROM A" "$(sed -n 2p a.out)"
	assert_eq "FROM B" "$(sed -n 2p b.out)"
	[ "$(head -1 a.out)" != "$(head -1 b.out)" ] || fail "both connections got the same child"
}
run_test "relay into exec: stdio -> exec, and tcp-listen -> exec with a child per peer" t_relay_to_exec

t_relay_exec_to_fifo() {
	mkfifo f
	bg reader cat f
	expect_code 0 oc relay "exec:seq 1 5" fifo:"$T/f"
	expect_exit reader 0
	assert_content reader.out "$(seq 1 5)
"
}
run_test "relay exec: -> fifo:" t_relay_exec_to_fifo

done_testing
