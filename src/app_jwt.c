#include "app_jwt.h"

#include "jwt_common.h"

enum pk_outcome pk_app_jwt_validate(const struct pk_config *cfg, const struct pk_jwt_key *key,
                                    const struct pk_token *tok, time_t now, struct pk_result *res)
{
    struct pk_jwt_header hdr;
    struct pk_claim_rules rules = {
        .now = now,
        .leeway = cfg->leeway,
        .max_token_age = cfg->max_token_age,
        .issuer = cfg->jwt_issuer,
        .audience = cfg->jwt_audience,
    };
    json_t *claims;
    enum pk_outcome out;

    res->kind = PK_KIND_JWT;
    if (key == NULL || key->alg != cfg->jwt_alg)
        return pk_result_set(res, PK_CONFIG_ERROR, "jwt key not loaded");
    out = pk_jwt_check_header(tok, cfg->jwt_alg, NULL, &hdr, res);
    if (out == PK_OK)
        out = pk_jwt_check_sig_length(tok, key->sig_len, res);
    if (out == PK_OK)
        out = pk_jwt_verified_claims(tok, key->alg, key->bytes, key->len, &rules, &claims, res);
    if (out != PK_OK)
        return out;
    out = pk_jwt_read_id(claims, cfg->jwt_id_claim, false, &res->kakao_id, res);
    if (out == PK_OK && cfg->one_time)
        out = pk_jwt_mark(tok, claims, true, cfg->leeway, res);
    json_decref(claims);
    return out;
}
