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
