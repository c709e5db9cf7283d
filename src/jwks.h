/* A JSON Web Key Set (RFC 7517) as the ID-token check needs it: only RSA
 * signing keys of at least 2048 bits, each converted with OpenSSL 3 into
 * the SPKI PEM text libjwt takes. Keys that do not fit are skipped, each
 * with a log line; a kid named by several keys is refused as ambiguous.
 * A kid is only ever compared: it never goes into a path or a URL. */
#ifndef PK_JWKS_H
#define PK_JWKS_H

#include <stdbool.h>
#include <stddef.h>

#include "alg.h"
#include "log.h"
#include "status.h"

#define PK_JWKS_MAX (64 * 1024) /* bytes of JSON, file or fetched */
#define PK_JWK_MAX_BITS 8192

struct pk_jwk {
    char kid[PK_KID_MAX];
    unsigned char *pem; /* SPKI PEM text, NUL-terminated; pem_len excludes the NUL */
    size_t pem_len;
    size_t sig_len; /* modulus bytes: the RS256 signature length */
    int bits;
};

/* A kid that names no usable key, and why (skipped key, ambiguous kid). */
struct pk_jwk_unusable {
    char kid[PK_KID_MAX];
    char why[96];
};

struct pk_jwks {
    struct pk_jwk *keys;
    size_t count;
    struct pk_jwk_unusable *unusable;
    size_t unusable_count;
};

/* Parses json (len bytes, NUL not required). `source` names the file or URL
 * in log lines. PK_ST_REFUSED (with problem set) when the text is not a JSON
 * object with a "keys" array; a set without any usable key is still OK. */
enum pk_status pk_jwks_parse(const char *json, size_t len, const char *source,
                             const struct pk_logger *log, struct pk_jwks *set, char *problem,
                             size_t problem_len);

/* The key whose kid equals kid exactly: PK_ST_OK with *key; PK_ST_MISSING
 * when no key has that kid; PK_ST_REFUSED when the set holds no usable key
 * under it, *why saying why. */
enum pk_status pk_jwks_find(const struct pk_jwks *set, const char *kid, const struct pk_jwk **key,
                            const char **why);

void pk_jwks_free(struct pk_jwks *set);

#endif
