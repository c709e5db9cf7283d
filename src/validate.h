/* Token to kakao_id, or a reason: dispatches on the token's shape and the
 * accepted kinds. Shared by the module and kakao-pam verify. */
#ifndef PK_VALIDATE_H
#define PK_VALIDATE_H

#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "jwks_cache.h"
#include "keys.h"
#include "log.h"
#include "token.h"
#include "verdict.h"

struct pk_validator {
    const struct pk_config *cfg;
    const struct pk_jwt_key *jwt_key; /* NULL when jwt is not configured */
    struct pk_jwks_store *jwks;       /* NULL when id_token is not accepted; may refetch */
    const struct pk_logger *log;
    time_t now;
    uid_t uid; /* who must own cache_dir (the Kakao check cache) */
    bool first_pass; /* raw is PAM_AUTHTOK from another module: JWTs only, offline */
};

/* raw is what the user typed (NUL-terminated). With first_pass it may be
 * another module's password: anything but a JWT is PK_AUTHTOK_NOT_JWT, and
 * nothing is fetched or sent over the network on its account. */
enum pk_outcome pk_validate_token(const struct pk_validator *v, const char *raw,
                                  struct pk_result *res);

#endif
