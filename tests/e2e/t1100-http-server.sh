#!/usr/bin/env bash
# t1100-http-server — `server http://` and `relay http-listen://` driven by curl, wrk and raw
# sockets (socat): answers, request envelopes, malformed requests, webhooks, relays.
. "$(dirname "$0")/lib.sh"

# start_server NAME ARGS...: omnicat server http://127.0.0.1:PORT ARGS; sets $PORT.
start_server() {
	local name=$1
	shift
	PORT=$(free_port)
	bg "$name" oc server "http://127.0.0.1:$PORT" "$@"
	wait_port "$PORT"
}

t_methods() {
	require_peer curl
	start_server srv --jsonl
	for m in GET DELETE; do
		curl -sS -o body -w '%{http_code}' -X $m "http://127.0.0.1:$PORT/p/$m?x=1" >code
		assert_content code 200
		assert_empty body
	done
	curl -sS -o /dev/null -d 'posted' -H 'X-Custom-Thing: yes' "http://127.0.0.1:$PORT/post"
	curl -sS -o /dev/null -X PUT --data-binary @/dev/null "http://127.0.0.1:$PORT/put"
	# a chunked upload of 1 MB
	head -c 1000000 /dev/urandom | base64 -w0 >big
	curl -sS -o /dev/null -H 'Transfer-Encoding: chunked' --data-binary @big \
		"http://127.0.0.1:$PORT/chunked"
	wait_lines srv.out 5
	sed -n 1p srv.out | grep -q '"method":"GET","path":"/p/GET","query":"x=1"' ||
		fail "GET envelope: $(sed -n 1p srv.out)"
	sed -n 2p srv.out | grep -q '"method":"DELETE"' || fail "DELETE envelope"
	sed -n 3p srv.out | grep -q '"payload":"posted"' || fail "POST body"
	sed -n 3p srv.out | grep -q '"X-Custom-Thing":"yes"' || fail "custom header lost"
	sed -n 3p srv.out | grep -q '"peer":"127.0.0.1:[0-9]*"' || fail "no peer"
	sed -n 3p srv.out | grep -q '"id":"3"' || fail "no id"
	sed -n 4p srv.out | grep -q '"method":"PUT"' || fail "PUT"
	sed -n 5p srv.out | grep -q "\"payload\":\"$(cut -c1-40 big)" || fail "chunked body"
	[ "$(sed -n 5p srv.out | grep -o '"payload":"[^"]*"' | wc -c)" -gt 1300000 ] ||
		fail "chunked body truncated"
}
run_test "curl GET/POST/PUT/DELETE and a chunked upload: one envelope each on stdout" t_methods

t_fixed_echo() {
	require_peer curl
	start_server fixed -d 'teapot here' --status 418
	curl -sS -o body -w '%{http_code}' "http://127.0.0.1:$PORT/" >code
	assert_content code 418
	assert_content body 'teapot here'
	start_server echo --echo
	curl -sS -o body -D hdrs -H 'Content-Type: text/x-mine' -d 'back at you' "http://127.0.0.1:$PORT/"
	assert_content body 'back at you'
	assert_grep hdrs '^Content-Type: text/x-mine'
	# default: 200, empty
	start_server plain
	curl -sS -o body -w '%{http_code}' "http://127.0.0.1:$PORT/" >code
	assert_content code 200
	assert_empty body
}
run_test "answers: default 200 empty, -d with --status, --echo" t_fixed_echo

t_exec() {
	require_peer curl
	start_server ex --exec 'sh -c "echo $OMNICAT_METHOD $OMNICAT_PATH $OMNICAT_HEADER_X_TEST; tr a-z A-Z"'
	curl -sS -o body -H 'X-Test: hdr' -d 'shout' "http://127.0.0.1:$PORT/a/b"
	printf 'POST /a/b hdr\nSHOUT' >want
	assert_file_eq want body
	start_server bad --exec 'false'
	curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/" >code
	assert_content code 502
}
run_test "--exec: one child per request, metadata in OMNICAT_*, its stdout the body; failure 502" t_exec

t_dir() {
	require_peer curl
	mkdir -p site/sub
	echo '<p>home</p>' >site/index.html
	echo 'body { }' >site/sub/style.css
	head -c 3000000 /dev/urandom >site/blob.bin
	start_server files --dir site
	curl -sS -o got -D hdrs "http://127.0.0.1:$PORT/"
	assert_file_eq site/index.html got
	assert_grep hdrs '^Content-Type: text/html'
	curl -sS -o got -D hdrs "http://127.0.0.1:$PORT/sub/style.css"
	assert_grep hdrs '^Content-Type: text/css'
	curl -sS -o got "http://127.0.0.1:$PORT/blob.bin"
	assert_file_eq site/blob.bin got
	curl -sS -I "http://127.0.0.1:$PORT/blob.bin" >hdrs
	assert_grep hdrs '^Content-Length: 3000000'
	curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/missing" >code
	assert_content code 404
	curl -sS -o /dev/null -w '%{http_code}' --path-as-is "http://127.0.0.1:$PORT/../../etc/passwd" >code
	assert_content code 403
}
run_test "--dir: files with media types, HEAD, 404, no escaping the root" t_dir

t_reply_stdin() {
	require_peer curl
	mkfifo srv.in
	exec 7<>srv.in
	PORT=$(free_port)
	bg srv oc server "http://127.0.0.1:$PORT" --reply-stdin --reply-timeout 3 --jsonl
	wait_port "$PORT"
	bg cl curl -sS -o body -w '%{http_code}' "http://127.0.0.1:$PORT/ask"
	wait_line srv.out '"path":"/ask"'
	local id
	id=$(grep -o '"id":"[^"]*"' srv.out | head -1 | cut -d'"' -f4)
	echo "{\"id\":\"$id\",\"status\":201,\"payload\":\"answered\",\"headers\":{\"X-From\":\"stdin\"}}" >&7
	expect_exit cl 0
	assert_content cl.out 201
	assert_content body answered
	# nobody answers: 504 after --reply-timeout
	curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/unanswered" >code
	assert_content code 504
	exec 7>&-
}
run_test "--reply-stdin: the jsonl line with the request's id answers it; none: 504" t_reply_stdin

t_malformed() {
	require_peer socat curl
	start_server srv --max-size 1000
	printf 'THIS IS NOT HTTP\r\n\r\n' | timeout 5 socat -t 2 - TCP:127.0.0.1:$PORT >r1 || true
	head -1 r1 | grep -q '^HTTP/1.1 400' || fail "bad request line: $(head -1 r1)"
	{ printf 'GET / HTTP/1.1\r\nHost: x\r\nX-Huge: '; head -c 200000 /dev/zero | tr '\0' a; printf '\r\n\r\n'; } |
		timeout 5 socat -t 2 - TCP:127.0.0.1:$PORT >r2 || true
	head -1 r2 | grep -q '^HTTP/1.1 431' || fail "oversized headers: $(head -1 r2)"
	printf 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly this' |
		timeout 5 socat -t 1 - TCP:127.0.0.1:$PORT >r3 || true
	head -c 2000 /dev/zero | curl -sS -o /dev/null -w '%{http_code}' --data-binary @- \
		"http://127.0.0.1:$PORT/" >code
	assert_content code 413
	# still serving
	curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/" >code
	assert_content code 200
	running srv || fail "the server died"
}
run_test "malformed requests: bad line 400, huge headers 431, truncated body, 413; still serving" t_malformed

t_webhook() {
	require_peer curl openssl
	printf 'hook-key\n' >key
	start_server hook --hmac-secret-file key -v
	local body='{"event":"push"}' sig
	sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac hook-key | awk '{print $NF}')
	curl -sS -o /dev/null -w '%{http_code}' -H "X-Hub-Signature-256: sha256=$sig" -d "$body" \
		"http://127.0.0.1:$PORT/hook" >code
	assert_content code 200
	curl -sS -o /dev/null -w '%{http_code}' -H "X-Hub-Signature-256: sha256=${sig/a/b}" \
		-d '{"event":"forged"}' "http://127.0.0.1:$PORT/hook" >code
	assert_content code 401
	curl -sS -o /dev/null -w '%{http_code}' -d '{"event":"unsigned"}' "http://127.0.0.1:$PORT/hook" >code
	assert_content code 401
	wait_line hook.err 'bad or missing'
	printf '%s\n' "$body" >want
	assert_file_eq want hook.out
}
run_test "webhook receiver: good signature passes, bad and missing get 401 and stay off stdout" t_webhook

t_wrk() {
	require_peer wrk
	start_server srv -d ok
	timeout 30 wrk -t2 -c50 -d2s "http://127.0.0.1:$PORT/" >wrk.out
	local errs
	errs=$(grep -c 'Non-2xx\|Socket errors' wrk.out || true)
	[ "$errs" = 0 ] || fail "wrk saw errors: $(cat wrk.out)"
	grep -q 'Requests/sec' wrk.out || fail "wrk: $(cat wrk.out)"
	note "$(grep Requests/sec wrk.out)"
	running srv || fail "the server died"
}
run_test "wrk, 50 connections: no errors, no crash" t_wrk

t_relay_oneway() {
	require_peer curl socat
	local p2
	p2=$(free_port)
	bg sink socat -u TCP-LISTEN:$p2,bind=127.0.0.1,reuseaddr STDOUT
	wait_port "$p2"
	PORT=$(free_port)
	bg relay oc relay "http-listen://127.0.0.1:$PORT" "tcp://127.0.0.1:$p2"
	wait_port "$PORT"
	curl -sS -o /dev/null -w '%{http_code}' -d 'first' "http://127.0.0.1:$PORT/a" >code
	assert_content code 202
	curl -sS -o /dev/null -w '%{http_code}' -d 'second' "http://127.0.0.1:$PORT/b" >code
	assert_content code 202
	wait_lines sink.out 2
	printf 'first\nsecond\n' >want
	assert_file_eq want sink.out
}
run_test "relay http-listen -> tcp: each request's body goes on, answered 202" t_relay_oneway

t_reverse_proxy() {
	require_peer curl
	local up
	up=$(free_port)
	bg up "$PY" "$LIB_DIR/peers/http_peer.py" "$up"
	wait_line up.out '^listening'
	PORT=$(free_port)
	bg relay oc relay "http-listen://127.0.0.1:$PORT" "http://127.0.0.1:$up/"
	wait_port "$PORT"
	curl -sS -o body -w '%{http_code}' -H 'X-Trace: 7' -d 'through' "http://127.0.0.1:$PORT/echo/x" >code
	assert_content code 200
	assert_grep body '"path": "/echo/x"'
	assert_grep body '"body": "through"'
	assert_grep body '"x-trace": "7"'
	curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/status/404" >code
	assert_content code 404
}
run_test "relay http-listen -> http: a reverse proxy, path, headers and status kept" t_reverse_proxy

make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
		-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
}

t_https_h2() {
	require_peer curl openssl
	make_cert
	PORT=$(free_port)
	bg srv oc server "https://127.0.0.1:$PORT" --cert cert.pem --key key.pem --echo --jsonl
	wait_port "$PORT"
	curl -sS --cacert cert.pem --http2 -o body -w '%{http_version}' -H 'X-Over: h2' \
		-d 'secret stuff' "https://127.0.0.1:$PORT/h2" >ver
	assert_content ver 2
	assert_content body 'secret stuff'
	curl -sS --cacert cert.pem --http1.1 -o body -w '%{http_version}' -d 'one one' \
		"https://localhost:$PORT/h1" >ver
	assert_content ver 1.1
	assert_content body 'one one'
	wait_lines srv.out 2
	sed -n 1p srv.out | grep -q '"X-Over":"h2"\|"x-over":"h2"' || fail "h2 header lost: $(sed -n 1p srv.out)"
	sed -n 1p srv.out | grep -q '"path":"/h2"' || fail "h2 path"
	# a client that does not trust the certificate fails the handshake; the server goes on
	curl -sS -o /dev/null "https://127.0.0.1:$PORT/" 2>/dev/null && fail "curl trusted a self-signed cert"
	curl -sS --cacert cert.pem -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/" >code
	assert_content code 200
	# no certificate: a usage error
	expect_code 2 oc server "https://127.0.0.1:$(free_port)"
	assert_one_line_error err
}
run_test "https: HTTP/2 via ALPN and HTTP/1.1 over TLS with curl; headers kept" t_https_h2

t_h2c_prior() {
	require_peer curl
	start_server srv -d 'plain h2'
	curl -sS --http2-prior-knowledge -o body -w '%{http_version}' "http://127.0.0.1:$PORT/" >ver
	assert_content ver 2
	assert_content body 'plain h2'
}
run_test "cleartext HTTP/2 with prior knowledge" t_h2c_prior

done_testing
