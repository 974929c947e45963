#!/usr/bin/env bash
# t0800-bigdata — 1 GiB through `relay tcp-listen -> tcp` from a fast source (socat sending
# /dev/urandom) to a slow sink (socat into a reader that sleeps), sha256 equal on both sides,
# and the relay's peak RSS (VmHWM, optimised build: ASan's quarantine alone would pass the
# limit) under 64 MiB: backpressure keeps memory flat whatever the size.
. "$(dirname "$0")/lib.sh"

BIG_BYTES=${BIG_BYTES:-1073741824}
RSS_LIMIT_KB=$((64 * 1024))

# The slow sink: waits 2 s before reading anything, so every buffer on the way fills up and the
# relay must stop reading its source (a relay that kept reading would hold hundreds of MB);
# then reads in 64 KiB steps with a short pause each, hashing what it got.
cat >"$OUT_DIR/slow_sink.py" <<'EOF'
import hashlib, sys, time
time.sleep(2)
h, n, f = hashlib.sha256(), 0, sys.stdin.buffer
while True:
    b = f.read1(65536)
    if not b:
        break
    h.update(b)
    n += len(b)
    time.sleep(0.0002)
print(h.hexdigest(), n)
EOF

# vmhwm PID: peak resident set size in kB.
vmhwm() { awk '/^VmHWM:/ { print $2 }' /proc/"$1"/status 2>/dev/null; }

t_gib_relay() {
	require_peer socat sha256sum
	[ -x "$OMNICAT_REL" ] || fail "OMNICAT_REL=$OMNICAT_REL is not built (make omnicat)"
	T_BG=170
	local p1 p2
	p1=$(free_port)
	p2=$(free_port)
	bg sink bash -c "socat -u -b 65536 TCP-LISTEN:$p2,bind=127.0.0.1,reuseaddr STDOUT | $PY $OUT_DIR/slow_sink.py"
	wait_port $p2
	bg relay oc_rel relay tcp-listen://127.0.0.1:$p1 tcp://127.0.0.1:$p2
	wait_port $p1
	local rpid
	rpid=$(cmd_pid relay)
	[ -n "$rpid" ] || fail "no relay process"
	# RSS watcher: the peak is kept by the kernel (VmHWM); sample it while the relay runs
	bg rss bash -c "while kill -0 $rpid 2>/dev/null; do awk '/^VmHWM:/ { print \$2 }' /proc/$rpid/status; sleep 0.2; done"
	local t0=$SECONDS
	bg src bash -c "head -c $BIG_BYTES /dev/urandom | tee >(sha256sum | cut -d' ' -f1 >src.sha.tmp && mv src.sha.tmp src.sha) | socat -u -b 131072 STDIN TCP:127.0.0.1:$p1"
	expect_exit src 0
	expect_exit sink 0
	local secs=$((SECONDS - t0))
	wait_file src.sha
	local peak
	peak=$(vmhwm "$rpid")
	[ -n "$peak" ] || peak=$(sort -n rss.out | tail -1)
	running relay || fail "the relay ended"
	note "1 GiB in ${secs}s; relay peak RSS ${peak} kB"
	read -r dsha dbytes <sink.out
	assert_eq "$BIG_BYTES" "$dbytes" "bytes at the sink"
	assert_eq "$(cat src.sha)" "$dsha" "sha256 at the sink"
	[ "$peak" -lt "$RSS_LIMIT_KB" ] || fail "relay peak RSS ${peak} kB >= ${RSS_LIMIT_KB} kB"
}
run_test "1 GiB through relay tcp-listen -> tcp to a slow sink: sha256 equal, peak RSS < 64 MiB" t_gib_relay

t_client_slow_stdout() {
	require_peer socat
	[ -x "$OMNICAT_REL" ] || fail "OMNICAT_REL=$OMNICAT_REL is not built (make omnicat)"
	T_BG=120
	local p
	p=$(free_port)
	local n=$((256 * 1024 * 1024))
	bg src socat -u -b 131072 SYSTEM:"head -c $n /dev/zero" TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr
	wait_port $p
	# the client's stdout is the slow reader; its stdin stays open
	mkfifo clin
	bg cl bash -c "$OMNICAT_REL client --framing raw tcp://127.0.0.1:$p <clin | $PY $OUT_DIR/slow_sink.py"
	exec 3>clin
	local cpid
	_find() { pgrep -f -n "^$OMNICAT_REL client --framing raw tcp://127.0.0.1:$p" >cpid; }
	wait_for _find
	cpid=$(cat cpid)
	bg rss bash -c "while kill -0 $cpid 2>/dev/null; do awk '/^VmHWM:/ { print \$2 }' /proc/$cpid/status; sleep 0.2; done"
	expect_exit src 0
	exec 3>&-
	expect_exit cl 0
	read -r _ dbytes <cl.out
	assert_eq "$n" "$dbytes" "bytes through"
	local peak
	peak=$(sort -n rss.out | tail -1)
	note "client peak RSS ${peak} kB"
	[ "$peak" -lt "$RSS_LIMIT_KB" ] || fail "client peak RSS ${peak} kB >= ${RSS_LIMIT_KB} kB"
}
run_test "256 MiB from a fast peer to a slow stdout: client memory stays flat" t_client_slow_stdout

done_testing
