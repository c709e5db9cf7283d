#include "kinds.h"

#include <string.h>
#include <unistd.h>

#include "app_jwt.h"
#include "id_token.h"
#include "jwt_common.h"
#include "kakao_api.h"
#include "kakao_cache.h"
#include "relay_kind.h"
#include "safe_file.h"
#include "secure.h"

/* ---- kakao: Kakao access token, checked online ---- */

static bool pk_kakao_configured(const struct pk_config *cfg)
{
    return cfg->has_app_id;
}

static bool pk_kakao_uses_https(const struct pk_config *cfg)
{
    (void)cfg;
    return true;
}

static enum pk_kind_claim pk_kakao_claims(const struct pk_config *cfg, const struct pk_token *tok)
{
    (void)cfg;
    return tok->shape == PK_SHAPE_OPAQUE ? PK_CLAIM_YES : PK_CLAIM_NO;
}

/* The online check, or its cached result (cache_ttl): a hit stands for
 * the same answer, and the caller still checks the user map. */
static enum pk_outcome pk_kakao_validate(const struct pk_validator *v, const struct pk_token *tok,
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
    res->kind = PK_KIND_KAKAO;
    return out;
}

/* ---- jwt: app JWT from the site's back end, checked offline ---- */

static bool pk_app_jwt_configured(const struct pk_config *cfg)
{
    return cfg->jwt_key != NULL && cfg->jwt_alg != PK_ALG_NONE;
}

static enum pk_kind_claim pk_app_jwt_claims(const struct pk_config *cfg, const struct pk_token *tok)
{
    (void)cfg;
    return tok->shape == PK_SHAPE_JWT ? PK_CLAIM_FALLBACK : PK_CLAIM_NO;
}

/* A broken key must not cost the user a token: loaded before the prompt. */
static enum pk_outcome pk_app_jwt_load(const struct pk_kind_env *env, struct pk_kind_state *st,
                                       struct pk_result *res)
{
    const struct pk_config *cfg = env->cfg;
    char problem[512];
    enum pk_status kst;

    kst = pk_jwt_key_load(cfg->jwt_key, cfg->jwt_alg, env->uid, &st->jwt_key, problem,
                          sizeof(problem));
    if (kst == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "loading jwt_key");
    if (kst != PK_ST_OK)
        return pk_result_set(res, PK_FILE_ERROR, "jwt_key %s", problem);
    st->have_jwt_key = true;
    return PK_OK;
}

static enum pk_outcome pk_app_jwt_run(const struct pk_validator *v, const struct pk_token *tok,
                                      struct pk_result *res)
{
    return pk_app_jwt_validate(v->cfg, v->keys->have_jwt_key ? &v->keys->jwt_key : NULL, tok,
                               v->now, res);
}

static void pk_app_jwt_free(struct pk_kind_state *st)
{
    if (st->have_jwt_key)
        pk_jwt_key_free(&st->jwt_key);
    st->have_jwt_key = false;
}

/* ---- id_token: Kakao OIDC ID token, checked offline with Kakao's JWKS ---- */

static bool pk_id_token_configured(const struct pk_config *cfg)
{
    return cfg->kakao_rest_api_key != NULL && (cfg->jwks_file != NULL || cfg->jwks_url != NULL);
}

static bool pk_id_token_uses_https(const struct pk_config *cfg)
{
    return cfg->jwks_file == NULL;
}

/* The unverified iss only picks the rules; the kind then checks everything
 * with its own keys, so a wrong guess cannot pass. */
static enum pk_kind_claim pk_id_token_claims(const struct pk_config *cfg,
                                             const struct pk_token *tok)
{
    char iss[256];

    if (tok->shape != PK_SHAPE_JWT)
        return PK_CLAIM_NO;
    pk_jwt_peek_issuer(tok, iss, sizeof(iss));
    return strcmp(iss, cfg->id_token_issuer) == 0 ? PK_CLAIM_YES : PK_CLAIM_NO;
}

/* jwks_file trusted like a config file; jwks_url from cache_dir or
 * fetched. A URL that cannot be had only fails ID tokens, later. */
static enum pk_outcome pk_id_token_load(const struct pk_kind_env *env, struct pk_kind_state *st,
                                        struct pk_result *res)
{
    char problem[512];
    enum pk_status jst;

    jst = pk_jwks_store_load(&st->jwks, env->cfg, env->uid, env->now, env->log, NULL, NULL, problem,
                             sizeof(problem));
    if (jst == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "loading the JWKS");
    if (jst != PK_ST_OK)
        return pk_result_set(res, PK_FILE_ERROR, "jwks_file %s", problem);
    st->have_jwks = true;
    return PK_OK;
}

static enum pk_outcome pk_id_token_run(const struct pk_validator *v, const struct pk_token *tok,
                                       struct pk_result *res)
{
    struct pk_jwks_store *jwks = v->keys->have_jwks ? &v->keys->jwks : NULL;

    return pk_id_token_validate(v->cfg, jwks, tok, v->now, !v->first_pass, res);
}

static void pk_id_token_free(struct pk_kind_state *st)
{
    if (st->have_jwks)
        pk_jwks_store_free(&st->jwks);
    st->have_jwks = false;
}

/* ---- relay: a 6-digit code redeemed at the relay, its assertion checked offline ---- */

static bool pk_relay_configured(const struct pk_config *cfg)
{
    return cfg->relay_url != NULL && cfg->relay_key != NULL;
}

static bool pk_relay_uses_https(const struct pk_config *cfg)
{
    (void)cfg;
    return true;
}

/* A code is never a token: src/auth.c sends it to the relay before any row
 * sees it. So the relay claims nothing, and relay_key verifies no JWT. */
static enum pk_kind_claim pk_relay_claims(const struct pk_config *cfg, const struct pk_token *tok)
{
    (void)cfg;
    (void)tok;
    return PK_CLAIM_NO;
}

static enum pk_outcome pk_relay_load(const struct pk_kind_env *env, struct pk_kind_state *st,
                                     struct pk_result *res)
{
    char problem[512];
    enum pk_status kst =
        pk_relay_key_load(env->cfg->relay_key, env->uid, &st->relay_key, problem, sizeof(problem));

    if (kst == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "loading relay_key");
    if (kst != PK_ST_OK)
        return pk_result_set(res, PK_FILE_ERROR, "relay_key %s", problem);
    return PK_OK;
}

static enum pk_outcome pk_relay_validate(const struct pk_validator *v, const struct pk_token *tok,
                                         struct pk_result *res)
{
    (void)v;
    (void)tok;
    res->kind = PK_KIND_RELAY;
    return pk_result_set(res, PK_TOKEN_MALFORMED, "a relay assertion is never typed");
}

static void pk_relay_free(struct pk_kind_state *st)
{
    pk_relay_key_free(st->relay_key);
    st->relay_key = NULL;
}

/* ---- the table ---- */

const struct pk_kind_ops pk_kinds[] = {
    {
        .name = "kakao",
        .bit = PK_KIND_KAKAO,
        .needs = "kakao_app_id",
        .not_accepted = "kakao is not in accept",
        .configured = pk_kakao_configured,
        .uses_https = pk_kakao_uses_https,
        .claims = pk_kakao_claims,
        .validate = pk_kakao_validate,
    },
    {
        .name = "jwt",
        .bit = PK_KIND_JWT,
        .needs = "jwt_key and jwt_alg",
        .not_accepted = "jwt is not in accept",
        .configured = pk_app_jwt_configured,
        .claims = pk_app_jwt_claims,
        .load = pk_app_jwt_load,
        .validate = pk_app_jwt_run,
        .free = pk_app_jwt_free,
    },
    {
        .name = "id_token",
        .bit = PK_KIND_ID_TOKEN,
        .needs = "kakao_rest_api_key and jwks_file or jwks_url",
        .not_accepted = "iss is the id_token issuer; id_token is not in accept",
        .configured = pk_id_token_configured,
        .uses_https = pk_id_token_uses_https,
        .claims = pk_id_token_claims,
        .load = pk_id_token_load,
        .validate = pk_id_token_run,
        .free = pk_id_token_free,
    },
    {
        .name = "relay",
        .bit = PK_KIND_RELAY,
        .needs = "relay_url and relay_key",
        .not_accepted = "relay is not in accept",
        .configured = pk_relay_configured,
        .uses_https = pk_relay_uses_https,
        .claims = pk_relay_claims,
        .load = pk_relay_load,
        .validate = pk_relay_validate,
        .free = pk_relay_free,
    },
};

const size_t pk_kind_count = sizeof(pk_kinds) / sizeof(pk_kinds[0]);

const struct pk_kind_ops *pk_kind_by_name(const char *name, size_t len)
{
    for (size_t i = 0; i < pk_kind_count; i++)
        if (strlen(pk_kinds[i].name) == len && strncmp(pk_kinds[i].name, name, len) == 0)
            return &pk_kinds[i];
    return NULL;
}

/* Declared in verdict.h: the log line's word for a kind. */
const char *pk_kind_name(enum pk_kind kind)
{
    for (size_t i = 0; i < pk_kind_count; i++)
        if (pk_kinds[i].bit == kind)
            return pk_kinds[i].name;
    return "token";
}

unsigned pk_kinds_configured(const struct pk_config *cfg)
{
    unsigned kinds = 0;

    for (size_t i = 0; i < pk_kind_count; i++)
        if (pk_kinds[i].configured(cfg))
            kinds |= (unsigned)pk_kinds[i].bit;
    return kinds;
}

/* The CA bundle decides whom the HTTPS requests trust (PK_FILE_CA rules).
 * libcurl opens it again by path. */
static enum pk_outcome pk_kinds_ca_file(const struct pk_kind_env *env, struct pk_result *res)
{
    char problem[512];
    int fd;
    enum pk_status st =
        pk_safe_open(env->cfg->ca_file, PK_FILE_CA, env->uid, &fd, problem, sizeof(problem));

    if (st == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "checking ca_file");
    if (st != PK_ST_OK)
        return pk_result_set(res, PK_FILE_ERROR, "ca_file %s", problem);
    (void)close(fd);
    return PK_OK;
}

enum pk_outcome pk_kinds_load(const struct pk_kind_env *env, unsigned kinds,
                              struct pk_kind_state *st, struct pk_result *res)
{
    bool https = false;
    enum pk_outcome out;

    for (size_t i = 0; i < pk_kind_count; i++)
        if ((kinds & (unsigned)pk_kinds[i].bit) != 0 && pk_kinds[i].uses_https != NULL &&
            pk_kinds[i].uses_https(env->cfg))
            https = true;
    if (https && env->cfg->ca_file != NULL) {
        out = pk_kinds_ca_file(env, res);
        if (out != PK_OK)
            return out;
    }
    for (size_t i = 0; i < pk_kind_count; i++) {
        if ((kinds & (unsigned)pk_kinds[i].bit) == 0 || pk_kinds[i].load == NULL)
            continue;
        out = pk_kinds[i].load(env, st, res);
        if (out != PK_OK)
            return out;
    }
    return PK_OK;
}

void pk_kinds_free(struct pk_kind_state *st)
{
    for (size_t i = 0; i < pk_kind_count; i++)
        if (pk_kinds[i].free != NULL)
            pk_kinds[i].free(st);
}
