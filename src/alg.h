/* The JWS algorithms pam_kakao knows and the header limits both JWT kinds
 * share: the JWT layer's own vocabulary, used by the config parser, the key
 * loader, the JWKS parser and jwt_common.c alike. */
#ifndef PK_ALG_H
#define PK_ALG_H

enum pk_alg {
    PK_ALG_NONE = 0,
    PK_ALG_HS256,
    PK_ALG_HS384,
    PK_ALG_HS512,
    PK_ALG_RS256,
    PK_ALG_RS384,
    PK_ALG_RS512,
    PK_ALG_ES256,
    PK_ALG_ES384,
    PK_ALG_ES512,
};

/* A kid, NUL included, is shorter than this: in a JWT header and a JWKS. */
#define PK_KID_MAX 128

/* "HS256" ...; "none" for PK_ALG_NONE or a value out of range. */
const char *pk_alg_name(enum pk_alg alg);

/* The algorithm spelt exactly (case-sensitive), or PK_ALG_NONE. */
enum pk_alg pk_alg_from_name(const char *name);

#endif
