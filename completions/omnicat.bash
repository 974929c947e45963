# completions/omnicat.bash - bash completion for omnicat.
#
# Static on purpose (no omnicat run per <Tab>): when an option, command or scheme is added to
# the tables in core/options.c, cmd/main.c or proto-adapters/registry.c, add it here too.
# tests/e2e/t0900-docs.sh fails until every one of `omnicat --list-options` is here.
#
# Works with or without the bash-completion package: the current word is taken from
# COMP_LINE, so URLs with ':' (file:/x, tcp://h:p) and --opt=value complete as one word.

_omnicat_commands='client server pub sub relay help'
_omnicat_framings='line raw nul len32 jsonl csv'
# Built-in schemes, as their URL prefixes.
_omnicat_schemes='- stdio: tcp:// tcp-listen:// udp:// udp-listen:// unix: unix-listen: fifo: exec: file: dir:'

# Options every command takes (core table, then adapter options: file, fifo, dir).
_omnicat_opts_all='-c --count -o --output -m --timeout --idle --connect-timeout -v --verbose
	-s --silent -S --show-error --trace --framing --jsonl --format --reconnect --opt
	-4 --ipv4 -6 --ipv6 -h --help --follow --keep'
# Options only some commands take.
_omnicat_opts_data='-d --data'            # client, pub
_omnicat_opts_exec='--exec --exec-shell'  # client, server
_omnicat_opts_echo='--echo'               # server

# Options that take a value (the next word).
_omnicat_valued='-c|--count|-d|--data|-o|--output|-m|--timeout|--idle|--connect-timeout|--framing|--format|--exec|--exec-shell|--opt|--keep'

# Remove from every COMPREPLY entry the part of $1 that readline does not replace (up to the
# last COMP_WORDBREAKS character, such as ':' or '='), as bash-completion's
# __ltrim_colon_completions does.
_omnicat_trim() {
	local full=$1 pre= i
	for ((i = ${#full} - 1; i >= 0; i--)); do
		if [[ $COMP_WORDBREAKS == *"${full:i:1}"* ]]; then
			pre=${full:0:i+1}
			break
		fi
	done
	[[ -n $pre ]] || return 0
	for i in "${!COMPREPLY[@]}"; do
		COMPREPLY[i]=${COMPREPLY[i]#"$pre"}
	done
}

# Files (or, with -d, directories) under $2, each prefixed with $1; directories get a '/'.
_omnicat_paths() {
	local prefix=$1 path=$2 kind=${3:--f} f
	local IFS=$'\n'
	for f in $(compgen "$kind" -- "$path"); do
		[[ -d $f ]] && f+=/
		COMPREPLY+=("$prefix$f")
	done
	compopt -o nospace 2>/dev/null
}

_omnicat_url() {
	local cur=$1 s
	case $cur in
	file:* | dir:* | fifo:* | unix:* | unix-listen:*)
		_omnicat_paths "${cur%%:*}:" "${cur#*:}"
		return
		;;
	exec:*)
		local IFS=$'\n'
		COMPREPLY=($(compgen -c -- "${cur#exec:}" | sort -u | sed 's/^/exec:/'))
		return
		;;
	esac
	for s in $_omnicat_schemes; do
		[[ $s == "$cur"* ]] && COMPREPLY+=("$s")
	done
	compopt -o nospace 2>/dev/null
}

_omnicat() {
	COMPREPLY=()
	# Words up to the cursor, split on blanks only (no quoting support).
	local line=${COMP_LINE:0:COMP_POINT}
	local -a w
	read -r -a w <<<"$line"
	[[ $line == *[[:blank:]] ]] && w+=("")
	local n=${#w[@]} cur=${w[n - 1]} prev=
	((n >= 2)) && prev=${w[n - 2]}

	if ((n == 2)); then
		COMPREPLY=($(compgen -W "$_omnicat_commands --help --version" -- "$cur"))
		return
	fi
	local cmd=${w[1]}
	case $cmd in
	client | server | pub | sub | relay) ;;
	help)
		((n == 3)) && COMPREPLY=($(compgen -W "$_omnicat_commands" -- "$cur"))
		return
		;;
	*) return ;;
	esac

	# --opt=value forms
	if [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		local val=${cur#*=}
		case $prev in
		--framing) COMPREPLY=($(compgen -P "$prev=" -W "$_omnicat_framings" -- "$val")) ;;
		--output) _omnicat_paths "$prev=" "$val" ;;
		--keep) _omnicat_paths "$prev=" "$val" -d ;;
		--data) [[ $val == @* ]] && _omnicat_paths "$prev=@" "${val#@}" ;;
		esac
		_omnicat_trim "$cur"
		return
	fi

	case $prev in
	--framing)
		COMPREPLY=($(compgen -W "$_omnicat_framings" -- "$cur"))
		return
		;;
	-o | --output)
		_omnicat_paths "" "$cur"
		return
		;;
	--keep)
		_omnicat_paths "" "$cur" -d
		return
		;;
	-d | --data)
		[[ $cur == @* ]] && _omnicat_paths @ "${cur#@}"
		return
		;;
	--exec | --exec-shell)
		local IFS=$'\n'
		COMPREPLY=($(compgen -c -- "$cur" | sort -u))
		return
		;;
	-c | --count | -m | --timeout | --idle | --connect-timeout | --format | --opt)
		return
		;;
	esac

	# How many URLs are given so far, and how many the command takes.
	local i urls=0 want=1
	[[ $cmd == relay ]] && want=2
	for ((i = 2; i < n - 1; i++)); do
		case ${w[i]} in
		--) ;;
		--*=*) ;;
		-) urls=$((urls + 1)) ;;
		-*) [[ ${w[i]} =~ ^($_omnicat_valued)$ ]] && i=$((i + 1)) ;;
		*) urls=$((urls + 1)) ;;
		esac
	done

	if [[ $cur == -* ]]; then
		local opts=$_omnicat_opts_all
		case $cmd in
		client) opts+=" $_omnicat_opts_data $_omnicat_opts_exec" ;;
		server) opts+=" $_omnicat_opts_exec $_omnicat_opts_echo" ;;
		pub) opts+=" $_omnicat_opts_data" ;;
		esac
		# "-" alone is also a URL (stdio) while one is still needed.
		[[ $cur == - ]] && ((urls < want)) && opts="- $opts"
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	if ((urls < want)); then
		_omnicat_url "$cur"
		_omnicat_trim "$cur"
	fi
}

complete -F _omnicat omnicat
