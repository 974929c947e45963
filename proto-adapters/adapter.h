/* proto-adapters/adapter.h — the one interface every protocol implements.
 *
 * A protocol family is one `const struct oc_adapter` (a table of function pointers filled
 * with designated initializers), exported as oc_adapter_<name> from its own file. The scheme
 * table in registry.c maps URL schemes to adapters: several schemes may share one adapter
 * (tcp and tcp-listen), and a scheme whose adapter is not built keeps a NULL adapter so the
 * user hears "support not built in" (exit 4) rather than "unknown scheme" (exit 3).
 *
 * What an adapter does is behind this table, I/O included; core/ never switches on a
 * protocol. Capabilities are flags. An adapter reports up through the oc_ep_* calls of
 * core/endpoint.h only (a message arrived, ready, drained, EOF, failed, accepted, closed).
 *
 * Threads: every function here is called on the loop thread. Adapters whose library runs its
 * own threads hand work to the loop (uv_async) before touching any endpoint. */
#ifndef OC_ADAPTER_H
#define OC_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>

#include "endpoint.h"
#include "options.h"
#include "url.h"

/* Capability flags of an adapter. */
#define OC_AF_CLIENT 0x001   /* connect, both directions (command `client`) */
#define OC_AF_SERVER 0x002   /* listen (command `server`, `-listen` schemes) */
#define OC_AF_PUB 0x004      /* write only (command `pub`) */
#define OC_AF_SUB 0x008      /* read only (command `sub`) */
#define OC_AF_CONNS 0x010    /* a listener hands each connection out as its own endpoint */
#define OC_AF_PER_PEER 0x020 /* a connecting endpoint is one connection: a relay from a
			      * listener opens one per accepted peer (socat's fork) */
#define OC_AF_STREAM 0x040   /* a byte stream: --framing applies */
#define OC_AF_LOCAL 0x080    /* local I/O (stdio, files): its failures are exit 12 */
#define OC_AF_REQUEST 0x100  /* request/response: as a client, each message written is a
			      * request and its response is emitted (same id, in order; EOF once
			      * shut down and all are answered); as a server, each request is
			      * emitted with a unique id and a message written with that id
			      * answers it */
#define OC_AF_HEADERS 0x200  /* messages carry headers the user can set (-H) */
#define OC_AF_TLS 0x400      /* speaks TLS: -k, --cacert, --cert, --key apply */
#define OC_AF_AUTH 0x800     /* takes credentials: -u, --password-file */
#define OC_AF_TOPICS 0x1000  /* publishes to / subscribes to topics: -q, -r, -t and
			      * --client-id apply */
#define OC_AF_EXEC 0x4000    /* a server that runs --exec itself, one child per request,
			      * and still takes messages from stdin */
#define OC_AF_ONEWAY 0x2000  /* in a relay it subscribes (left) or publishes (right): its
			      * `client` (request/response) is a command of its own */

/* An adapter option: set as --opt key=value, in the URL query (schemes whose query is not the
 * peer's), or, when cli is set, as the long option --key. */
struct oc_adopt {
	const char *key;      /* name */
	enum oc_argtype type; /* OC_ARG_FLAG, OC_ARG_STR, OC_ARG_COUNT or OC_ARG_SECS */
	const char *argname;  /* for help, NULL for flags */
	const char *help;     /* one line */
	bool cli;             /* also a long option */
};

struct oc_adapter {
	const char *name;              /* family name, for messages and --version */
	unsigned flags;                /* OC_AF_* */
	const struct oc_adopt *opts;   /* options, terminated by a row with key NULL; may be NULL */
	size_t priv_size;              /* adapter state allocated (zeroed) with each endpoint */
	const char *const *methods;    /* OC_AF_REQUEST: the request methods it knows, upper
					* case, NULL-terminated (the REPL reads "METHOD /path"
					* with them); or NULL */
	const char *discovery;         /* OC_AF_REQUEST: a path whose answer lists the server's
					* resources in CoRE link format (RFC 6690), or NULL */
	bool status_dotted;            /* its statuses are class*100+detail, written c.dd
					* (CoAP's 2.05) for people */

	/* Validate the URL and options (no I/O yet). Return 0, or an OC_E* with
	 * oc_ep_seterr() describing it. Optional. */
	int (*check)(struct oc_ep *ep);
	/* Start connecting or listening; report with oc_ep_ready() or oc_ep_fail(). A
	 * synchronous failure returns an OC_E* (with oc_ep_seterr()) and fires no event. */
	int (*open)(struct oc_ep *ep);
	/* Queue m for sending; the adapter owns the reference and reports each message with
	 * oc_ep_sent() (written) or oc_ep_dropped(). Never called after shutdown. */
	void (*write)(struct oc_ep *ep, struct oc_msg *m);
	/* Stop / restart delivering messages (backpressure). */
	void (*pause)(struct oc_ep *ep);
	void (*resume)(struct oc_ep *ep);
	/* No more writes: flush, half-close or finish, then oc_ep_flushed(). */
	void (*shutdown)(struct oc_ep *ep);
	/* Release everything; call oc_ep_closed() when done (possibly later). Queued messages
	 * are dropped. */
	void (*close)(struct oc_ep *ep);
	/* Optional: replaces the queue-limit test for endpoints that aggregate others. */
	bool (*full)(struct oc_ep *ep);
	/* Optional: library name and version for --version, into buf. */
	void (*version)(char *buf, size_t len);
};

/* Scheme flags. */
#define OC_SF_LISTEN 0x1     /* the "-listen" spelling: a listener in any command */
#define OC_SF_PEER_QUERY 0x2 /* the URL query belongs to the peer (http, ws, coap...), not to
			      * the adapter's options */

struct oc_scheme {
	const char *name;             /* "tcp-listen" */
	const struct oc_adapter *ad;  /* NULL: known but not built in */
	const struct oc_adapter *server_ad; /* for listening, when not ad (http's server is
					     * libwebsockets, its client libcurl); or NULL */
	enum oc_urlform form;         /* how its URLs are parsed */
	unsigned flags;               /* OC_SF_* */
	const char *summary;          /* one line for --help and the man page */
};

/* The registry (registry.c): schemes in documentation order, terminated by name NULL, and
 * the distinct adapters, terminated by NULL. */
extern const struct oc_scheme oc_schemes[];
extern const struct oc_adapter *const oc_adapters[];

const struct oc_scheme *oc_scheme_find(const char *name);

#endif
