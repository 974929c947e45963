# completions/omnicat.bash - bash completion for omnicat.
#
# Static on purpose (no omnicat run per <Tab>): when an option, command or scheme is added to
# the tables in core/options.c, cmd/main.c or proto-adapters/registry.c, add it here too.
# tests/e2e/t0900-docs.sh fails until every one of `omnicat --list-options` is here.
#
# Works with or without the bash-completion package: the current word is taken from
# COMP_LINE, so URLs with ':' (file:/x, tcp://h:p) and --opt=value complete as one word.

_omnicat_commands='client server pub sub relay repl help'
_omnicat_framings='line raw nul len32 jsonl csv'
# Built-in schemes, as their URL prefixes.
_omnicat_schemes='- stdio: tcp:// tcp-listen:// tls:// tls-listen:// udp:// udp-listen:// unix: unix-listen: fifo: exec: file: dir: http:// http-listen:// https:// https-listen:// ws:// ws-listen:// wss:// wss-listen:// sse:// sses:// sse+https:// sse-listen:// sses-listen:// mqtt:// mqtts:// mqtt+ws:// mqtt+wss:// coap:// coap+tcp:// coaps:// coaps+tcp:// coap-listen://'
_omnicat_methods='GET HEAD POST PUT PATCH DELETE OPTIONS'
# CoAP's methods (-X after a coap URL) and Content-Format names (--content-format, --accept).
_omnicat_coap_methods='GET POST PUT DELETE FETCH PATCH IPATCH'
_omnicat_coap_formats='text link-format xml octet-stream exi json cbor senml+json senml+cbor'

# Options every command takes (core table, then adapter options: file, fifo, dir).
_omnicat_opts_all='-m --timeout --connect-timeout -v --verbose
	-s --silent -S --show-error --trace --framing --reconnect --opt
	-4 --ipv4 -6 --ipv6 -u --user --password-file -k --insecure --cacert --cert --key
	-h --help --follow --keep'
# Options of the commands that pump (all but repl): counts, --idle and output forms.
_omnicat_opts_pump='-c --count -o --output --idle --jsonl --format'
# Adapter options of http, which every command takes too (omnicat help lists them all).
_omnicat_opts_body='--data-binary --data-raw --data-urlencode --json'
_omnicat_opts_conn='--compressed --cookie-jar --resolve --connect-to --unix-socket --retry --http1.1 --http2'
_omnicat_opts_sign='--hmac-secret-file --hmac-header'
_omnicat_opts_poll='--interval --every'
_omnicat_opts_serve='--status --dir --reply-stdin --reply-timeout --max-size'
# Adapter options of ws, which every command takes too.
_omnicat_opts_ws='--text --binary --origin --protocol --ping --no-compress --no-close --close-code --close-reason'
# Adapter options of the sse server (--keepalive: mqtt's too).
_omnicat_opts_sse='--history --keepalive'
# Topic options (core table) and the adapter options of mqtt, which every command takes.
_omnicat_opts_topic='-q --qos -t --topic --client-id'
_omnicat_opts_mqtt='--mqtt-version --content-type --expiry --session --session-expiry --no-retained --retained-only --ws-path'
_omnicat_opts_will='--will-topic --will-payload --will-qos --will-retain'
# Adapter options of coap, which every command takes too.
_omnicat_opts_coap='--content-format --accept --non --block-size --token --ack-timeout --max-retransmit --psk-identity --psk-key-file --proxy-uri --bind --resource'
# Options only some commands take.
_omnicat_opts_data='-d --data'                # client, pub, server
_omnicat_opts_exec='--exec --exec-shell'      # client, server
_omnicat_opts_echo='--echo'                   # server
_omnicat_opts_req='-H --header -f --fail -A --user-agent -b --cookie -x --proxy' # client, pub, sub, relay
_omnicat_opts_method='-X --request'           # client, pub, relay
_omnicat_opts_location='-L --location'        # client, sub, relay
_omnicat_opts_include='-i --include'          # client, sub
_omnicat_opts_form='-F --form'                # client, pub
_omnicat_opts_client='-I --head -G --get --each --parallel' # client
_omnicat_opts_retain='-r --retain'            # client, pub, relay, repl
_omnicat_opts_repl='--no-history --no-color -H --header -A --user-agent -b --cookie -x --proxy' # repl

# Options that take a value (the next word).
_omnicat_valued='-c|--count|-d|--data|-o|--output|-m|--timeout|--idle|--connect-timeout|--framing|--format|--exec|--exec-shell|--opt|--keep|-H|--header|-X|--request|-F|--form|-A|--user-agent|-b|--cookie|-x|--proxy|-u|--user|--password-file|--cacert|--cert|--key|--parallel|--data-binary|--data-raw|--data-urlencode|--json|--cookie-jar|--resolve|--connect-to|--unix-socket|--retry|--hmac-secret-file|--hmac-header|--interval|--status|--dir|--reply-timeout|--max-size|--origin|--protocol|--ping|--close-code|--close-reason|--history|--keepalive|-q|--qos|-t|--topic|--client-id|--mqtt-version|--content-type|--expiry|--will-topic|--will-payload|--will-qos|--session|--session-expiry|--ws-path|--content-format|--accept|--block-size|--token|--ack-timeout|--max-retransmit'
# Of those, the ones whose value is a file name.
_omnicat_file_valued='-o|--output|-b|--cookie|--password-file|--cacert|--cert|--key|--cookie-jar|--unix-socket|--hmac-secret-file'

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

# The methods -X offers: CoAP's when a coap URL is on the line (the caller's words w), else
# HTTP's.
_omnicat_methods_for() {
	local word
	for word in "${w[@]}"; do
		case $word in
		coap://* | coap+tcp://*)
			echo "$_omnicat_coap_methods"
			return
			;;
		esac
	done
	echo "$_omnicat_methods"
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
	client | server | pub | sub | relay | repl) ;;
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
		if [[ $prev =~ ^($_omnicat_file_valued)$ ]]; then
			_omnicat_paths "$prev=" "$val"
		else
			case $prev in
			--framing) COMPREPLY=($(compgen -P "$prev=" -W "$_omnicat_framings" -- "$val")) ;;
			--request) COMPREPLY=($(compgen -P "$prev=" -W "$(_omnicat_methods_for)" -- "$val")) ;;
			--content-format | --accept) COMPREPLY=($(compgen -P "$prev=" -W "$_omnicat_coap_formats" -- "$val")) ;;
			--qos | --will-qos) COMPREPLY=($(compgen -P "$prev=" -W "0 1 2" -- "$val")) ;;
			--mqtt-version) COMPREPLY=($(compgen -P "$prev=" -W "5 3.1.1" -- "$val")) ;;
			--keep | --dir) _omnicat_paths "$prev=" "$val" -d ;;
			--data | --data-binary | --json)
				[[ $val == @* ]] && _omnicat_paths "$prev=@" "${val#@}"
				;;
			esac
		fi
		_omnicat_trim "$cur"
		return
	fi

	if [[ $prev =~ ^($_omnicat_file_valued)$ ]]; then
		_omnicat_paths "" "$cur"
		return
	fi
	case $prev in
	--framing)
		COMPREPLY=($(compgen -W "$_omnicat_framings" -- "$cur"))
		return
		;;
	-X | --request)
		COMPREPLY=($(compgen -W "$(_omnicat_methods_for)" -- "$cur"))
		return
		;;
	--content-format | --accept)
		COMPREPLY=($(compgen -W "$_omnicat_coap_formats" -- "$cur"))
		return
		;;
	-q | --qos | --will-qos)
		COMPREPLY=($(compgen -W "0 1 2" -- "$cur"))
		return
		;;
	--mqtt-version)
		COMPREPLY=($(compgen -W "5 3.1.1" -- "$cur"))
		return
		;;
	--keep | --dir)
		_omnicat_paths "" "$cur" -d
		return
		;;
	-d | --data | --data-binary | --json)
		[[ $cur == @* ]] && _omnicat_paths @ "${cur#@}"
		return
		;;
	-F | --form)
		# NAME=@FILE uploads a file, NAME=<FILE sends its contents.
		local re='^([^=]*=[@<])(.*)$'
		[[ $cur =~ $re ]] && _omnicat_paths "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
		_omnicat_trim "$cur"
		return
		;;
	--exec | --exec-shell)
		local IFS=$'\n'
		COMPREPLY=($(compgen -c -- "$cur" | sort -u))
		return
		;;
	esac
	# Any other option with a value: nothing to offer.
	[[ $prev =~ ^($_omnicat_valued)$ ]] && return

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
		local opts="$_omnicat_opts_all $_omnicat_opts_body $_omnicat_opts_conn"
		opts+=" $_omnicat_opts_sign $_omnicat_opts_poll $_omnicat_opts_serve $_omnicat_opts_ws $_omnicat_opts_sse"
		opts+=" $_omnicat_opts_topic $_omnicat_opts_mqtt $_omnicat_opts_will $_omnicat_opts_coap"
		[[ $cmd == repl ]] || opts+=" $_omnicat_opts_pump"
		case $cmd in
		client)
			opts+=" $_omnicat_opts_data $_omnicat_opts_exec $_omnicat_opts_req"
			opts+=" $_omnicat_opts_method $_omnicat_opts_location $_omnicat_opts_include"
			opts+=" $_omnicat_opts_form $_omnicat_opts_client $_omnicat_opts_retain"
			;;
		server) opts+=" $_omnicat_opts_data $_omnicat_opts_exec $_omnicat_opts_echo" ;;
		pub)
			opts+=" $_omnicat_opts_data $_omnicat_opts_req $_omnicat_opts_method"
			opts+=" $_omnicat_opts_form $_omnicat_opts_retain"
			;;
		sub) opts+=" $_omnicat_opts_req $_omnicat_opts_location $_omnicat_opts_include" ;;
		relay)
			opts+=" $_omnicat_opts_req $_omnicat_opts_method $_omnicat_opts_location"
			opts+=" $_omnicat_opts_retain"
			;;
		repl)
			opts+=" $_omnicat_opts_repl $_omnicat_opts_method $_omnicat_opts_location"
			opts+=" $_omnicat_opts_include $_omnicat_opts_retain"
			;;
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
