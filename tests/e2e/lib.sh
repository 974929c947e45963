# tests/e2e/lib.sh — helpers every e2e script sources (bash).
#
#   . "$(dirname "$0")/lib.sh"
#   t_one() { ...; }              # a test body: runs in a subshell with `set -e`, cwd = its
#   run_test "what it checks" t_one   # own empty temp dir, output logged, processes reaped
#   done_testing
#
# Each run_test prints `ok - DESC` or `not ok - DESC` (tests/run counts those lines); a failing
# test's log tail follows as `# ` lines. Logs stay in tests/out/SCRIPT/NN-slug.log.
#
# Environment: OMNICAT (binary under test, sanitizer build), OMNICAT_REL (optimised build, for
# memory measurements), OMNICAT_REQUIRE_PEERS=1 (a missing peer program fails instead of
# skipping). Sanitizer reports of every omnicat run go to files (ASAN_OPTIONS log_path); a test
# with any such report fails, whatever its assertions said.
#
# Rules for tests: never sleep to wait for a condition — use wait_port, wait_file, wait_line,
# wait_for (bounded polling); every process runs under `timeout`, so a hang fails the test
# instead of hanging CI; background processes are started with `bg` and killed at the end.

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$LIB_DIR/../.." && pwd)
SCRIPT_NAME=$(basename "$0" .sh)

if [ -z "${OMNICAT:-}" ]; then
	if [ -x "$ROOT/build/san/omnicat" ]; then OMNICAT=$ROOT/build/san/omnicat; else OMNICAT=$ROOT/omnicat; fi
fi
OMNICAT_REL=${OMNICAT_REL:-$ROOT/omnicat}
export OMNICAT OMNICAT_REL

# Debian's python3 (fast start, no pyenv shim in the way).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

OUT_DIR=${TEST_OUT_DIR:-$ROOT/tests/out}/$SCRIPT_NAME
rm -rf "$OUT_DIR"
mkdir -p "$OUT_DIR"

# Per-command time limits (seconds): foreground commands and background processes.
T_FG=${T_FG:-30}
T_BG=${T_BG:-60}
# Bounded polling: step and limit.
POLL_STEP=0.05
POLL_MAX=${POLL_MAX:-10}

SAN_DIR=$OUT_DIR/san
mkdir -p "$SAN_DIR"
export ASAN_OPTIONS="detect_leaks=1:log_path=$SAN_DIR/asan${ASAN_OPTIONS_EXTRA:+:$ASAN_OPTIONS_EXTRA}"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$SAN_DIR/ubsan"
export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
# Children the tests start (socat, python...) are not instrumented; the variables are harmless.

_n_tests=0
_n_failed=0

# ---- reporting ----------------------------------------------------------------------------

# Within a test: print a diagnostic and fail it (the body runs in a subshell, so exit ends it).
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

note() { echo "# $*" >&2; }

# run_test DESC FUNC [ARGS...]: run FUNC in a subshell with set -e, in a fresh temp dir $T
# (kept for post-mortems); $S is a short temp dir for unix sockets, removed afterwards.
# TEST_ONLY=REGEX (while developing) runs only the tests whose description matches.
run_test() {
	local desc=$1
	shift
	[ -z "${TEST_ONLY:-}" ] || [[ $desc =~ $TEST_ONLY ]] || return 0
	_n_tests=$((_n_tests + 1))
	local slug
	slug=$(printf '%s' "$desc" | tr -c 'A-Za-z0-9' '-' | tr -s '-' | cut -c1-50)
	local id
	id=$(printf '%02d-%s' "$_n_tests" "$slug")
	local log=$OUT_DIR/$id.log
	T=$OUT_DIR/$id.d
	rm -rf "$T"
	mkdir -p "$T"
	# A short directory for unix sockets (sun_path holds 108 bytes; $T may be long).
	S=$(mktemp -d /tmp/oc-e2e.XXXXXX)
	# Sanitizer reports of this test only.
	local san=$SAN_DIR/$id
	mkdir -p "$san"
	(
		export ASAN_OPTIONS="detect_leaks=1:log_path=$san/asan${ASAN_OPTIONS_EXTRA:+:$ASAN_OPTIONS_EXTRA}"
		export UBSAN_OPTIONS="print_stacktrace=1:log_path=$san/ubsan"
		_BG_PIDS=()
		trap '_bg_cleanup' EXIT
		cd "$T" || exit 1
		set -e
		"$@"
	) >"$log" 2>&1 </dev/null
	local rc=$?
	rm -rf "$S"
	if [ $rc -eq 0 ] && [ -f "$T/.skip" ]; then
		echo "ok - $desc # SKIP $(cat "$T/.skip")"
		return 0
	fi
	local sanfiles f
	# A report is an error or a runtime error; LeakSanitizer's notes about threads it could
	# not suspend ("Running thread ... was not suspended") are not findings.
	sanfiles=$(grep -lE 'ERROR: |runtime error:|SUMMARY: ' "$san"/* 2>/dev/null | head -5)
	if [ -n "$sanfiles" ]; then
		{
			echo "---- sanitizer report(s):"
			for f in $sanfiles; do cat "$f"; done
		} >>"$log"
		rc=1
	fi
	if [ $rc -eq 0 ]; then
		echo "ok - $desc"
		# notes (`note ...`) are worth seeing: measured figures, shares
		grep '^# ' "$log" | sed 's/^# /#   /' || true
	else
		_n_failed=$((_n_failed + 1))
		echo "not ok - $desc"
		echo "#   log: ${log#"$ROOT"/}"
		if [ -n "$sanfiles" ]; then
			# the report's head says what and where; its shadow-byte tail says nothing
			for f in $sanfiles; do
				grep -E 'ERROR|runtime error|SUMMARY|^ +#[0-9] ' "$f" | head -n 14 | sed 's/^/#   /'
			done
		else
			tail -n 30 "$log" | sed 's/^/#   /'
		fi
	fi
}

# done_testing: summary line for humans; the exit status says whether anything failed.
done_testing() {
	echo "# $SCRIPT_NAME: $_n_tests tests, $_n_failed failed"
	[ "$_n_failed" -eq 0 ]
}

# skip REASON: end the current test as skipped.
skip() {
	echo "$*" >"$T/.skip"
	exit 0
}

# require_peer PROG...: the peer programs a test needs. Missing: a failure under
# OMNICAT_REQUIRE_PEERS=1 (CI, make test), otherwise a skip.
require_peer() {
	local p
	for p in "$@"; do
		if ! command -v "$p" >/dev/null 2>&1; then
			if [ "${OMNICAT_REQUIRE_PEERS:-0}" = 1 ]; then
				fail "peer program '$p' is not installed (OMNICAT_REQUIRE_PEERS=1)"
			fi
			skip "peer program '$p' is not installed"
		fi
	done
}

# ---- running things -----------------------------------------------------------------------

# oc ARGS...: the binary under test, bounded by T_FG seconds.
oc() {
	timeout -k 5 "$T_FG" "$OMNICAT" "$@"
}

# oc_rel ARGS...: the optimised build.
oc_rel() {
	timeout -k 5 "$T_FG" "$OMNICAT_REL" "$@"
}

# expect_code N CMD...: run CMD (stdout to ./out, stderr to ./err) and assert its exit status.
expect_code() {
	local want=$1
	shift
	local rc=0
	"$@" >out 2>err || rc=$?
	if [ "$rc" != "$want" ]; then
		echo "---- stdout:" >&2
		head -c 2000 out >&2
		echo "---- stderr:" >&2
		head -c 2000 err >&2
		fail "'$*' exited with $rc, expected $want"
	fi
}

# bg NAME CMD...: start CMD in the background (bounded by T_BG), stdout to NAME.out, stderr to
# NAME.err, stdin from NAME.in if that exists (a FIFO keeps it open), else /dev/null.
# `oc` and `oc_rel` may start CMD. `pid_of NAME` gives its pid (the timeout wrapper's, which
# forwards signals).
_bg_start() {
	local name=$1 limit=$2
	shift 2
	local in=/dev/null
	[ -e "$name.in" ] && in=$name.in
	case $1 in
	oc) set -- "$OMNICAT" "${@:2}" ;;
	oc_rel) set -- "$OMNICAT_REL" "${@:2}" ;;
	esac
	if [ "$limit" = 0 ]; then
		"$@" <"$in" >"$name.out" 2>"$name.err" &
	else
		timeout -k 5 "$limit" "$@" <"$in" >"$name.out" 2>"$name.err" &
	fi
	local pid=$!
	echo "$pid" >".pid.$name"
	_BG_PIDS+=("$pid")
}
bg() {
	local name=$1
	shift
	_bg_start "$name" "$T_BG" "$@"
}

# bg_direct NAME CMD...: like bg, without the timeout wrapper, so signals reach CMD itself
# (it is killed at the end of the test at the latest).
bg_direct() {
	local name=$1
	shift
	_bg_start "$name" 0 "$@"
}

pid_of() { cat ".pid.$1"; }

# cmd_pid NAME: the pid of the command itself (bg runs it under timeout, whose child it is).
cmd_pid() {
	local p
	p=$(pid_of "$1")
	pgrep -P "$p" 2>/dev/null | head -1 || true
}

# has_inotify NAME: the background command NAME has an inotify instance open (it is watching).
has_inotify() {
	local p
	p=$(cmd_pid "$1")
	[ -n "$p" ] || return 1
	local f
	for f in /proc/"$p"/fd/*; do
		[[ $(readlink "$f" 2>/dev/null) == *inotify* ]] && return 0
	done
	return 1
}

# wait_exit NAME: wait for a background process; its exit status lands in $EXIT_STATUS
# (bounded: every bg process runs under timeout). Not in a $(...): the process is not a child
# of that subshell.
wait_exit() {
	EXIT_STATUS=0
	wait "$(pid_of "$1")" || EXIT_STATUS=$?
}

# expect_exit NAME N: the background process NAME ends with status N.
expect_exit() {
	wait_exit "$1"
	if [ "$EXIT_STATUS" != "$2" ]; then
		echo "---- $1 stdout:" >&2
		head -c 2000 "$1.out" >&2
		echo "---- $1 stderr:" >&2
		head -c 2000 "$1.err" >&2
		fail "$1 exited with $EXIT_STATUS, expected $2"
	fi
}

# running NAME: true while the background process runs.
running() { kill -0 "$(pid_of "$1")" 2>/dev/null; }

_kill_tree() {
	local pid=$1 sig=$2 c
	for c in $(pgrep -P "$pid" 2>/dev/null); do _kill_tree "$c" "$sig"; done
	kill -"$sig" "$pid" 2>/dev/null || true
}

_bg_cleanup() {
	local p
	set +e
	for p in "${_BG_PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null || continue
		# timeout made itself a process group leader; kill the group, and each descendant in
		# case the group was not set up yet.
		kill -TERM -- "-$p" 2>/dev/null
		_kill_tree "$p" TERM
	done
	for p in "${_BG_PIDS[@]}"; do
		local i
		for i in $(seq 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL -- "-$p" 2>/dev/null
			_kill_tree "$p" KILL
		fi
		wait "$p" 2>/dev/null
	done
}

# ---- waiting (bounded polling, never fixed sleeps) ----------------------------------------

# try_wait CMD...: poll CMD until it succeeds (POLL_MAX seconds, or $WAIT_MAX); status 1 if it
# never did.
try_wait() {
	local max=${WAIT_MAX:-$POLL_MAX}
	local n i
	n=$(awk "BEGIN{print int($max/$POLL_STEP)}")
	for ((i = 0; i < n; i++)); do
		if "$@" 2>/dev/null; then return 0; fi
		sleep "$POLL_STEP"
	done
	"$@" 2>/dev/null
}

# wait_for CMD...: like try_wait, but the test fails when time runs out.
wait_for() {
	try_wait "$@" || fail "timed out after ${WAIT_MAX:-$POLL_MAX}s waiting for: $*"
}

# Port is in LISTEN state (TCP, v4 or v6) — checked in /proc, so no probe connection is made
# (a probe would be a peer of the server under test).
tcp_listening() {
	awk -v p="$(printf ':%04X' "$1")" \
		'substr($2, length($2) - 4) == p && $4 == "0A" { f = 1 } END { exit !f }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}

udp_bound() {
	awk -v p="$(printf ':%04X' "$1")" \
		'substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
		/proc/net/udp /proc/net/udp6 2>/dev/null
}

# A unix socket at PATH is listening (SO_ACCEPTCON in /proc/net/unix).
unix_listening() {
	awk -v p="$1" '$NF == p && $4 == "00010000" { f = 1 } END { exit !f }' /proc/net/unix
}

wait_port() { wait_for tcp_listening "$1"; }
wait_udp_port() { wait_for udp_bound "$1"; }
wait_unix() { wait_for unix_listening "$1"; }
wait_file() { wait_for test -e "$1"; }

# wait_line FILE REGEX: FILE has a line matching the (grep -E) REGEX.
wait_line() { wait_for grep -qE -- "$2" "$1"; }

# wait_lines FILE N: FILE has at least N lines.
_has_lines() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }
wait_lines() { wait_for _has_lines "$1" "$2"; }

# wait_size FILE N: FILE has at least N bytes.
_has_size() { [ -f "$1" ] && [ "$(stat -c %s "$1")" -ge "$2" ]; }
wait_size() { wait_for _has_size "$1" "$2"; }

# wait_gone NAME: background process NAME has ended.
_gone() { ! running "$1"; }
wait_gone() { wait_for _gone "$1"; }

# ---- ports --------------------------------------------------------------------------------

# free_port: a port that is free for both TCP and UDP on 127.0.0.1, chosen by the kernel.
free_port() {
	"$PY" - <<'EOF'
import socket
for _ in range(50):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close()
        continue
    u.close()
    t.close()
    print(port)
    break
EOF
}

# ---- assertions ---------------------------------------------------------------------------

# assert_eq WANT GOT [WHAT]
assert_eq() {
	[ "$1" = "$2" ] || fail "${3:-value}: expected '$1', got '$2'"
}

# assert_file_eq FILE_WANT FILE_GOT: byte equality, showing a diff when small.
assert_file_eq() {
	if ! cmp -s "$1" "$2"; then
		diff <(head -c 4000 "$1" | od -c | head -40) <(head -c 4000 "$2" | od -c | head -40) >&2 || true
		echo "sizes: $(stat -c %s "$1" 2>/dev/null) and $(stat -c %s "$2" 2>/dev/null); $(cmp "$1" "$2" 2>&1 | head -1)" >&2
		fail "'$2' differs from '$1'"
	fi
}

# assert_content FILE TEXT: FILE holds exactly TEXT (printf %s, so add \n yourself).
assert_content() {
	local want
	want=$(mktemp -p .)
	printf '%s' "$2" >"$want"
	assert_file_eq "$want" "$1"
	rm -f "$want"
}

# assert_grep FILE REGEX / assert_no_grep FILE REGEX (grep -E)
assert_grep() {
	grep -qE -- "$2" "$1" || {
		echo "---- $1:" >&2
		head -c 2000 "$1" >&2
		fail "'$1' has no line matching '$2'"
	}
}
assert_no_grep() {
	! grep -qE -- "$2" "$1" || {
		echo "---- $1:" >&2
		head -c 2000 "$1" >&2
		fail "'$1' has a line matching '$2'"
	}
}

assert_empty() {
	[ ! -s "$1" ] || {
		echo "---- $1:" >&2
		head -c 2000 "$1" >&2
		fail "'$1' is not empty"
	}
}

# assert_one_line FILE: a git-style error: exactly one line, starting with "omnicat: ".
assert_one_line_error() {
	local n
	n=$(wc -l <"$1")
	[ "$n" = 1 ] || {
		cat "$1" >&2
		fail "'$1' has $n lines, expected one error line"
	}
	assert_grep "$1" '^omnicat: '
}

# ---- MQTT brokers -------------------------------------------------------------------------

# make_ca NAME [SAN]: a test CA (NAME-ca.pem, NAME-ca.key) and a certificate it signed
# (NAME.pem, NAME.key) for SAN, by default localhost and 127.0.0.1 (CN localhost).
make_ca() {
	local san=${2:-DNS:localhost,IP:127.0.0.1}
	require_peer openssl
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1-ca.key" -out "$1-ca.pem" -days 2 \
		-subj "/CN=$1 test CA" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj /CN=localhost 2>/dev/null
	printf 'subjectAltName=%s\n' "$san" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$1-ca.pem" -CAkey "$1-ca.key" -CAcreateserial \
		-out "$1.pem" -days 2 -extfile "$1.ext" 2>/dev/null
}

# start_mosquitto NAME [CONFIG LINE...]: a mosquitto broker listening on a free 127.0.0.1 port
# ($MQ_PORT), its configuration in NAME.conf, its log in NAME.err. Anonymous clients are allowed
# unless a line says otherwise; the lines given come after the first listener's, so they may
# set its options (password_file, cafile...) or add listeners. It runs as root (`user root`):
# the files a configuration names live in the test's private directory.
start_mosquitto() {
	local name=$1 l
	shift
	require_peer mosquitto
	MQ_PORT=$(free_port)
	{
		echo "user root"
		echo "log_dest stderr"
		echo "log_type error"
		echo "log_type warning"
		echo "log_type notice"
		echo "log_type information"
		echo "log_type subscribe"
		echo "listener $MQ_PORT 127.0.0.1"
		echo "allow_anonymous true"
		for l in "$@"; do echo "$l"; done
	} >"$name.conf"
	mosquitto_again "$name" "$name"
}

# mosquitto_again CONF NAME: start mosquitto again with CONF.conf (same ports, same
# persistence) as background process NAME; wait until every listener listens.
mosquitto_again() {
	local p
	bg "$2" mosquitto -c "$1.conf"
	for p in $(awk '$1 == "listener" { print $2 }' "$1.conf"); do wait_port "$p"; done
}

# mq_subscribed NAME CLIENT FILTER [N]: broker NAME's log says CLIENT subscribed to FILTER
# (N times, for a client that subscribed again).
_mq_subs() { [ "$(grep -cE -- "$2" "$1")" -ge "$3" ]; }
mq_subscribed() {
	local f
	f=$(printf '%s' "$3" | sed 's/[][\.*^$+?(){}|]/\\&/g')
	wait_for _mq_subs "$1.err" ": $2 [0-2] $f\$" "${4:-1}"
}

# ---- CoAP servers (libcoap's examples, Debian's libcoap3-bin) -------------------------------

# coap_answers PORT: a CoAP server on 127.0.0.1:PORT (UDP) answers a GET of
# /.well-known/core (one bounded try).
coap_answers() {
	timeout 5 coap-client-notls -B 1 -m get "coap://127.0.0.1:$1/.well-known/core" 2>/dev/null |
		grep -q '</time>'
}

# start_coap_server NAME [ARGS...]: coap-server-notls (background process NAME) on a free
# 127.0.0.1 port, UDP and TCP ($COAP_PORT), with ARGS (-d N: up to N resources created by PUT;
# -v 7: every PDU it receives in NAME.err); returns once it answers. $COAP_URL is
# coap://127.0.0.1:$COAP_PORT. It serves /time (observable, changes every second; ?ticks or a
# FETCH of "ticks": seconds), /async?N (answers "done" after N s), /example_data (PUT
# replaces it) and, with -d, dynamic resources (PUT/POST create them, GET and Observe read
# them, DELETE removes them; they keep the Content-Format they were written with).
start_coap_server() {
	local name=$1
	shift
	require_peer coap-server-notls coap-client-notls
	COAP_PORT=$(free_port)
	COAP_URL=coap://127.0.0.1:$COAP_PORT
	bg "$name" coap-server-notls -A 127.0.0.1 -p "$COAP_PORT" "$@"
	wait_udp_port "$COAP_PORT"
	wait_for coap_answers "$COAP_PORT"
}

# free_port_pair: a port P such that P and P+1 are both free (TCP and UDP) on 127.0.0.1.
free_port_pair() {
	"$PY" - <<'EOF2'
import socket
def free(p):
    socks = []
    try:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, kind)
            socks.append(s)
            s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()
for _ in range(200):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    p = t.getsockname()[1]
    t.close()
    if p < 65535 and free(p) and free(p + 1):
        print(p)
        break
EOF2
}

# start_coaps_server NAME [ARGS...]: coap-server-openssl (background process NAME) with ARGS
# (-k KEY -h HINT for PSK; -c/-j/-C for certificates): plain CoAP on $COAP_PORT (UDP and
# TCP), DTLS and TLS on $COAPS_PORT ($COAP_PORT + 1); returns once both are there.
# $COAPS_URL is coaps://127.0.0.1:$COAPS_PORT.
start_coaps_server() {
	local name=$1
	shift
	require_peer coap-server-openssl coap-client-notls
	COAP_PORT=$(free_port_pair)
	COAPS_PORT=$((COAP_PORT + 1))
	COAP_URL=coap://127.0.0.1:$COAP_PORT
	COAPS_URL=coaps://127.0.0.1:$COAPS_PORT
	bg "$name" coap-server-openssl -A 127.0.0.1 -p "$COAP_PORT" "$@"
	wait_udp_port "$COAP_PORT"
	wait_udp_port "$COAPS_PORT"
	wait_port "$COAPS_PORT"
	wait_for coap_answers "$COAP_PORT"
}

# coap_get URL [coap-client ARGS...]: the payload a GET of URL by coap-client-notls gets, as
# is (-o /dev/stdout: printed to a terminal it would get a newline added), bounded. An error
# answer ("4.04 Not Found") goes to stderr, and its status is 0 all the same.
coap_get() {
	local url=$1
	shift
	timeout 20 coap-client-notls -B 10 -m get -o /dev/stdout "$@" "$url"
}
