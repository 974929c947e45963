/* core/linkfmt.h — the targets of a CoRE link-format document (RFC 6690), as a server's
 * resource discovery answers (CoAP's /.well-known/core): "</a/b>;rt=x;obs,</c>" lists
 * /a/b and /c. Attributes are skipped. Pure: no I/O. */
#ifndef OC_LINKFMT_H
#define OC_LINKFMT_H

#include <stddef.h>

/* Call fn with each link target (not NUL-terminated: len bytes) in order. */
void oc_linkfmt_targets(const char *doc, size_t n,
			void (*fn)(void *ud, const char *target, size_t len), void *ud);

#endif
