#include "jwt_common.h"

#include <errno.h>
#include <jwt.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "json_load.h"
#include "log.h"
#include "secure.h"

enum pk_status pk_jwt_segment_json(const struct pk_token *tok, int seg, json_t **out,
                                   const char **why)
{
    size_t len = 0;
    unsigned char *raw = NULL;
    enum pk_status st =
        pk_b64url_decode(tok->text + tok->seg_off[seg], tok->seg_len[seg], &raw, &len);
    json_t *json;
    json_error_t err;

    *out = NULL;
    *why = "not base64url";
    if (st != PK_ST_OK)
        return st;
    json = pk_json_loadb((const char *)raw, len, &err);
    pk_free_secret(raw, len);
    if (json == NULL) {
        st = PK_ST_REFUSED;
        switch (json_error_code(&err)) {
        case json_error_duplicate_key:
            *why = "duplicate key";
            break;
        case json_error_numeric_overflow:
            *why = "number out of range";
            break;
        case json_error_null_character:
        case json_error_null_byte_in_key:
            *why = "NUL character in a string";
            break;
        case json_error_out_of_memory:
            st = PK_ST_NOMEM;
            *why = "out of memory";
            break;
        default:
            *why = "not valid JSON";
            break;
        }
        return st;
    }
    if (!json_is_object(json)) {
        json_decref(json);
        *why = "not a JSON object";
        return PK_ST_REFUSED;
    }
    *out = json;
    return PK_ST_OK;
}

enum pk_outcome pk_jwt_check_header(const struct pk_token *tok, enum pk_alg want, const char *typ,
                                    struct pk_jwt_header *hdr, struct pk_result *res)
{
    const char *why;
    json_t *h;
    enum pk_status st = pk_jwt_segment_json(tok, 0, &h, &why);
    json_t *alg, *typ_v, *kid;
    const char *typ_want = typ != NULL ? typ : "JWT";
    enum pk_outcome out = PK_OK;

    memset(hdr, 0, sizeof(*hdr));
    if (st != PK_ST_OK)
        return st == PK_ST_NOMEM ? pk_result_set(res, PK_NO_MEMORY, NULL)
                                 : pk_result_set(res, PK_JWT_BAD_HEADER, "header: %s", why);
    alg = json_object_get(h, "alg");
    typ_v = json_object_get(h, "typ");
    kid = json_object_get(h, "kid");
    if (!json_is_string(alg)) {
        out = pk_result_set(res, PK_JWT_BAD_HEADER, "alg missing or not a string");
    } else if (strcmp(json_string_value(alg), pk_alg_name(want)) != 0) {
        char shown[24];
        pk_log_field(shown, sizeof(shown), json_string_value(alg));
        out = pk_result_set(res, PK_JWT_ALG_MISMATCH, "alg=\"%s\", configured %s", shown,
                            pk_alg_name(want));
    } else if (json_object_get(h, "crit") != NULL) {
        out = pk_result_set(res, PK_JWT_CRIT, NULL);
    } else if ((typ != NULL || typ_v != NULL) &&
               !(json_is_string(typ_v) && json_string_length(typ_v) == strlen(typ_want) &&
                 strcmp(json_string_value(typ_v), typ_want) == 0)) {
        out = pk_result_set(res, PK_JWT_BAD_TYP, NULL);
    } else if (kid != NULL &&
               (!json_is_string(kid) || strlen(json_string_value(kid)) >= sizeof(hdr->kid))) {
        out = pk_result_set(res, PK_JWT_BAD_HEADER, "kid not a short string");
    } else {
        (void)snprintf(hdr->alg, sizeof(hdr->alg), "%s", json_string_value(alg));
        if (kid != NULL)
            (void)snprintf(hdr->kid, sizeof(hdr->kid), "%s", json_string_value(kid));
    }
    json_decref(h);
    return out;
}

enum pk_outcome pk_jwt_check_sig_length(const struct pk_token *tok, size_t sig_len,
                                        struct pk_result *res)
{
    /* Unpadded base64url of sig_len bytes; compared before decoding so a
     * signature cut anywhere is named as such. */
    size_t want_chars = (sig_len * 8 + 5) / 6;
    size_t have = tok->seg_len[2];
    size_t len = 0;
    unsigned char *sig = NULL;
    enum pk_status st;

    if (have != want_chars) {
        const char *hint = pk_token_cut_hint(tok->len);
        return pk_result_set(res, PK_JWT_SIG_LENGTH, "%zu bytes, expected %zu%s%s", have * 6 / 8,
                             sig_len, hint != NULL ? "; " : "", hint != NULL ? hint : "");
    }
    st = pk_b64url_decode(tok->text + tok->seg_off[2], have, &sig, &len);
    if (st == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, NULL);
    if (st != PK_ST_OK)
        return pk_result_set(res, PK_JWT_BAD_SIGNATURE, "signature is not canonical base64url");
    pk_free_secret(sig, len);
    return PK_OK;
}

static jwt_alg_t pk_libjwt_alg(enum pk_alg alg)
{
    switch (alg) {
    case PK_ALG_HS256:
        return JWT_ALG_HS256;
    case PK_ALG_HS384:
        return JWT_ALG_HS384;
    case PK_ALG_HS512:
        return JWT_ALG_HS512;
    case PK_ALG_RS256:
        return JWT_ALG_RS256;
    case PK_ALG_RS384:
        return JWT_ALG_RS384;
    case PK_ALG_RS512:
        return JWT_ALG_RS512;
    case PK_ALG_ES256:
        return JWT_ALG_ES256;
    case PK_ALG_ES384:
        return JWT_ALG_ES384;
    case PK_ALG_ES512:
        return JWT_ALG_ES512;
    case PK_ALG_NONE:
        break;
    }
    return JWT_ALG_INVAL;
}

enum pk_outcome pk_jwt_verify(const struct pk_token *tok, enum pk_alg alg, const unsigned char *key,
                              size_t key_len, struct pk_result *res)
{
    jwt_t *jwt = NULL;
    char *copy;
    int rc;
    enum pk_outcome out = PK_OK;

    /* A NULL or empty key makes libjwt skip verification: never allow it. */
    if (key == NULL || key_len == 0 || key_len > INT32_MAX || pk_libjwt_alg(alg) == JWT_ALG_INVAL)
        return pk_result_set(res, PK_CONFIG_ERROR, "no verification key");
    copy = strndup(tok->text, tok->len);
    if (copy == NULL)
        return pk_result_set(res, PK_NO_MEMORY, NULL);
    rc = jwt_decode(&jwt, copy, key, (int)key_len);
    if (rc == ENOMEM)
        out = pk_result_set(res, PK_NO_MEMORY, NULL);
    else if (rc != 0 || jwt == NULL)
        out = pk_result_set(res, PK_JWT_BAD_SIGNATURE, NULL);
    else if (jwt_get_alg(jwt) != pk_libjwt_alg(alg))
        out = pk_result_set(res, PK_JWT_ALG_MISMATCH, "libjwt saw another algorithm");
    jwt_free(jwt);
    pk_free_secret(copy, tok->len);
    return out;
}

/* Equality that a NUL byte inside the JSON string cannot fool. */
static bool pk_json_str_eq(json_t *s, const char *want)
{
    size_t n = strlen(want);
    return json_is_string(s) && json_string_length(s) == n &&
           memcmp(json_string_value(s), want, n) == 0;
}

/* Reads an optional integer claim: PK_ST_OK with *v, PK_ST_MISSING when
 * absent, PK_ST_REFUSED when not an integer. */
static enum pk_status pk_int_claim(json_t *claims, const char *name, json_int_t *v)
{
    json_t *c = json_object_get(claims, name);

    if (c == NULL)
        return PK_ST_MISSING;
    if (!json_is_integer(c))
        return PK_ST_REFUSED;
    *v = json_integer_value(c);
    return PK_ST_OK;
}

static bool pk_aud_contains(json_t *aud, const char *want)
{
    size_t i;
    json_t *item;

    if (json_is_string(aud))
        return pk_json_str_eq(aud, want);
    json_array_foreach(aud, i, item)
    {
        if (pk_json_str_eq(item, want))
            return true;
    }
    return false;
}

static bool pk_aud_well_formed(json_t *aud)
{
    size_t i;
    json_t *item;

    if (json_is_string(aud))
        return true;
    if (!json_is_array(aud))
        return false;
    json_array_foreach(aud, i, item)
    {
        if (!json_is_string(item))
            return false;
    }
    return true;
}

enum pk_outcome pk_jwt_check_claims(json_t *claims, const struct pk_claim_rules *rules,
                                    struct pk_result *res)
{
    const json_int_t now = (json_int_t)rules->now;
    json_int_t exp = 0, nbf = 0, iat = 0, auth_time = 0;
    enum pk_status has_exp = pk_int_claim(claims, "exp", &exp);
    enum pk_status has_nbf = pk_int_claim(claims, "nbf", &nbf);
    enum pk_status has_iat = pk_int_claim(claims, "iat", &iat);
    enum pk_status has_auth = pk_int_claim(claims, "auth_time", &auth_time);
    json_t *iss = json_object_get(claims, "iss");
    json_t *aud = json_object_get(claims, "aud");

    if (has_exp == PK_ST_MISSING)
        return pk_result_set(res, PK_JWT_NO_EXP, NULL);
    if (has_exp == PK_ST_REFUSED || has_nbf == PK_ST_REFUSED || has_iat == PK_ST_REFUSED ||
        has_auth == PK_ST_REFUSED)
        return pk_result_set(res, PK_JWT_BAD_CLAIMS, "%s is not an integer",
                             has_exp == PK_ST_REFUSED   ? "exp"
                             : has_nbf == PK_ST_REFUSED ? "nbf"
                             : has_iat == PK_ST_REFUSED ? "iat"
                                                        : "auth_time");
    /* Written so that no sum can overflow: now and leeway are small. */
    if (exp <= now - rules->leeway)
        return pk_result_set(res, PK_JWT_EXPIRED, "exp=%lld now=%lld", (long long)exp,
                             (long long)now);
    if (has_nbf == PK_ST_OK && nbf > now + rules->leeway)
        return pk_result_set(res, PK_JWT_NOT_YET_VALID, "nbf=%lld now=%lld", (long long)nbf,
                             (long long)now);
    if (has_iat == PK_ST_OK && iat > now + rules->leeway)
        return pk_result_set(res, PK_JWT_IAT_FUTURE, "iat=%lld now=%lld", (long long)iat,
                             (long long)now);
    if (iss != NULL && !json_is_string(iss))
        return pk_result_set(res, PK_JWT_BAD_CLAIMS, "iss is not a string");
    if (aud != NULL && !pk_aud_well_formed(aud))
        return pk_result_set(res, PK_JWT_BAD_CLAIMS, "aud is not a string or array of strings");
    if (rules->issuer != NULL && !pk_json_str_eq(iss, rules->issuer)) {
        char shown[96];
        pk_log_field(shown, sizeof(shown), iss != NULL ? json_string_value(iss) : "");
        return iss == NULL ? pk_result_set(res, PK_JWT_WRONG_ISS, "iss missing")
                           : pk_result_set(res, PK_JWT_WRONG_ISS, "iss=\"%s\"", shown);
    }
    if (rules->audience != NULL && (aud == NULL || !pk_aud_contains(aud, rules->audience))) {
        char shown[96];
        pk_log_field(shown, sizeof(shown), rules->audience);
        return aud == NULL
                   ? pk_result_set(res, PK_JWT_WRONG_AUD, "aud missing")
                   : pk_result_set(res, PK_JWT_WRONG_AUD, "aud does not contain \"%s\"", shown);
    }
    if (rules->max_token_age > 0) {
        json_int_t when = has_auth == PK_ST_OK ? auth_time : iat;
        const char *name = has_auth == PK_ST_OK ? "auth_time" : "iat";
        if (has_auth != PK_ST_OK && has_iat != PK_ST_OK)
            return pk_result_set(res, PK_JWT_TOO_OLD, "no auth_time or iat, max_token_age=%ld",
                                 rules->max_token_age);
        if (when < now - rules->max_token_age - rules->leeway)
            return pk_result_set(res, PK_JWT_TOO_OLD, "%s=%lld now=%lld max_token_age=%ld", name,
                                 (long long)when, (long long)now, rules->max_token_age);
    }
    return PK_OK;
}

enum pk_outcome pk_jwt_payload(const struct pk_token *tok, json_t **claims, struct pk_result *res)
{
    const char *why;
    enum pk_status st = pk_jwt_segment_json(tok, 1, claims, &why);

    if (st == PK_ST_OK)
        return PK_OK;
    *claims = NULL;
    return st == PK_ST_NOMEM ? pk_result_set(res, PK_NO_MEMORY, NULL)
                             : pk_result_set(res, PK_JWT_BAD_CLAIMS, "payload: %s", why);
}

enum pk_outcome pk_jwt_verified_claims(const struct pk_token *tok, enum pk_alg alg,
                                       const unsigned char *key, size_t key_len,
                                       const struct pk_claim_rules *rules, json_t **claims,
                                       struct pk_result *res)
{
    enum pk_outcome out = pk_jwt_payload(tok, claims, res);

    if (out == PK_OK)
        out = pk_jwt_verify(tok, alg, key, key_len, res);
    if (out == PK_OK)
        out = pk_jwt_check_claims(*claims, rules, res);
    if (out != PK_OK) {
        json_decref(*claims);
        *claims = NULL;
    }
    return out;
}

enum pk_outcome pk_jwt_read_id(json_t *claims, const char *name, bool string_only, int64_t *id,
                               struct pk_result *res)
{
    char shown[72];
    json_t *c = json_object_get(claims, name);

    pk_log_field(shown, sizeof(shown), name);
    if (c == NULL)
        return pk_result_set(res, PK_JWT_BAD_ID, "%s missing", shown);
    if (json_is_integer(c) && !string_only) {
        if (json_integer_value(c) <= 0)
            return pk_result_set(res, PK_JWT_BAD_ID, "%s is not positive", shown);
        *id = (int64_t)json_integer_value(c);
        return PK_OK;
    }
    if (json_is_string(c)) {
        const char *s = json_string_value(c);
        if (!pk_valid_kakao_id_text(s, json_string_length(c), id) ||
            strlen(s) != json_string_length(c))
            return pk_result_set(res, PK_JWT_BAD_ID, "%s is not a decimal id", shown);
        return PK_OK;
    }
    return pk_result_set(res, PK_JWT_BAD_ID, "%s is a %s", shown,
                         json_is_real(c)      ? "float"
                         : json_is_boolean(c) ? "boolean"
                         : json_is_null(c)    ? "null"
                         : json_is_integer(c) ? "number, not a string"
                                              : "structure");
}

void pk_jwt_peek_issuer(const struct pk_token *tok, char *buf, size_t len)
{
    const char *why;
    json_t *claims;
    json_t *iss = pk_jwt_segment_json(tok, 1, &claims, &why) == PK_ST_OK
                      ? json_object_get(claims, "iss")
                      : NULL;

    if (len > 0)
        buf[0] = '\0';
    if (json_is_string(iss) && json_string_length(iss) < len &&
        strlen(json_string_value(iss)) == json_string_length(iss))
        memcpy(buf, json_string_value(iss), json_string_length(iss) + 1);
    json_decref(claims);
}

#define PK_JTI_MAX 128

/* jti for a mark: a string of 1-PK_JTI_MAX printable bytes (0x20-0x7e).
 * NULL, with PK_JWT_NO_JTI in res, for anything else. */
static const char *pk_jwt_jti(json_t *claims, size_t *len, struct pk_result *res)
{
    json_t *c = json_object_get(claims, "jti");
    const char *jti;

    if (c == NULL) {
        (void)pk_result_set(res, PK_JWT_NO_JTI, "no jti claim");
        return NULL;
    }
    jti = json_string_value(c);
    if (jti == NULL) {
        (void)pk_result_set(res, PK_JWT_NO_JTI, "jti is not a string");
        return NULL;
    }
    *len = json_string_length(c);
    if (*len == 0 || *len > PK_JTI_MAX) {
        (void)pk_result_set(res, PK_JWT_NO_JTI, "jti of %zu bytes, 1-%d allowed", *len, PK_JTI_MAX);
        return NULL;
    }
    for (size_t i = 0; i < *len; i++) {
        if ((unsigned char)jti[i] < 0x20 || (unsigned char)jti[i] > 0x7e) {
            (void)pk_result_set(res, PK_JWT_NO_JTI, "jti has bytes outside printable ASCII");
            return NULL;
        }
    }
    return jti;
}

/* SHA-256(iss "\0" jti): iss may hold any byte, jti no NUL, so the last
 * NUL separates them and no two pairs give the same input. */
static enum pk_outcome pk_jwt_mark_jti(json_t *claims, unsigned char digest[32],
                                       struct pk_result *res)
{
    json_t *iss = json_object_get(claims, "iss");
    size_t jti_len = 0;
    size_t iss_len = 0;
    unsigned int md_len = 0;
    unsigned char *buf;
    const char *jti = pk_jwt_jti(claims, &jti_len, res);
    int ok;

    if (jti == NULL)
        return res->outcome;
    if (iss != NULL && !json_is_string(iss))
        return pk_result_set(res, PK_JWT_BAD_CLAIMS, "iss is not a string");
    if (iss != NULL)
        iss_len = json_string_length(iss);
    buf = malloc(iss_len + 1 + jti_len);
    if (buf == NULL)
        return pk_result_set(res, PK_NO_MEMORY, NULL);
    if (iss_len > 0)
        memcpy(buf, json_string_value(iss), iss_len);
    buf[iss_len] = '\0';
    memcpy(buf + iss_len + 1, jti, jti_len);
    ok = EVP_Digest(buf, iss_len + 1 + jti_len, digest, &md_len, EVP_sha256(), NULL);
    free(buf);
    if (ok != 1 || md_len != 32)
        return pk_result_set(res, PK_NO_MEMORY, "SHA-256 failed");
    return PK_OK;
}

static enum pk_outcome pk_jwt_mark_sig(const struct pk_token *tok, unsigned char digest[32],
                                       struct pk_result *res)
{
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    unsigned int md_len = 0;
    enum pk_status st =
        pk_b64url_decode(tok->text + tok->seg_off[2], tok->seg_len[2], &sig, &sig_len);
    int ok;

    if (st == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, NULL);
    if (st != PK_ST_OK)
        return pk_result_set(res, PK_JWT_BAD_SIGNATURE, "signature does not decode");
    ok = EVP_Digest(sig, sig_len, digest, &md_len, EVP_sha256(), NULL);
    free(sig);
    if (ok != 1 || md_len != 32)
        return pk_result_set(res, PK_NO_MEMORY, "SHA-256 failed");
    return PK_OK;
}

enum pk_outcome pk_jwt_mark(const struct pk_token *tok, json_t *claims, bool by_jti, long leeway,
                            struct pk_result *res)
{
    json_int_t exp = 0;
    enum pk_outcome out;

    memset(&res->mark, 0, sizeof(res->mark));
    /* pk_jwt_check_claims made sure of it; checked again, not assumed. */
    if (pk_int_claim(claims, "exp", &exp) != PK_ST_OK)
        return pk_result_set(res, PK_JWT_NO_EXP, NULL);
    out = by_jti ? pk_jwt_mark_jti(claims, res->mark.digest, res)
                 : pk_jwt_mark_sig(tok, res->mark.digest, res);
    /* The claims were read twice and agreed (pk_json_loadb): a jti cannot
     * come out shorter for lack of memory and give another mark. */
    if (out != PK_OK) {
        memset(&res->mark, 0, sizeof(res->mark));
        return out;
    }
    res->mark.until = exp > LLONG_MAX - leeway ? LLONG_MAX : (long long)exp + leeway;
    res->mark.set = true;
    return PK_OK;
}
