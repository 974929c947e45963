#!/usr/bin/env bash
# t0250-framing — --framing on a stream endpoint (bytes checked at a socat peer), the --jsonl
# envelope of stdin/stdout (payload and payload_b64), and --format letters.
. "$(dirname "$0")/lib.sh"

# py_check FILE CODE: run python CODE with `data` = the bytes of FILE; an assert fails the test.
py_check() {
	"$PY" -c "import json, struct, sys
data = open(sys.argv[1], 'rb').read()
$2" "$1"
}

t_len32_out() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat -u TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr CREATE:got
	wait_port $p
	printf 'one\n\nthree33\n' | oc relay - --framing line tcp://127.0.0.1:$p --framing len32
	expect_exit peer 0
	py_check got '
frames, i = [], 0
while i < len(data):
    (n,) = struct.unpack(">I", data[i:i+4]); frames.append(data[i+4:i+4+n]); i += 4 + n
assert frames == [b"one", b"", b"three33"], frames'
}
run_test "--framing len32 at a tcp endpoint: 4-byte big-endian lengths on the wire" t_len32_out

t_len32_in() {
	require_peer socat
	py_check /dev/null '
out = open("frames", "wb")
for p in [b"a", b"line\nbreak", b"", b"\x00\x01\xff"]:
    out.write(struct.pack(">I", len(p)) + p)'
	local p
	p=$(free_port)
	bg peer socat -u OPEN:frames TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr
	wait_port $p
	oc client --jsonl --framing len32 tcp://127.0.0.1:$p </dev/null >out
	py_check out '
import base64
msgs = [json.loads(l) for l in data.decode().splitlines()]
got = [m["payload"].encode() if "payload" in m else base64.b64decode(m["payload_b64"]) for m in msgs]
assert got == [b"a", b"line\nbreak", b"", b"\x00\x01\xff"], got
assert "payload_b64" in msgs[3] and "payload" not in msgs[3], msgs[3]'
}
run_test "--framing len32 from a socat peer, --jsonl out (binary as payload_b64)" t_len32_in

t_len32_truncated() {
	require_peer socat
	printf '\0\0\0\011short' >trunc
	local p
	p=$(free_port)
	bg peer socat -u OPEN:trunc TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr
	wait_port $p
	local rc=0
	oc client --framing len32 tcp://127.0.0.1:$p </dev/null >out 2>err || rc=$?
	# the peer sent something unparsable: 9 (DESIGN §5), one line naming the endpoint
	assert_eq 9 "$rc" "exit status"
	assert_one_line_error err
	assert_grep err "127.0.0.1:$p"
}
run_test "a truncated len32 frame from the peer: exit 9" t_len32_truncated

t_len32_oversized() {
	require_peer socat
	# a length of 4 GiB: refused up front (no attempt to buffer it), peer's fault: 9
	printf '\377\377\377\377abc' >huge
	local p
	p=$(free_port)
	bg peer socat -u OPEN:huge TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr
	wait_port $p
	expect_code 9 oc client --framing len32 tcp://127.0.0.1:$p
	assert_one_line_error err
	assert_grep err 'frame larger than'
	# the same on stdin is local input: 12
	expect_code 12 oc pub --framing len32 file:"$T/x" <huge
	assert_one_line_error err
	assert_grep err 'frame larger than'
}
run_test "a len32 length above the frame limit: 9 from a peer, 12 from stdin" t_len32_oversized

t_nul() {
	require_peer socat
	local p
	p=$(free_port)
	printf 'r1\0r2\0' >reply
	bg peer socat TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr SYSTEM:'cat >got; cat reply'
	wait_port $p
	printf 'x\ny\n' | oc relay - --framing line tcp://127.0.0.1:$p --framing nul >out
	assert_content out "r1
r2
"
	py_check got 'assert data == b"x\0y\0", data'
}
run_test "--framing nul both ways at a tcp endpoint" t_nul

t_csv() {
	printf 'name,note\nbob,"x,y"\nann,"say ""hi"""\n' >in.csv
	expect_code 0 oc relay file:"$T/in.csv" --framing csv - --framing line
	py_check out '
rows = [json.loads(l) for l in data.decode().splitlines()]
assert rows == [{"name": "bob", "note": "x,y"}, {"name": "ann", "note": "say \"hi\""}], rows'
	# and back: JSON objects in, RFC 4180 out
	cp out rows.jsonl
	expect_code 0 oc relay - --framing line file:"$T/out.csv" --framing csv <rows.jsonl
	assert_file_eq in.csv out.csv
}
run_test "--framing csv: rows to objects and back" t_csv

t_jsonl_in() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat -u TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr CREATE:got
	wait_port $p
	# payload (text) and payload_b64 (bytes) on stdin become exact bytes on a raw stream
	printf '%s\n' '{"payload":"héllo "}' '{"payload_b64":"AAH/"}' '{"payload":"\n"}' |
		oc client --jsonl --framing raw tcp://127.0.0.1:$p
	expect_exit peer 0
	py_check got 'assert data == "héllo ".encode() + b"\x00\x01\xff" + b"\n", data'
}
run_test "--jsonl stdin: payload and payload_b64 give exact bytes" t_jsonl_in

t_jsonl_bad_line() {
	require_peer socat
	local p
	p=$(free_port)
	bg peer socat -u TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr CREATE:got
	wait_port $p
	local rc=0
	printf '%s\n' '{"payload":"ok"}' 'not json' | oc client --jsonl tcp://127.0.0.1:$p >out 2>err || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "exit $rc"
	assert_one_line_error err
	assert_grep err 'JSON'
	# what came before the bad line was sent
	expect_exit peer 0
	assert_content got "ok
"
}
run_test "--jsonl stdin: a line that is not JSON is an error; earlier lines were sent" t_jsonl_bad_line

t_format() {
	require_peer socat
	local p
	p=$(free_port)
	bg srv oc server -c 2 tcp://127.0.0.1:$p --format '%S\t%e\t%T\t%%\t%s\n'
	wait_port $p
	local sp
	sp=$(free_port)
	printf 'hello\nsecond line\n' | timeout 20 socat -u - TCP:127.0.0.1:$p,bind=127.0.0.1:$sp
	expect_exit srv 0
	local now
	now=$(date +%s%3N)
	py_check srv.out "
rows = [l.split('\t') for l in data.decode().splitlines()]
assert [r[0] for r in rows] == ['5', '11'], rows
assert all(r[1] == '127.0.0.1:$sp' for r in rows), rows
assert all(abs(int(r[2]) - $now) < 60000 for r in rows), rows
assert [r[3] for r in rows] == ['%', '%'], rows
assert [r[4] for r in rows] == ['hello', 'second line'], rows"
}
run_test "--format: %S %e %T %% %s and \\t \\n escapes" t_format

t_jsonl_server_peer() {
	require_peer ncat
	local p
	p=$(free_port)
	bg srv oc server -c 1 --jsonl tcp://127.0.0.1:$p
	wait_port $p
	local sp
	sp=$(free_port)
	printf 'from ncat\n' | timeout 20 ncat --send-only -p $sp 127.0.0.1 $p
	expect_exit srv 0
	py_check srv.out "
m = json.loads(data)
assert m['payload'] == 'from ncat', m
assert m['peer'] == '127.0.0.1:$sp', m
assert m['ts'].endswith('Z'), m"
}
run_test "server --jsonl: payload, peer (host:port of the ncat client), ts" t_jsonl_server_peer

done_testing
