/* A growing text buffer for URLs and forms that may carry secrets (an OAuth
 * code, a PKCE verifier, a client secret): every buffer it drops is wiped.
 * Out of memory is sticky (oom), so a caller appends freely and looks once.
 * Used by `kakao-pam login` and the relay; not linked into the module. */
#ifndef PK_TEXT_BUF_H
#define PK_TEXT_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct pk_text_buf {
    char *buf; /* NUL-terminated once anything was added */
    size_t len;
    size_t cap;
    bool oom;
};

void pk_text_buf_put(struct pk_text_buf *t, const char *s, size_t n);
void pk_text_buf_add(struct pk_text_buf *t, const char *s);
/* RFC 3986 percent-encoding: everything but the unreserved characters. */
void pk_text_buf_add_enc(struct pk_text_buf *t, const char *s);
/* Wipes and frees; the buffer is empty again. */
void pk_text_buf_free(struct pk_text_buf *t);

#endif
