#!/usr/bin/env bash
# t0100-cli — usage, help, version, and every exit code of DESIGN §5 this binary can produce,
# each with its one-line, git-style message on stderr.
. "$(dirname "$0")/lib.sh"

# ---- help and version ---------------------------------------------------------------------

t_help() {
	expect_code 0 oc --help
	assert_empty err
	for c in client server pub sub relay help; do assert_grep out "^  $c "; done
	for s in stdio tcp tcp-listen udp udp-listen unix unix-listen fifo exec file dir; do
		assert_grep out "^  $s "
	done
	# The exit-code table is in the help.
	for code in 2 3 4 5 6 11 12 13; do assert_grep out "^ +$code  "; done
	expect_code 0 oc -h
	assert_grep out '^usage: omnicat '
}
run_test "--help lists commands, schemes and exit codes" t_help

t_cmd_help() {
	for c in client server pub sub relay; do
		expect_code 0 oc help $c
		assert_empty err
		assert_grep out "^usage: omnicat $c "
		cp out help.$c
		expect_code 0 oc $c --help
		assert_file_eq help.$c out
	done
	assert_grep help.server '--echo'
	assert_grep help.client '--exec '
	assert_no_grep help.sub '--echo'
	assert_grep help.sub '--follow'
	expect_code 2 oc help nosuchcommand
	assert_one_line_error err
	assert_grep err "nosuchcommand"
}
run_test "help COMMAND and COMMAND --help" t_cmd_help

t_version() {
	expect_code 0 oc --version
	assert_empty err
	assert_grep out '^omnicat [0-9]+\.[0-9]+'
	for s in stdio tcp tcp-listen udp udp-listen unix unix-listen fifo exec file dir; do
		grep -A3 '^Schemes' out | grep -qw -- "$s" || fail "--version does not list $s"
	done
	assert_grep out 'libuv [0-9]'
	# each protocol library, as its adapter names it
	for lib in 'libwebsockets [0-9]' 'libmosquitto [0-9]' 'paho\.mqtt\.c [0-9]' 'libcoap [0-9]'; do
		assert_grep out "$lib"
	done
	expect_code 0 oc --list-options
	for o in --count -c --timeout -m --idle --connect-timeout --verbose -v --silent -s \
		--show-error -S --output -o --trace --reconnect --exec --exec-shell --framing --jsonl \
		--format --data -d --opt -4 -6 --echo --follow --keep; do
		grep -qx -- "$o" out || fail "--list-options lacks $o"
	done
}
run_test "--version lists the built-in schemes and libraries" t_version

# ---- usage errors: 2 ----------------------------------------------------------------------

t_no_args() {
	expect_code 2 oc
	assert_grep err 'usage: omnicat'
	expect_code 2 oc frobnicate tcp://127.0.0.1:1
	assert_one_line_error err
	assert_grep err "'frobnicate' is not a command"
}
run_test "no command / unknown command: exit 2" t_no_args

t_bad_option() {
	expect_code 2 oc client --no-such-option tcp://127.0.0.1:1
	assert_one_line_error err
	assert_grep err "unknown option '--no-such-option'"
	assert_empty out
	expect_code 2 oc client -Z tcp://127.0.0.1:1
	assert_one_line_error err
	assert_grep err "unknown option '-Z'"
	# an option that exists but not for this command
	expect_code 2 oc sub --echo file:/dev/null
	assert_one_line_error err
	assert_grep err "'--echo' does not apply to 'sub'"
	# a missing value
	expect_code 2 oc client tcp://127.0.0.1:1 -c
	assert_one_line_error err
	assert_grep err "'-c' needs a value"
	# values that are not numbers / seconds / framings
	expect_code 2 oc client -c 0 tcp://127.0.0.1:1
	assert_grep err "invalid value '0' for -c"
	expect_code 2 oc client --count=x tcp://127.0.0.1:1
	assert_grep err "invalid value 'x' for --count"
	expect_code 2 oc client -m -1 tcp://127.0.0.1:1
	assert_grep err "invalid value '-1' for -m"
	expect_code 2 oc client --idle 0 tcp://127.0.0.1:1
	assert_grep err "invalid value '0' for --idle"
	expect_code 2 oc client --framing bogus tcp://127.0.0.1:1
	assert_grep err "invalid value 'bogus' for --framing"
	expect_code 2 oc client --opt novalue tcp://127.0.0.1:1
	assert_grep err "expected KEY=VALUE"
	# a flag given a value
	expect_code 2 oc client --verbose=1 tcp://127.0.0.1:1
	assert_grep err "'--verbose' takes no value"
}
run_test "bad option: exit 2, one line naming the option" t_bad_option

t_wrong_urls() {
	expect_code 2 oc client
	assert_one_line_error err
	assert_grep err "'client' takes one URL"
	expect_code 2 oc client tcp://127.0.0.1:1 tcp://127.0.0.1:2
	assert_one_line_error err
	assert_grep err "unexpected argument 'tcp://127.0.0.1:2'"
	expect_code 2 oc relay tcp://127.0.0.1:1
	assert_one_line_error err
	assert_grep err "'relay' takes two URLs"
}
run_test "wrong number of URLs: exit 2" t_wrong_urls

t_bad_url() {
	expect_code 2 oc client 'tcp://127.0.0.1:99999'
	assert_one_line_error err
	assert_grep err "'tcp://127.0.0.1:99999'"
	expect_code 2 oc client 'tcp://[::1:80'
	assert_one_line_error err
	assert_grep err "invalid URL 'tcp://\[::1:80'"
	expect_code 2 oc client 'tcp://127.0.0.1'
	assert_one_line_error err
	assert_grep err "needs a port"
	expect_code 2 oc client 'tcp://127.0.0.1:12ab'
	assert_one_line_error err
	expect_code 2 oc client 'no-scheme-here'
	assert_one_line_error err
	assert_grep err "'no-scheme-here' is not a URL"
	expect_code 2 oc client 'exec:'
	assert_one_line_error err
	expect_code 2 oc sub 'file:'
	assert_one_line_error err
	expect_code 2 oc client 'exec:cat "unterminated'
	assert_one_line_error err
	assert_grep err "unterminated quote"
	# an adapter option that no endpoint knows
	expect_code 2 oc client 'tcp://127.0.0.1:1?nosuchkey=1'
	assert_one_line_error err
	assert_grep err "nosuchkey"
	expect_code 2 oc client --opt nosuchkey=1 tcp://127.0.0.1:1
	assert_one_line_error err
	assert_grep err "nosuchkey"
}
run_test "bad URL: exit 2, one line naming the URL" t_bad_url

t_no_password_in_errors() {
	expect_code 2 oc client 'tcp://u:topsecret@127.0.0.1:99999'
	assert_one_line_error err
	assert_no_grep err topsecret
	assert_grep err "u:\*\*\*@127.0.0.1:99999"
	expect_code 2 oc client 'tcp://u:topsecret@127.0.0.1:1?nosuchkey=1'
	assert_no_grep err topsecret
	expect_code 3 oc client 'foo://u:topsecret@127.0.0.1:1'
	assert_one_line_error err
	assert_no_grep err topsecret
	expect_code 6 oc client 'tcp://u:topsecret@127.0.0.1:1'
	assert_no_grep err topsecret
}
run_test "error messages never show a URL's password" t_no_password_in_errors

# ---- 3, 4 ---------------------------------------------------------------------------------

t_unknown_scheme() {
	expect_code 3 oc client 'gopher://127.0.0.1:70/'
	assert_one_line_error err
	assert_grep err "unknown scheme 'gopher'"
	expect_code 3 oc relay - 'bogus:/x'
	assert_one_line_error err
	assert_grep err "unknown scheme 'bogus'"
}
run_test "unknown scheme: exit 3" t_unknown_scheme

t_not_built() {
	# a scheme from --version's "Known, not built in" list (it shrinks as adapters land)
	oc --version >version
	local s
	s=$(sed -n '/^Known, not built in:/,/^[A-Z]/{/^  /p}' version | tr ' ' '\n' | grep -v '^$' | head -1)
	[ -n "$s" ] || skip "every known scheme is built in"
	note "using '$s'"
	expect_code 4 oc client "$s://127.0.0.1:1/x"
	assert_one_line_error err
	assert_grep err "'$s' support not built in"
}
run_test "scheme known but not built in: exit 4" t_not_built

# ---- 5, 6 ---------------------------------------------------------------------------------

t_resolve() {
	expect_code 5 oc client tcp://no-such-host.invalid:80
	assert_one_line_error err
	assert_grep err "cannot resolve 'no-such-host.invalid'"
}
run_test "unresolvable host: exit 5" t_resolve

t_refused() {
	local p
	p=$(free_port)
	expect_code 6 oc client tcp://127.0.0.1:$p
	assert_one_line_error err
	assert_grep err "cannot connect to '127.0.0.1:$p'.*refused"
}
run_test "connection refused: exit 6" t_refused

t_bind_fail() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr -
	wait_port $p
	expect_code 6 oc server tcp://127.0.0.1:$p
	assert_one_line_error err
	assert_grep err "127.0.0.1:$p"
	expect_code 6 oc server unix:/nonexistent-dir/sock
	assert_one_line_error err
}
run_test "address in use / cannot bind: exit 6" t_bind_fail

# ---- 11 -----------------------------------------------------------------------------------

t_timeout() {
	require_peer socat
	local p
	p=$(free_port)
	# a peer that accepts and then says nothing
	bg peer socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr SYSTEM:'sleep 30'
	wait_port $p
	mkfifo client.in
	bg client oc client -m 0.5 tcp://127.0.0.1:$p
	exec 3>client.in
	expect_exit client 11
	exec 3>&-
	assert_one_line_error client.err
	assert_grep client.err 'timed out after 0.5s'
	# a server too
	expect_code 11 oc server -m 0.3 tcp://127.0.0.1:$(free_port)
	assert_one_line_error err
	assert_grep err 'timed out'
}
run_test "--timeout expires: exit 11" t_timeout

t_idle() {
	local p
	p=$(free_port)
	expect_code 11 oc server --idle 0.3 tcp://127.0.0.1:$p
	assert_one_line_error err
	assert_grep err 'no message for 0.3s \(--idle\)'
	# --idle restarts with each message: lines every 0.1 s keep it alive past 1 s
	require_peer socat
	p=$(free_port)
	bg srv oc server --idle 1 tcp://127.0.0.1:$p
	wait_port $p
	bg peer socat -u SYSTEM:'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo $i; sleep 0.1; done; sleep 5' TCP:127.0.0.1:$p
	expect_exit srv 11
	assert_content srv.out "$(seq 15)
"
}
run_test "--idle expires: exit 11 (and messages restart it)" t_idle

t_connect_timeout() {
	# A listener whose backlog is full and never accepts: the SYN is dropped, connect() hangs.
	cat >full.py <<'EOF'
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(0)
fill = []
for _ in range(4):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(s.getsockname())
    except BlockingIOError: pass
    fill.append(c)
time.sleep(0.3)
print(s.getsockname()[1], flush=True)
time.sleep(60)
EOF
	bg full "$PY" full.py
	wait_lines full.out 1
	local p
	p=$(cat full.out)
	expect_code 11 oc client --connect-timeout 0.5 tcp://127.0.0.1:$p
	assert_one_line_error err
	assert_grep err "127.0.0.1:$p"
}
run_test "--connect-timeout expires: exit 11" t_connect_timeout

# ---- 12 -----------------------------------------------------------------------------------

t_local_io() {
	expect_code 12 oc sub file:"$T/does-not-exist"
	assert_one_line_error err
	assert_grep err "does-not-exist"
	mkdir adir
	expect_code 12 oc sub file:"$T/adir"
	assert_one_line_error err
	assert_grep err "cannot read 'file:$T/adir'"
	echo x >src
	expect_code 12 oc sub -o /nonexistent-dir/out file:"$T/src"
	assert_one_line_error err
	assert_grep err "/nonexistent-dir/out"
	# stdin that cannot be read
	expect_code 12 oc pub file:"$T/dst" </
	assert_one_line_error err
	assert_grep err "cannot read '(-|stdio)'"
}
run_test "unreadable file, unwritable output, unreadable stdin: exit 12" t_local_io

# ---- 13 -----------------------------------------------------------------------------------

t_count_not_reached() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr SYSTEM:'echo one; echo two'
	wait_port $p
	expect_code 13 oc client -c 3 tcp://127.0.0.1:$p
	assert_content out "one
two
"
	assert_one_line_error err
	assert_grep err "tcp://127.0.0.1:$p"
	# -c reached: 0, and nothing after the count is printed
	p=$(free_port)
	bg peer2 socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr SYSTEM:'echo a; echo b; echo c; sleep 5'
	wait_port $p
	expect_code 0 oc client -c 2 tcp://127.0.0.1:$p
	assert_content out "a
b
"
	assert_empty err
}
run_test "-c not reached before the peer closed: exit 13; reached: 0" t_count_not_reached

# ---- 130 ----------------------------------------------------------------------------------

# status_of.py NAME CMD...: run CMD (stdin NAME.in if present, stdout NAME.out, stderr NAME.err,
# pid in NAME.pid) and print its exit status, or "signal N" if a signal killed it (the shell
# reports both as 128+N; the design wants a clean exit with 130).
cat >"$OUT_DIR/status_of.py" <<'EOF'
import os, signal, subprocess, sys
name = sys.argv[1]
stdin = open(name + ".in", "rb") if os.path.exists(name + ".in") else subprocess.DEVNULL
p = subprocess.Popen(sys.argv[2:], stdout=open(name + ".out", "w"),
                     stderr=open(name + ".err", "w"), stdin=stdin,
                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
open(sys.argv[1] + ".pid", "w").write(str(p.pid))
rc = p.wait()
print(rc if rc >= 0 else "signal %d" % -rc, flush=True)
EOF

t_sigint() {
	require_peer socat
	local p
	p=$(free_port)
	bg run timeout -k 5 30 "$PY" "$OUT_DIR/status_of.py" srv "$OMNICAT" server tcp://127.0.0.1:$p
	wait_port $p
	# it prints what a peer sent before the signal
	socat -u SYSTEM:'echo before-signal' TCP:127.0.0.1:$p
	wait_line srv.out before-signal
	kill -INT "$(cat srv.pid)"
	expect_exit run 0
	assert_content run.out "130
"
	assert_content srv.out "before-signal
"
	assert_no_grep srv.err 'ERROR|runtime error'
}
run_test "SIGINT: exit 130 (a clean exit, not death by signal)" t_sigint

t_sigterm() {
	local p
	p=$(free_port)
	bg run timeout -k 5 30 "$PY" "$OUT_DIR/status_of.py" srv "$OMNICAT" server tcp://127.0.0.1:$p
	wait_port $p
	kill -TERM "$(cat srv.pid)"
	expect_exit run 0
	assert_content run.out "143
"
}
run_test "SIGTERM: exit 143" t_sigterm

t_sigint_twice() {
	local p
	p=$(free_port)
	head -c 30000000 /dev/zero | tr '\0' a | fold -w 100 >lines
	cp lines srv.in
	bg run timeout -k 5 10 "$PY" "$OUT_DIR/status_of.py" srv "$OMNICAT" server tcp://127.0.0.1:$p
	wait_port $p
	# a peer that never reads: what the server queued for it cannot be flushed
	cat >stall.py <<'EOF2'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
print("connected", flush=True)
time.sleep(60)
EOF2
	bg stall "$PY" stall.py $p
	wait_line stall.out connected
	local pid
	pid=$(cat srv.pid)
	kill -INT "$pid"
	kill -INT "$pid" 2>/dev/null || true
	expect_exit run 0
	assert_content run.out "130
"
}
run_test "SIGINT twice while a peer is stalled: exits at once with 130" t_sigint_twice

# ---- closed stdout: 0, quietly ------------------------------------------------------------

t_head() {
	seq 1 200000 >big
	local rc1 rc2
	set +e
	oc sub file:"$T/big" 2>err | head -1 >out
	rc1=${PIPESTATUS[0]} rc2=${PIPESTATUS[1]}
	set -e
	assert_eq 0 "$rc1" "omnicat's exit status"
	assert_eq 0 "$rc2" "head's exit status"
	assert_content out "1
"
	assert_empty err
}
run_test "sub file:big | head -1 exits 0 with empty stderr" t_head

t_head_net() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr SYSTEM:'yes line'
	wait_port $p
	local rc1
	set +e
	oc client tcp://127.0.0.1:$p 2>err </dev/null | head -3 >out
	rc1=${PIPESTATUS[0]}
	set -e
	assert_eq 0 "$rc1" "omnicat's exit status"
	assert_content out "line
line
line
"
	assert_empty err
}
run_test "client tcp:// (endless peer) | head -3 exits 0 quietly" t_head_net

done_testing
