#!/usr/bin/env bash
# tests/demo.sh - `make demo`: one pipeline on loopback through six kinds of endpoint.
#
#   stdin --pub--> dir: spool --sub--> tcp server, one `tr a-z A-Z` child per connection
#         --client--> stdout | pub --> udp --relay--> file: log --sub--> stdout
#
# Usage: tests/demo.sh [./omnicat]. Needs nothing but the binary and coreutils. Listeners
# use port 0 and report the port the kernel chose (-v); every wait is bounded polling, every
# omnicat has its own --timeout, and background processes are stopped on exit. Exits 0 only
# when what came out is what went in, upper-cased and in order.
set -u

OMNICAT=${1:-./omnicat}
case $OMNICAT in */*) OMNICAT=$(cd "$(dirname "$OMNICAT")" && pwd)/$(basename "$OMNICAT") ;; esac
[ -x "$OMNICAT" ] || { echo "demo: '$OMNICAT' is not an executable (run make first)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/omnicat-demo.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$WORK" || exit 1

oc() { "$OMNICAT" "$@"; }
if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B= N=; fi
step() { printf '\n%s%s%s\n' "$B" "$*" "$N"; }
show() { sed 's/^/    /' "$@"; }
run() { printf '  $ %s\n' "$*"; }
die() {
	echo "demo: FAILED: $*" >&2
	exit 1
}

# wait_port FILE: the port a listener started with -v reported in FILE (stderr), within 10 s.
wait_port() {
	local i port
	for i in $(seq 200); do
		port=$(sed -nE "s/.*listening on '[^']*:([0-9]+)'.*/\1/p" "$1" 2>/dev/null | head -1)
		[ -n "$port" ] && { echo "$port"; return 0; }
		sleep 0.05
	done
	return 1
}
# wait_gone PID: the process has ended, within 10 s.
wait_gone() {
	local i
	for i in $(seq 200); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

echo "omnicat demo: messages through a spool directory, a TCP service that runs a child per"
echo "connection, UDP datagrams and a file, all on 127.0.0.1 (work dir $WORK)"

step "1. Queue three messages in a spool directory (one file per message)"
mkdir spool
run "printf 'hello\\nomnicat\\nworld\\n' | omnicat pub dir:spool -m 10"
printf 'hello\nomnicat\nworld\n' | oc pub dir:spool -m 10 || die "pub dir:spool failed"
ls spool | show
[ "$(ls spool | wc -l)" = 3 ] || die "expected 3 files in the spool"

step "2. A TCP service: each connection gets its own child process (like ncat -e)"
run "omnicat server tcp://127.0.0.1:0 --exec 'tr a-z A-Z' -v -m 30 &"
oc server tcp://127.0.0.1:0 --exec 'tr a-z A-Z' -v -m 30 2>server.err &
PIDS+=($!)
SERVER=$!
TCP_PORT=$(wait_port server.err) || die "the server did not start: $(cat server.err)"
echo "    listening on 127.0.0.1:$TCP_PORT (port 0: the kernel chose)"

step "3. A relay from UDP datagrams to a file, ending after 3 messages"
run "omnicat relay udp-listen://127.0.0.1:0 file:log.txt -c 3 -v -m 30 &"
oc relay udp-listen://127.0.0.1:0 file:log.txt -c 3 -v -m 30 2>relay.err &
PIDS+=($!)
RELAY=$!
UDP_PORT=$(wait_port relay.err) || die "the relay did not start: $(cat relay.err)"
echo "    listening on 127.0.0.1:$UDP_PORT"

step "4. Drain the spool through the TCP service, and send what comes back as datagrams"
run "omnicat sub dir:spool -m 10 | omnicat client tcp://127.0.0.1:$TCP_PORT -m 10 |"
printf '      %s\n' "omnicat pub udp://127.0.0.1:$UDP_PORT -m 10"
oc sub dir:spool -m 10 | oc client tcp://127.0.0.1:"$TCP_PORT" -m 10 | oc pub udp://127.0.0.1:"$UDP_PORT" -m 10
st=("${PIPESTATUS[@]}")
[ "${st[*]}" = "0 0 0" ] || die "pipeline exit statuses: ${st[*]} (expected 0 0 0)"
echo "    exit statuses: ${st[*]}; spool now holds $(ls spool | wc -l) files"
[ -z "$(ls -A spool)" ] || die "the spool is not empty: $(ls -A spool)"

step "5. The relay counted 3 messages and ended by itself"
wait_gone "$RELAY" || die "the relay is still running: $(cat relay.err)"
wait "$RELAY"
rc=$?
[ "$rc" = 0 ] || die "relay exited with $rc: $(cat relay.err)"
echo "    relay exit status: $rc (-c reached)"
echo "    what the relay saw (-v):"
show relay.err

step "6. Read the log back, with the metadata of each message"
run "omnicat sub file:log.txt --format '%S bytes: %s\\n' -m 10"
oc sub file:log.txt --format '%S bytes: %s\n' -m 10 | show
printf 'HELLO\nOMNICAT\nWORLD\n' >want.txt
cmp -s want.txt log.txt || die "log.txt is not what was expected:$(echo; od -c log.txt | head)"

step "7. Stop the server with SIGTERM: it closes cleanly and exits 128+15"
kill -TERM "$SERVER"
wait_gone "$SERVER" || die "the server did not stop"
wait "$SERVER"
rc=$?
echo "    server exit status: $rc"
echo "    what the server saw (-v):"
show server.err
[ "$rc" = 143 ] || die "server exited with $rc, expected 143"

echo
echo "demo: ok - 3 messages went stdin -> dir -> tcp -> exec -> tcp -> udp -> file -> stdout"
