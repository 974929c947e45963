/* proto-adapters/registry.c — every URL scheme omnicat knows, and the adapter behind it.
 *
 * Adding a protocol: write proto-adapters/<family>.c exporting oc_adapter_<family>, add its
 * rows here (one per scheme spelling) and its line in oc_adapters[], then its man section,
 * tests and completion entries. A scheme whose adapter is not built yet keeps a NULL adapter:
 * users get "support not built in" (exit 4), not "unknown scheme" (exit 3). */
#include <string.h>

#include "adapter.h"

extern const struct oc_adapter oc_adapter_stdio;
extern const struct oc_adapter oc_adapter_socket;
extern const struct oc_adapter oc_adapter_tls;
extern const struct oc_adapter oc_adapter_udp;
extern const struct oc_adapter oc_adapter_fifo;
extern const struct oc_adapter oc_adapter_exec;
extern const struct oc_adapter oc_adapter_file;
extern const struct oc_adapter oc_adapter_dir;
extern const struct oc_adapter oc_adapter_http;
extern const struct oc_adapter oc_adapter_http_server;
extern const struct oc_adapter oc_adapter_sse;
extern const struct oc_adapter oc_adapter_sse_server;
extern const struct oc_adapter oc_adapter_ws;
extern const struct oc_adapter oc_adapter_mqtt;
extern const struct oc_adapter oc_adapter_coap;
extern const struct oc_adapter oc_adapter_coap_server;

#define A OC_URL_AUTHORITY
#define T OC_URL_TOPIC
#define H OC_URL_HOSTLIST
#define P OC_URL_PATH
#define L OC_SF_LISTEN
#define Q OC_SF_PEER_QUERY

const struct oc_scheme oc_schemes[] = {
	{ "stdio", &oc_adapter_stdio, NULL, OC_URL_NONE, 0, "standard input and output (also '-')" },
	{ "tcp", &oc_adapter_socket, NULL, A, 0, "TCP connection: tcp://host:port" },
	{ "tcp-listen", &oc_adapter_socket, NULL, A, L, "TCP listener: tcp-listen://[host]:port" },
	{ "udp", &oc_adapter_udp, NULL, A, 0, "UDP datagrams to host:port: udp://host:port" },
	{ "udp-listen", &oc_adapter_udp, NULL, A, L, "UDP listener: udp-listen://[host]:port" },
	{ "tls", &oc_adapter_tls, NULL, A, 0, "TLS over TCP: tls://host:port (verified unless -k)" },
	{ "tls-listen", &oc_adapter_tls, NULL, A, L,
	  "TLS listener: tls-listen://[host]:port --cert --key" },
	{ "unix", &oc_adapter_socket, NULL, P, 0, "unix stream socket: unix:/path" },
	{ "unix-listen", &oc_adapter_socket, NULL, P, L, "unix socket listener: unix-listen:/path" },
	{ "fifo", &oc_adapter_fifo, NULL, P, 0, "named pipe, created if missing: fifo:/path" },
	{ "exec", &oc_adapter_exec, NULL, OC_URL_COMMAND, 0, "child process's stdin/stdout: exec:CMD ARGS" },
	{ "file", &oc_adapter_file, NULL, P, 0, "file: read (sub, --follow) or append (pub): file:/path" },
	{ "dir", &oc_adapter_dir, NULL, P, 0, "spool directory, one file per message: dir:/path" },
	{ "http", &oc_adapter_http, &oc_adapter_http_server, A, Q,
	  "HTTP request: http://host[:port]/path?query; server: http://[host]:port" },
	{ "http-listen", &oc_adapter_http_server, NULL, A, L | Q,
	  "HTTP server in relays: http-listen://[host]:port" },
	{ "https", &oc_adapter_http, &oc_adapter_http_server, A, Q,
	  "HTTP over TLS: https://host[:port]/path; server: https://[host]:port --cert --key" },
	{ "https-listen", &oc_adapter_http_server, NULL, A, L | Q,
	  "HTTPS server in relays: https-listen://[host]:port --cert --key" },
	{ "ws", &oc_adapter_ws, NULL, A, Q, "WebSocket: ws://host[:port]/path; server: ws://[host]:port" },
	{ "wss", &oc_adapter_ws, NULL, A, Q, "WebSocket over TLS: wss://host[:port]/path" },
	{ "ws-listen", &oc_adapter_ws, NULL, A, L | Q, "WebSocket server: ws-listen://[host]:port" },
	{ "wss-listen", &oc_adapter_ws, NULL, A, L | Q,
	  "WebSocket server over TLS: wss-listen://[host]:port --cert --key" },
	{ "sse", &oc_adapter_sse, &oc_adapter_sse_server, A, Q,
	  "Server-Sent Events: sub sse://host[:port]/path; server: sse://[host]:port[/path]" },
	{ "sses", &oc_adapter_sse, &oc_adapter_sse_server, A, Q,
	  "Server-Sent Events over TLS: sses://host/path; server: --cert --key" },
	{ "sse+https", &oc_adapter_sse, &oc_adapter_sse_server, A, Q,
	  "Server-Sent Events over TLS (another spelling of sses)" },
	{ "sse-listen", &oc_adapter_sse_server, NULL, A, L | Q,
	  "event stream server in relays: sse-listen://[host]:port[/path]" },
	{ "sses-listen", &oc_adapter_sse_server, NULL, A, L | Q,
	  "event stream server over TLS in relays: sses-listen://[host]:port --cert --key" },
	{ "mqtt", &oc_adapter_mqtt, NULL, T, 0,
	  "MQTT: pub mqtt://host[:port]/topic, sub mqtt://host/filter (# and + literal)" },
	{ "mqtts", &oc_adapter_mqtt, NULL, T, 0, "MQTT over TLS: mqtts://host[:port]/topic" },
	{ "mqtt+ws", &oc_adapter_mqtt, NULL, T, 0,
	  "MQTT over WebSocket: mqtt+ws://host[:port]/topic (--ws-path, /mqtt)" },
	{ "mqtt+wss", &oc_adapter_mqtt, NULL, T, 0, "MQTT over secure WebSocket: mqtt+wss://host/topic" },
	{ "coap", &oc_adapter_coap, &oc_adapter_coap_server, A, Q,
	  "CoAP: client coap://host[:port]/path?query, pub (PUT), sub (Observe); server: coap://[host]:port/path" },
	{ "coap+tcp", &oc_adapter_coap, &oc_adapter_coap_server, A, Q,
	  "CoAP over TCP: coap+tcp://host[:port]/path" },
	{ "coap-listen", &oc_adapter_coap_server, NULL, A, L | Q,
	  "CoAP server in relays: coap-listen://[host]:port/path" },
	{ "coaps", &oc_adapter_coap, &oc_adapter_coap_server, A, Q,
	  "CoAP over DTLS: coaps://host[:port]/path --psk-identity ID --psk-key-file FILE" },
	{ "coaps+tcp", &oc_adapter_coap, &oc_adapter_coap_server, A, Q,
	  "CoAP over TLS: coaps+tcp://host[:port]/path" },
	/* Known, not built yet (later work). */
	{ "grpc", NULL, NULL, A, 0, "gRPC" },
	{ "grpcs", NULL, NULL, A, 0, "gRPC over TLS" },
	{ "graphql", NULL, NULL, A, Q, "GraphQL over HTTP" },
	{ "amqp", NULL, NULL, A, 0, "AMQP 0-9-1" },
	{ "amqps", NULL, NULL, A, 0, "AMQP over TLS" },
	{ "nats", NULL, NULL, A, 0, "NATS" },
	{ "kafka", NULL, NULL, H, 0, "Kafka" },
	{ "redis", NULL, NULL, A, 0, "Redis pub/sub" },
	{ "redis+stream", NULL, NULL, A, 0, "Redis streams" },
	{ "zmq+tcp", NULL, NULL, A, 0, "ZeroMQ" },
	{ "shm", NULL, NULL, P, 0, "POSIX shared memory" },
	{ "mq", NULL, NULL, P, 0, "POSIX message queue" },
	{ "sqlite", NULL, NULL, P, 0, "SQLite table as a queue" },
	{ "postgres", NULL, NULL, A, 0, "PostgreSQL LISTEN/NOTIFY" },
	{ 0 },
};

const struct oc_adapter *const oc_adapters[] = {
	&oc_adapter_stdio, &oc_adapter_socket, &oc_adapter_tls, &oc_adapter_udp,  &oc_adapter_fifo,
	&oc_adapter_exec,  &oc_adapter_file,   &oc_adapter_dir,  &oc_adapter_http,
	&oc_adapter_http_server, &oc_adapter_sse, &oc_adapter_sse_server, &oc_adapter_ws,
	&oc_adapter_mqtt, &oc_adapter_coap,
	&oc_adapter_coap_server, NULL,
};

const struct oc_scheme *oc_scheme_find(const char *name)
{
	for (const struct oc_scheme *s = oc_schemes; s->name; s++)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}
