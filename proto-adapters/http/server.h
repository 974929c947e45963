/* proto-adapters/http/server.h — what the HTTP server's parts share (not used elsewhere).
 *
 *   server.c  the adapter: listening, connections (TCP, TLS), requests and how they are
 *             answered (fixed, --echo, --exec, --dir, by id, relay acks)
 *   h1.c      HTTP/1.x on a connection: http-parser in, answers serialised in request order
 *   h2.c      HTTP/2 on a connection: nghttp2 in and out, answers per stream
 *   events.c  event-stream mode (sse://, sse-listen://): GET subscribes, every message
 *             written is an event to every subscriber
 *
 * A request becomes an hreq; its answer is kept as parts (status, headers, content type,
 * body or file) so either wire format can send it. */
#ifndef OC_HTTP_SERVER_H
#define OC_HTTP_SERVER_H

#include <http_parser.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "collect.h"
#include "defer.h"
#include "endpoint.h"
#include "net.h"
#include "sse.h"
#include "tls.h"

struct hconn;
struct h2;

/* How a request is answered. */
enum reply_mode {
	REPLY_FIXED,  /* --status / -d, else 200 and empty */
	REPLY_ECHO,   /* --echo */
	REPLY_EXEC,   /* --exec: one child per request */
	REPLY_DIR,    /* --dir */
	REPLY_BY_ID,  /* --reply-stdin, or a relay's request/response target */
	REPLY_ACK,    /* a relay's one-way target: 202 once it took the message */
	REPLY_EVENTS, /* sse: an event stream that stays open (events.c) */
};

struct hsrv {
	struct oc_ep *ep;           /* this endpoint */
	struct oc_tcp_listener lst; /* listening socket */
	bool lst_done;              /* its close finished */
	struct oc_tls_ctx *tls;     /* https: the certificate and ALPN, or NULL */
	struct hconn *conns;        /* open connections */
	struct hreq *waiting;       /* REPLY_BY_ID: requests waiting for their answer */
	enum reply_mode mode;       /* how requests are answered */
	int status;                 /* REPLY_FIXED status */
	char *fixed;                /* REPLY_FIXED body */
	size_t fixed_len;           /* its length */
	char *dir;                  /* REPLY_DIR root (realpath) */
	char *hmac_key;             /* --hmac-secret-file */
	size_t hmac_len;            /* its length */
	const char *hmac_header;    /* the signature header */
	size_t max_body;            /* --max-size */
	double reply_timeout;       /* --reply-timeout, seconds */
	bool paused;                /* the owner paused us: connections stop reading */
	bool closing;               /* close requested */
	unsigned long next_id;      /* request ids */
	/* REPLY_EVENTS (events.c) */
	struct sse_history history; /* --history: the last events, for Last-Event-ID */
	unsigned long next_event;   /* ids of events whose message had none */
	unsigned subscribers;       /* connections receiving events */
	uv_timer_t *keepalive;      /* comment lines that keep idle streams open */
	char *pend;                 /* events written this loop turn, not yet sent */
	size_t plen, pcap;          /* their length, allocation */
	struct oc_defer send_pend;  /* sends them: one write per subscriber per turn */
};

struct hreq {
	struct hconn *c;            /* its connection, NULL once that closed */
	struct hreq *next;          /* HTTP/1.x: the connection's answer order */
	struct hreq *id_next;       /* the server's requests waiting for an answer by id */
	struct oc_msg *msg;         /* the request (relay acks: not held, see ack_done) */
	char id[24];                /* unique in the run */
	int32_t stream;             /* HTTP/2 stream id; 0 on HTTP/1.x */
	bool head;                  /* HEAD: no body in the answer */
	bool events;                /* the answer is an event stream: the connection stays a
				       subscriber after its head */
	char *last_event_id;        /* events: the client's Last-Event-ID, or NULL */
	bool keep_alive;            /* HTTP/1.x: the connection may carry another request */
	bool answered;              /* the parts below are final */
	int status;                 /* answer status */
	char *ctype;                /* answer content type, or NULL */
	struct oc_msg *hdrs;        /* answer headers (a reference), or NULL */
	char *body;                 /* answer body */
	size_t blen, boff;          /* its length; bytes sent so far (HTTP/2) */
	int file;                   /* --dir: the file to send, or -1 */
	uint64_t file_size;         /* its size */
	uv_timer_t *timeout;        /* --reply-timeout */
	struct oc_collect *exec;    /* --exec child at work */
};

struct hconn {
	uv_tcp_t tcp;               /* the socket */
	struct hsrv *srv;           /* the server */
	struct hconn *next, *prev;  /* the server's connections */
	struct oc_tls *tls;         /* https: the session, or NULL */
	bool proto_known;           /* HTTP/1.x or HTTP/2 chosen (ALPN, or the h2 preface) */
	bool subscriber;            /* receives events; whatever it sends is ignored */
	struct h2 *h2;              /* HTTP/2 session, or NULL for HTTP/1.x */
	/* HTTP/1.x */
	http_parser parser;         /* request parser */
	struct hreq *head, *tail;   /* requests in answer order */
	unsigned nreqs;             /* requests not yet answered on the wire */
	struct oc_msg *cur;         /* the request being parsed */
	char *url, *hname, *hval, *body; /* its URL, header being parsed, body so far */
	size_t ulen, ucap, hnlen, hncap, hvlen, hvcap, blen, bcap; /* their sizes */
	bool in_value;              /* the last header piece was a value */
	bool too_big;               /* the body passed --max-size */
	struct oc_defer flush;      /* sends what is answered, after the parser returned */
	/* transport */
	bool reading;               /* uv_read_start is on */
	bool closing;               /* uv_close called */
	bool read_eof;              /* nothing more will be read */
	bool ending;                /* hconn_end(): close once everything is written */
	uv_shutdown_t sreq;         /* the FIN of a lingering close */
	uv_timer_t *linger;         /* bounds the lingering close, or NULL */
	size_t unsent;              /* bytes given to uv_write, not yet written */
	char peer[64];              /* "ip:port" */
	char rbuf[64 * 1024];       /* read buffer */
};

/* ---- server.c, for h1.c and h2.c ---- */

/* A whole request arrived (m: method, path, query, headers, payload, peer set); it is
 * emitted and its answer started. stream: its HTTP/2 stream, 0 on HTTP/1.x. */
struct hreq *hsrv_request(struct hconn *c, struct oc_msg *m, int32_t stream, bool keep_alive,
			  bool too_big);
/* An answer that is not a request's (a bad request line): a detached hreq with a text body. */
struct hreq *hsrv_error(struct hconn *c, int status, const char *text);
void hreq_free(struct hsrv *s, struct hreq *r);
size_t hsrv_max_body(const struct hconn *c);
/* Plaintext bytes out (encrypted first on TLS); copied. */
void hconn_send(struct hconn *c, const void *p, size_t n);
void hconn_close(struct hconn *c);
/* End gracefully: read nothing more, send TLS close_notify, close once all is written. */
void hconn_end(struct hconn *c);
void hconn_update_reading(struct hconn *c);
/* Whether the connection may take more writes now (backpressure on --dir files). */
bool hconn_writable(const struct hconn *c);
const char *http_reason(int status);
const char *http_date(void);

/* Answer r now: status, headers (a message's, or NULL), content type, body (copied). */
void hsrv_answer(struct hreq *r, int status, const struct oc_msg *hdrs, const char *ctype,
		 const char *body, size_t len);

/* ---- events.c ---- */
int events_open(struct hsrv *s);
void events_close(struct hsrv *s);
/* A request to an event stream server: answered (the stream's head, or an error). */
void events_request(struct hsrv *s, struct hreq *r, const struct oc_msg *m);
/* An HTTP/1.x subscriber's head went out: it gets the events it missed after last_id
 * (when given), then every new one. */
void events_subscribed(struct hsrv *s, struct hconn *c, const char *last_id);
/* A subscriber's connection closes. */
void events_gone(struct hsrv *s, struct hconn *c);
/* A message written to the server: one event to every subscriber. */
void events_publish(struct hsrv *s, struct oc_msg *m);

/* ---- h1.c ---- */
void h1_init(struct hconn *c);
/* Parse plaintext bytes; errors are answered (400/431) and end the connection. */
void h1_input(struct hconn *c, const char *p, size_t n);
/* Send the answers that are ready, in request order. */
void h1_flush(struct hconn *c);
void h1_release(struct hconn *c);

/* ---- h2.c ---- */
int h2_init(struct hconn *c);
/* Feed plaintext bytes; returns 0, or -1 when the session is over (close). */
int h2_input(struct hconn *c, const char *p, size_t n);
/* r is answered: send it on its stream. */
void h2_answer(struct hconn *c, struct hreq *r);
/* The socket drained: send more (flow control, files). */
void h2_flush(struct hconn *c);
void h2_release(struct hconn *c);

#endif
