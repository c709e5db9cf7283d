#include "alg.h"

#include <string.h>

static const char *const pk_alg_names[] = {
    [PK_ALG_NONE] = NULL,     [PK_ALG_HS256] = "HS256", [PK_ALG_HS384] = "HS384",
    [PK_ALG_HS512] = "HS512", [PK_ALG_RS256] = "RS256", [PK_ALG_RS384] = "RS384",
    [PK_ALG_RS512] = "RS512", [PK_ALG_ES256] = "ES256", [PK_ALG_ES384] = "ES384",
    [PK_ALG_ES512] = "ES512",
};

const char *pk_alg_name(enum pk_alg alg)
{
    if ((unsigned)alg >= sizeof(pk_alg_names) / sizeof(pk_alg_names[0]) ||
        pk_alg_names[alg] == NULL)
        return "none";
    return pk_alg_names[alg];
}

enum pk_alg pk_alg_from_name(const char *name)
{
    for (size_t i = 1; i < sizeof(pk_alg_names) / sizeof(pk_alg_names[0]); i++)
        if (strcmp(name, pk_alg_names[i]) == 0)
            return (enum pk_alg)i;
    return PK_ALG_NONE;
}
