/* The parts of JWT validation that libjwt 1.10.2 leaves to its caller:
 * our own header parse, signature length, libjwt verification with the
 * algorithm re-checked, and claims read with jansson (duplicates rejected). */
#ifndef PK_JWT_COMMON_H
#define PK_JWT_COMMON_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "alg.h"
#include "config.h"
#include "status.h"
#include "token.h"
#include "verdict.h"

struct pk_jwt_header {
    char alg[16];
    char kid[PK_KID_MAX]; /* empty when absent */
};

/* Decodes a segment of tok as a JSON object (duplicates rejected) into
 * *out: PK_ST_OK, PK_ST_REFUSED or PK_ST_NOMEM, *why saying what was wrong. */
enum pk_status pk_jwt_segment_json(const struct pk_token *tok, int seg, json_t **out,
                                   const char **why);

/* Reads the header: alg must equal `want` exactly, no crit; typ absent or
 * "JWT" when typ is NULL, else present and exactly typ (the relay's
 * assertions, so that no other JWT passes as one). */
enum pk_outcome pk_jwt_check_header(const struct pk_token *tok, enum pk_alg want, const char *typ,
                                    struct pk_jwt_header *hdr, struct pk_result *res);

/* The signature segment must decode to exactly sig_len bytes. */
enum pk_outcome pk_jwt_check_sig_length(const struct pk_token *tok, size_t sig_len,
                                        struct pk_result *res);

/* libjwt verification with a non-NULL key, then jwt_get_alg() re-checked. */
enum pk_outcome pk_jwt_verify(const struct pk_token *tok, enum pk_alg alg, const unsigned char *key,
                              size_t key_len, struct pk_result *res);

struct pk_claim_rules {
    time_t now;
    long leeway;
    long max_token_age;   /* 0 = off */
    const char *issuer;   /* NULL = not checked */
    const char *audience; /* NULL = not checked */
};

/* exp/nbf/iat/auth_time, iss, aud (docs/DESIGN.md §4.4 step 5). */
enum pk_outcome pk_jwt_check_claims(json_t *claims, const struct pk_claim_rules *rules,
                                    struct pk_result *res);

/* The payload as JSON in *claims (the caller's on PK_OK, else NULL):
 * PK_JWT_BAD_CLAIMS "payload: ..." when it is not JSON, PK_NO_MEMORY. */
enum pk_outcome pk_jwt_payload(const struct pk_token *tok, json_t **claims, struct pk_result *res);

/* The payload of a JWT signed with alg and key, whose claims pass rules, in
 * *claims (the caller's on PK_OK, else NULL). It is parsed before the
 * signature is checked only to name a malformed payload exactly (libjwt
 * would call it a bad signature), and trusted only after. */
enum pk_outcome pk_jwt_verified_claims(const struct pk_token *tok, enum pk_alg alg,
                                       const unsigned char *key, size_t key_len,
                                       const struct pk_claim_rules *rules, json_t **claims,
                                       struct pk_result *res);

/* The id claim: positive JSON integer, or string of digits (docs/DESIGN.md §4.4 step 6).
 * With digits_only, only the string form is allowed (ID token `sub`). */
enum pk_outcome pk_jwt_read_id(json_t *claims, const char *name, bool string_only, int64_t *id,
                               struct pk_result *res);

/* The mark of a one-time token (one_time = yes, docs/DESIGN.md §8.6), into
 * res->mark, once every other check has passed. by_jti (app JWTs):
 * SHA-256(iss "\0" jti), iss "" when absent; jti must be a string of 1-128
 * printable bytes, else PK_JWT_NO_JTI. Otherwise (ID tokens): SHA-256 of
 * the decoded signature. Kept until exp + leeway. */
enum pk_outcome pk_jwt_mark(const struct pk_token *tok, json_t *claims, bool by_jti, long leeway,
                            struct pk_result *res);

/* The unverified iss of a JWT, copied into buf ("" when absent or unreadable). */
void pk_jwt_peek_issuer(const struct pk_token *tok, char *buf, size_t len);

#endif
