#include "text_buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "secure.h"

void pk_text_buf_put(struct pk_text_buf *t, const char *s, size_t n)
{
    if (t->oom)
        return;
    if (t->buf == NULL || n + 1 > t->cap - t->len) {
        size_t cap = t->cap != 0 ? t->cap : 512;
        char *nbuf;
        while (cap - t->len < n + 1) {
            if (cap > SIZE_MAX / 2) {
                t->oom = true;
                return;
            }
            cap *= 2;
        }
        /* Not realloc: the old buffer may hold a secret and is wiped. */
        nbuf = malloc(cap);
        if (nbuf == NULL) {
            t->oom = true;
            return;
        }
        if (t->buf != NULL) {
            memcpy(nbuf, t->buf, t->len + 1);
            pk_free_secret(t->buf, t->cap);
        }
        t->buf = nbuf;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

void pk_text_buf_add(struct pk_text_buf *t, const char *s)
{
    pk_text_buf_put(t, s, strlen(s));
}

void pk_text_buf_add_enc(struct pk_text_buf *t, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            pk_text_buf_put(t, s, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            pk_text_buf_put(t, esc, 3);
        }
    }
}

void pk_text_buf_free(struct pk_text_buf *t)
{
    pk_free_secret(t->buf, t->cap);
    memset(t, 0, sizeof(*t));
}
