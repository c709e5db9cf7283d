#include "jwks.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "b64url.h"
#include "json_load.h"
#include "keys.h"

/* More entries than any real key set has; bounds the work per login. */
#define PK_JWKS_MAX_KEYS 64
/* Public exponents wider than 64 bits only cost time: 65537 is the norm. */
#define PK_JWK_MAX_E_BYTES 8

/* A kid as a C string: a JSON string that is not empty and fits. */
static const char *pk_entry_kid(json_t *entry)
{
    json_t *kid = json_is_object(entry) ? json_object_get(entry, "kid") : NULL;

    if (!json_is_string(kid) || json_string_length(kid) == 0 ||
        json_string_length(kid) >= PK_KID_MAX)
        return NULL;
    return json_string_value(kid);
}

/* Decodes a base64url member into *bn; *why says why on failure. */
static enum pk_status pk_member_bn(json_t *entry, const char *name, size_t max_bytes, BIGNUM **bn,
                                   char *why, size_t why_len)
{
    json_t *m = json_object_get(entry, name);
    unsigned char *raw = NULL;
    size_t len = 0;
    enum pk_status st;

    *bn = NULL;
    if (!json_is_string(m) || json_string_length(m) == 0) {
        (void)snprintf(why, why_len, "\"%s\" missing or not a string", name);
        return PK_ST_REFUSED;
    }
    st = pk_b64url_decode(json_string_value(m), json_string_length(m), &raw, &len);
    if (st != PK_ST_OK) {
        (void)snprintf(why, why_len, "\"%s\" is not base64url", name);
        return st;
    }
    if (len == 0 || len > max_bytes) {
        free(raw);
        (void)snprintf(why, why_len, "\"%s\" of %zu bytes", name, len);
        return PK_ST_REFUSED;
    }
    *bn = BN_bin2bn(raw, (int)len, NULL);
    free(raw);
    if (*bn == NULL) {
        (void)snprintf(why, why_len, "out of memory");
        return PK_ST_NOMEM;
    }
    return PK_ST_OK;
}

/* n and e to an EVP_PKEY (OpenSSL 3 fromdata), checked as an RSA public key. */
static EVP_PKEY *pk_rsa_from_bn(const BIGNUM *n, const BIGNUM *e)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY_CTX *check = NULL;
    EVP_PKEY *pkey = NULL;

    if (bld == NULL || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        goto out;
    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (check == NULL || EVP_PKEY_public_check(check) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
out:
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* The SPKI PEM text of pkey, NUL-terminated. */
static unsigned char *pk_pkey_pem(EVP_PKEY *pkey, size_t *len)
{
    BIO *mem = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;
    unsigned char *pem = NULL;

    if (mem == NULL)
        return NULL;
    if (PEM_write_bio_PUBKEY(mem, pkey) == 1) {
        n = BIO_get_mem_data(mem, &data);
        if (n > 0 && data != NULL) {
            pem = malloc((size_t)n + 1);
            if (pem != NULL) {
                memcpy(pem, data, (size_t)n);
                pem[n] = '\0';
                *len = (size_t)n;
            }
        }
    }
    BIO_free(mem);
    return pem;
}

/* Checks one JWK and converts it: PK_ST_REFUSED with *why when the key is
 * not an RSA signing key we accept, PK_ST_NOMEM. */
static enum pk_status pk_jwk_convert(json_t *entry, struct pk_jwk *out, char *why, size_t why_len)
{
    json_t *kty, *use, *alg;
    BIGNUM *n = NULL, *e = NULL;
    EVP_PKEY *pkey = NULL;
    char shown[40];
    enum pk_status st = PK_ST_REFUSED;
    int bits;

    if (!json_is_object(entry)) {
        (void)snprintf(why, why_len, "not a JSON object");
        return PK_ST_REFUSED;
    }
    kty = json_object_get(entry, "kty");
    use = json_object_get(entry, "use");
    alg = json_object_get(entry, "alg");
    if (!json_is_string(kty)) {
        (void)snprintf(why, why_len, "kty missing or not a string");
        return PK_ST_REFUSED;
    }
    if (strcmp(json_string_value(kty), "RSA") != 0) {
        pk_log_field(shown, sizeof(shown), json_string_value(kty));
        (void)snprintf(why, why_len, "kty \"%s\" is not RSA", shown);
        return PK_ST_REFUSED;
    }
    if (use != NULL && !(json_is_string(use) && strcmp(json_string_value(use), "sig") == 0)) {
        pk_log_field(shown, sizeof(shown), json_is_string(use) ? json_string_value(use) : "?");
        (void)snprintf(why, why_len, "use \"%s\" is not sig", shown);
        return PK_ST_REFUSED;
    }
    if (alg != NULL && !(json_is_string(alg) && strcmp(json_string_value(alg), "RS256") == 0)) {
        pk_log_field(shown, sizeof(shown), json_is_string(alg) ? json_string_value(alg) : "?");
        (void)snprintf(why, why_len, "alg \"%s\" is not RS256", shown);
        return PK_ST_REFUSED;
    }
    if (pk_entry_kid(entry) == NULL) {
        (void)snprintf(why, why_len, "no usable kid");
        return PK_ST_REFUSED;
    }
    st = pk_member_bn(entry, "n", PK_JWK_MAX_BITS / 8 + 1, &n, why, why_len);
    if (st == PK_ST_OK)
        st = pk_member_bn(entry, "e", PK_JWK_MAX_E_BYTES, &e, why, why_len);
    if (st != PK_ST_OK)
        goto out;
    st = PK_ST_REFUSED;
    bits = BN_num_bits(n);
    if (bits < PK_RSA_MIN_BITS) {
        (void)snprintf(why, why_len, "RSA key of %d bits, at least %d needed", bits,
                       PK_RSA_MIN_BITS);
        goto out;
    }
    if (bits > PK_JWK_MAX_BITS) {
        (void)snprintf(why, why_len, "RSA key of %d bits, at most %d supported", bits,
                       PK_JWK_MAX_BITS);
        goto out;
    }
    pkey = pk_rsa_from_bn(n, e);
    if (pkey == NULL) {
        (void)snprintf(why, why_len, "not a valid RSA public key");
        goto out;
    }
    out->pem = pk_pkey_pem(pkey, &out->pem_len);
    if (out->pem == NULL) {
        st = PK_ST_NOMEM;
        (void)snprintf(why, why_len, "out of memory");
        goto out;
    }
    (void)snprintf(out->kid, sizeof(out->kid), "%s", pk_entry_kid(entry));
    out->bits = EVP_PKEY_get_bits(pkey);
    out->sig_len = (size_t)EVP_PKEY_get_size(pkey);
    st = PK_ST_OK;
out:
    EVP_PKEY_free(pkey);
    BN_free(n);
    BN_free(e);
    return st;
}

static size_t pk_kid_count(json_t *keys, const char *kid)
{
    size_t i, count = 0;
    json_t *entry;

    json_array_foreach(keys, i, entry)
    {
        const char *other = pk_entry_kid(entry);
        if (other != NULL && strcmp(other, kid) == 0)
            count++;
    }
    return count;
}

/* True when an earlier entry already carries kid (its line is logged). */
static bool pk_kid_seen_before(json_t *keys, size_t index, const char *kid)
{
    for (size_t i = 0; i < index; i++) {
        const char *other = pk_entry_kid(json_array_get(keys, i));
        if (other != NULL && strcmp(other, kid) == 0)
            return true;
    }
    return false;
}

static void pk_add_unusable(struct pk_jwks *set, const char *kid, const char *why)
{
    struct pk_jwk_unusable *u = &set->unusable[set->unusable_count++];

    (void)snprintf(u->kid, sizeof(u->kid), "%s", kid);
    (void)snprintf(u->why, sizeof(u->why), "%s", why);
}

enum pk_status pk_jwks_parse(const char *json, size_t len, const char *source,
                             const struct pk_logger *log, struct pk_jwks *set, char *problem,
                             size_t problem_len)
{
    json_error_t err;
    json_t *root, *keys, *entry;
    size_t i, count;
    enum pk_status st = PK_ST_OK;

    memset(set, 0, sizeof(*set));
    if (len > PK_JWKS_MAX) {
        (void)snprintf(problem, problem_len, "larger than %d bytes", PK_JWKS_MAX);
        return PK_ST_REFUSED;
    }
    root = pk_json_loadb(json, len, &err);
    if (root == NULL) {
        if (json_error_code(&err) == json_error_out_of_memory) {
            (void)snprintf(problem, problem_len, "out of memory");
            return PK_ST_NOMEM;
        }
        (void)snprintf(problem, problem_len, "%s",
                       json_error_code(&err) == json_error_duplicate_key ? "duplicate key in JSON"
                                                                         : "not valid JSON");
        return PK_ST_REFUSED;
    }
    keys = json_is_object(root) ? json_object_get(root, "keys") : NULL;
    if (!json_is_array(keys)) {
        (void)snprintf(problem, problem_len, "%s",
                       json_is_object(root) ? "no \"keys\" array" : "not a JSON object");
        json_decref(root);
        return PK_ST_REFUSED;
    }
    count = json_array_size(keys);
    if (count > PK_JWKS_MAX_KEYS) {
        (void)snprintf(problem, problem_len, "%zu keys, at most %d", count, PK_JWKS_MAX_KEYS);
        json_decref(root);
        return PK_ST_REFUSED;
    }
    set->keys = calloc(count + 1, sizeof(*set->keys));
    set->unusable = calloc(count + 1, sizeof(*set->unusable));
    if (set->keys == NULL || set->unusable == NULL) {
        (void)snprintf(problem, problem_len, "out of memory");
        json_decref(root);
        pk_jwks_free(set);
        return PK_ST_NOMEM;
    }
    json_array_foreach(keys, i, entry)
    {
        const char *kid = pk_entry_kid(entry);
        size_t same = kid != NULL ? pk_kid_count(keys, kid) : 0;
        char why[96] = "";
        char kid_shown[PK_KID_MAX * 4];
        enum pk_status conv;

        pk_log_field(kid_shown, sizeof(kid_shown), kid != NULL ? kid : "");
        if (same > 1) {
            /* Either key could be the one meant: use neither. */
            (void)snprintf(why, sizeof(why), "kid names %zu keys in the set (ambiguous)", same);
            if (!pk_kid_seen_before(keys, i, kid))
                pk_log(log, LOG_WARNING, "jwks %s: kid \"%s\" names %zu keys: refused as ambiguous",
                       source, kid_shown, same);
            pk_add_unusable(set, kid, why);
            continue;
        }
        conv = pk_jwk_convert(entry, &set->keys[set->count], why, sizeof(why));
        if (conv == PK_ST_OK) {
            set->count++;
            continue;
        }
        if (conv == PK_ST_NOMEM) {
            (void)snprintf(problem, problem_len, "out of memory");
            st = PK_ST_NOMEM;
            break;
        }
        pk_log(log, LOG_WARNING, "jwks %s: key #%zu%s%s%s skipped: %s", source, i,
               kid != NULL ? " (kid \"" : "", kid_shown, kid != NULL ? "\")" : "", why);
        if (kid != NULL)
            pk_add_unusable(set, kid, why);
    }
    json_decref(root);
    if (st != PK_ST_OK)
        pk_jwks_free(set);
    return st;
}

enum pk_status pk_jwks_find(const struct pk_jwks *set, const char *kid, const struct pk_jwk **key,
                            const char **why)
{
    *key = NULL;
    *why = NULL;
    for (size_t i = 0; i < set->count; i++) {
        if (strcmp(set->keys[i].kid, kid) == 0) {
            *key = &set->keys[i];
            return PK_ST_OK;
        }
    }
    for (size_t i = 0; i < set->unusable_count; i++) {
        if (strcmp(set->unusable[i].kid, kid) == 0) {
            *why = set->unusable[i].why;
            return PK_ST_REFUSED;
        }
    }
    return PK_ST_MISSING;
}

void pk_jwks_free(struct pk_jwks *set)
{
    if (set->keys != NULL)
        for (size_t i = 0; i < set->count; i++)
            free(set->keys[i].pem);
    free(set->keys);
    free(set->unusable);
    memset(set, 0, sizeof(*set));
}
