/* Encoding is for the signer (src/jwt_sign.c) and the CLI only: it lives
 * apart from the decoder so that pam_kakao.so, which only decodes, does not
 * carry it (CLI_ONLY_OBJ in the Makefile; docs/DESIGN.md §3.4). */
#include "b64url.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "secure.h"

char *pk_b64url_encode(const unsigned char *in, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out;
    size_t o = 0;
    size_t i = 0;

    if (len > (SIZE_MAX - 4) / 4 * 3)
        return NULL;
    out = malloc((len + 2) / 3 * 4 + 1);
    if (out == NULL)
        return NULL;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
        out[o++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = alphabet[(v >> 6) & 63];
    }
    out[o] = '\0';
    return out;
}

bool pk_random_b64url(char *out, size_t out_len, size_t n)
{
    unsigned char raw[64];
    size_t got = 0;
    char *enc;
    bool ok;

    if (n > sizeof(raw))
        return false;
    while (got < n) {
        ssize_t r = getrandom(raw + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            pk_wipe(raw, sizeof(raw));
            return false;
        }
        got += (size_t)r;
    }
    enc = pk_b64url_encode(raw, n);
    pk_wipe(raw, sizeof(raw));
    if (enc == NULL)
        return false;
    ok = strlen(enc) < out_len;
    if (ok)
        memcpy(out, enc, strlen(enc) + 1);
    pk_free_secret_str(enc);
    return ok;
}
