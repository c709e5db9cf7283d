#include "validate.h"

#include <string.h>

#include "app_jwt.h"
#include "id_token.h"
#include "jwt_common.h"
#include "kakao_api.h"
#include "kakao_cache.h"

/* The online check, or its cached result (cache_ttl): a hit stands for
 * the same answer, and the caller still checks the user map. */
static enum pk_outcome pk_validate_kakao(const struct pk_validator *v, const struct pk_token *tok,
                                         struct pk_result *res)
{
    struct pk_kakao_cache cache;
    int64_t kakao_id = 0, valid_for = 0;
    enum pk_outcome out;

    pk_kakao_cache_open(&cache, v->cfg, v->uid, tok->text, tok->len, v->log);
    if (pk_kakao_cache_get(&cache, v->now, &kakao_id)) {
        pk_kakao_cache_close(&cache);
        out = pk_result_set(res, PK_OK, "cached");
        res->kakao_id = kakao_id;
        return out;
    }
    out = pk_kakao_check(v->cfg, tok->text, tok->len, v->log, res, &valid_for);
    if (out == PK_OK)
        pk_kakao_cache_put(&cache, v->now, res->kakao_id, valid_for);
    pk_kakao_cache_close(&cache);
    return out;
}

enum pk_outcome pk_validate_token(const struct pk_validator *v, const char *raw,
                                  struct pk_result *res)
{
    const struct pk_config *cfg = v->cfg;
    unsigned kinds = pk_config_kinds(cfg);
    struct pk_token tok;
    enum pk_outcome out;

    res->kind = PK_KIND_NONE;
    res->kakao_id = 0;
    out = pk_token_parse(raw, &tok, res);
    if (v->first_pass && (out != PK_OK || tok.shape != PK_SHAPE_JWT))
        /* No detail: its length or bytes would say something of a password. */
        return pk_result_set(res, PK_AUTHTOK_NOT_JWT, NULL);
    if (out != PK_OK)
        return out;
    if (tok.shape == PK_SHAPE_OPAQUE) {
        res->kind = PK_KIND_KAKAO;
        if ((kinds & PK_KIND_KAKAO) == 0)
            return pk_result_set(res, PK_KIND_NOT_ACCEPTED, "kakao is not in accept");
        out = pk_validate_kakao(v, &tok, res);
        res->kind = PK_KIND_KAKAO;
        return out;
    }
    {
        /* The unverified iss only picks the rules; each kind then checks
         * everything with its own keys, so a wrong guess cannot pass. */
        char iss[256];
        pk_jwt_peek_issuer(&tok, iss, sizeof(iss));
        if (strcmp(iss, cfg->id_token_issuer) == 0) {
            res->kind = PK_KIND_ID_TOKEN;
            if ((kinds & PK_KIND_ID_TOKEN) == 0)
                return pk_result_set(res, PK_KIND_NOT_ACCEPTED, "iss is the id_token issuer; id_token is not in accept");
            if (v->jwks != NULL)
                v->jwks->no_fetch = v->first_pass;
            return pk_id_token_validate(cfg, v->jwks, &tok, v->now, res);
        }
    }
    res->kind = PK_KIND_JWT;
    if ((kinds & PK_KIND_JWT) == 0)
        return pk_result_set(res, PK_KIND_NOT_ACCEPTED, "jwt is not in accept");
    return pk_app_jwt_validate(cfg, v->jwt_key, &tok, v->now, res);
}
