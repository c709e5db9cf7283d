/* The relay's assertion: a JWS (ES256, typ kakao-pam-login+jwt) that tells a
 * host "this Kakao user approved session S for host H" (kakao-pam-relay(8)). */
#ifndef PK_RELAY_ASSERTION_H
#define PK_RELAY_ASSERTION_H

#include <stddef.h>
#include <time.h>

#define PK_RELAY_ASSERTION_TTL 60 /* exp - iat; hosts accept at most 300 */

struct pk_relay_claims {
    const char *iss;      /* public_url */
    const char *aud;      /* the host name the session was created with */
    const char *nonce;    /* S */
    const char *kakao_id; /* decimal text */
    long long iat;
    long long auth_time;
};

/* Signs the claims (plus exp = iat + PK_RELAY_ASSERTION_TTL and a random
 * jti) with the PEM EC P-256 private key; NULL with err set on failure. */
char *pk_relay_assertion(const struct pk_relay_claims *c, const char *key_pem, char *err,
                         size_t err_len);

#endif
