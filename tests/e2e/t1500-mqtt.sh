#!/usr/bin/env bash
# t1500-mqtt — MQTT pub, sub, request/response against mosquitto 2.0 (and its clients),
# python3-paho-mqtt (peers/mqtt_rr.py) and raw socat "brokers": QoS 0/1/2, retained messages,
# wills, MQTT 5 user properties, binary and 1 MiB payloads, authentication and ACLs, TLS,
# MQTT over WebSocket, sessions across a broker restart, acknowledgement after the write.
#
# mqtt:// and mqtts:// run on libmosquitto, mqtt+ws:// and mqtt+wss:// on paho.mqtt.c: with
# MQTT_WS=1 (t1501-mqtt-ws.sh) every test that can goes through the broker's websockets
# listener instead, so both transports are held to the same behaviour. The fake brokers of
# t_errors speak raw TCP only: their cases run here alone.
#
# Leak stacks are unwound in full here (libcrypto has no frame pointers, so the fast unwinder
# stops in it), which lets tests/lsan.supp name paho.mqtt.c's own TLS leak and nothing more.
ASAN_OPTIONS_EXTRA=fast_unwind_on_malloc=0${ASAN_OPTIONS_EXTRA:+:$ASAN_OPTIONS_EXTRA}
. "$(dirname "$0")/lib.sh"

RR=$LIB_DIR/peers/mqtt_rr.py
MQTT_WS=${MQTT_WS:-0}
MQ_S=mqtt MQ_TS=mqtts # omnicat's schemes, plain and TLS
[ "$MQTT_WS" = 1 ] && MQ_S=mqtt+ws MQ_TS=mqtt+wss

# mq [CONFIG LINE...]: a mosquitto broker (background process "mq") on $MQ_PORT (which the
# mosquitto clients use); $U is omnicat's URL prefix for it: mqtt:// on that port or, with
# MQTT_WS=1, mqtt+ws:// on a websockets listener of its own.
mq() {
	require_peer mosquitto mosquitto_pub mosquitto_sub
	if [ "$MQTT_WS" = 1 ]; then
		local wp
		wp=$(free_port)
		start_mosquitto mq "$@" "listener $wp 127.0.0.1" "protocol websockets"
		U=mqtt+ws://127.0.0.1:$wp
	else
		start_mosquitto mq "$@"
		U=mqtt://127.0.0.1:$MQ_PORT
	fi
}

# ws_proto: with MQTT_WS=1, the line that makes the listener before it a websockets one.
ws_proto() { [ "$MQTT_WS" = 1 ] && echo "protocol websockets" || echo "# plain MQTT"; }

paho() {
	"$PY" -c 'import paho.mqtt.client' 2>/dev/null ||
		if [ "${OMNICAT_REQUIRE_PEERS:-0}" = 1 ]; then fail "python3-paho-mqtt is missing"; else skip "no python3-paho-mqtt"; fi
}

# msub NAME CLIENT-ID ARGS...: mosquitto_sub in the background, subscribed when this returns
# (its -t is the last argument pair's filter: pass -t FILTER last).
msub() {
	local name=$1 id=$2
	shift 2
	bg "$name" mosquitto_sub -p "$MQ_PORT" -i "$id" "$@"
	mq_subscribed mq "$id" "${*: -1}"
}

# ocsub NAME CLIENT-ID FILTER ARGS...: omnicat sub in the background, subscribed when this
# returns.
ocsub() {
	local name=$1 id=$2 filter=$3
	shift 3
	bg "$name" oc sub "$U/$filter" --client-id "$id" "$@"
	mq_subscribed mq "$id" "$filter"
}

# _distinct FILE N: FILE holds N distinct numbers (first field of each line).
_distinct() { [ -f "$1" ] && [ "$(awk '{ print $1 }' "$1" | sort -un | wc -l)" -ge "$2" ]; }

t_qos() {
	mq
	local q
	for q in 0 1 2; do
		msub ms$q ms$q -q 2 -C 3 -F '%q %t %p' -t "qos$q/t"
		printf 'one\ntwo\nthree\n' | expect_code 0 oc pub "$U/qos$q/t" -q $q
		expect_exit ms$q 0
		assert_content ms$q.out "$q qos$q/t one"$'\n'"$q qos$q/t two"$'\n'"$q qos$q/t three"$'\n'
		ocsub os$q os$q "back$q/#" -q 2 -c 3 --jsonl
		printf 'a\nb\nc\n' | mosquitto_pub -p "$MQ_PORT" -q $q -t "back$q/x" -l
		expect_exit os$q 0
		[ "$(wc -l <os$q.out)" = 3 ] || fail "os$q printed $(wc -l <os$q.out) lines"
		assert_grep os$q.out "\"topic\":\"back$q/x\""
		assert_grep os$q.out "\"qos\":${q}[,}]"
		grep -o '"payload":"[^"]*"' os$q.out >os$q.payloads
		assert_content os$q.payloads $'"payload":"a"\n"payload":"b"\n"payload":"c"\n'
	done
	# plain output: the payload and a newline; several filters (-t adds one)
	ocsub plain plain f1 -t f2 -c 2
	mq_subscribed mq plain f2
	mosquitto_pub -p "$MQ_PORT" -t f1 -m 'first filter'
	mosquitto_pub -p "$MQ_PORT" -t f2 -m 'second filter'
	expect_exit plain 0
	assert_content plain.out $'first filter\nsecond filter\n'
	# -d, and -t instead of the URL's topic; MQTT 3.1.1 too
	msub one one -C 2 -v -t 'other/#'
	expect_code 0 oc pub "$U/ignored" -t other/topic --client-id v5def -d 'one message'
	expect_code 0 oc pub "$U/other/v311" --mqtt-version 3.1.1 --client-id v311 -q 1 -d old
	expect_exit one 0
	assert_content one.out $'other/topic one message\nother/v311 old\n'
	assert_grep mq.err 'as v311 \(p2,'
	assert_grep mq.err 'as v5def \(p5,'
	# QoS 1 and 2 to a topic nobody listens to: the broker's "no matching subscribers" is fine
	expect_code 0 oc pub "$U/nobody/listens" -q 1 -d x
	expect_code 0 oc pub "$U/nobody/listens" -q 2 -d x
}
run_test "pub -> mosquitto_sub and mosquitto_pub -> sub at QoS 0/1/2, -d, -t, several filters, 3.1.1" t_qos

# A broker without an in-flight limit sends QoS 2 messages beyond a Receive Maximum of 20
# (libmosquitto's default, which it then takes for a protocol error).
t_qos2_stream() {
	mq "max_inflight_messages 0" "max_queued_messages 0"
	ocsub q2 q2 q2/s -q 2 -c 2000
	seq 1 2000 | mosquitto_pub -p "$MQ_PORT" -q 2 -t q2/s -l
	expect_exit q2 0
	seq 1 2000 >want
	assert_file_eq want q2.out
}
run_test "a stream of 2000 QoS 2 messages from a broker with no in-flight limit" t_qos2_stream

t_retained() {
	mq
	expect_code 0 oc pub "$U/ret/a" -r -d first
	expect_code 0 oc pub "$U/ret/a" -r -q 1 -d second
	echo '{"topic":"ret/b","payload":"from jsonl","retain":true,"qos":1}' |
		expect_code 0 oc pub "$U/not/this" --jsonl
	expect_code 0 timeout 10 mosquitto_sub -p "$MQ_PORT" -t ret/a -C 1 -F '%r %p'
	assert_content out $'1 second\n'
	# a new subscriber gets the retained ones, marked
	expect_code 0 oc sub "$U/ret/#" -c 2 --jsonl
	grep '"topic":"ret/a"' out >a.json || true
	assert_grep a.json '"payload":"second"'
	assert_grep out '"topic":"ret/b"'
	assert_grep out '"retain":true'
	assert_no_grep out '"retain":false'
	# --retained-only: exits 0 once they came
	expect_code 0 oc sub "$U/ret/#" --retained-only
	sort out >got
	assert_content got $'from jsonl\nsecond\n'
	# --no-retained: only what is published afterwards, not marked retained
	ocsub nr nr 'ret/#' --no-retained -c 1 --jsonl
	mosquitto_pub -p "$MQ_PORT" -t ret/a -m live
	expect_exit nr 0
	assert_grep nr.out '"payload":"live"'
	assert_no_grep nr.out 'second|from jsonl|"retain":true'
}
run_test "retained: pub -r and jsonl retain, sub gets them marked, --no-retained, --retained-only" t_retained

t_will() {
	mq
	msub will will -q 1 -C 1 -F '%q %p' -t will/t
	mkfifo w.in
	exec 7<>w.in
	bg_direct w oc pub "$U/alive" --client-id willer --will-topic will/t --will-payload gone \
		--will-qos 1 --will-retain
	msub alive alive -C 1 -t alive
	echo 'still here' >&7
	expect_exit alive 0
	assert_content alive.out $'still here\n'
	kill -9 "$(pid_of w)"
	expect_exit will 0
	assert_content will.out $'1 gone\n'
	# --will-retain: a later subscriber gets it too, as a retained message
	expect_code 0 timeout 10 mosquitto_sub -p "$MQ_PORT" -t will/t -C 1 -F '%r %p'
	assert_content out $'1 gone\n'
	exec 7>&-
	# a clean end does not send the will: the next message on will/t2 is ours
	msub will2 will2 -C 1 -t will/t2
	echo bye | expect_code 0 oc pub "$U/alive" --will-topic will/t2 --will-payload gone2
	mosquitto_pub -p "$MQ_PORT" -t will/t2 -m sentinel
	expect_exit will2 0
	assert_content will2.out $'sentinel\n'
}
run_test "will: kill -9 of a publisher sends it (QoS 1, retained); a clean end does not" t_will

t_properties() {
	mq
	paho
	bg p "$PY" "$RR" recv "$MQ_PORT" 'props/#' 3
	wait_line p.out '^ready$'
	expect_code 0 oc pub "$U/props/a" -H 'k: v' -H 'trace-id: 42' --content-type text/plain -d hello
	echo '{"topic":"props/b","payload":"env","headers":{"x":"y","k2":"v2"}}' |
		expect_code 0 oc pub "$U/props/ignored" --jsonl
	expect_code 0 oc pub "$U/props/c" -d plain
	expect_exit p 0
	assert_grep p.out '^props/a\|text/plain\|k=v,trace-id=42\|hello$'
	assert_grep p.out '^props/b\|\|.*x=y'
	assert_grep p.out '^props/b\|\|.*k2=v2.*\|env$'
	assert_grep p.out '^props/c\|\|\|plain$'
	# message expiry
	msub exp exp -V 5 -C 1 -F '%E %p' -t props/exp
	expect_code 0 oc pub "$U/props/exp" --expiry 60 -d expiring
	expect_exit exp 0
	assert_grep exp.out '^(59|60) expiring$'
	# the other way: mosquitto_pub's user properties and content type in sub --jsonl
	ocsub s s 'props2/#' --jsonl -c 2 -q 1
	mosquitto_pub -p "$MQ_PORT" -V 5 -t props2/x -m hi -D publish user-property k v \
		-D publish content-type text/x
	mosquitto_pub -p "$MQ_PORT" -V 5 -q 1 -t props2/y -m two -D publish user-property a 1 \
		-D publish user-property b 2
	expect_exit s 0
	head -1 s.out >first
	assert_grep first '"topic":"props2/x"'
	assert_grep first '"headers":\{"k":"v"\}'
	assert_grep first '"content_type":"text/x"'
	assert_grep first '"payload":"hi"'
	assert_grep first '"ts":"'
	tail -1 s.out >second
	assert_grep second '"headers":\{"a":"1","b":"2"\}'
	# a QoS 1 message has an id
	assert_grep second '"qos":1'
	assert_grep second '"id":'
}
run_test "MQTT 5 user properties, content type and expiry both ways (-H, --jsonl headers)" t_properties

t_binary() {
	mq
	"$PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))' >all.bin
	# out: -d @file with raw framing, and a jsonl payload_b64
	msub bin bin -C 2 -N -t bin
	expect_code 0 oc pub "$U/bin" --framing raw -d @all.bin
	echo "{\"payload_b64\":\"$(base64 -w0 all.bin)\"}" | expect_code 0 oc pub "$U/bin" --jsonl
	expect_exit bin 0
	cat all.bin all.bin >want
	assert_file_eq want bin.out
	# in: payload_b64 in jsonl, raw bytes with --framing raw
	ocsub j j bin2 --jsonl -c 1
	mosquitto_pub -p "$MQ_PORT" -t bin2 -f all.bin
	expect_exit j 0
	grep -qF "\"payload_b64\":\"$(base64 -w0 all.bin)\"" j.out || fail "no payload_b64 of all 256 bytes in: $(head -c 600 j.out)"
	ocsub r r bin3 --framing raw -c 1
	mosquitto_pub -p "$MQ_PORT" -t bin3 -f all.bin
	expect_exit r 0
	assert_file_eq all.bin r.out
	# 1 MiB: a text line out, a binary payload in
	head -c 786432 /dev/urandom | base64 -w0 >big
	printf '\n' >>big
	msub big big -C 1 -t big
	expect_code 0 oc pub "$U/big" -q 1 <big
	expect_exit big 0
	assert_file_eq big big.out
	head -c 1048576 /dev/urandom >rand.bin
	ocsub rb rb bigbin --framing raw -c 1 -q 1
	mosquitto_pub -p "$MQ_PORT" -t bigbin -q 1 -f rand.bin
	expect_exit rb 0
	assert_file_eq rand.bin rb.out
}
run_test "binary payloads (all 256 byte values, payload_b64, raw framing) and 1 MiB messages" t_binary

t_request_response() {
	mq
	paho
	# omnicat client -> paho responder
	bg resp "$PY" "$RR" respond "$MQ_PORT" req/up 're:'
	wait_line resp.out '^ready$'
	expect_code 0 oc client "$U/req/up" -d hello
	assert_content out $'re:hello\n'
	printf 'a\nbb\nccc\n' | expect_code 0 oc client "$U/req/up" --each
	assert_content out $'re:a\nre:bb\nre:ccc\n'
	assert_grep resp.out '^served ccc$'
	# nobody answers: -m bounds the wait
	expect_code 11 oc client "$U/req/nobody" -d x -m 1
	assert_one_line_error err
	# paho requester -> omnicat server --exec: one child per request
	bg shout oc server "$U/req/shout" --client-id shout --exec 'tr a-z A-Z'
	mq_subscribed mq shout req/shout
	"$PY" "$RR" request "$MQ_PORT" req/shout hello world >got
	# the child's stdout is the answer (its final newline may be kept)
	grep -v '^$' got >got.lines || true
	assert_content got.lines $'HELLO\nWORLD\n'
	# --echo
	bg echo oc server "$U/req/echo" --client-id echo --echo
	mq_subscribed mq echo req/echo
	"$PY" "$RR" request "$MQ_PORT" req/echo ping 'two words' >got
	assert_content got $'ping\ntwo words\n'
	expect_code 0 timeout 10 mosquitto_rr -p "$MQ_PORT" -t req/echo -e resp/rr -m via-rr
	assert_content out $'via-rr\n'
	# omnicat client -> omnicat server
	expect_code 0 oc client "$U/req/echo" -d 'omnicat both ends'
	assert_content out $'omnicat both ends\n'
	# -d: a fixed answer; nothing: an empty one
	bg fixed oc server "$U/req/fixed" --client-id fixed -d pong
	mq_subscribed mq fixed req/fixed
	"$PY" "$RR" request "$MQ_PORT" req/fixed ping >got
	assert_content got $'pong\n'
	bg empty oc server "$U/req/empty" --client-id empty
	mq_subscribed mq empty req/empty
	"$PY" "$RR" request "$MQ_PORT" req/empty ping >got
	assert_content got $'\n'
	# servers print the requests, one line each
	wait_line empty.out '^ping$'
	assert_content shout.out $'hello\nworld\n'
}
run_test "request/response: client <-> paho responder, paho requester <-> server --exec, --echo, -d" t_request_response

t_auth() {
	require_peer mosquitto_passwd
	mosquitto_passwd -b -c pw alice 's3cret-pw'
	printf 'user alice\ntopic readwrite allowed/#\ntopic read ro/#\n' >acl
	mq "allow_anonymous false" "password_file $PWD/pw" "acl_file $PWD/acl"
	local A=${U%%://*}://alice@${U#*://}
	expect_code 8 oc pub "$U/allowed/x" -u alice:wrong -d x
	assert_one_line_error err
	assert_grep err "127\\.0\\.0\\.1:${U##*:}"
	assert_no_grep err wrong
	expect_code 8 oc pub "$U/allowed/x" -d anonymous
	expect_code 8 oc sub "$U/allowed/#" -u nobody:s3cret-pw -c 1
	msub seen seen -u alice -P s3cret-pw -C 5 -t 'allowed/#'
	expect_code 0 oc pub "$U/allowed/x" -u alice:s3cret-pw -d one
	printf 's3cret-pw\n' >pwfile
	expect_code 0 oc pub "$U/allowed/x" -u alice --password-file pwfile -d two
	OMNICAT_PASSWORD=s3cret-pw expect_code 0 oc pub "$U/allowed/x" -u alice -d three
	expect_code 0 oc pub "$U/allowed/x" -v -u alice:s3cret-pw -q 1 -d four
	assert_no_grep err 's3cret'
	expect_code 0 oc pub "$U/allowed/x" -v --trace -u alice --password-file pwfile -q 1 -d five
	assert_no_grep err 's3cret'
	expect_exit seen 0
	assert_content seen.out $'one\ntwo\nthree\nfour\nfive\n'
	# not authorized: a QoS 1 MQTT 5 publish (PUBACK 0x87). (mosquitto 2.0's acl_file does not
	# refuse subscriptions, it filters what they get.)
	expect_code 8 oc pub "$U/forbidden/x" -u alice:s3cret-pw -q 1 -d x
	assert_one_line_error err
	assert_no_grep err 's3cret'
	# a subscription that is allowed still works
	expect_code 0 oc pub "$U/allowed/y" -u alice:s3cret-pw -r -d kept
	expect_code 0 oc sub "$U/allowed/y" -u alice:s3cret-pw -c 1
	assert_content out $'kept\n'
	# the user in the URL, the password from a file or the environment
	expect_code 0 oc sub "$A/allowed/y" --password-file pwfile -c 1
	assert_content out $'kept\n'
	OMNICAT_PASSWORD=s3cret-pw expect_code 0 oc sub "$A/allowed/y" -v -c 1
	assert_content out $'kept\n'
	assert_no_grep err 's3cret'
}
run_test "password_file and acl_file: bad password 8, -u/--password-file/OMNICAT_PASSWORD pass, -v hides it, forbidden 8" t_auth

t_tls() {
	require_peer openssl
	make_ca srv
	make_ca other
	make_ca cl
	local tp mp
	tp=$(free_port)
	mp=$(free_port)
	mq "listener $tp 127.0.0.1" "$(ws_proto)" "certfile $PWD/srv.pem" "keyfile $PWD/srv.key" \
		"listener $mp 127.0.0.1" "$(ws_proto)" "certfile $PWD/srv.pem" "keyfile $PWD/srv.key" \
		"cafile $PWD/cl-ca.pem" "require_certificate true"
	msub seen seen -C 4 -t 'tls/#'
	expect_code 0 oc pub "$MQ_TS://localhost:$tp/tls/a" --cacert srv-ca.pem -d verified
	expect_code 0 oc pub "$MQ_TS://127.0.0.1:$tp/tls/b" --cacert srv-ca.pem -d by-address
	expect_code 7 oc pub "$MQ_TS://localhost:$tp/tls/x" -d unknown-ca
	assert_one_line_error err
	expect_code 7 oc pub "$MQ_TS://localhost:$tp/tls/x" --cacert other-ca.pem -d other-ca
	assert_one_line_error err
	expect_code 0 oc pub "$MQ_TS://localhost:$tp/tls/c" -k -d insecure
	# a client certificate, where the listener requires one
	expect_code 0 oc pub "$MQ_TS://localhost:$mp/tls/d" --cacert srv-ca.pem --cert cl.pem --key cl.key -d mutual
	expect_exit seen 0
	assert_content seen.out $'verified\nby-address\ninsecure\nmutual\n'
	rc=0
	oc pub "$MQ_TS://localhost:$mp/tls/x" --cacert srv-ca.pem -d no-cert >out 2>err || rc=$?
	[ "$rc" != 0 ] || fail "a listener that requires a client certificate accepted none"
	assert_one_line_error err
	# sub over TLS
	bg tsub2 oc sub "$MQ_TS://localhost:$tp/tls/#" --client-id tsub2 --cacert srv-ca.pem -c 1
	mq_subscribed mq tsub2 'tls/#'
	mosquitto_pub -p "$MQ_PORT" -t tls/e -m 'to a tls subscriber'
	expect_exit tsub2 0
	assert_content tsub2.out $'to a tls subscriber\n'
}
run_test "mqtts: --cacert passes, unknown CA exits 7, -k passes, client certificates, sub over TLS" t_tls

t_ws() {
	require_peer openssl
	make_ca srv
	local wp wsp
	wp=$(free_port)
	wsp=$(free_port)
	mq "listener $wp 127.0.0.1" "protocol websockets" \
		"listener $wsp 127.0.0.1" "protocol websockets" "certfile $PWD/srv.pem" "keyfile $PWD/srv.key"
	msub seen seen -C 3 -t 'ws/#'
	expect_code 0 oc pub "mqtt+ws://127.0.0.1:$wp/ws/a" -d 'over websocket'
	expect_code 0 oc pub "mqtt+ws://127.0.0.1:$wp/ws/b" --ws-path /mqtt -q 1 -d 'with path'
	expect_code 0 oc pub "mqtt+wss://localhost:$wsp/ws/c" --cacert srv-ca.pem -q 2 -d 'over wss'
	expect_exit seen 0
	assert_content seen.out $'over websocket\nwith path\nover wss\n'
	bg wsub oc sub "mqtt+ws://127.0.0.1:$wp/ws/#" --client-id wsub -q 1 -c 2
	mq_subscribed mq wsub 'ws/#'
	mosquitto_pub -p "$MQ_PORT" -t ws/x -m first
	mosquitto_pub -p "$MQ_PORT" -t ws/y -q 1 -m second
	expect_exit wsub 0
	assert_content wsub.out $'first\nsecond\n'
	expect_code 7 oc pub "mqtt+wss://localhost:$wsp/ws/x" -d unknown-ca
	assert_one_line_error err
}
run_test "mqtt+ws and mqtt+wss: pub and sub through mosquitto's websockets listener" t_ws

t_restart() {
	local T_BG=300
	mq "persistence true" "persistence_location $PWD/" "max_queued_messages 0"
	bg sub oc sub "$U/flow" --reconnect --session subS -q 1
	mq_subscribed mq subS flow
	mkfifo pub.in
	bg pub oc pub "$U/flow" --reconnect --session pubS -q 1
	exec 7>pub.in
	seq 1 10000 >&7
	wait_lines sub.out 3000
	kill "$(pid_of mq)"
	wait_gone mq
	note "broker stopped after $(wc -l <sub.out) messages arrived"
	# written while the broker is down (fits the pipe: the publisher needs not read it now)
	seq 10001 12000 >&7
	mosquitto_again mq mq2 7>&- # not a writer of pub.in: pub must see its end
	seq 12001 20000 >&7
	exec 7>&-
	expect_exit pub 0
	WAIT_MAX=120 wait_for _distinct sub.out 20000
	awk '{ print $1 }' sub.out | sort -un >got
	seq 1 20000 >want
	assert_file_eq want got
	note "$(($(wc -l <sub.out) - 20000)) duplicates among $(wc -l <sub.out) messages"
}
run_test "no loss across a broker restart: 20000 QoS 1 messages, --reconnect --session both ends" t_restart

t_ack_after_write() {
	mq "max_queued_messages 0"
	# 5000 messages of 10 KiB: 50 MB a subscriber must not hold. paho.mqtt.c 1.3.12 stalls
	# receiving messages over about 4 KiB through WebSocket (paho.mqtt.c#721, #787: also
	# with omnicat before libmosquitto), so over mqtt+ws 25000 of 3000 bytes: 75 MB.
	local n=5000 size=10240
	[ "$MQTT_WS" = 1 ] && n=25000 size=3000
	awk -v n=$n -v pad="$(head -c $size /dev/zero | tr '\0' x)" 'BEGIN { for (i = 1; i <= n; i++) print i, pad }' >msgs
	mkfifo slow.out
	exec 8<>slow.out # a reader that never reads
	bg slow oc_rel sub "$U/slow" --client-id subA --session subA -q 1
	mq_subscribed mq subA slow
	expect_code 0 timeout 120 mosquitto_pub -p "$MQ_PORT" -q 1 -t slow -l <msgs
	local hwm
	hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$(cmd_pid slow)/status")
	note "peak RSS of a subscriber that cannot write: ${hwm} KiB"
	[ "$hwm" -lt 65536 ] || fail "subscriber peak RSS ${hwm} KiB"
	kill "$(pid_of slow)"
	wait_gone slow
	# what it did write (and so acknowledged) sits in the pipe
	"$PY" -c '
import fcntl, os, sys
fcntl.fcntl(8, fcntl.F_SETFL, fcntl.fcntl(8, fcntl.F_GETFL) | os.O_NONBLOCK)
while True:
    try:
        b = os.read(8, 65536)
    except BlockingIOError:
        break
    sys.stdout.buffer.write(b)
' >first
	exec 8>&-
	note "$(wc -l <first) messages were in the pipe"
	bg again oc sub "$U/slow" --client-id subA --session subA -q 1
	WAIT_MAX=90 wait_for _distinct_both $n
	cat first again.out | awk '{ print $1 }' | sort -un >got
	seq 1 $n >want
	assert_file_eq want got
}
_distinct_both() { cat first again.out >both && _distinct both "$1"; }
run_test "ack after write: a subscriber whose stdout is full holds nothing; its session delivers them all later" t_ack_after_write

t_session() {
	mq
	ocsub s1 sess 'sess/#' --session sess --session-expiry 300 -q 1 -c 1
	mosquitto_pub -p "$MQ_PORT" -q 1 -t sess/a -m before
	expect_exit s1 0
	assert_content s1.out $'before\n'
	# away: QoS 1 messages are queued for the session, QoS 0 ones are not
	mosquitto_pub -p "$MQ_PORT" -q 1 -t sess/a -m queued1
	mosquitto_pub -p "$MQ_PORT" -q 0 -t sess/a -m lost
	mosquitto_pub -p "$MQ_PORT" -q 1 -t sess/a -m queued2
	expect_code 0 oc sub "$U/sess/#" --session sess -q 1 -c 2
	assert_content out $'queued1\nqueued2\n'
	# without --session, nothing is kept
	expect_code 11 oc sub "$U/short" --client-id short -q 1 -m 1
	mosquitto_pub -p "$MQ_PORT" -q 1 -t short -m 'while away'
	bg s2 oc sub "$U/short" --client-id short -q 1 -c 1
	mq_subscribed mq short short 2
	mosquitto_pub -p "$MQ_PORT" -q 1 -t short -m 'after'
	expect_exit s2 0
	assert_content s2.out $'after\n'
}
run_test "--session: QoS 1 messages queued while away arrive next time; without it nothing is kept" t_session

# answering PORT FILE: a TCP "broker" on PORT that answers every connection with FILE's bytes
# and keeps it open a while (what it reads is ignored).
answering() {
	bg "answer$1" socat TCP-LISTEN:"$1",bind=127.0.0.1,reuseaddr,fork SYSTEM:"cat $PWD/$2; sleep 3"
	wait_port "$1"
}

t_errors() {
	require_peer socat
	local p
	p=$(free_port)
	expect_code 6 oc pub "$MQ_S://127.0.0.1:$p/t" -d x
	assert_one_line_error err
	assert_grep err "127\\.0\\.0\\.1:$p"
	expect_code 6 oc sub "$MQ_S://127.0.0.1:$p/t"
	assert_one_line_error err
	# usage
	expect_code 2 oc pub "mqtt://127.0.0.1:99999/t" -d x
	assert_one_line_error err
	expect_code 2 oc pub "mqtt://127.0.0.1:notaport/t" -d x
	assert_one_line_error err
	expect_code 2 oc pub "mqtt://127.0.0.1:$p/t" -q 3 -d x
	assert_one_line_error err
	expect_code 2 oc sub "mqtt://127.0.0.1:$p/t" -q 3
	expect_code 2 oc pub "mqtt://127.0.0.1:$p/t" --mqtt-version 4 -d x
	[ "$MQTT_WS" = 1 ] || fake_brokers
	# -m: nothing came
	mq
	expect_code 11 oc sub "$U/quiet" -m 1
	# the broker goes away: 13 without --reconnect
	ocsub lost lost lost
	kill "$(pid_of mq)"
	expect_exit lost 13
	assert_one_line_error lost.err
}

# refused_by BYTES CODE CMD ARGS...: a raw TCP "broker" that answers BYTES (\x escapes) to
# whatever comes; `omnicat CMD mqtt://127.0.0.1:PORT/t ARGS` against it exits CODE with one
# line on stderr.
refused_by() {
	local bytes=$1 code=$2 cmd=$3 p
	shift 3
	p=$(free_port)
	printf '%b' "$bytes" >"answer.$p"
	answering "$p" "answer.$p"
	expect_code "$code" oc "$cmd" "mqtt://127.0.0.1:$p/t" "$@"
	assert_one_line_error err
}

# fake_brokers: garbage instead of a CONNACK (9), and CONNACK refusals: MQTT 5 reason codes
# 0x87/0x86 (8) and 0x85 (10), 3.1.1 return codes 5 (8) and 2 (10).
fake_brokers() {
	refused_by 'HELLO THERE\r\n\r\n' 9 pub -d x
	refused_by 'HELLO THERE\r\n\r\n' 9 sub
	refused_by '\x20\x03\x00\x87\x00' 8 pub -d x
	refused_by '\x20\x03\x00\x86\x00' 8 sub
	refused_by '\x20\x03\x00\x85\x00' 10 pub -d x
	refused_by '\x20\x02\x00\x05' 8 pub --mqtt-version 3.1.1 -d x
	refused_by '\x20\x02\x00\x02' 10 pub --mqtt-version 3.1.1 -d x
}
run_test "errors: refused 6, bad URL and options 2, garbage 9, CONNACK refusals 8/10, -m 11, lost 13" t_errors

# relays: a topic tree to browsers (sse-listen, read by curl -N) and to a TCP peer, and an
# HTTP webhook into a topic; the topic and user properties travel in the envelope
t_relays() {
	mq
	require_peer curl socat
	local sp tp hp
	sp=$(free_port)
	# (an option after a URL is that endpoint's)
	bg sse oc relay "$U/sens/#" --client-id relay-sse "sse-listen://127.0.0.1:$sp/events"
	mq_subscribed mq relay-sse 'sens/#'
	wait_port "$sp"
	bg browser curl -sN "http://127.0.0.1:$sp/events"
	# the event server has its subscriber once curl's GET went through; publish until seen
	wait_for sh -c "mosquitto_pub -p $MQ_PORT -t sens/a -m 21.5 && grep -q '^data: 21.5' browser.out"
	assert_grep browser.out '^event: sens/a$'
	tp=$(free_port)
	bg sink socat -u "TCP-LISTEN:$tp,bind=127.0.0.1" -
	wait_port "$tp"
	bg tcp oc relay "$U/line/#" --client-id relay-tcp "tcp://127.0.0.1:$tp"
	mq_subscribed mq relay-tcp 'line/#'
	mosquitto_pub -p "$MQ_PORT" -t line/x -m one -q 1
	mosquitto_pub -p "$MQ_PORT" -t line/y -m two -q 1
	wait_line sink.out '^two$'
	assert_content sink.out $'one\ntwo\n'
	hp=$(free_port)
	msub hook hook-sub -V 5 -F '%t|%P|%p' -t 'hook/#'
	bg web oc relay "http-listen://127.0.0.1:$hp" "$U/hook/in"
	wait_port "$hp"
	curl -s -o /dev/null -w '%{http_code}\n' -H 'X-Unit: C' --data 'payload!' "http://127.0.0.1:$hp/x" >code
	assert_content code $'202\n'
	wait_line hook.out 'payload!$'
	assert_grep hook.out '^hook/in|.*X-Unit:C.*|payload!$'
}
run_test "relays: a topic tree to sse-listen (curl -N) and to tcp, an HTTP webhook into a topic" t_relays

done_testing
