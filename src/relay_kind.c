#include "relay_kind.h"

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

#include "b64url.h"
#include "jwt_common.h"
#include "safe_file.h"
#include "secure.h"
#include "token.h"

#define PK_ES256_SIG_LEN 64

static void pk_set_problem(char *problem, size_t len, const char *text)
{
    if (len > 0)
        (void)snprintf(problem, len, "%s", text);
}

enum pk_status pk_relay_key_parse(const char *pem, size_t len, EVP_PKEY **key, char *problem,
                                  size_t problem_len)
{
    BIO *bio;
    EVP_PKEY *k;
    char group[64];
    size_t glen = 0;

    *key = NULL;
    if (len > INT32_MAX) {
        pk_set_problem(problem, problem_len, "too large");
        return PK_ST_REFUSED;
    }
    bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL)
        return PK_ST_NOMEM;
    k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (k == NULL) {
        pk_set_problem(problem, problem_len, "is not a PEM public key");
        return PK_ST_REFUSED;
    }
    if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
        EVP_PKEY_get_group_name(k, group, sizeof(group), &glen) != 1 ||
        strcmp(group, "prime256v1") != 0) {
        EVP_PKEY_free(k);
        pk_set_problem(problem, problem_len, "is not an EC P-256 public key");
        return PK_ST_REFUSED;
    }
    *key = k;
    return PK_ST_OK;
}

enum pk_status pk_relay_key_load(const char *path, uid_t uid, EVP_PKEY **key, char *problem,
                                 size_t problem_len)
{
    char *data = NULL;
    size_t len = 0;
    char why[256];
    enum pk_status st = pk_safe_read(path, PK_FILE_CONFIG, uid, &data, &len, problem, problem_len);

    *key = NULL;
    if (st != PK_ST_OK)
        return st;
    st = pk_relay_key_parse(data, len, key, why, sizeof(why));
    pk_free_secret(data, len + 1);
    if (st == PK_ST_REFUSED)
        (void)snprintf(problem, problem_len, "%s %s", path, why);
    return st;
}

void pk_relay_key_free(EVP_PKEY *key)
{
    EVP_PKEY_free(key);
}

/* ES256 with OpenSSL: libjwt 1.10.2 refuses any typ but JWT, and the
 * assertion's typ is kakao-pam-login+jwt on purpose. The raw R||S
 * signature becomes DER for EVP_DigestVerify. */
static enum pk_outcome pk_es256_verify(const struct pk_token *tok, EVP_PKEY *key,
                                       struct pk_result *res)
{
    unsigned char *raw = NULL, *der = NULL;
    size_t raw_len = 0;
    int der_len;
    ECDSA_SIG *sig = NULL;
    BIGNUM *r = NULL, *s = NULL;
    EVP_MD_CTX *md = NULL;
    enum pk_outcome out = PK_OK;
    enum pk_status st;
    int vr;

    st = pk_b64url_decode(tok->text + tok->seg_off[2], tok->seg_len[2], &raw, &raw_len);
    if (st == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, NULL);
    if (st != PK_ST_OK || raw_len != PK_ES256_SIG_LEN) {
        pk_free_secret(raw, raw_len);
        return pk_result_set(res, PK_JWT_BAD_SIGNATURE, "signature is not 64 bytes");
    }
    sig = ECDSA_SIG_new();
    r = BN_bin2bn(raw, 32, NULL);
    s = BN_bin2bn(raw + 32, 32, NULL);
    pk_free_secret(raw, raw_len);
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return pk_result_set(res, PK_NO_MEMORY, NULL);
    }
    der_len = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    if (der_len <= 0)
        return pk_result_set(res, PK_NO_MEMORY, NULL);
    md = EVP_MD_CTX_new();
    if (md == NULL) {
        OPENSSL_free(der);
        return pk_result_set(res, PK_NO_MEMORY, NULL);
    }
    /* The signing input is header.payload: everything before the second dot. */
    vr = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key);
    if (vr == 1)
        vr = EVP_DigestVerify(md, der, (size_t)der_len, (const unsigned char *)tok->text,
                              tok->seg_off[2] - 1);
    if (vr != 1)
        out = pk_result_set(res, PK_JWT_BAD_SIGNATURE, NULL);
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    return out;
}

static enum pk_outcome pk_relay_claims(const struct pk_relay_expect *want, json_t *claims,
                                       struct pk_result *res)
{
    struct pk_claim_rules rules = {
        .now = want->now,
        .leeway = want->leeway,
        .max_token_age = want->max_token_age,
        .issuer = want->issuer,
        .audience = want->host,
    };
    json_t *nonce = json_object_get(claims, "nonce");
    json_t *jti = json_object_get(claims, "jti");
    json_t *iat = json_object_get(claims, "iat");
    json_t *exp = json_object_get(claims, "exp");
    json_t *auth_time = json_object_get(claims, "auth_time");
    enum pk_outcome out;

    /* Required here, optional for other JWTs: without iat, exp <= iat + 300
     * means nothing, and max_token_age must judge the Kakao login itself. */
    if (!json_is_integer(iat))
        return pk_result_set(res, PK_JWT_BAD_CLAIMS, "iat missing or not an integer");
    if (!json_is_integer(auth_time))
        return pk_result_set(res, PK_JWT_BAD_CLAIMS, "auth_time missing or not an integer");
    out = pk_jwt_check_claims(claims, &rules, res);
    if (out != PK_OK)
        return out;
    if (json_integer_value(exp) - json_integer_value(iat) > PK_RELAY_ASSERTION_MAX_TTL ||
        json_integer_value(exp) < json_integer_value(iat))
        return pk_result_set(res, PK_JWT_BAD_CLAIMS, "exp=%lld is not within %d s of iat=%lld",
                             (long long)json_integer_value(exp), PK_RELAY_ASSERTION_MAX_TTL,
                             (long long)json_integer_value(iat));
    if (!json_is_string(nonce) || json_string_length(nonce) != want->nonce_len ||
        CRYPTO_memcmp(json_string_value(nonce), want->nonce, want->nonce_len) != 0)
        return pk_result_set(res, PK_RELAY_BAD_NONCE, "the assertion is for another session");
    if (!json_is_string(jti) || json_string_length(jti) == 0 || json_string_length(jti) > 128)
        return pk_result_set(res, PK_JWT_BAD_CLAIMS, "jti missing");
    return pk_jwt_read_id(claims, "kakao_id", false, &res->kakao_id, res);
}

enum pk_outcome pk_relay_assertion_check(const struct pk_relay_expect *want, EVP_PKEY *key,
                                         const char *assertion, struct pk_result *res)
{
    struct pk_token tok;
    struct pk_jwt_header hdr;
    json_t *claims = NULL;
    enum pk_outcome out;

    res->kind = PK_KIND_RELAY;
    if (key == NULL)
        return pk_result_set(res, PK_CONFIG_ERROR, "relay_key not loaded");
    out = pk_token_parse(assertion, &tok, res);
    res->kind = PK_KIND_RELAY;
    if (out != PK_OK || tok.shape != PK_SHAPE_JWT)
        return pk_result_set(res, PK_JWT_BAD_HEADER, "the assertion is not a JWS");
    out = pk_jwt_check_header(&tok, PK_ALG_ES256, PK_RELAY_TYP, &hdr, res);
    if (out == PK_JWT_BAD_TYP)
        return pk_result_set(res, PK_RELAY_BAD_TYP, NULL);
    if (out == PK_OK)
        out = pk_es256_verify(&tok, key, res);
    if (out != PK_OK)
        return out;
    out = pk_jwt_payload(&tok, &claims, res);
    if (out != PK_OK)
        return out;
    out = pk_relay_claims(want, claims, res);
    json_decref(claims);
    return out;
}
