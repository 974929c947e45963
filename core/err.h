/* core/err.h — results and the documented exit-code table (DESIGN §5).
 *
 * Every function that can fail returns 0 or one of the negative OC_E* values below; the
 * absolute value IS the process exit code, so there is exactly one table and the command
 * layer turns a result into an exit status with oc_exit_code(). The table is append-only:
 * a number is never reused. */
#ifndef OC_ERR_H
#define OC_ERR_H

enum oc_result {
	OC_OK = 0,
	OC_EFAIL = -1,         /* other failure */
	OC_EUSAGE = -2,        /* bad option, argument or URL syntax */
	OC_EUNSUPPORTED = -3,  /* unknown scheme, or an operation the protocol does not offer */
	OC_ENOTBUILT = -4,     /* scheme known but its support not built in */
	OC_ERESOLVE = -5,      /* name resolution failed */
	OC_ECONNECT = -6,      /* connect, bind or listen failed */
	OC_ETLS = -7,          /* TLS handshake or certificate failure */
	OC_EAUTH = -8,         /* authentication or authorization refused */
	OC_EPROTO = -9,        /* the peer violated the protocol or sent something unparsable */
	OC_EPEER = -10,        /* the peer answered with an error */
	OC_ETIMEOUT = -11,     /* --timeout, --connect-timeout or --idle expired */
	OC_EIO = -12,          /* local I/O: stdin, stdout, files */
	OC_EINCOMPLETE = -13,  /* connection lost and not recovered, or --count not reached */
};

/* Not an exit code: the reader of our output went away (EPIPE on stdout). That is a normal,
 * quiet end of the run (exit 0), so it is kept apart from OC_EIO. */
#define OC_ECLOSED_OUT (-1000)

/* One row of the exit-code table, for --help, the man-page check and tests. */
struct oc_exit_row {
	int code;
	const char *name;
	const char *meaning;
};

extern const struct oc_exit_row oc_exit_table[];

/* Exit status for a result: 0 for OC_OK and OC_ECLOSED_OUT, else -result. */
int oc_exit_code(int result);

/* Map a libuv error met on a network socket to our table: resolution → OC_ERESOLVE, a reset
 * or broken connection → OC_EINCOMPLETE, the rest of connect/bind/listen → OC_ECONNECT. */
int oc_err_from_uv_net(int uverr);

#endif
