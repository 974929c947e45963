/* core/err.c — the exit-code table (DESIGN §5). Append only. */
#include "err.h"

#include <uv.h>

const struct oc_exit_row oc_exit_table[] = {
	{ 0, "ok", "success (also: --count reached)" },
	{ 1, "fail", "other failure" },
	{ 2, "usage", "usage: bad option, argument or URL syntax" },
	{ 3, "unsupported", "unknown scheme, or an operation the protocol does not offer" },
	{ 4, "not-built", "scheme known but its support not built in" },
	{ 5, "resolve", "name resolution failed" },
	{ 6, "connect", "connect, bind or listen failed" },
	{ 7, "tls", "TLS handshake or certificate failure" },
	{ 8, "auth", "authentication or authorization refused" },
	{ 9, "protocol", "the peer violated the protocol or sent something unparsable" },
	{ 10, "peer-error", "the peer answered with an error" },
	{ 11, "timeout", "--timeout, --connect-timeout or --idle expired" },
	{ 12, "local-io", "local I/O: reading stdin or a file, writing stdout or a file" },
	{ 13, "incomplete", "incomplete: connection lost and not recovered, or --count not reached" },
	{ 0, 0, 0 },
};

int oc_exit_code(int result)
{
	if (result == OC_OK || result == OC_ECLOSED_OUT)
		return 0;
	if (result < 0 && result >= OC_EINCOMPLETE)
		return -result;
	return 1;
}

int oc_err_from_uv_net(int uverr)
{
	switch (uverr) {
	case UV_EAI_NONAME:
	case UV_EAI_AGAIN:
	case UV_EAI_FAIL:
	case UV_EAI_NODATA:
	case UV_EAI_ADDRFAMILY:
		return OC_ERESOLVE;
	case UV_ETIMEDOUT:
		return OC_ETIMEOUT;
	case UV_EPIPE:
	case UV_ECONNRESET:
	case UV_ECONNABORTED:
	case UV_EOF:
		return OC_EINCOMPLETE;
	default:
		return OC_ECONNECT;
	}
}
