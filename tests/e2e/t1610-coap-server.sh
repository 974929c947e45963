#!/usr/bin/env bash
# t1610-coap-server — `omnicat server coap://` against libcoap's coap-client: GET the latest
# stdin message, PUT/POST/DELETE to stdout, --echo, Observe notifications for each stdin
# line, /.well-known/core, a malformed datagram, coap+tcp, and a relay into coap-listen.
. "$(dirname "$0")/lib.sh"

# cget PATH [ARGS...]: coap-client's GET of the server's PATH, payload only, bounded.
cget() {
	local path=$1
	shift
	timeout 20 coap-client-notls -B 5 -m get -o /dev/stdout "$@" "coap://127.0.0.1:$P$path"
}

# srv [ARGS...]: omnicat server coap://127.0.0.1:$P/sensor ARGS with stdin the FIFO srv.in
# (held open on fd 7); returns once it answers.
srv() {
	require_peer coap-client-notls
	P=$(free_port)
	mkfifo srv.in
	bg srv oc server "coap://127.0.0.1:$P/sensor" "$@"
	exec 7>srv.in
	wait_udp_port "$P"
}

t_get_put() {
	srv --resource /other --jsonl
	echo '{"payload":"21.5","content_type":"application/json"}' >&7
	wait_for sh -c "coap-client-notls -B 2 -m get -o /dev/stdout coap://127.0.0.1:$P/sensor | grep -q 21.5"
	cget /sensor >got
	assert_content got '21.5'
	# the other resource answers the same latest value
	cget /other >got2
	assert_content got2 '21.5'
	# PUT and POST go to stdout with method, path, query, options, peer; answers 2.04/2.01
	timeout 20 coap-client-notls -B 5 -m put -e 'put-data' "coap://127.0.0.1:$P/other?x=1" 2>put.err
	timeout 20 coap-client-notls -B 5 -m post -e 'posted' "coap://127.0.0.1:$P/sensor" 2>post.err
	timeout 20 coap-client-notls -B 5 -m delete "coap://127.0.0.1:$P/sensor" 2>del.err
	wait_line srv.out '"method":"DELETE"'
	assert_grep srv.out '"payload":"put-data".*"method":"PUT","path":"/other","query":"x=1"'
	assert_grep srv.out '"payload":"posted".*"method":"POST","path":"/sensor"'
	assert_grep srv.out '"peer":"127\.0\.0\.1:[0-9]+"'
	assert_no_grep put.err '4\.|5\.'
	# discovery lists both, observable
	cget /.well-known/core >core
	assert_grep core '</sensor>'
	assert_grep core '</other>'
	assert_grep core 'obs'
	exec 7>&-
}
run_test "GET answers the latest stdin message; PUT/POST/DELETE to stdout (--jsonl); .well-known/core" t_get_put

t_observe() {
	srv
	echo first >&7
	wait_for sh -c "coap-client-notls -B 2 -m get -o /dev/stdout coap://127.0.0.1:$P/sensor | grep -q first"
	bg obs timeout 20 coap-client-notls -m get -s 15 -B 20 "coap://127.0.0.1:$P/sensor"
	wait_line obs.out 'first'
	# each value arrives as a notification (coap-client prints each one as it comes)
	for v in second third fourth; do
		echo "$v" >&7
		wait_line obs.out "$v"
	done
	exec 7>&-
}
run_test "Observe: coap-client -s gets a notification for each stdin line" t_observe

t_echo_bad() {
	require_peer socat
	srv --echo -d initial
	cget /sensor >got
	assert_content got 'initial'
	timeout 20 coap-client-notls -B 5 -m put -e 'echo me' -o /dev/stdout "coap://127.0.0.1:$P/sensor" >echo.out
	assert_content echo.out 'echo me'
	# garbage in a datagram: ignored (or reset), the server goes on
	printf 'not coap at all\377\000' | socat -u - "UDP:127.0.0.1:$P"
	printf '\100' | socat -u - "UDP:127.0.0.1:$P"
	cget /sensor >again
	assert_content again 'initial'
	kill -0 "$(pid_of srv)"
	exec 7>&-
}
run_test "--echo and -d; a malformed datagram does not stop the server" t_echo_bad

t_tcp_relay() {
	require_peer coap-client-notls
	P=$(free_port)
	bg tsrv oc server "coap+tcp://127.0.0.1:$P/t" -d over-tcp
	wait_port "$P"
	timeout 20 coap-client-notls -B 5 -m get -o /dev/stdout "coap+tcp://127.0.0.1:$P/t" >tcp.out
	assert_content tcp.out 'over-tcp'
	# relay: lines from a TCP peer become the resource's value
	local tp
	P=$(free_port)
	tp=$(free_port)
	bg rel oc relay "tcp-listen://127.0.0.1:$tp" "coap-listen://127.0.0.1:$P/relayed"
	wait_udp_port "$P"
	wait_port "$tp"
	printf 'hello\nworld\n' | socat -u - "TCP:127.0.0.1:$tp"
	wait_for sh -c "coap-client-notls -B 2 -m get -o /dev/stdout coap://127.0.0.1:$P/relayed | grep -q world"
}
run_test "coap+tcp server; relay tcp-listen -> coap-listen" t_tcp_relay

t_exec() {
	require_peer coap-client-notls
	P=$(free_port)
	bg xs oc server "coap://127.0.0.1:$P/up" --exec 'tr a-z A-Z'
	wait_udp_port "$P"
	timeout 20 coap-client-notls -B 10 -m put -e 'hello exec' -o /dev/stdout "coap://127.0.0.1:$P/up" >a1
	assert_content a1 'HELLO EXEC'
	timeout 20 coap-client-notls -B 10 -m post -e 'second' -o /dev/stdout "coap://127.0.0.1:$P/up" >a2
	assert_content a2 'SECOND'
	# the requests also went to stdout
	wait_line xs.out '^second$'
	assert_grep xs.out '^hello exec$'
	# a child that fails: 5.00
	P=$(free_port)
	bg xf oc server "coap://127.0.0.1:$P/f" --exec false
	wait_udp_port "$P"
	timeout 20 coap-client-notls -B 10 -m put -e x "coap://127.0.0.1:$P/f" >f.out 2>&1 || true
	assert_grep f.out '5\.00'
}
run_test "--exec: one child per request, its output the answer (separate response); a failure 5.00" t_exec

t_dtls() {
	require_peer coap-client-openssl
	P=$(free_port)
	printf 'server-secret\n' >psk.key
	printf 'not-the-key\n' >bad.key
	bg ds oc server "coaps://127.0.0.1:$P/s" --psk-key-file psk.key --psk-identity hint -d dtls-value
	wait_udp_port "$P"
	wait_for sh -c "timeout 10 coap-client-openssl -B 3 -m get -k server-secret -u client-one -o /dev/stdout coaps://127.0.0.1:$P/s | grep -q dtls-value"
	# omnicat's own client, right and wrong key
	expect_code 0 oc client "coaps://127.0.0.1:$P/s" --psk-identity me --psk-key-file psk.key
	assert_content out $'dtls-value\n'
	expect_code 7 oc client "coaps://127.0.0.1:$P/s" --psk-identity me --psk-key-file bad.key \
		--ack-timeout 0.5 --max-retransmit 1
	assert_no_grep err 'not-the-key|server-secret'
	# a peer with a wrong key does not get in, and the server goes on
	timeout 10 coap-client-openssl -B 3 -m get -k wrong -u client-one -o /dev/stdout \
		"coaps://127.0.0.1:$P/s" >badpeer.out 2>&1 || true
	assert_no_grep badpeer.out 'dtls-value'
	expect_code 0 oc client "coaps://127.0.0.1:$P/s" --psk-identity me --psk-key-file psk.key
	assert_content out $'dtls-value\n'
	# a DTLS server needs its key
	expect_code 2 oc server "coaps://127.0.0.1:$P/x"
}
run_test "coaps server (DTLS PSK): coap-client-openssl and omnicat get in with the key, not without" t_dtls

# cs_get URL [coap-client-openssl ARGS...]: what coap-client-openssl prints for a GET of URL
# (the payload, and its log lines: it logs to stdout), bounded
cs_get() {
	local url=$1
	shift
	timeout 10 coap-client-openssl -B 3 -m get -o /dev/stdout "$@" "$url" 2>/dev/null || true
}

t_pki() {
	require_peer coap-client-openssl
	make_ca srv
	make_ca other
	make_ca cl
	P=$(free_port)
	bg pk oc server "coaps://127.0.0.1:$P/s" --cert srv.pem --key srv.key -d pki-value
	wait_udp_port "$P"
	wait_for sh -c "timeout 10 coap-client-openssl -B 3 -m get -R srv-ca.pem -o /dev/stdout coaps://127.0.0.1:$P/s | grep -q pki-value"
	! cs_get "coaps://127.0.0.1:$P/s" -R other-ca.pem | grep -q pki-value ||
		fail "a client trusting another CA got in"
	expect_code 0 oc client "coaps://127.0.0.1:$P/s" --cacert srv-ca.pem
	assert_content out $'pki-value\n'
	expect_code 7 oc client "coaps://127.0.0.1:$P/s" --cacert other-ca.pem
	# --cacert on a server: clients need a certificate from that CA (also over TLS)
	P=$(free_port)
	bg mt oc server "coaps+tcp://127.0.0.1:$P/s" --cert srv.pem --key srv.key --cacert cl-ca.pem \
		-d mutual
	wait_port "$P"
	cs_get "coaps+tcp://127.0.0.1:$P/s" -R srv-ca.pem -c cl.pem -j cl.key | grep -qx mutual ||
		fail "coap-client with a client certificate did not get in"
	! cs_get "coaps+tcp://127.0.0.1:$P/s" -R srv-ca.pem | grep -q mutual ||
		fail "a client without a certificate got in"
	expect_code 0 oc client "coaps+tcp://127.0.0.1:$P/s" --cacert srv-ca.pem --cert cl.pem --key cl.key
	assert_content out $'mutual\n'
	expect_code 7 oc client "coaps+tcp://127.0.0.1:$P/s" --cacert srv-ca.pem --cert other.pem \
		--key other.key
	expect_code 0 oc client "coaps+tcp://127.0.0.1:$P/s" --cacert srv-ca.pem --cert cl.pem --key cl.key
	assert_content out $'mutual\n'
	# a certificate that cannot be read (12, local I/O) or does not match its key (7)
	expect_code 12 oc server "coaps://127.0.0.1:$P/x" --cert missing.pem --key srv.key
	assert_one_line_error err
	expect_code 7 oc server "coaps://127.0.0.1:$P/x" --cert srv.pem --key cl.key
	assert_grep err 'does not match'
	expect_code 12 oc client "coaps://127.0.0.1:$P/x" --cacert missing-ca.pem
}
run_test "coaps server with a certificate (--cert/--key): coap-client-openssl and omnicat verify it; --cacert asks clients for theirs" t_pki

done_testing
