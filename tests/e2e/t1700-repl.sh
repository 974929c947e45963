#!/usr/bin/env bash
# t1700-repl — omnicat repl URL, typed at a real terminal (tmux: send-keys in, capture-pane out)
# and driven from a pipe, against the peers the other tests use: python3-websockets
# (ws_peer.py), Python's http.server (http_peer.py), mosquitto and its clients, libcoap's
# coap-server, socat.
#
# Each terminal test runs its own tmux server (tmux -D, a background process killed with the
# test) in a 100x40 window; the session's history lives in ./state ($XDG_STATE_HOME).
. "$(dirname "$0")/lib.sh"

WSP=$LIB_DIR/peers/ws_peer.py
HTTPP=$LIB_DIR/peers/http_peer.py
MQRR=$LIB_DIR/peers/mqtt_rr.py

# ---- the terminal -----------------------------------------------------------------------------

tm() { tmux -S "$T/tmux.sock" -f /dev/null "$@"; }

# term ARGS...: `omnicat repl ARGS` in the terminal; its exit status lands in repl.rc.
# $REPL_ENV: extra environment, as "NAME=value ..." (NO_COLOR is unset otherwise).
term() {
	require_peer tmux
	rm -f repl.rc
	if [ ! -S tmux.sock ]; then
		bg tmuxd tmux -S "$T/tmux.sock" -f /dev/null -D
		wait_for test -S tmux.sock
	fi
	wait_for _no_session # the last one's shell has ended
	{
		echo '#!/bin/sh'
		# Ctrl-C reaches the whole foreground group: this shell must outlive it to write
		# repl.rc (a trap, not an ignore, which omnicat would inherit)
		echo 'trap : INT'
		echo "unset NO_COLOR"
		printf 'export XDG_STATE_HOME=%q ASAN_OPTIONS=%q UBSAN_OPTIONS=%q LSAN_OPTIONS=%q %s\n' \
			"$T/state" "$ASAN_OPTIONS" "$UBSAN_OPTIONS" "$LSAN_OPTIONS" "${REPL_ENV:-}"
		printf '%q repl' "$OMNICAT"
		printf ' %q' "$@"
		printf '\necho $? >%q\n' "$T/repl.rc"
	} >repl.sh
	chmod +x repl.sh
	tm new-session -d -s r -x 100 -y 40 -c "$T" "$T/repl.sh"
}

# pane: everything the terminal showed (its history too); pane_escapes: the same with the
# colour escape sequences.
_no_session() { ! tm has-session -t r 2>/dev/null; }
pane() { tm capture-pane -p -S - -t r; }
pane_escapes() { tm capture-pane -p -e -S - -t r; }
# input TEXT: keys typed literally; key NAME...: keys by name (Enter, Tab, C-c, Left...).
input() { tm send-keys -t r -l "$1"; }
key() { tm send-keys -t r "$@"; }
# The line the cursor is on: the prompt and what is typed so far.
cursor_line() {
	local y
	y=$(tm display-message -p -t r '#{cursor_y}')
	tm capture-pane -p -t r | sed -n "$((y + 1))p"
}
_pane_has() { pane | grep -qE -- "$1"; }
_cursor_is() { [ "$(cursor_line | sed 's/ *$//')" = "$1" ]; }
# wait_term CMD...: wait_for, showing the screen when time runs out.
wait_term() {
	try_wait "$@" && return 0
	echo "---- the terminal:" >&2
	pane >&2
	fail "timed out after ${WAIT_MAX:-$POLL_MAX}s waiting for: $*"
}
# wait_pane REGEX: the screen shows a line matching REGEX (grep -E).
wait_pane() { wait_term _pane_has "$1"; }
# wait_cursor TEXT: the cursor's line is exactly TEXT (trailing blanks aside).
wait_cursor() { wait_term _cursor_is "$1"; }
# wait_rc N: the repl ended with status N.
wait_rc() {
	wait_term test -s repl.rc
	assert_eq "$1" "$(cat repl.rc)" "repl exit status"
}

# ---- peers ------------------------------------------------------------------------------------

ws_module() {
	"$PY" -c 'import websockets' 2>/dev/null ||
		if [ "${OMNICAT_REQUIRE_PEERS:-0}" = 1 ]; then fail "python3-websockets is missing"; else skip "no python3-websockets"; fi
}

# ws_peer: ws_peer.py repl on a free port ($WS_URL); it logs to ws.out.
ws_peer() {
	ws_module
	local port
	port=$(free_port)
	bg ws "$PY" "$WSP" repl "$port"
	wait_line ws.out '^listening'
	WS_URL=ws://127.0.0.1:$port/
}

# http_peer: http_peer.py on a free port ($HTTP_URL), serving the test directory too.
http_peer() {
	local port
	port=$(free_port)
	bg http "$PY" "$HTTPP" "$port"
	wait_line http.out '^listening'
	HTTP_URL=http://127.0.0.1:$port
}

# broker: mosquitto on $MQ_PORT with its log in mq.err; $MQ is mqtt://127.0.0.1:$MQ_PORT.
broker() {
	require_peer mosquitto mosquitto_pub mosquitto_sub
	start_mosquitto mq
	MQ=mqtt://127.0.0.1:$MQ_PORT
}

# ---- line editing -----------------------------------------------------------------------------

t_async_line() {
	ws_peer
	term "$WS_URL"
	wait_pane "^connected: $WS_URL"
	input push-later
	key Enter
	wait_line ws.out "got 'push-later'"
	input 'half typ'
	wait_cursor 'ws> half typ'
	touch push.go
	wait_pane 'pushed by the server'
	# the line is redrawn after the message, intact, and still editable
	wait_cursor 'ws> half typ'
	key C-a
	input '>'
	key C-e
	input 'ed line'
	wait_cursor 'ws> >half typed line'
	key Enter
	wait_line ws.out "got '>half typed line'"
	# a trailing backslash continues the line: one message
	input 'first \'
	key Enter
	wait_cursor '...'
	input second
	key Enter
	wait_line ws.out "got 'first \\\\nsecond'"
	key C-d
	wait_rc 0
}
run_test "a message arriving while a line is half typed leaves it intact and editable; \\ continues" t_async_line

t_ctrl_c_d() {
	ws_peer
	term "$WS_URL"
	wait_pane "^connected: "
	input 'doomed line'
	wait_cursor 'ws> doomed line'
	key C-c
	wait_cursor 'ws>'
	input kept
	key Enter
	wait_line ws.out "got 'kept'"
	wait_pane '^kept$'
	assert_no_grep ws.out doomed
	key C-d
	wait_rc 0
	wait_line ws.out '^closed 1000$'
}
run_test "Ctrl-C clears the line and keeps the session; Ctrl-D exits 0 and the peer sees close 1000" t_ctrl_c_d

_sent_twice() { [ "$(grep -c "got 'remember me'" ws.out)" = 2 ]; }

t_history() {
	ws_peer
	term "$WS_URL"
	wait_pane "^connected: "
	input 'remember me'
	key Enter
	wait_line ws.out "got 'remember me'"
	key C-d
	wait_rc 0
	assert_eq 600 "$(stat -c %a state/omnicat/history-ws)" "history file mode"
	assert_eq 700 "$(stat -c %a state/omnicat)" "history directory mode"
	# a new session finds it: Ctrl-R, then Up
	term "$WS_URL"
	wait_pane "^connected: "
	key C-r
	input rem
	wait_pane 'ws> remember me'
	key Enter # ends libedit's search, leaving the line found to edit
	wait_cursor 'ws> remember me'
	key Enter
	wait_for _sent_twice
	key Up
	wait_cursor 'ws> remember me'
	key C-u
	wait_cursor 'ws>'
	key C-d
	wait_rc 0
	# --no-history: none read, none written
	mv state/omnicat/history-ws saved
	term "$WS_URL" --no-history
	wait_pane "^connected: "
	input 'not kept'
	key Enter
	wait_line ws.out "got 'not kept'"
	key C-d
	wait_rc 0
	[ ! -e state/omnicat/history-ws ] || fail "--no-history wrote a history file"
}
run_test 'history survives a restart ($XDG_STATE_HOME/omnicat, mode 0600); --no-history keeps none' t_history

t_complete() {
	broker
	term "$MQ/sensors/#"
	mq_subscribed mq 'omnicat-[0-9]+-[0-9]+' 'sensors/#'
	wait_pane '^subscribed to sensors/#'
	mosquitto_pub -p "$MQ_PORT" -t sensors/kitchen/temp -m 21
	wait_pane 'sensors/kitchen/temp'
	input ':se'
	key Tab
	wait_cursor 'mqtt> :set'
	key C-u
	input ':topic sens'
	key Tab
	wait_cursor 'mqtt> :topic sensors/kitchen/temp'
	key Enter
	input 'published here'
	key Enter
	# our own message comes back through the subscription
	wait_pane '^published here$'
	# :load completes file names, then takes the file's lines as typed
	echo 'loaded line' >lines-to-load.txt
	input ':load lines-to'
	key Tab
	wait_cursor 'mqtt> :load lines-to-load.txt'
	key Enter
	wait_pane '^loaded line$'
	key C-d
	wait_rc 0
}
run_test "Tab completes :se<Tab>, a topic seen (mqtt) and :load's file names" t_complete

# ---- requests ---------------------------------------------------------------------------------

t_http_headers_json() {
	http_peer
	term "$HTTP_URL/"
	wait_cursor 'http>'
	input 'GET /echo/1'
	key Enter
	wait_pane '"path": "/echo/1"'
	pane >before
	assert_no_grep before x-token
	input ':set header X-Token abc 123'
	key Enter
	input 'POST /echo/2 a body'
	key Enter
	wait_pane '"path": "/echo/2"'
	wait_pane '"x-token": "abc 123"'
	wait_pane '"body": "a body"'
	input ':unset header X-Token'
	key Enter
	input 'GET /echo/3'
	key Enter
	wait_pane '"path": "/echo/3"'
	pane >after
	assert_eq 1 "$(grep -c '"x-token"' after)" "answers with X-Token (only /echo/2's)"
	# pretty-printed JSON, coloured on a terminal
	assert_grep after '^ {2}"method": "GET",$'
	pane_escapes >colours
	assert_grep colours $'\033\\['
	key C-d
	wait_rc 0
	# NO_COLOR=1 and --no-color: no escape sequences at all
	for how in env flag; do
		if [ $how = env ]; then REPL_ENV=NO_COLOR=1 term "$HTTP_URL/echo/x"; else term "$HTTP_URL/echo/x" --no-color; fi
		wait_cursor 'http>'
		key Enter # an empty line: a request to the URL's path
		wait_pane '"path": "/echo/x"'
		pane_escapes >plain
		assert_no_grep plain $'\033'
		key C-d
		wait_rc 0
	done
}
run_test "http: METHOD /path, :set/:unset header change the next request, JSON pretty-printed, NO_COLOR" t_http_headers_json

t_binary() {
	ws_peer
	term "$WS_URL"
	wait_pane "^connected: "
	input binary-please
	key Enter
	wait_pane '^00000000  00 01 fe ff +\.\.\.\.$'
	# :hex sends the bytes typed as hex, :binary as a binary frame
	input ':hex'
	key Enter
	input 'de ad be ef'
	key Enter
	wait_line ws.out "got 'hex:deadbeef'"
	input ':binary'
	key Enter
	input 'AB'
	key Enter
	wait_line ws.out "got 'hex:4142'"
	input ':text'
	key Enter
	input 'zz'
	key Enter
	wait_line ws.out "got 'zz'"
	key C-d
	wait_rc 0
}
run_test "binary payloads show as a hex dump; :hex and :binary send bytes" t_binary

t_cancel() {
	http_peer
	term "$HTTP_URL/"
	wait_cursor 'http>'
	input 'GET /slow/30'
	key Enter
	wait_cursor 'http>' # the line was taken: the request waits (http_peer answers in 30 s)
	key C-c
	wait_pane '^cancelled 1 request$'
	input 'GET /echo/after'
	key Enter
	wait_pane '"path": "/echo/after"'
	pane >screen
	assert_no_grep screen '^slow$'
	key C-d
	wait_rc 0
}
run_test "http: Ctrl-C cancels the request waiting for its answer; the session goes on" t_cancel

t_coap_discovery() {
	start_coap_server coap -d 10
	term "$COAP_URL/"
	wait_cursor 'coap>'
	input 'GET /time'
	key Enter
	wait_pane '^[0-9:.]+ 2\.05$'
	# answers come in order: /.well-known/core's came first, its paths are offered
	input ':path /ex'
	key Tab
	wait_cursor 'coap> :path /example_data'
	key Enter
	input ':method PUT'
	key Enter
	input 'new value'
	key Enter
	wait_pane ' 2\.0[14] \(empty\)$'
	input 'GET /example_data'
	key Enter
	wait_pane '^new value$'
	input ':qos 1'
	key Enter
	wait_pane "^':qos' does not apply to coap$"
	key C-d
	wait_rc 0
}
run_test "coap: requests, :method and :path, Tab offers /.well-known/core's resources" t_coap_discovery

# ---- topics -----------------------------------------------------------------------------------

# N of omnicat's MQTT clients (client ids omnicat-PID-N, or tester[-N]) disconnected, per the
# broker's log
_disconnected() {
	[ "$(grep -cE 'Client (omnicat-[0-9]+-[0-9]+|tester(-[0-9]+)?) disconnected' mq.err)" -ge "$1" ]
}

t_sub_unsub() {
	broker
	# each connection of the session gets its own client id
	term "$MQ/a/#" --client-id tester
	mq_subscribed mq tester 'a/#'
	# a filter is no topic to publish to
	input 'nowhere'
	key Enter
	wait_pane '^no topic to publish to; use :topic T$'
	input ':sub b/+'
	key Enter
	mq_subscribed mq tester-2 'b/+'
	mosquitto_pub -p "$MQ_PORT" -t b/1 -m 'from b while subscribed'
	wait_pane '^from b while subscribed$'
	input ':unsub b/+'
	key Enter
	wait_for _disconnected 1
	mosquitto_pub -p "$MQ_PORT" -t b/2 -m 'from b after unsub'
	mosquitto_pub -p "$MQ_PORT" -t a/1 -m 'sentinel on a'
	wait_pane '^sentinel on a$'
	pane >screen
	assert_no_grep screen 'after unsub'
	# :topic, :qos, :retain: a retained message at QoS 1
	input ':topic a/keep'
	key Enter
	input ':qos 1'
	key Enter
	input ':retain on'
	key Enter
	input 'kept value'
	key Enter
	wait_pane '^kept value$'
	expect_code 0 timeout 10 mosquitto_sub -p "$MQ_PORT" -q 1 -t a/keep -C 1 -F '%r %q %p'
	assert_content out $'1 1 kept value\n'
	key C-d
	wait_rc 0
}
run_test "mqtt: :sub / :unsub change what arrives; :topic, :qos, :retain; a filter needs :topic" t_sub_unsub

t_mqtt_disconnect() {
	broker
	bg will mosquitto_sub -p "$MQ_PORT" -t will/x -C 1
	mq_subscribed mq '[^ ]+' 'will/x'
	term "$MQ/t/x" --will-topic will/x --will-payload 'vanished'
	mq_subscribed mq 'omnicat-[0-9]+-[0-9]+' 't/x'
	input hello
	key Enter
	wait_pane '^hello$'
	key C-d
	wait_rc 0
	wait_for _disconnected 2
	mosquitto_pub -p "$MQ_PORT" -t will/x -m sentinel
	wait_gone will
	assert_content will.out $'sentinel\n'
}
run_test "mqtt: Ctrl-D sends DISCONNECT (the will is not published), exit 0" t_mqtt_disconnect

t_mqtt_request() {
	broker
	"$PY" -c 'import paho.mqtt' 2>/dev/null || fail "python3-paho-mqtt is missing"
	bg rr "$PY" "$MQRR" respond "$MQ_PORT" svc/echo 'answer: '
	wait_line rr.out '^ready'
	printf ':request on\nping\npong\n' | expect_code 0 oc repl "$MQ/svc/echo"
	assert_grep out '^answer: ping$'
	assert_grep out '^answer: pong$'
	wait_line rr.out '^served pong'
	# nobody answers: a script waits for the answer, -m bounds the wait
	printf ':request on\nhello?\n' | expect_code 11 oc repl "$MQ/svc/nobody" -m 1
	assert_grep err 'timed out after 1s'
}
run_test "mqtt: :request on publishes requests and prints the responses (MQTT 5)" t_mqtt_request

t_connection_loss() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer1 socat TCP-LISTEN:"$p",bind=127.0.0.1,reuseaddr EXEC:cat
	wait_port "$p"
	term "tcp://127.0.0.1:$p"
	wait_pane '^connected: tcp://'
	input one
	key Enter
	wait_pane '^one$'
	kill "$(cmd_pid peer1)"
	wait_pane '^closed by the peer: tcp://'
	# the session goes on; the next line connects again
	bg peer2 socat TCP-LISTEN:"$p",bind=127.0.0.1,reuseaddr EXEC:cat
	wait_port "$p"
	input two
	key Enter
	wait_pane '^two$'
	key C-d
	wait_rc 0
	# --reconnect: the adapter connects again by itself, the line waits for it
	bg peer3 socat TCP-LISTEN:"$p",bind=127.0.0.1,reuseaddr,fork EXEC:cat
	wait_port "$p"
	term "tcp://127.0.0.1:$p" --reconnect
	wait_pane '^connected: tcp://'
	kill "$(cmd_pid peer3)"
	wait_gone peer3
	bg peer4 socat TCP-LISTEN:"$p",bind=127.0.0.1,reuseaddr,fork EXEC:cat
	wait_port "$p"
	input three
	key Enter
	WAIT_MAX=20 wait_pane '^three$'
	key C-d
	wait_rc 0
}
run_test "connection loss is shown and the next line connects again; --reconnect reconnects" t_connection_loss

t_commands() {
	ws_peer
	http_peer
	printf 'loaded one\n:status\n' >cmds.txt
	printf ':log t.log\n:load cmds.txt\n:help\n:close\n:reconnect\nafter reconnect\n:log off\nnot logged\n:open %s/\nGET /echo/z\n' \
		"$HTTP_URL" | expect_code 0 oc repl "$WS_URL"
	assert_grep out '^loaded one$'
	assert_grep out '^after reconnect$'
	assert_grep out '^not logged$'
	assert_grep out '"path": "/echo/z"'
	assert_grep out '^ws://127\.0\.0\.1:[0-9]+/ \(ws, messages\): 1 sent'
	assert_grep out '^  :set header NAME VALUE +send this header'
	assert_grep out '^not for ws: :topic :sub :unsub :qos :retain :method :path :raw :request$'
	assert_grep t.log '^> :load cmds.txt$'
	assert_grep t.log '^> loaded one$'
	assert_grep t.log ' \(ws, messages\): 1 sent'
	assert_no_grep t.log 'not logged'
}
run_test "commands: :load, :log, :status, :help, :close, :reconnect, :open another scheme" t_commands

# ---- without a terminal -----------------------------------------------------------------------

t_pipe_http() {
	http_peer
	echo 'the root' >index.html
	printf 'GET /\n' | expect_code 0 oc repl "$HTTP_URL/"
	assert_grep out '^[0-9:.]+ 200$'
	assert_grep out '^the root$'
	assert_no_grep out $'\033'
	assert_empty err
	# continuation lines, comments... the same grammar as typed
	printf ':path /echo/p\n:method PUT\nline one\\\nline two\n' | expect_code 0 oc repl "$HTTP_URL/"
	assert_grep out '"method": "PUT"'
	assert_grep out '"body": "line one\\nline two"'
	# :headers on, :json off, :raw on (the line is a body, sent to :path)
	printf ':headers on\nGET /echo/h\n:headers off\n:json off\nGET /echo/j\n:path /echo/raw\n:raw on\nGET /x\n' |
		expect_code 0 oc repl "$HTTP_URL/"
	assert_grep out '^Content-Type: application/json$'
	[ "$(grep -c '^Content-Type:' out)" = 1 ] || fail ":headers off still shows headers"
	assert_grep out '^\{"method": "GET", "path": "/echo/j"'
	assert_grep out '"method": "POST", "path": "/echo/raw".*"body": "GET /x"'
	# a reader that goes away ends the run quietly, answers still owed or not
	printf 'GET /\n%.0s' $(seq 100) >reqs
	oc repl "$HTTP_URL/" <reqs 2>err | head -1 >first
	assert_eq "0 0" "${PIPESTATUS[*]}" "exit statuses (repl, head)"
	assert_grep first '^[0-9:.]+ 200$'
	assert_empty err
}
run_test "no terminal: printf 'GET /\\n' | omnicat repl http://... prints the answer, exits 0" t_pipe_http

t_pipe_streams() {
	require_peer socat
	local p u
	p=$(free_port)
	bg tcp socat TCP-LISTEN:"$p",bind=127.0.0.1,reuseaddr,fork EXEC:cat
	wait_port "$p"
	printf 'one\ntwo\n' | expect_code 0 oc repl "tcp://127.0.0.1:$p"
	assert_eq 'one two' "$(grep -vE '^[0-9:.]+$' out | xargs)" "tcp answers"
	u=$(free_port)
	bg udp socat UDP-RECVFROM:"$u",bind=127.0.0.1,fork EXEC:cat
	wait_udp_port "$u"
	printf 'dgram\n' | expect_code 0 oc repl "udp://127.0.0.1:$u"
	assert_grep out '^dgram$'
	bg unix socat UNIX-LISTEN:"$S/u.sock",fork EXEC:cat
	wait_unix "$S/u.sock"
	printf 'over unix\n' | expect_code 0 oc repl "unix:$S/u.sock"
	assert_grep out '^over unix$'
}
run_test "no terminal: tcp, udp and unix lines to socat echo, answers printed" t_pipe_streams

t_pipe_ws_mqtt_coap() {
	ws_peer
	printf 'over ws\n' | expect_code 0 oc repl "$WS_URL"
	assert_grep out '^over ws$'
	wait_line ws.out '^closed 1000$'
	broker
	bg msub mosquitto_sub -p "$MQ_PORT" -t 'p/#' -v -C 3
	mq_subscribed mq '[^ ]+' 'p/#'
	printf 'first\n:topic p/other\nsecond\n' | expect_code 0 oc repl "$MQ/p/one"
	# a URL without a topic: nothing subscribed, :topic names where lines go
	printf ':topic p/third\nthird\n' | expect_code 0 oc repl "$MQ"
	wait_gone msub
	assert_content msub.out $'p/one first\np/other second\np/third third\n'
	# --session names the first connection; the others get -N (no takeover between them)
	printf ':sub s/+\n:topic s/one\nsession line\n' | expect_code 0 oc repl "$MQ/t/#" --session keep
	assert_grep mq.err ' as keep \('
	assert_grep mq.err ' as keep-[23] \('
	assert_no_grep mq.err 'already connected'
	start_coap_server coap -d 10
	printf 'PUT /dyn stored\nGET /dyn\n' | expect_code 0 oc repl "$COAP_URL/"
	assert_grep out '^[0-9:.]+ 2\.01 \(empty\)$'
	assert_grep out '^stored$'
}
run_test "no terminal: ws, mqtt (:topic) and coap (PUT, GET)" t_pipe_ws_mqtt_coap

# the same grammar over TLS (socat's OpenSSL echo), CoAP over TCP and over DTLS with a
# pre-shared key (libcoap's coap-server), and a child process (exec:)
t_pipe_more() {
	require_peer socat
	make_ca srv
	cat srv.pem srv.key >srv-both.pem
	local p
	p=$(free_port)
	bg tls socat OPENSSL-LISTEN:"$p",bind=127.0.0.1,reuseaddr,fork,cert=srv-both.pem,verify=0 EXEC:cat
	wait_port "$p"
	printf 'over tls\n' | expect_code 0 oc repl "tls://127.0.0.1:$p" --cacert srv-ca.pem
	assert_grep out '^over tls$'
	printf 'over tls\n' | expect_code 7 oc repl "tls://127.0.0.1:$p"
	assert_one_line_error err
	start_coaps_server coaps -k 'repl-psk-0123' -d 10
	printf 'PUT /t over tcp\nGET /t\n' | expect_code 0 oc repl "coap+tcp://127.0.0.1:$COAP_PORT/"
	assert_grep out '^[0-9:.]+ 2\.01 \(empty\)$'
	assert_grep out '^over tcp$'
	printf 'repl-psk-0123' >psk.key
	printf 'GET /t\n' | expect_code 0 oc repl "$COAPS_URL/" --psk-identity me --psk-key-file psk.key
	assert_grep out '^over tcp$'
	printf 'shout\n' | expect_code 0 oc repl 'exec:tr a-z A-Z'
	assert_grep out '^SHOUT$'
}
run_test "no terminal: tls (socat OpenSSL echo, unknown CA 7), coap+tcp, coaps with a key, exec:" t_pipe_more

# a listener: each peer's lines shown with its address, a typed line goes to every peer, and
# the end of stdin ends the run
t_pipe_listener() {
	require_peer socat
	local p
	p=$(free_port)
	mkfifo lst.in
	bg lst oc repl "tcp-listen://127.0.0.1:$p"
	exec 7>lst.in
	wait_port "$p"
	mkfifo a.in b.in
	# the peers must not hold the REPL's stdin (fd 7) open
	bg a socat - TCP:127.0.0.1:"$p" 7>&-
	exec 8>a.in
	bg b socat - TCP:127.0.0.1:"$p" 7>&- 8>&-
	exec 9>b.in
	printf 'from a\n' >&8
	wait_line lst.out '^from a$'
	assert_grep lst.out '^[0-9:.]+ from 127\.0\.0\.1:[0-9]+$'
	printf 'from b\n' >&9
	wait_line lst.out '^from b$'
	printf 'to both\n' >&7
	wait_line a.out '^to both$'
	wait_line b.out '^to both$'
	exec 7>&-
	expect_exit lst 0
	exec 8>&- 9>&-
	# a CoAP server session: a line is the resource's value, a PUT to it is shown
	p=$(free_port)
	mkfifo cs.in
	bg cs oc repl "coap-listen://127.0.0.1:$p/temp"
	exec 7>cs.in
	wait_udp_port "$p"
	printf '21.5\n' >&7
	wait_for _coap_value_is "coap://127.0.0.1:$p/temp" 21.5
	timeout 20 coap-client-notls -B 5 -m put -e 'set 19' "coap://127.0.0.1:$p/temp" >/dev/null ||
		fail "coap-client PUT"
	wait_line cs.out '^set 19$'
	exec 7>&-
	expect_exit cs 0
}
_coap_value_is() { [ "$(coap_get "$1")" = "$2" ]; }
run_test "no terminal: listeners: tcp-listen (peers' lines with their address, a line to all, EOF ends), coap-listen (a line is the value, a PUT shows)" t_pipe_listener

# a request server: requests shown as they come; with --reply-stdin a line answers the oldest
# waiting ("STATUS BODY"), without it the server answers by itself and a line says so
t_pipe_answers() {
	require_peer curl
	local p
	p=$(free_port)
	mkfifo ans.in
	bg ans oc repl "http-listen://127.0.0.1:$p/" --reply-stdin
	exec 7>ans.in
	wait_port "$p"
	bg hook curl -s -i --max-time 20 -d 'hook body' "http://127.0.0.1:$p/hook"
	wait_line ans.out '^hook body$'
	assert_grep ans.out '^[0-9:.]+ /hook from 127\.0\.0\.1:[0-9]+$'
	printf '201 created it\nnothing waits for this\n' >&7
	expect_exit hook 0
	assert_grep hook.out '^HTTP/1\.1 201'
	assert_grep hook.out '^created it$'
	wait_line ans.err 'no request is waiting for an answer'
	exec 7>&-
	expect_exit ans 0
	# without --reply-stdin the server answers (200, empty) and lines are not sent
	p=$(free_port)
	mkfifo self.in
	bg self oc repl "http-listen://127.0.0.1:$p/"
	exec 7>self.in
	wait_port "$p"
	expect_code 0 curl -s -o /dev/null -w '%{http_code}' -d x "http://127.0.0.1:$p/"
	assert_content out '200'
	printf 'a line\n' >&7
	wait_line self.err 'answers requests by itself; with --reply-stdin'
	exec 7>&-
	expect_exit self 0
}
run_test "no terminal: a request server (http-listen): requests shown, --reply-stdin lines answer them (STATUS BODY)" t_pipe_answers

t_errors() {
	expect_code 3 oc repl nosuch://x
	assert_one_line_error err
	expect_code 2 oc repl 'http://[::1'
	assert_one_line_error err
	expect_code 2 oc repl ws://127.0.0.1:1/ -c 3
	assert_grep err "'-c' does not apply to 'repl'"
	expect_code 2 oc repl ws://127.0.0.1:1/ -q 1
	assert_one_line_error err
	# a refused connection ends a script with 6
	local p
	p=$(free_port)
	printf 'x\n' | expect_code 6 oc repl "tcp://127.0.0.1:$p"
	assert_one_line_error err
	# commands: unknown, not for this protocol, bad arguments
	ws_peer
	printf ':frobnicate\n:qos 1\n:json maybe\n:load /nonexistent\nok\n::colon first\n' |
		expect_code 0 oc repl "$WS_URL"
	wait_line ws.out "got ':colon first'"
	assert_grep err "unknown command ':frobnicate' \(:help lists them\)"
	assert_grep err "':qos' does not apply to ws"
	assert_grep err 'usage: :json on\|off'
	assert_grep err "cannot open '/nonexistent'"
	assert_grep out '^ok$'
}
run_test "errors: bad URL, option or scheme, refused connection, unknown or inapplicable commands" t_errors

done_testing
