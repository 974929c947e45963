# completions/omnicat.fish - fish completion for omnicat.
#
# Static on purpose: when an option, command or scheme is added to the tables in
# core/options.c, cmd/main.c or proto-adapters/registry.c, add it here too.
# tests/e2e/t0900-docs.sh fails until every one of `omnicat --list-options` is here.

set -l commands client server pub sub relay help

# URLs: built-in scheme prefixes; after a path scheme, files; after exec:, commands.
function __omnicat_urls
    set -l tok (commandline -ct)
    switch $tok
        case 'file:*' 'dir:*' 'fifo:*' 'unix:*' 'unix-listen:*'
            set -l scheme (string replace -r ':.*' '' -- $tok)
            set -l path (string replace -r '^[^:]*:' '' -- $tok)
            for f in (__fish_complete_path $path)
                echo $scheme:$f
            end
        case 'exec:*'
            set -l cmd (string replace -r '^exec:' '' -- $tok)
            for c in (complete -C "$cmd" 2>/dev/null | string match -rv '^-')
                echo exec:$c
            end
        case '*'
            printf '%s\t%s\n' \
                - 'standard input and output' \
                stdio: 'standard input and output' \
                tcp:// 'TCP connection: tcp://host:port' \
                tcp-listen:// 'TCP listener: tcp-listen://[host]:port' \
                udp:// 'UDP datagrams: udp://host:port' \
                udp-listen:// 'UDP listener: udp-listen://[host]:port' \
                unix: 'unix stream socket: unix:/path' \
                unix-listen: 'unix socket listener: unix-listen:/path' \
                fifo: 'named pipe, created if missing: fifo:/path' \
                exec: 'child process stdin/stdout: exec:CMD ARGS' \
                file: 'file: read (sub, --follow) or append (pub)' \
                dir: 'spool directory, one file per message'
    end
end

# How many URLs the command line has after the command (options and their values skipped).
function __omnicat_needs_url
    set -l words (commandline -opc)
    set -e words[1]
    set -l cmd $words[1]
    set -e words[1]
    set -l want 1
    test "$cmd" = relay; and set want 2
    set -l urls 0
    set -l skip 0
    for w in $words
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case -c --count -d --data -o --output -m --timeout --idle --connect-timeout --framing --format --exec --exec-shell --opt --keep
                set skip 1
            case '--*=*' --
            case -
                set urls (math $urls + 1)
            case '-*'
            case '*'
                set urls (math $urls + 1)
        end
    end
    test $urls -lt $want
end

# -d @FILE
function __omnicat_data
    set -l tok (commandline -ct)
    if string match -q '@*' -- $tok
        for f in (__fish_complete_path (string sub -s 2 -- $tok))
            echo @$f
        end
    end
end

complete -c omnicat -f

# Commands
complete -c omnicat -n "not __fish_seen_subcommand_from $commands" -a client -d 'connect to URL: stdin goes to it, what it sends goes to stdout'
complete -c omnicat -n "not __fish_seen_subcommand_from $commands" -a server -d 'listen on URL: peers go to stdout, stdin is broadcast to them'
complete -c omnicat -n "not __fish_seen_subcommand_from $commands" -a pub -d 'send each stdin message (or -d) to URL'
complete -c omnicat -n "not __fish_seen_subcommand_from $commands" -a sub -d 'write every message from URL to stdout'
complete -c omnicat -n "not __fish_seen_subcommand_from $commands" -a relay -d 'move messages from A to B, and back where both can'
complete -c omnicat -n "not __fish_seen_subcommand_from $commands" -a help -d 'show help for a command'
complete -c omnicat -n "not __fish_seen_subcommand_from $commands" -s V -l version -d 'version, schemes and libraries'
complete -c omnicat -n "__fish_seen_subcommand_from help" -a "$commands"

# URLs
set -l io client server pub sub relay
complete -c omnicat -n "__fish_seen_subcommand_from $io; and __omnicat_needs_url" -a '(__omnicat_urls)'

# One row per option, like the C table: __omnicat_opt SHORT LONG ARG COMMANDS DESCRIPTION.
# SHORT is '' when there is none; ARG is '' (a flag), 'x' (a value), or 'r' (a file name);
# COMMANDS is '' for every command, else the commands that take it.
function __omnicat_opt --argument-names short long arg cmds desc
    set -l args -c omnicat -l (string replace -r '^--' '' -- $long) -d $desc
    test -n "$short"; and set -a args -s (string replace -r '^-' '' -- $short)
    switch $arg
        case x
            set -a args -x
        case r
            set -a args -r -F
    end
    test -n "$cmds"; and set -a args -n "__fish_seen_subcommand_from $cmds"
    complete $args $argv[6..-1]
end

__omnicat_opt -c --count x '' 'stop after N messages came out of the URL (pub: after N were sent)'
__omnicat_opt -d --data x 'client pub' 'send one message, exactly DATA (@FILE, @- for stdin)' -a '(__omnicat_data)'
__omnicat_opt -o --output r '' 'write what stdout would get to FILE'
__omnicat_opt -m --timeout x '' 'limit the whole run to S seconds (exit 11)'
__omnicat_opt '' --idle x '' 'stop after S seconds without a message (exit 11)'
__omnicat_opt '' --connect-timeout x '' 'give up connecting after S seconds (exit 11)'
__omnicat_opt -v --verbose '' '' 'connection events and message metadata on stderr'
__omnicat_opt -s --silent '' '' 'no notices on stderr'
__omnicat_opt -S --show-error '' '' 'with -s, still print errors'
__omnicat_opt '' --trace '' '' 'dump the bytes of every frame on stderr (secrets redacted)'
__omnicat_opt '' --framing x '' 'framing for stdio and stream endpoints' -a 'line raw nul len32 jsonl csv'
__omnicat_opt '' --jsonl '' '' 'stdin and stdout carry one JSON envelope per line'
__omnicat_opt '' --format x '' 'print each message with FMT: %s payload, %t topic, %e peer, %T time'
__omnicat_opt '' --reconnect '' '' 'reconnect with bounded exponential backoff when the connection is lost'
__omnicat_opt '' --exec x 'client server' 'wire each connection to a child running CMD (no shell)' -a '(__fish_complete_command)'
__omnicat_opt '' --exec-shell x 'client server' 'like --exec, but run CMD with /bin/sh -c'
__omnicat_opt '' --echo '' server 'send each message back to the peer it came from'
__omnicat_opt '' --opt x '' 'set an adapter option KEY=VALUE, as in a URL query'
__omnicat_opt -4 --ipv4 '' '' 'resolve names to IPv4 addresses only'
__omnicat_opt -6 --ipv6 '' '' 'resolve names to IPv6 addresses only'
__omnicat_opt -h --help '' '' 'show help'
# Adapter options (file, fifo, dir)
__omnicat_opt '' --follow '' '' 'file, fifo, dir: keep reading (tail -F; new writers; new files)'
__omnicat_opt '' --keep x '' 'dir: move consumed files into DIR instead of removing them' -a '(__fish_complete_directories)'
