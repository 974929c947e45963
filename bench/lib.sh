# bench/lib.sh — shared helpers for the benchmarks (sourced, not run).
#
# Benchmarks print figures and ratios; they never pass or fail on time. A benchmark exits
# non-zero only when it could not measure (a tool missing, a transfer that lost bytes).
#
# Provides:
#   bench_init NAME             temp folder ($BENCH_TMP), cleanup trap, $OMNICAT, blast helper
#   bench_track PID...          kill these at exit if still running
#   bench_free_port VAR         set VAR to an unused loopback TCP port
#   bench_wait_port PORT [S]    wait (bounded, default 10 s) until something listens on PORT
#   bench_now                   wall-clock seconds with nanoseconds (date +%s.%N)
#   bench_rss_watch PID         poll /proc/PID/status VmHWM in the background
#   bench_rss_peak PID          stop watching; BENCH_RSS = the peak RSS seen, in KiB
#   bench_stop PID              SIGTERM, wait (bounded), SIGKILL if needed
#   bench_wait_exit PID [S]     wait (bounded) for a child to exit; its status
#   bench_kv LINE KEY           the value of KEY in a "k=v k=v" line
#   bench_median N...           median of numbers
#   bench_machine               one line: CPU model, nproc, kernel, memory
#   bench_md_row CELLS...       append a Markdown table row to $BENCH_MD (if set)
#
# Environment: OMNICAT (binary, default ./omnicat next to bench/), BENCH_RUNS (runs per
# contender), BENCH_MD (file that collects Markdown rows for bench/run), BENCH_KEEP=1 (keep the
# generated data files in /dev/shm between invocations).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_ROOT=$(dirname "$BENCH_DIR")
: "${OMNICAT:=$BENCH_ROOT/omnicat}"
: "${BENCH_RUNS:=3}"
: "${BENCH_DATA:=/dev/shm/omnicat-bench}"
BENCH_TMP=
BENCH_PIDS=()
BENCH_PORTS_USED=" "
declare -A BENCH_RSS_POLLER=()

bench_log() { printf '%s\n' "$*" >&2; }
bench_die() {
	printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2
	exit 1
}

bench_need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || bench_die "needs '$t' (apt-get install $(bench_pkg_of "$t"))"
	done
}

bench_pkg_of() {
	case $1 in
	cc) echo gcc ;;
	socat) echo socat ;;
	iperf3) echo iperf3 ;;
	*) echo "$1" ;;
	esac
}

bench_track() { BENCH_PIDS+=("$@"); }

bench_cleanup() {
	local pid
	for pid in "${BENCH_RSS_POLLER[@]}" "${BENCH_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${BENCH_RSS_POLLER[@]}" "${BENCH_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	[ -n "$BENCH_TMP" ] && rm -rf "$BENCH_TMP"
	if [ "${BENCH_KEEP:-0}" != 1 ] && [ -n "${BENCH_OWN_DATA:-}" ]; then
		rm -f $BENCH_OWN_DATA
		rmdir "$BENCH_DATA" 2>/dev/null
	fi
	return 0
}

# bench_init NAME: set up the temp folder, traps and the blast helper ($BLAST).
bench_init() {
	BENCH_NAME=$1
	bench_need cc socat date awk
	[ -x "$OMNICAT" ] || bench_die "no omnicat binary at $OMNICAT (run make)"
	BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/omnicat-bench.XXXXXX") || bench_die "mktemp failed"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	BLAST=$BENCH_TMP/blast
	cc -O2 -o "$BLAST" "$BENCH_DIR/blast.c" || bench_die "cannot build bench/blast.c"
	mkdir -p "$BENCH_DATA"
}

# Register a data file that is removed at exit unless BENCH_KEEP=1.
bench_own_data() { BENCH_OWN_DATA="${BENCH_OWN_DATA:-} $1"; }

bench_now() { date +%s.%N; }

# Listening TCP ports (decimal), from /proc/net/tcp and tcp6 (state 0A is LISTEN); with "all",
# every local port in any state. Hex converted by hand: mawk has no strtonum.
bench_ports() {
	awk -v all="${1:-}" '
	function hex(s,  i, n, c) { n = 0; s = toupper(s)
		for (i = 1; i <= length(s); i++) { c = index("0123456789ABCDEF", substr(s, i, 1)) - 1
			n = n * 16 + c }
		return n }
	FNR > 1 && (all != "" || $4 == "0A") { split($2, a, ":"); print hex(a[length(a)]) }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# bench_free_port VAR: set VAR to a loopback TCP port nothing uses (not in /proc/net/tcp*, not
# handed out before in this run). Sets a variable rather than printing: a $(...) subshell
# would lose the record of ports already handed out.
bench_free_port() {
	local -n _port_out=$1
	local used port i
	used=" $(bench_ports all | tr '\n' ' ') "
	for i in $(seq 1 200); do
		port=$((20000 + RANDOM % 40000))
		case "$used$BENCH_PORTS_USED" in *" $port "*) continue ;; esac
		BENCH_PORTS_USED="$BENCH_PORTS_USED$port "
		_port_out=$port
		return 0
	done
	bench_die "no free port found"
}

# bench_wait_port PORT [SECONDS]: poll every 20 ms until PORT listens; 1 on timeout.
bench_wait_port() {
	local port=$1 limit=${2:-10} i n
	n=$((limit * 50))
	for ((i = 0; i < n; i++)); do
		case " $(bench_ports | tr '\n' ' ') " in *" $port "*) return 0 ;; esac
		sleep 0.02
	done
	bench_log "${BENCH_NAME:-bench}: nothing listens on port $port after ${limit}s"
	return 1
}

bench_vmhwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# bench_rss_watch PID: a background poller keeps the latest VmHWM (a high-water mark, so the
# latest reading is the peak so far) in $BENCH_TMP/rss.PID.
bench_rss_watch() {
	local pid=$1 f=$BENCH_TMP/rss.$1
	: >"$f"
	(
		while kill -0 "$pid" 2>/dev/null; do
			v=$(bench_vmhwm "$pid")
			[ -n "$v" ] && echo "$v" >"$f.new" && mv -f "$f.new" "$f"
			sleep 0.05
		done
	) &
	BENCH_RSS_POLLER[$pid]=$!
}

# bench_rss_peak PID: read once more (if alive), stop the poller; sets BENCH_RSS to the peak
# in KiB (or "?"). Not a $(...) function: the poller is a child of this shell.
bench_rss_peak() {
	local pid=$1 f=$BENCH_TMP/rss.$1 v
	v=$(bench_vmhwm "$pid")
	if [ -n "${BENCH_RSS_POLLER[$pid]:-}" ]; then
		kill "${BENCH_RSS_POLLER[$pid]}" 2>/dev/null
		wait "${BENCH_RSS_POLLER[$pid]}" 2>/dev/null
		unset "BENCH_RSS_POLLER[$pid]"
	fi
	[ -z "$v" ] && v=$(cat "$f" 2>/dev/null)
	BENCH_RSS=${v:-?}
}

# bench_wait_exit PID [SECONDS]: wait for a child of this shell, bounded (default 120 s);
# prints nothing, returns its status, or 124 after killing it on timeout.
bench_wait_exit() {
	local pid=$1 limit=${2:-120} i n
	n=$((limit * 20))
	for ((i = 0; i < n; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		bench_log "${BENCH_NAME:-bench}: pid $pid still running after ${limit}s; killing it"
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid" 2>/dev/null
}

bench_stop() {
	local pid=$1
	kill -0 "$pid" 2>/dev/null || {
		wait "$pid" 2>/dev/null
		return 0
	}
	kill -TERM "$pid" 2>/dev/null
	bench_wait_exit "$pid" 5 >/dev/null 2>&1
	return 0
}

# bench_kv "k=v k2=v2" k2 → v2
bench_kv() {
	local kv
	for kv in $1; do
		[ "${kv%%=*}" = "$2" ] && {
			echo "${kv#*=}"
			return 0
		}
	done
	echo ""
}

bench_median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "?"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_calc EXPR: floating-point arithmetic via awk, e.g. bench_calc "1e9 / 2.5"
bench_calc() { awk "BEGIN { printf \"%.6g\n\", $1 }"; }
bench_fmt() { awk -v v="$2" "BEGIN { printf \"$1\", v }"; }

bench_kib_to_mib() {
	case $1 in
	'' | '?') echo "?" ;;
	*) awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }' ;;
	esac
}

bench_machine() {
	local cpu mem
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	mem=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
	echo "${cpu:-unknown CPU}, $(nproc) CPUs, $mem RAM, Linux $(uname -r)"
}

bench_md_row() {
	[ -n "${BENCH_MD:-}" ] || return 0
	local row="|" c
	for c in "$@"; do row="$row $c |"; done
	echo "$row" >>"$BENCH_MD"
}
