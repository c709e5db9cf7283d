#include "b64url.h"

#include <stdint.h>
#include <stdlib.h>

#include "secure.h"

static int pk_b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

enum pk_status pk_b64url_decode(const char *in, size_t len, unsigned char **decoded,
                                size_t *out_len)
{
    unsigned char *out;
    size_t o = 0;
    uint32_t acc = 0;
    unsigned bits = 0;

    *decoded = NULL;
    /* A lone trailing character carries fewer than 8 bits: never valid. */
    if (len % 4 == 1)
        return PK_ST_REFUSED;
    out = malloc(len / 4 * 3 + 3);
    if (out == NULL)
        return PK_ST_NOMEM;
    for (size_t i = 0; i < len; i++) {
        int v = pk_b64url_value((unsigned char)in[i]);
        if (v < 0) {
            pk_free_secret(out, o); /* a token's partly decoded signature */
            return PK_ST_REFUSED;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits must be zero, or two texts would decode alike. */
    if (acc != 0) {
        pk_free_secret(out, o);
        return PK_ST_REFUSED;
    }
    out[o] = '\0';
    *decoded = out;
    *out_len = o;
    return PK_ST_OK;
}
