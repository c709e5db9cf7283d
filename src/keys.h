/* The app-JWT verification key: an HMAC secret or a PEM public key, loaded
 * from a trusted file and checked against the configured algorithm. */
#ifndef PK_KEYS_H
#define PK_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "status.h"

#define PK_HMAC_MIN 32
#define PK_RSA_MIN_BITS 2048

struct pk_jwt_key {
    enum pk_alg alg;
    unsigned char *bytes; /* what libjwt takes: the secret, or the PEM text */
    size_t len;
    size_t sig_len; /* the raw signature length this key produces */
};

/* Loads path under the key-file trust rules and checks it fits alg. */
enum pk_status pk_jwt_key_load(const char *path, enum pk_alg alg, uid_t uid, struct pk_jwt_key *key,
                               char *problem, size_t problem_len);

/* The checks of pk_jwt_key_load on bytes already read (data: len bytes
 * and a NUL, from pk_safe_read or, in `kakao-pam check`, pk_check_read).
 * Takes data: it becomes key->bytes, or is wiped and freed on failure. */
enum pk_status pk_jwt_key_parse(const char *path, char *data, size_t len, enum pk_alg alg,
                                struct pk_jwt_key *key, char *problem, size_t problem_len);

void pk_jwt_key_free(struct pk_jwt_key *key);

bool pk_alg_is_hmac(enum pk_alg alg);

#endif
