#include "secure.h"

#include <stdlib.h>
#include <string.h>

void pk_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        explicit_bzero(p, len);
}

void pk_free_secret_str(char *s)
{
    if (s == NULL)
        return;
    pk_wipe(s, strlen(s));
    free(s);
}

void pk_free_secret(void *p, size_t len)
{
    if (p == NULL)
        return;
    pk_wipe(p, len);
    free(p);
}

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
