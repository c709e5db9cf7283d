/* Kakao OIDC ID token validation (docs/DESIGN.md §4.3, §4.4): offline, RS256 only, the
 * key chosen by kid from the JWKS, iss = id_token_issuer, aud contains
 * kakao_rest_api_key, sub (a string of digits) is the kakao_id. Neither
 * the app-JWT key nor its rules are ever used here. */
#ifndef PK_ID_TOKEN_H
#define PK_ID_TOKEN_H

#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "jwks_cache.h"
#include "token.h"
#include "verdict.h"

/* may_refetch: whether an unknown kid may make a JWKS refetch (false for a
 * PAM_AUTHTOK from another module, which is judged offline). */
enum pk_outcome pk_id_token_validate(const struct pk_config *cfg, struct pk_jwks_store *jwks,
                                     const struct pk_token *tok, time_t now, bool may_refetch,
                                     struct pk_result *res);

#endif
