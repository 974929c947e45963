#!/usr/bin/env bash
# t0900-docs — the man page and the three completion files cover everything the binary has:
# every option of `omnicat --list-options`, every command of `omnicat --help`, every built-in
# scheme of `omnicat --version` and every exit code. A flag added to the option table and
# not to man/omnicat.1 or to one of completions/ fails here (git's t0450 idea).
#
# The checks are structural, not just "the string occurs somewhere": an option must be an
# entry (a .TP tag) of COMMON OPTIONS, written with its short letter ("-c, --count"); in the
# completion files it must be in the option list with its short letter beside it. bash's
# completion is also run, and must offer each command exactly the options `omnicat help CMD`
# lists. zsh and fish are checked when installed (never required).
. "$(dirname "$0")/lib.sh"

MAN=$ROOT/man/omnicat.1
BASH_C=$ROOT/completions/omnicat.bash
ZSH_C=$ROOT/completions/_omnicat
FISH_C=$ROOT/completions/omnicat.fish
README=$ROOT/README.md

# ---- what the binary says ------------------------------------------------------------------

# Long options, one per line, each followed by its short letter ("--count -c") when it has one.
option_pairs() {
	oc --list-options | awk '
		/^--/ { if (l != "") print l; l = $0; next }
		/^-.$/ { print l " " $0; l = ""; next }
		END { if (l != "") print l }'
}
commands() { oc --help | awk '/^Commands:/ { f = 1; next } f && /^$/ { exit } f { print $1 }'; }
schemes() {
	oc --version | awk '/^Schemes:/ { f = 1; next } /^[^ ]/ { f = 0 } f { for (i = 1; i <= NF; i++) print $i }'
}
exit_codes() { oc --help | awk '/^Exit status:/ { f = 1; next } f && /^$/ { exit } f { print $1 }'; }
# Options a command takes, short and long, one per line, sorted.
help_options() {
	oc help "$1" | sed -nE 's/^ +(-([A-Za-z0-9]), )?(--[a-z0-9.-]+).*/\2 \3/p' |
		tr ' ' '\n' | sed '/^$/d; s/^[A-Za-z0-9]$/-&/' | sort -u
}

# A scheme name as an ERE matching it literally ("sse+https" has a '+').
ere() { printf '%s' "$1" | sed 's/[][\\.^$*+?(){}|]/\\&/g'; }

# ---- the man page's entries ---------------------------------------------------------------

# Every .TP tag of the man page as "SECTION<TAB>TEXT", TEXT as roff renders it: fonts and
# quotes gone, \- as -, the arguments of alternating-font macros (.BR, .BI...) joined.
man_tags() {
	awk '
	function unquote(s,   out, i, c, q, args, n) {
		n = 0; q = 0; out = ""
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "\"") { q = !q; continue }
			if (c == " " && !q) { if (out != "") args[++n] = out; out = ""; continue }
			out = out c
		}
		if (out != "") args[++n] = out
		out = ""
		for (i = 1; i <= n; i++) out = out (alt || i == 1 ? "" : " ") args[i]
		return out
	}
	function clean(s) {
		gsub(/\\f[BIRP]/, "", s); gsub(/\\-/, "-", s); gsub(/\\\(aq/, "\047", s)
		gsub(/\\&/, "", s); gsub(/\\e/, "\\", s)
		return s
	}
	/^\.\\"/ { next }
	/^\.SH / { sec = substr($0, 5); gsub(/"/, "", sec); next }
	/^\.TP/ { tp = 1; next }
	tp {
		tp = 0; line = $0
		if (line ~ /^\.(BR|BI|IB|IR|RI|RB) /) { alt = 1; line = substr(line, 5) }
		else if (line ~ /^\.(B|I) /) { alt = 0; line = substr(line, 4) }
		else alt = 0
		print sec "\t" clean(unquote(line))
	}' "$MAN"
}

# missing_report WHAT LIST: fail naming what is missing (LIST: newline-separated).
report_missing() {
	[ -z "$2" ] || fail "$1 missing: $(echo $2)"
}

# same_set WHAT WANT_WHAT: the sorted files want and got hold the same lines.
same_set() {
	local lacks extra
	lacks=$(comm -23 want got | tr '\n' ' ')
	extra=$(comm -13 want got | tr '\n' ' ')
	[ -z "$lacks$extra" ] || fail "$1: lacks [ $lacks] of $2; offers extra [ $extra]"
}

# ---- tests ---------------------------------------------------------------------------------

t_lint() {
	require_peer mandoc
	local out rc=0
	out=$(mandoc -T lint "$MAN" 2>&1) || rc=$?
	[ -z "$out" ] && [ "$rc" = 0 ] || fail "mandoc -T lint (status $rc): $out"
}
run_test "man page: mandoc -T lint is silent" t_lint

t_man_options() {
	man_tags | awk -F'\t' '$1 == "COMMON OPTIONS" { print $2 }' >tags
	[ -s tags ] || fail "no option entries found in $MAN"
	local long short missing=
	while read -r long short; do
		if [ -n "$short" ]; then
			grep -qE -- "^$short, $long( |\$)" tags || missing+="$short,$long"$'\n'
		else
			grep -qE -- "^$long( |\$)" tags || missing+="$long"$'\n'
		fi
	done < <(option_pairs)
	report_missing "COMMON OPTIONS entries" "$missing"
}
run_test "man page: an entry for every option of --list-options, with its short letter" t_man_options

t_man_rest() {
	man_tags >tags
	local c s e missing=
	for c in $(commands); do
		awk -F'\t' '$1 == "COMMANDS" { print $2 }' tags | grep -qE -- "^$c( |\$)" ||
			missing+="command:$c"$'\n'
	done
	for s in $(schemes); do
		awk -F'\t' '$1 == "URL SCHEMES" { print $2 }' tags | grep -qE -- "(^|, )$(ere "$s"):" ||
			missing+="scheme:$s"$'\n'
	done
	for e in $( { exit_codes; echo 128+N; } | sort -u); do
		awk -F'\t' '$1 == "EXIT STATUS" { print $2 }' tags | grep -qxF -- "$e" ||
			missing+="exit:$e"$'\n'
	done
	report_missing "man page entries" "$missing"
	[ "$(commands | wc -l)" -ge 6 ] || fail "omnicat --help lists too few commands"
	[ "$(schemes | wc -l)" -ge 11 ] || fail "omnicat --version lists too few schemes"
	[ "$(exit_codes | wc -l)" -ge 14 ] || fail "omnicat --help lists too few exit codes"
}
run_test "man page: an entry for every command, built-in scheme and exit code" t_man_rest

# check_completion FILE PAIR_RE LONG_RE CMD_RE SCHEME_RE: each *_RE is an ERE with @L (long
# option), @S (short option), @C (command) or @N (scheme) to fill in. Comment lines are ignored.
check_completion() {
	local file=$1 pair_re=$2 long_re=$3 cmd_re=$4 scheme_re=$5
	grep -vE '^[[:space:]]*#' "$file" >body
	local long short c s re missing=
	while read -r long short; do
		if [ -n "$short" ]; then
			re=${pair_re//@L/$long}
			re=${re//@S/$short}
			grep -qE -- "$re" body || missing+="$short,$long"$'\n'
		else
			re=${long_re//@L/$long}
			grep -qE -- "$re" body || missing+="$long"$'\n'
		fi
	done < <(option_pairs)
	for c in $(commands); do
		grep -qE -- "${cmd_re//@C/$c}" body || missing+="command:$c"$'\n'
	done
	for s in $(schemes); do
		grep -qE -- "${scheme_re//@N/$(ere "$s")}" body || missing+="scheme:$s"$'\n'
	done
	report_missing "$(basename "$file"):" "$missing"
}

t_bash_words() {
	check_completion "$BASH_C" \
		"^_omnicat_opts_[a-z]+=.*['[:blank:]]@S[[:blank:]]+@L(['[:blank:]]|\$)|^[[:blank:]]+(.* )?@S[[:blank:]]+@L(['[:blank:]]|\$)" \
		"^(_omnicat_opts_[a-z]+=.*|[[:blank:]]+.*)['[:blank:]]@L(['[:blank:]]|\$)" \
		"^_omnicat_commands='(.* )?@C( .*)?'" \
		"^_omnicat_schemes='(.* )?@N:"
}
run_test "bash completion: every option (with its short letter), command and scheme" t_bash_words

t_zsh_words() {
	check_completion "$ZSH_C" \
		"\{@S\+?,@L=?\}" \
		"'(\([^)]*\))?\*?@L=?\[" \
		"^[[:blank:]]+'@C:" \
		"^[[:blank:]]+'@N\\\\:"
}
run_test "zsh completion: every option (with its short letter), command and scheme" t_zsh_words

t_fish_words() {
	check_completion "$FISH_C" \
		"^__omnicat_opt @S @L( |\$)" \
		"^__omnicat_opt '' @L( |\$)" \
		"-a @C -d " \
		"^[[:blank:]]+@N:(//)? '"
}
run_test "fish completion: every option (with its short letter), command and scheme" t_fish_words

# bash: run the completion function as readline would, for each command.
bash_complete() {
	cat >complete.bash <<'EOF'
. "$1"
COMP_WORDBREAKS=$' \t\n"\'><=;|&(:'
COMP_LINE=$2
COMP_POINT=${#COMP_LINE}
_omnicat
printf '%s\n' "${COMPREPLY[@]}"
EOF
	bash complete.bash "$BASH_C" "$1"
}

t_bash_run() {
	bash -n "$BASH_C" || fail "bash -n $BASH_C"
	local c line
	for c in client server pub sub relay repl; do
		line="omnicat $c x -"
		[ "$c" = relay ] && line="omnicat relay x y -"
		help_options "$c" >want
		bash_complete "$line" | sort -u >got
		same_set "bash: '$line<Tab>'" "omnicat help $c"
	done
	bash_complete "omnicat " >got
	for c in $(commands); do grep -qx -- "$c" got || fail "'omnicat <Tab>' lacks $c"; done
	bash_complete "omnicat sub " >got
	for c in $(schemes); do grep -qE -- "^$(ere "$c"):" got || fail "'omnicat sub <Tab>' lacks $c"; done
	bash_complete "omnicat sub x --framing " | sort >got
	printf '%s\n' csv jsonl len32 line nul raw >want
	same_set "bash: --framing <Tab>" "the framings"
}
run_test "bash completion runs and offers each command exactly the options its help lists" t_bash_run

t_fish_run() {
	command -v fish >/dev/null || skip "fish is not installed"
	fish -n "$FISH_C" || fail "fish -n $FISH_C"
	local c line
	for c in client server pub sub relay repl; do
		line="omnicat $c x -"
		[ "$c" = relay ] && line="omnicat relay x y -"
		help_options "$c" >want
		fish -c "source '$FISH_C'; complete -C '$line'" | cut -f1 | sort -u >got
		same_set "fish: '$line<Tab>'" "omnicat help $c"
	done
}
run_test "fish completion parses and offers each command exactly the options its help lists" t_fish_run

t_zsh_parse() {
	command -v zsh >/dev/null || skip "zsh is not installed"
	zsh -n "$ZSH_C" || fail "zsh -n $ZSH_C"
	head -1 "$ZSH_C" | grep -qx '#compdef omnicat' || fail "$ZSH_C does not start with #compdef omnicat"
}
run_test "zsh completion parses" t_zsh_parse

t_readme() {
	local e missing=
	[ -f "$README" ] || fail "no $README"
	for e in $( { exit_codes; echo 128+N; } | sort -u); do
		grep -qE "^\| *\`?${e//+/\\+}\`? *\|" "$README" || missing+="$e"$'\n'
	done
	report_missing "README exit-code rows" "$missing"
	grep -q 'make demo' "$README" || fail "README lacks 'make demo'"
	grep -q 'make test' "$README" || fail "README lacks 'make test'"
}
run_test "README: both set-up commands and every exit code" t_readme

done_testing
