#include "id_token.h"

#include <string.h>

#include "jwt_common.h"

/* What a login the caller started adds to the claims, read only after the
 * signature and the other claims passed. */
static enum pk_outcome pk_id_token_login_claims(json_t *claims, const char *nonce,
                                                long long *auth_time, struct pk_result *res)
{
    json_t *got = json_object_get(claims, "nonce");
    json_t *when = json_object_get(claims, "auth_time");

    if (got == NULL)
        return pk_result_set(res, PK_JWT_BAD_CLAIMS, "nonce missing");
    if (!json_is_string(got) || json_string_length(got) != strlen(nonce) ||
        memcmp(json_string_value(got), nonce, strlen(nonce)) != 0)
        return pk_result_set(res, PK_JWT_BAD_CLAIMS, "nonce does not match");
    if (when == NULL)
        when = json_object_get(claims, "iat");
    if (!json_is_integer(when) || json_integer_value(when) <= 0)
        return pk_result_set(res, PK_JWT_BAD_CLAIMS, "no auth_time or iat");
    *auth_time = (long long)json_integer_value(when);
    return PK_OK;
}

static enum pk_outcome pk_id_token_check(const struct pk_config *cfg, struct pk_jwks_store *jwks,
                                         const struct pk_token *tok, time_t now, bool may_refetch,
                                         const char *nonce, long long *auth_time,
                                         struct pk_result *res)
{
    struct pk_jwt_header hdr;
    struct pk_claim_rules rules = {
        .now = now,
        .leeway = cfg->leeway,
        .max_token_age = cfg->max_token_age,
        .issuer = cfg->id_token_issuer,
        .audience = cfg->kakao_rest_api_key,
    };
    const struct pk_jwk *key = NULL;
    json_t *claims;
    enum pk_outcome out;

    res->kind = PK_KIND_ID_TOKEN;
    if (jwks == NULL || cfg->kakao_rest_api_key == NULL)
        return pk_result_set(res, PK_CONFIG_ERROR, "id_token keys not loaded");
    /* Kakao signs with RS256 only: any other alg, HS256 made with the
     * public key included, is refused before a key is looked at. */
    out = pk_jwt_check_header(tok, PK_ALG_RS256, NULL, &hdr, res);
    if (out != PK_OK)
        return out;
    if (hdr.kid[0] == '\0')
        return pk_result_set(res, PK_JWT_BAD_HEADER, "no kid");
    out = pk_jwks_store_key(jwks, hdr.kid, now, may_refetch, &key, res);
    if (out != PK_OK)
        return out;
    out = pk_jwt_check_sig_length(tok, key->sig_len, res);
    if (out != PK_OK)
        return out;
    out = pk_jwt_verified_claims(tok, PK_ALG_RS256, key->pem, key->pem_len, &rules, &claims, res);
    if (out == PK_OK)
        out = pk_jwt_read_id(claims, "sub", true, &res->kakao_id, res);
    if (out == PK_OK && nonce != NULL)
        out = pk_id_token_login_claims(claims, nonce, auth_time, res);
    /* Kakao's ID tokens carry no jti: one signature, one login. */
    if (out == PK_OK && cfg->one_time)
        out = pk_jwt_mark(tok, claims, false, cfg->leeway, res);
    json_decref(claims);
    res->kind = PK_KIND_ID_TOKEN;
    return out;
}

enum pk_outcome pk_id_token_validate(const struct pk_config *cfg, struct pk_jwks_store *jwks,
                                     const struct pk_token *tok, time_t now, bool may_refetch,
                                     struct pk_result *res)
{
    return pk_id_token_check(cfg, jwks, tok, now, may_refetch, NULL, NULL, res);
}

enum pk_outcome pk_id_token_validate_login(const struct pk_config *cfg, struct pk_jwks_store *jwks,
                                           const struct pk_token *tok, time_t now,
                                           const char *nonce, long long *auth_time,
                                           struct pk_result *res)
{
    if (nonce == NULL || auth_time == NULL) {
        res->kind = PK_KIND_ID_TOKEN;
        return pk_result_set(res, PK_CONFIG_ERROR, "no nonce to check");
    }
    return pk_id_token_check(cfg, jwks, tok, now, true, nonce, auth_time, res);
}
