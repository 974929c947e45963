# bench/lib.sh — shared helpers for the benchmarks (sourced, not run).
# shellcheck shell=bash
#
# Benchmarks print figures and ratios; they never pass or fail on time. A benchmark exits
# non-zero only when it could not measure (a tool missing, a transfer that lost bytes).
#
# Provides:
#   bench_init NAME             temp folder ($BENCH_TMP), cleanup trap, $OMNICAT, $BLAST helper
#   bench_track PID...          kill these at exit if still running
#   bench_free_port VAR         set VAR to an unused loopback TCP port
#   bench_wait_port PORT [S] [PID]  wait (bounded, default 10 s) until something listens on
#                               PORT; give up early if PID exits
#   bench_now                   wall-clock seconds with nanoseconds (date +%s.%N)
#   bench_rss FILE              BENCH_RSS = peak RSS in KiB, BENCH_CPU = CPU seconds of a command
#                               run by "$BLAST" run FILE
#   bench_wait_sink SINK CLIENT wait for a sink while its feeder lives (bounded)
#   bench_stop PID              SIGTERM, wait (bounded), SIGKILL if needed
#   bench_wait_exit PID [S]     wait (bounded) for a child to exit; its status
#   bench_kv LINE KEY           the value of KEY in a "k=v k=v" line
#   bench_median N...           median of numbers
#   bench_machine               one line: CPU model, nproc, kernel, memory
#   bench_md_row CELLS...       append a Markdown table row to $BENCH_MD (if set)
#   bench_md_note TEXT          a paragraph for under bench/run's table ($BENCH_MD.notes)
#   bench_children PID          the pids of a process's children
#   bench_hwm PID               VmHWM (peak RSS, KiB) of a running process, or "?"
#
# Environment: OMNICAT (binary, default ./omnicat next to bench/), BENCH_RUNS (runs per
# contender), BENCH_MD (file that collects Markdown rows for bench/run), BENCH_KEEP=1 (keep the
# generated data files in /dev/shm between invocations).

# shellcheck disable=SC2034 # BENCH_RSS, BENCH_CPU, BLAST, BENCH_NAME are for the scripts
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_ROOT=$(dirname "$BENCH_DIR")
: "${OMNICAT:=$BENCH_ROOT/omnicat}"
: "${BENCH_RUNS:=5}"
: "${BENCH_DATA:=/dev/shm/omnicat-bench}"
BENCH_TMP=
BENCH_PIDS=()
BENCH_OWN_DATA=()
BENCH_PORTS_USED=" "

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
	awk) echo mawk ;;
	date) echo coreutils ;;
	*) echo "$1" ;;
	esac
}

bench_track() { BENCH_PIDS+=("$@"); }

bench_cleanup() {
	local pid
	for pid in "${BENCH_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${BENCH_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	[ -n "$BENCH_TMP" ] && rm -rf "$BENCH_TMP"
	if [ "${BENCH_KEEP:-0}" != 1 ] && [ ${#BENCH_OWN_DATA[@]} -gt 0 ]; then
		rm -f "${BENCH_OWN_DATA[@]}"
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
	# A private copy: a rebuild during the run (make from another shell) must not change or
	# break the binary between runs.
	cp "$OMNICAT" "$BENCH_TMP/omnicat" || bench_die "cannot copy $OMNICAT"
	OMNICAT=$BENCH_TMP/omnicat
	BLAST=$BENCH_TMP/blast
	cc -O3 -march=native -o "$BLAST" "$BENCH_DIR/blast.c" 2>/dev/null ||
		cc -O2 -o "$BLAST" "$BENCH_DIR/blast.c" || bench_die "cannot build bench/blast.c"
	# Data lives in RAM (/dev/shm) so reading it costs no disk I/O; elsewhere if there is none.
	if ! mkdir -p "$BENCH_DATA" 2>/dev/null || [ ! -w "$BENCH_DATA" ]; then
		BENCH_DATA=$BENCH_TMP/data
		mkdir -p "$BENCH_DATA" || bench_die "cannot create $BENCH_DATA"
	fi
}

# Register a data file that is removed at exit unless BENCH_KEEP=1.
bench_own_data() { BENCH_OWN_DATA+=("$1"); }

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

# bench_wait_port PORT [SECONDS] [PID]: poll every 20 ms until PORT listens; 1 on timeout, or
# at once when PID (the process that should listen) is gone.
bench_wait_port() {
	local port=$1 limit=${2:-10} pid=${3:-} i n
	n=$((limit * 50))
	for ((i = 0; i < n; i++)); do
		case " $(bench_ports | tr '\n' ' ') " in *" $port "*) return 0 ;; esac
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			bench_log "${BENCH_NAME:-bench}: pid $pid exited before listening on port $port"
			return 1
		fi
		sleep 0.02
	done
	bench_log "${BENCH_NAME:-bench}: nothing listens on port $port after ${limit}s"
	return 1
}

# Peak RSS. A contender runs under `"$BLAST" run FILE CMD...`, which writes the child's
# ru_maxrss (wait4: the kernel's high-water mark, what /proc/PID/status shows as VmHWM) to FILE
# when it exits. Polling VmHWM from outside was tried first and misses short runs: a 70 ms
# `socat -u` showed 0.2 MiB (read before exec) instead of 4.5 MiB.
# bench_rss FILE: sets BENCH_RSS to the peak in KiB (or "?") and BENCH_CPU to the CPU seconds
# (user + system) the command used (or "?").
bench_rss() {
	local line v u k
	line=$(cat "$1" 2>/dev/null)
	v=$(bench_kv "$line" maxrss_kib)
	BENCH_RSS=${v:-?}
	u=$(bench_kv "$line" user_s)
	k=$(bench_kv "$line" sys_s)
	if [ -n "$u" ] && [ -n "$k" ]; then
		BENCH_CPU=$(awk -v u="$u" -v k="$k" 'BEGIN { printf "%.3f", u + k }')
	else
		BENCH_CPU="?"
	fi
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

# bench_wait_sink SINK CLIENT [SECONDS]: wait for the sink to finish while the process feeding
# it lives; once that process is gone, the sink gets 2 s more (to drain) before it is killed.
# Returns 0 when the sink finished by itself.
bench_wait_sink() {
	local sink=$1 client=$2 limit=${3:-120} i n grace=40
	n=$((limit * 20))
	for ((i = 0; i < n; i++)); do
		kill -0 "$sink" 2>/dev/null || break
		if ! kill -0 "$client" 2>/dev/null; then
			((grace-- > 0)) || break
		fi
		sleep 0.05
	done
	if kill -0 "$sink" 2>/dev/null; then
		kill -9 "$sink" 2>/dev/null
		wait "$sink" 2>/dev/null
		return 1
	fi
	wait "$sink" 2>/dev/null
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

# ---- helpers added for bench/http --------------------------------------------------------------

# bench_children PID: the pids of PID's children, one a line (from /proc/*/stat: this kernel has
# no /proc/PID/task/*/children).
bench_children() {
	local f s ppid
	for f in /proc/[0-9]*/stat; do
		s=$(cat "$f" 2>/dev/null) || continue
		# Fields after the command name (which may hold spaces and parentheses): state ppid ...
		read -r _ ppid _ <<<"${s##*) }"
		[ "$ppid" = "$1" ] && { f=${f#/proc/}; echo "${f%/stat}"; }
	done
	return 0
}

# bench_hwm PID: the peak RSS so far (VmHWM, KiB) of a running process, or "?". For processes
# that are not a direct child run by `blast run` (e.g. nginx's worker under its master).
bench_hwm() {
	local v
	v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	echo "${v:-?}"
}

# bench_md_note TEXT: a paragraph printed under bench/run's summary table (if $BENCH_MD is set).
bench_md_note() {
	[ -n "${BENCH_MD:-}" ] || return 0
	printf '%s\n' "$*" >>"$BENCH_MD.notes"
}
