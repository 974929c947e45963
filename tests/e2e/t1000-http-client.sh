#!/usr/bin/env bash
# t1000-http-client — `client/pub/sub http(s)://` against independent servers: Python's
# http.server (tests/e2e/peers/http_peer.py) and nginx, started here on 127.0.0.1.
. "$(dirname "$0")/lib.sh"

PEER=$LIB_DIR/peers/http_peer.py

# start_peer NAME [--tls CERT KEY]: http_peer.py on a free port; sets $PORT.
start_peer() {
	local name=$1
	shift
	PORT=$(free_port)
	bg "$name" "$PY" "$PEER" "$PORT" "$@"
	wait_line "$name.out" "^listening"
}

# start_nginx [DIRECTIVES]: nginx serving ./www with an access log naming each connection,
# DIRECTIVES added to its server block; sets $NPORT.
start_nginx() {
	local extra=${1:-}
	require_peer nginx
	NPORT=$(free_port)
	mkdir -p www logs
	cat >nginx.conf <<CONF
daemon off;
worker_processes 1;
pid $PWD/nginx.pid;
error_log $PWD/logs/error.log;
events { worker_connections 256; }
http {
	access_log $PWD/logs/access.log;
	log_format conn '\$connection \$request \$status';
	client_body_temp_path $PWD/logs;
	proxy_temp_path $PWD/logs;
	fastcgi_temp_path $PWD/logs;
	uwsgi_temp_path $PWD/logs;
	scgi_temp_path $PWD/logs;
	server {
		listen 127.0.0.1:$NPORT;
		access_log $PWD/logs/conn.log conn;
		root $PWD/www;
		keepalive_requests 100000;
		$extra
	}
}
CONF
	bg nginx nginx -c "$PWD/nginx.conf" -p "$PWD"
	wait_port "$NPORT"
}

t_get() {
	echo "<h1>hello</h1>" >index.html
	start_peer web
	expect_code 0 oc client "http://127.0.0.1:$PORT/index.html"
	assert_file_eq index.html out
	assert_empty err
	# -i: status line and headers, then the body
	expect_code 0 oc client -i "http://127.0.0.1:$PORT/index.html"
	head -1 out | grep -q '^HTTP/1.[01] 200' || fail "no status line: $(head -1 out)"
	assert_grep out '^Content-Length: 15'
	tail -1 out | grep -qx '<h1>hello</h1>' || fail "no body after the headers"
	# -I: HEAD, headers only
	expect_code 0 oc client -I "http://127.0.0.1:$PORT/index.html"
	assert_grep out '^HTTP/1.[01] 200'
	assert_no_grep out 'hello'
}
run_test "GET prints the body; -i adds status and headers; -I is HEAD" t_get

t_methods() {
	start_peer web
	expect_code 0 oc client "http://127.0.0.1:$PORT/echo" -d 'a=1&b=2'
	assert_grep out '"method": "POST"'
	assert_grep out '"body": "a=1&b=2"'
	printf 'line1\nline2\n' >body.txt
	expect_code 0 oc client "http://127.0.0.1:$PORT/echo/put" -X PUT -d @body.txt -H 'X-Test: yes' \
		-H 'X-Other: 2' -A 'tester/1'
	assert_grep out '"method": "PUT"'
	assert_grep out '"body": "line1\\nline2\\n"'
	assert_grep out '"x-test": "yes"'
	assert_grep out '"x-other": "2"'
	assert_grep out '"user-agent": "tester/1"'
	expect_code 0 oc client "http://127.0.0.1:$PORT/echo" -X DELETE
	assert_grep out '"method": "DELETE"'
	# -G --data-urlencode: a query
	expect_code 0 oc client "http://127.0.0.1:$PORT/echo" -G --data-urlencode 'q=a b' \
		--data-urlencode 'r=&'
	assert_grep out '"path": "/echo\?q=a%20b&r=%26"'
	assert_grep out '"method": "GET"'
	# --json: body and content type
	expect_code 0 oc client "http://127.0.0.1:$PORT/echo" --json '{"k":1}'
	assert_grep out '"content-type": "application/json"'
	assert_grep out '"body": "\{\\"k\\":1\}"'
	# -F: multipart
	expect_code 0 oc client "http://127.0.0.1:$PORT/echo" -F 'name=value' -F "file=@body.txt"
	assert_grep out 'multipart/form-data'
	assert_grep out 'name=\\"file\\"; filename=\\"body.txt\\"'
}
run_test "POST, PUT, DELETE, headers, -G --data-urlencode, --json, -F" t_methods

t_each_order() {
	start_peer web
	seq 1 300 >in
	expect_code 0 oc client "http://127.0.0.1:$PORT/echo" --each --parallel 8 --format '%c %s\n' <in
	[ "$(wc -l <out)" = 300 ] || fail "expected 300 responses, got $(wc -l <out)"
	sed -E 's/.*"body": "([0-9]+)".*/\1/' out >got
	assert_file_eq in got
	assert_no_grep out '^[^2]'
}
run_test "--each with --parallel 8: 300 requests, answers in input order" t_each_order

t_each_jsonl() {
	start_peer web
	cat >in <<'IN'
{"id":"a","method":"GET","path":"/status/204"}
{"id":"b","path":"/echo/x","payload":"hi","headers":{"X-Test":"one"}}
{"id":"c","method":"GET","path":"/status/404"}
IN
	expect_code 0 oc client "http://127.0.0.1:$PORT/" --each --jsonl <in
	[ "$(wc -l <out)" = 3 ] || fail "expected 3 lines"
	sed -n 1p out | grep -q '"status":204' || fail "line 1: $(sed -n 1p out)"
	sed -n 1p out | grep -q '"id":"a"' || fail "line 1 id"
	sed -n 2p out | grep -q '"status":200' || fail "line 2 status"
	sed -n 2p out | grep -q '"id":"b"' || fail "line 2 id"
	sed -n 2p out | grep -q 'x-test' || fail "line 2: the header did not reach the server"
	sed -n 2p out | grep -q '"content_type":"application/json"' || fail "line 2 content_type"
	sed -n 3p out | grep -q '"status":404' || fail "line 3 status"
}
run_test "--each --jsonl: method, path, headers and payload from the envelope; status and id back" t_each_jsonl

t_fail() {
	start_peer web
	expect_code 0 oc client "http://127.0.0.1:$PORT/status/404"
	assert_content out "status 404"
	expect_code 10 oc client -f "http://127.0.0.1:$PORT/status/404"
	assert_content out "status 404"
	assert_one_line_error err
	assert_grep err "404"
	expect_code 8 oc client -f "http://127.0.0.1:$PORT/status/401"
	expect_code 8 oc client -f "http://127.0.0.1:$PORT/status/403"
	expect_code 10 oc client -f "http://127.0.0.1:$PORT/status/500"
	expect_code 0 oc client -fsSL "http://127.0.0.1:$PORT/status/200"
}
run_test "-f: 404 and 500 exit 10, 401 and 403 exit 8, the body is printed" t_fail

t_auth_redacted() {
	start_peer web
	expect_code 0 oc client -v -u user:secret "http://127.0.0.1:$PORT/auth"
	assert_content out "welcome"
	assert_grep err '> Authorization: \[redacted\]'
	assert_no_grep err 'dXNlcjpzZWNyZXQ'
	assert_no_grep err 'secret'
	# the password from a file, and from the environment
	echo secret >pw
	expect_code 0 oc client -u user --password-file pw "http://127.0.0.1:$PORT/auth"
	assert_content out "welcome"
	OMNICAT_PASSWORD=secret expect_code 0 oc client -u user "http://127.0.0.1:$PORT/auth"
	assert_content out "welcome"
	expect_code 8 oc client -f -u user:wrong "http://127.0.0.1:$PORT/auth"
	expect_code 0 oc client -v -b 'session=abc' "http://127.0.0.1:$PORT/echo"
	assert_grep err '> Cookie: \[redacted\]'
	assert_no_grep err 'abc'
}
run_test "-u, --password-file, OMNICAT_PASSWORD; -v redacts Authorization and Cookie" t_auth_redacted

t_errors() {
	local p
	p=$(free_port)
	expect_code 6 oc client "http://127.0.0.1:$p/"
	assert_one_line_error err
	expect_code 5 oc client "http://no-such-host.invalid/"
	assert_one_line_error err
	start_peer web
	expect_code 11 oc client -m 1 "http://127.0.0.1:$PORT/slow/10"
	assert_one_line_error err
	expect_code 2 oc client "http://"
	expect_code 2 oc client --each -d x "http://127.0.0.1:$PORT/" --frobnicate
}
run_test "refused 6, unresolvable 5, --timeout 11, bad URL 2" t_errors

t_tls() {
	require_peer openssl
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
		-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
	printf secure >index.html
	start_peer tls --tls cert.pem key.pem
	expect_code 7 oc client "https://127.0.0.1:$PORT/index.html"
	assert_one_line_error err
	expect_code 0 oc client -k "https://127.0.0.1:$PORT/index.html"
	assert_content out secure
	expect_code 0 oc client --cacert cert.pem "https://127.0.0.1:$PORT/index.html"
	assert_content out secure
}
run_test "https: a self-signed server exits 7; -k and --cacert pass" t_tls

t_big_stream() {
	start_nginx
	head -c 1073741824 /dev/urandom >www/big
	# a slow reader: memory must stay flat while 1 GiB streams through
	"$PY" -c '
import sys, time, hashlib
h = hashlib.sha256(); n = 0
while True:
    b = sys.stdin.buffer.read(1 << 20)
    if not b: break
    h.update(b); n += len(b)
    if n < 64 << 20: time.sleep(0.01)
print(h.hexdigest())' >sum.out < <(timeout 120 "$OMNICAT_REL" client "http://127.0.0.1:$NPORT/big" 2>err) &
	local reader=$! peak=0 pid="" hwm
	while kill -0 "$reader" 2>/dev/null; do
		[ -n "$pid" ] || pid=$(pgrep -f "^$OMNICAT_REL client http://127.0.0.1:$NPORT/big" | head -1 || true)
		if [ -n "$pid" ] && [ -r /proc/$pid/status ]; then
			hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status 2>/dev/null || true)
			[ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
		fi
		sleep 0.1
	done
	wait "$reader"
	[ "$(cat sum.out)" = "$(sha256sum www/big | cut -d' ' -f1)" ] || fail "body differs"
	rm -f www/big
	note "1 GiB body from nginx; client peak RSS ${peak} kB"
	[ "$peak" -gt 0 ] || fail "could not measure the client's memory"
	[ "$peak" -lt 65536 ] || fail "peak RSS ${peak} kB"
}
run_test "1 GiB from nginx streams to a slow reader: sha256 equal, memory flat" t_big_stream

t_webhook() {
	start_peer hooks
	# the peer reads its key and log from the environment it was started with
	kill "$(pid_of hooks)"
	echo -n 's3cret' >key
	HMAC_KEY=s3cret HOOK_LOG=$PWD/hooks.log start_peer hooks
	printf 'one\ntwo\n{"x":3}\n' | oc pub "http://127.0.0.1:$PORT/hook" --hmac-secret-file key -f
	printf 'one\ntwo\n{"x":3}\n' >want
	assert_file_eq want hooks.log
	echo -n 'wrong' >badkey
	echo four | expect_code 8 oc pub "http://127.0.0.1:$PORT/hook" --hmac-secret-file badkey -f
}
run_test "pub: a webhook sender signs each body (X-Hub-Signature-256) as the server checks" t_webhook

t_poll() {
	echo v1 >val
	ETAG_FILE=$PWD/val start_peer poll
	bg sub oc sub "http://127.0.0.1:$PORT/etag" --interval 0.2 -c 2
	wait_line sub.out '^v1$'
	echo v2 >val
	expect_exit sub 0
	printf 'v1\nv2\n' >want
	assert_file_eq want sub.out
	# --every emits each poll, changed or not
	expect_code 0 oc sub "http://127.0.0.1:$PORT/etag" --interval 0.1 --every -c 3
	printf 'v2\nv2\nv2\n' >want
	assert_file_eq want out
}
run_test "sub --interval: emits a body when it changed (ETag), --every each time" t_poll

t_nginx_reuse() {
	start_nginx
	for i in $(seq 1 50); do echo "file $i" >www/f$i.txt; done
	for i in $(seq 1 50); do echo "{\"path\":\"/f$i.txt\",\"method\":\"GET\"}"; done >in
	expect_code 0 oc client "http://127.0.0.1:$NPORT/" --each --jsonl --format '%s' <in
	for i in $(seq 1 50); do echo "file $i"; done >want
	assert_file_eq want out
	wait_lines logs/conn.log 50
	local conns
	conns=$(awk '{print $1}' logs/conn.log | sort -u | wc -l)
	note "50 requests over $conns connection(s)"
	[ "$conns" = 1 ] || fail "keep-alive not reused: $conns connections"
}
run_test "--each against nginx: 50 GETs in order over one kept-alive connection" t_nginx_reuse

t_h2_nghttpd() {
	require_peer nghttpd openssl
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
		-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
	mkdir -p docs
	echo 'served over h2' >docs/index.html
	PORT=$(free_port)
	bg h2 nghttpd -d docs "$PORT" key.pem cert.pem
	wait_port "$PORT"
	expect_code 0 oc client --http2 --cacert cert.pem -v "https://localhost:$PORT/index.html"
	assert_file_eq docs/index.html out
	assert_grep err 'HTTP/2'
	# two requests over the one connection, in order
	printf '{"path":"/index.html","method":"GET"}\n{"path":"/nope","method":"GET"}\n' >in
	expect_code 0 oc client --http2 --cacert cert.pem --each --jsonl --format '%c\n' \
		"https://localhost:$PORT/" <in
	printf '200\n404\n' >want
	assert_file_eq want out
}
run_test "HTTP/2 over TLS against nghttpd" t_h2_nghttpd

t_each_10k() {
	# nginx answers each request with its own URI, so the order can be checked
	start_nginx 'location /n/ { return 200 "$request_uri\n"; }'
	seq 1 10000 | sed 's|.*|{"path":"/n/&","method":"GET"}|' >in
	expect_code 0 oc client "http://127.0.0.1:$NPORT/" --each --jsonl --parallel 4 --format '%s' <in
	seq 1 10000 | sed 's|.*|/n/&|' >want
	assert_file_eq want out
}
run_test "--each: 10,000 requests answered in input order" t_each_10k

done_testing
