/* The module compares no secret itself (libjwt and OpenSSL verify the
 * signatures); the CLI compares the OAuth state. Kept apart so that
 * pam_kakao.so does not carry it (docs/DESIGN.md §3.4). */
#include "secure.h"

bool pk_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    const unsigned char *x = a;
    const unsigned char *y = b;
    size_t n = alen < blen ? alen : blen;
    unsigned char diff = (unsigned char)(alen != blen);

    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(x[i] ^ y[i]);
    return diff == 0;
}
