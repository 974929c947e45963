#!/usr/bin/env bash
# t1200-tls — raw TLS streams (tls://, tls-listen://) against openssl s_server and s_client.
. "$(dirname "$0")/lib.sh"

make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
		-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
}

# s_server PORT NAME: openssl s_server on PORT; what it receives goes to NAME.out; NAME.in (a
# FIFO kept open) feeds what it sends.
s_server() {
	local port=$1 name=$2
	mkfifo "$name.in"
	exec {S_FD}<>"$name.in"
	bg "$name" openssl s_server -accept "$port" -cert cert.pem -key key.pem -quiet -naccept 1
	wait_port "$port"
}

t_client() {
	require_peer openssl
	make_cert
	local p
	p=$(free_port)
	s_server "$p" srv
	printf 'from the server\n' >&$S_FD
	printf 'hello over tls\n' | expect_code 0 oc client --cacert cert.pem -c 1 "tls://localhost:$p"
	assert_content out $'from the server\n'
	wait_line srv.out 'hello over tls'
}
run_test "client tls:// to openssl s_server: verified with --cacert, data both ways" t_client

t_verify() {
	require_peer openssl
	make_cert
	local p
	p=$(free_port)
	s_server "$p" srv
	echo x | expect_code 7 oc client "tls://127.0.0.1:$p"
	assert_one_line_error err
	assert_grep err 'certificate verify failed'
	p=$(free_port)
	s_server "$p" srv2
	printf 'insecure\n' | expect_code 0 oc client -k "tls://127.0.0.1:$p"
	wait_line srv2.out insecure
}
run_test "a self-signed server: exit 7 without -k, passes with -k" t_verify

t_server() {
	require_peer openssl
	make_cert
	PORT=$(free_port)
	bg srv oc server "tls://127.0.0.1:$PORT" --cert cert.pem --key key.pem --echo
	wait_port "$PORT"
	(printf 'through s_client\n'; sleep 2) | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" \
		-CAfile cert.pem -verify_return_error -quiet >got 2>sc.err || true
	assert_content got $'through s_client\n'
	wait_line srv.out 'through s_client'
	# a client that is not TLS: the handshake fails, the server goes on
	echo 'plain text' | timeout 5 socat -t1 - TCP:127.0.0.1:$PORT >/dev/null 2>&1 || true
	running srv || fail "the server died"
}
run_test "server tls:// with --cert/--key, driven by openssl s_client" t_server

t_relay_originate() {
	require_peer openssl socat
	make_cert
	local p
	p=$(free_port)
	s_server "$p" srv
	printf 'answer\n' >&$S_FD
	PORT=$(free_port)
	bg relay oc relay "tcp-listen://127.0.0.1:$PORT" "tls://localhost:$p" --cacert cert.pem
	wait_port "$PORT"
	printf 'plain in\n' | timeout 10 socat -t 2 - TCP:127.0.0.1:$PORT >got || true
	wait_line srv.out 'plain in'
	assert_content got $'answer\n'
}
run_test "relay tcp-listen -> tls: originates TLS for a plain client" t_relay_originate

done_testing
