/* proto-adapters/http/mime.h — media types for static files, from /etc/mime.types (Debian's
 * media-types package), so the table is the system's, not a hand-written copy. */
#ifndef OC_MIME_H
#define OC_MIME_H

/* The media type for a file name by its extension; "application/octet-stream" if unknown. */
const char *oc_mime_type(const char *path);
/* Free the table (at exit, for leak checkers). */
void oc_mime_release(void);

#endif
