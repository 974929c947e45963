# completions/omnicat.fish - fish completion for omnicat.
#
# Static on purpose: when an option, command or scheme is added to the tables in
# core/options.c, cmd/main.c or proto-adapters/registry.c, add it here too.
# tests/e2e/t0900-docs.sh fails until every one of `omnicat --list-options` is here.

set -l commands client server pub sub relay repl help

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
                tls:// 'TLS over TCP: tls://host:port (verified unless -k)' \
                tls-listen:// 'TLS listener: tls-listen://[host]:port --cert --key' \
                unix: 'unix stream socket: unix:/path' \
                unix-listen: 'unix socket listener: unix-listen:/path' \
                fifo: 'named pipe, created if missing: fifo:/path' \
                exec: 'child process stdin/stdout: exec:CMD ARGS' \
                file: 'file: read (sub, --follow) or append (pub)' \
                dir: 'spool directory, one file per message' \
                http:// 'HTTP requests: http://host[:port]/path?query' \
                http-listen:// 'HTTP server in relays: http-listen://[host]:port' \
                https:// 'HTTP requests over TLS: https://host[:port]/path?query' \
                https-listen:// 'HTTPS server in relays: https-listen://[host]:port' \
                ws:// 'WebSocket client: ws://host[:port]/path' \
                wss:// 'WebSocket over TLS: wss://host[:port]/path (verified unless -k)' \
                ws-listen:// 'WebSocket server: ws-listen://[host]:port[/path]' \
                wss-listen:// 'WebSocket server over TLS: wss-listen://[host]:port --cert --key' \
                sse:// 'Server-Sent Events: sub sse://host[:port]/path; server sse://[host]:port/path' \
                sses:// 'Server-Sent Events over TLS' \
                sse+https:// 'Server-Sent Events over TLS (another spelling of sses)' \
                sse-listen:// 'event stream server in relays: sse-listen://[host]:port/path' \
                sses-listen:// 'event stream server over TLS in relays: --cert --key' \
                mqtt:// 'MQTT: pub mqtt://host[:port]/topic, sub mqtt://host/filter (# and + literal)' \
                mqtts:// 'MQTT over TLS: mqtts://host[:port]/topic' \
                mqtt+ws:// 'MQTT over WebSocket: mqtt+ws://host[:port]/topic (--ws-path, /mqtt)' \
                mqtt+wss:// 'MQTT over secure WebSocket: mqtt+wss://host/topic' \
                coap:// 'CoAP: client coap://host[:port]/path?query, pub (PUT), sub (Observe)' \
                coap+tcp:// 'CoAP over TCP: coap+tcp://host[:port]/path' \
                coap-listen:// 'CoAP server in relays: coap-listen://[host]:port/path' \
                coaps:// 'CoAP over DTLS: coaps://host[:port]/path with a pre-shared key or certificates' \
                coaps+tcp:// 'CoAP over TLS: coaps+tcp://host[:port]/path'
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
            case -c --count -d --data -o --output -m --timeout --idle --connect-timeout --framing --format --exec --exec-shell --opt --keep \
                -H --header -X --request -F --form -A --user-agent -b --cookie -x --proxy -u --user --password-file \
                --cacert --cert --key --parallel --data-binary --data-raw --data-urlencode --json --cookie-jar \
                --resolve --connect-to --unix-socket --retry --hmac-secret-file --hmac-header --interval \
                --status --dir --reply-timeout --max-size --origin --protocol --ping --close-code --close-reason --history --keepalive \
                -q --qos -t --topic --client-id --mqtt-version --content-type --expiry --will-topic --will-payload --will-qos \
                --session --session-expiry --ws-path --content-format --accept --block-size --token --ack-timeout --max-retransmit
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

# -X: CoAP's methods when a coap URL is on the line, else HTTP's.
function __omnicat_methods
    if string match -qr '^coap(\+tcp)?://' -- (commandline -opc)
        printf '%s\n' GET POST PUT DELETE FETCH PATCH IPATCH
    else
        printf '%s\n' GET HEAD POST PUT PATCH DELETE OPTIONS
    end
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
complete -c omnicat -n "not __fish_seen_subcommand_from $commands" -a repl -d 'talk to URL interactively: type messages, see what arrives'
complete -c omnicat -n "not __fish_seen_subcommand_from $commands" -a help -d 'show help for a command'
complete -c omnicat -n "not __fish_seen_subcommand_from $commands" -s V -l version -d 'version, schemes and libraries'
complete -c omnicat -n "__fish_seen_subcommand_from help" -a "$commands"

# URLs
set -l io client server pub sub relay repl
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

__omnicat_opt -c --count x 'client server pub sub relay' 'stop after N messages came out of the URL (pub: after N were sent)'
__omnicat_opt -d --data x 'client pub server' "send one message, exactly DATA (@FILE, @- for stdin); a request server's fixed answer" -a '(__omnicat_data)'
__omnicat_opt -o --output r 'client server pub sub relay' 'write what stdout would get to FILE'
__omnicat_opt -m --timeout x '' 'limit the whole run to S seconds (exit 11)'
__omnicat_opt '' --idle x 'client server pub sub relay' 'stop after S seconds without a message (exit 11)'
__omnicat_opt '' --connect-timeout x '' 'give up connecting after S seconds (exit 11)'
__omnicat_opt -v --verbose '' '' 'connection events and message metadata on stderr'
__omnicat_opt -s --silent '' '' 'no notices on stderr'
__omnicat_opt -S --show-error '' '' 'with -s, still print errors'
__omnicat_opt '' --trace '' '' 'dump the bytes of every frame on stderr (secrets redacted)'
__omnicat_opt '' --framing x '' 'framing for stdio and stream endpoints' -a 'line raw nul len32 jsonl csv'
__omnicat_opt '' --jsonl '' 'client server pub sub relay' 'stdin and stdout carry one JSON envelope per line'
__omnicat_opt '' --format x 'client server pub sub relay' 'print each message with FMT: %s payload, %t topic, %e peer, %T time'
__omnicat_opt '' --reconnect '' '' 'reconnect with bounded exponential backoff when the connection is lost'
__omnicat_opt '' --exec x 'client server' 'wire each connection to a child running CMD (no shell)' -a '(__fish_complete_command)'
__omnicat_opt '' --exec-shell x 'client server' 'like --exec, but run CMD with /bin/sh -c'
__omnicat_opt '' --echo '' server 'send each message back to the peer it came from'
__omnicat_opt '' --opt x '' 'set an adapter option KEY=VALUE, as in a URL query'
__omnicat_opt -4 --ipv4 '' '' 'resolve names to IPv4 addresses only'
__omnicat_opt -6 --ipv6 '' '' 'resolve names to IPv6 addresses only'
__omnicat_opt -H --header x 'client pub sub relay repl' "add a header (HTTP), user property (MQTT) or option (CoAP), 'Name: value'; repeatable"
__omnicat_opt -X --request x 'client pub relay repl' 'request method (default GET, or POST with a body)' -a '(__omnicat_methods)'
__omnicat_opt -L --location '' 'client sub relay repl' 'follow redirects'
__omnicat_opt -i --include '' 'client sub repl' 'print the status line and headers before the body'
__omnicat_opt -I --head '' client 'HEAD request: print the status line and headers only'
__omnicat_opt -f --fail '' 'client pub sub relay' 'an error answer (HTTP >= 400) exits 10 (401/403/407: 8); the body is still printed'
__omnicat_opt -G --get '' client 'send -d / --data-urlencode as the query of a GET'
__omnicat_opt -F --form x 'client pub' 'multipart form field (K=@FILE uploads a file); repeatable'
__omnicat_opt -A --user-agent x 'client pub sub relay repl' 'User-Agent to send'
__omnicat_opt -b --cookie r 'client pub sub relay repl' "cookies to send: 'k=v; k2=v2', or a cookie file to read"
__omnicat_opt -x --proxy x 'client pub sub relay repl' 'use this proxy'
__omnicat_opt -u --user x '' 'credentials USER[:PASS] (password also from --password-file or OMNICAT_PASSWORD)'
__omnicat_opt '' --password-file r '' 'read the password from the first line of FILE'
__omnicat_opt -k --insecure '' '' "do not verify the peer's TLS certificate"
__omnicat_opt '' --cacert r '' 'verify peers with the CA certificates in FILE (PEM)'
__omnicat_opt '' --cert r '' "our certificate (PEM): a client's, or a server's"
__omnicat_opt '' --key r '' 'the private key for --cert (PEM)'
__omnicat_opt -q --qos x '' 'delivery guarantee: 0 at most once, 1 at least once, 2 exactly once' -a '0 1 2'
__omnicat_opt -r --retain '' 'client pub relay repl' "publish as the topic's retained (last-value) message"
__omnicat_opt -t --topic x '' "topic to publish to (instead of the URL's), or filter to add (repeatable)"
__omnicat_opt '' --client-id x '' 'client identifier (default: omnicat-PID-N)'
__omnicat_opt '' --each '' client 'one request per stdin message, answers in input order'
__omnicat_opt '' --parallel x client 'with --each, up to N requests at once (answers still in order)'
__omnicat_opt '' --no-history '' repl 'keep no history of the lines typed'
__omnicat_opt '' --no-color '' repl 'no colours (also when NO_COLOR is set)'
__omnicat_opt -h --help '' '' 'show help'
# Adapter options (file, fifo, dir)
__omnicat_opt '' --follow '' '' 'file, fifo, dir: keep reading (tail -F; new writers; new files)'
__omnicat_opt '' --keep x '' 'dir: move consumed files into DIR instead of removing them' -a '(__fish_complete_directories)'
# Adapter options (http)
__omnicat_opt '' --data-binary x '' 'http: request body, exactly DATA (@FILE, @-)' -a '(__omnicat_data)'
__omnicat_opt '' --data-raw x '' 'http: request body, DATA literally (no @)'
__omnicat_opt '' --data-urlencode x '' 'http: URL-encoded body field (query with -G); repeatable'
__omnicat_opt '' --json x '' 'http: JSON body (@FILE, @-), with JSON content type' -a '(__omnicat_data)'
__omnicat_opt '' --compressed '' '' 'http: ask for a compressed response and decode it'
__omnicat_opt '' --cookie-jar r '' 'http: write cookies to FILE at the end'
__omnicat_opt '' --resolve x '' 'http: use ADDR for HOST:PORT (repeatable)'
__omnicat_opt '' --connect-to x '' 'http: connect to H2:P2 for requests to H1:P1 (repeatable)'
__omnicat_opt '' --unix-socket r '' 'http: connect through this unix socket'
__omnicat_opt '' --retry x '' 'http: retry a transient failure up to N times'
__omnicat_opt '' --http1.1 '' '' 'http: use HTTP/1.1'
__omnicat_opt '' --http2 '' '' 'http: use HTTP/2 (ALPN over TLS; h2c upgrade in cleartext)'
__omnicat_opt '' --hmac-secret-file r '' 'http: sign (pub) or verify (server) bodies with HMAC-SHA256 and the key in FILE'
__omnicat_opt '' --hmac-header x '' 'http: the signature header (default X-Hub-Signature-256)'
__omnicat_opt '' --interval x '' 'http sub: poll every S seconds'
__omnicat_opt '' --every '' '' "http sub: emit every poll's body, changed or not"
__omnicat_opt '' --status x '' "http server: the fixed answer's status (default 200)"
__omnicat_opt '' --dir x '' 'http server: serve the files under PATH' -a '(__fish_complete_directories)'
__omnicat_opt '' --reply-stdin '' '' "request servers: answers come from stdin as jsonl with the request's id"
__omnicat_opt '' --reply-timeout x '' 'request servers: with --reply-stdin, answer 504 after S seconds (default 30)'
__omnicat_opt '' --max-size x '' 'largest message (request body) accepted'
__omnicat_opt '' --text '' '' 'ws: send every message as text'
__omnicat_opt '' --binary '' '' 'ws: send every message as binary'
__omnicat_opt '' --origin x '' 'ws: the Origin header of the handshake'
__omnicat_opt '' --protocol x '' 'ws: subprotocol to offer (client) or accept (server); repeatable'
__omnicat_opt '' --ping x '' 'ws: send a ping after S seconds of silence'
__omnicat_opt '' --no-compress '' '' 'ws: do not negotiate permessage-deflate'
__omnicat_opt '' --no-close '' '' 'ws: keep the connection open when input ends'
__omnicat_opt '' --close-code x '' 'ws: the close code sent when input ends (1000)'
__omnicat_opt '' --close-reason x '' 'ws: the close reason sent when input ends'
__omnicat_opt '' --history x '' 'sse server: keep the last N events for clients that resume (Last-Event-ID)'
__omnicat_opt '' --keepalive x '' 'sse server: a comment line every S seconds keeps idle streams open (default 15; 0: none); mqtt: keepalive interval (60)'
# Adapter options (mqtt)
__omnicat_opt '' --mqtt-version x '' 'mqtt: protocol version, 5 (default) or 3.1.1' -a '5 3.1.1'
__omnicat_opt '' --content-type x '' 'mqtt: content type of each message (MQTT 5)'
__omnicat_opt '' --expiry x '' 'mqtt: message expiry interval (MQTT 5)'
__omnicat_opt '' --will-topic x '' 'mqtt: topic of the will, sent if we vanish'
__omnicat_opt '' --will-payload x '' 'mqtt: payload of the will'
__omnicat_opt '' --will-qos x '' 'mqtt: QoS of the will (0)' -a '0 1 2'
__omnicat_opt '' --will-retain '' '' 'mqtt: the will is retained'
__omnicat_opt '' --session x '' 'mqtt: persistent session NAME (the client id): what arrives while away comes next time'
__omnicat_opt '' --session-expiry x '' 'mqtt: how long the broker keeps the session (86400)'
__omnicat_opt '' --no-retained '' '' 'mqtt: skip retained messages'
__omnicat_opt '' --retained-only '' '' 'mqtt: print the retained messages, then exit'
__omnicat_opt '' --ws-path x '' 'mqtt+ws: the WebSocket path (/mqtt)'
# Adapter options (coap)
__omnicat_opt '' --content-format x '' 'coap: Content-Format of the payload (json, text, cbor, N)' -a 'text link-format xml octet-stream exi json cbor senml+json senml+cbor'
__omnicat_opt '' --accept x '' 'coap: the Content-Format wanted back' -a 'text link-format xml octet-stream exi json cbor senml+json senml+cbor'
__omnicat_opt '' --non '' '' 'coap: non-confirmable requests'
__omnicat_opt '' --block-size x '' 'coap: block-wise transfer in blocks of N bytes (16..1024)' -a '16 32 64 128 256 512 1024'
__omnicat_opt '' --token x '' 'coap: the request token (hex)'
__omnicat_opt '' --ack-timeout x '' 'coap: first retransmission after S seconds (2)'
__omnicat_opt '' --max-retransmit x '' 'coap: retransmissions before giving up (4)'
__omnicat_opt '' --resource x '' 'coap server: another resource to serve; repeatable'
__omnicat_opt '' --psk-identity x '' "coaps: the pre-shared key's identity"
__omnicat_opt '' --psk-key-file x '' 'coaps: the pre-shared key, first line of FILE'
__omnicat_opt '' --proxy-uri x '' "coap: ask the URL's server, a proxy, for URI (Proxy-Uri)"
__omnicat_opt '' --bind x '' 'coap: send from local address ADDR'
