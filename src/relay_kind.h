/* The relay kind's offline half: the relay's public key (relay_key) and the
 * login assertion the relay signs when a code is redeemed (pam_kakao(8),
 * docs/DESIGN.md §4). The network half is src/relay_client.c. */
#ifndef PK_RELAY_KIND_H
#define PK_RELAY_KIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "status.h"
#include "verdict.h"

/* The relay's assertion header: typ exactly this, alg exactly ES256. */
#define PK_RELAY_TYP "kakao-pam-login+jwt"
/* An assertion may live at most this long (exp - iat), in seconds. */
#define PK_RELAY_ASSERTION_MAX_TTL 300

struct evp_pkey_st;

/* Parses PEM text (len bytes) as an EC P-256 public key into *key.
 * PK_ST_OK, PK_ST_REFUSED (problem says why) or PK_ST_NOMEM. */
enum pk_status pk_relay_key_parse(const char *pem, size_t len, struct evp_pkey_st **key,
                                  char *problem, size_t problem_len);

/* Reads path under the config-file trust rules (a public key may be
 * world-readable) and parses it: statuses as pk_safe_read, then as
 * pk_relay_key_parse. */
enum pk_status pk_relay_key_load(const char *path, uid_t uid, struct evp_pkey_st **key,
                                 char *problem, size_t problem_len);

void pk_relay_key_free(struct evp_pkey_st *key);

/* What an assertion must say. */
struct pk_relay_expect {
    const char *issuer; /* relay_url */
    const char *host;   /* the host name sent when the session was made */
    const char *nonce;  /* the session id S */
    size_t nonce_len;
    time_t now;
    long leeway;
    long max_token_age; /* 0 = off; applies to auth_time */
};

/* Checks assertion (NUL-terminated) offline: header (ES256, typ), the
 * signature with key only, then iss, aud, nonce, iat, exp (<= iat + 300),
 * auth_time (max_token_age), kakao_id, jti. Sets res->kind to relay and,
 * on PK_OK, res->kakao_id. */
enum pk_outcome pk_relay_assertion_check(const struct pk_relay_expect *want,
                                         struct evp_pkey_st *key, const char *assertion,
                                         struct pk_result *res);

#endif
