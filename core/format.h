/* core/format.h — --format output strings, with kcat's letters where kcat has them (DESIGN §2).
 *
 *   %s payload   %t topic (or path)   %k key     %h headers as k=v,k=v   %T ts (ms)
 *   %S size      %m method            %c status  %i id                   %q qos
 *   %e peer      %p partition, %o offset (headers omnicat-partition / omnicat-offset)
 *   \n \t \\ and %% are escapes. Absent fields print as nothing. */
#ifndef OC_FORMAT_H
#define OC_FORMAT_H

#include <stddef.h>

#include "iobatch.h"
#include "msg.h"

struct oc_format;

/* Compile spec. Returns 0 and *out, or OC_EUSAGE with err set ("unknown format letter '%x'"). */
int oc_format_compile(const char *spec, struct oc_format **out, char *err, size_t errlen);
void oc_format_free(struct oc_format *f);
/* Append m formatted by f to b (payload referenced; keep m alive until written). */
void oc_format_apply(const struct oc_format *f, const struct oc_msg *m, struct oc_iobatch *b);

#endif
