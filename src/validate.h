/* Token to kakao_id, or a reason: the token's shape, then the kind that
 * claims it (the kinds table, kinds.c). Shared by the module and kakao-pam
 * verify. */
#ifndef PK_VALIDATE_H
#define PK_VALIDATE_H

#include "kinds.h"
#include "verdict.h"

/* raw is what the user typed (NUL-terminated). With first_pass it may be
 * another module's password: anything but a JWT is PK_AUTHTOK_NOT_JWT, and
 * nothing is fetched or sent over the network on its account. */
enum pk_outcome pk_validate_token(const struct pk_validator *v, const char *raw,
                                  struct pk_result *res);

#endif
