/* App JWT validation (docs/DESIGN.md §4.4): offline, with the configured key and alg. */
#ifndef PK_APP_JWT_H
#define PK_APP_JWT_H

#include <time.h>

#include "config.h"
#include "keys.h"
#include "token.h"
#include "verdict.h"

enum pk_outcome pk_app_jwt_validate(const struct pk_config *cfg, const struct pk_jwt_key *key,
                                    const struct pk_token *tok, time_t now, struct pk_result *res);

#endif
