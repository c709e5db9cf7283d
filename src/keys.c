#include "keys.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

#include "safe_file.h"
#include "secure.h"

bool pk_alg_is_hmac(enum pk_alg alg)
{
    return alg == PK_ALG_HS256 || alg == PK_ALG_HS384 || alg == PK_ALG_HS512;
}

static bool pk_alg_is_rsa(enum pk_alg alg)
{
    return alg == PK_ALG_RS256 || alg == PK_ALG_RS384 || alg == PK_ALG_RS512;
}

static size_t pk_hmac_len(enum pk_alg alg)
{
    return alg == PK_ALG_HS256 ? 32 : alg == PK_ALG_HS384 ? 48 : 64;
}

/* Curve and raw R||S length that each ES algorithm requires. */
static const char *pk_es_curve(enum pk_alg alg, size_t *sig_len)
{
    switch (alg) {
    case PK_ALG_ES256:
        *sig_len = 64;
        return "prime256v1";
    case PK_ALG_ES384:
        *sig_len = 96;
        return "secp384r1";
    case PK_ALG_ES512:
        *sig_len = 132;
        return "secp521r1";
    default:
        break;
    }
    *sig_len = 0;
    return NULL;
}

/* Checks that the PEM public key fits alg; sets the signature length. */
static enum pk_status pk_check_public_key(const char *path, const unsigned char *pem, size_t len,
                                          enum pk_alg alg, size_t *sig_len, char *problem,
                                          size_t problem_len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pkey;
    enum pk_status st = PK_ST_REFUSED;

    if (bio == NULL) {
        (void)snprintf(problem, problem_len, "%s: out of memory", path);
        return PK_ST_NOMEM;
    }
    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (pkey == NULL) {
        (void)snprintf(problem, problem_len, "%s: not a PEM public key (needed for %s)", path,
                       pk_alg_name(alg));
        return PK_ST_REFUSED;
    }
    if (pk_alg_is_rsa(alg)) {
        int bits = EVP_PKEY_get_bits(pkey);
        if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
            (void)snprintf(problem, problem_len, "%s: %s needs an RSA key", path, pk_alg_name(alg));
        else if (bits < PK_RSA_MIN_BITS)
            (void)snprintf(problem, problem_len, "%s: RSA key of %d bits, at least %d needed", path,
                           bits, PK_RSA_MIN_BITS);
        else {
            *sig_len = (size_t)EVP_PKEY_get_size(pkey);
            st = PK_ST_OK;
        }
    } else {
        char group[64];
        size_t glen = 0;
        const char *want = pk_es_curve(alg, sig_len);
        if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC)
            (void)snprintf(problem, problem_len, "%s: %s needs an EC key", path, pk_alg_name(alg));
        else if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                                sizeof(group), &glen) != 1 ||
                 want == NULL || strcmp(group, want) != 0)
            (void)snprintf(problem, problem_len, "%s: %s needs an EC key on curve %s", path,
                           pk_alg_name(alg), want != NULL ? want : "?");
        else
            st = PK_ST_OK;
    }
    EVP_PKEY_free(pkey);
    return st;
}

enum pk_status pk_jwt_key_load(const char *path, enum pk_alg alg, uid_t uid, struct pk_jwt_key *key,
                               char *problem, size_t problem_len)
{
    char *data;
    size_t len;
    enum pk_status fst;

    memset(key, 0, sizeof(*key));
    fst = pk_safe_read(path, PK_FILE_KEY, uid, &data, &len, problem, problem_len);
    if (fst == PK_ST_NOMEM)
        return PK_ST_NOMEM;
    if (fst != PK_ST_OK)
        return PK_ST_REFUSED;
    return pk_jwt_key_parse(path, data, len, alg, key, problem, problem_len);
}

enum pk_status pk_jwt_key_parse(const char *path, char *data, size_t len, enum pk_alg alg,
                                struct pk_jwt_key *key, char *problem, size_t problem_len)
{
    enum pk_status st;

    memset(key, 0, sizeof(*key));
    if (pk_alg_is_hmac(alg)) {
        /* The secret is the file's bytes less one trailing newline. */
        if (len > 0 && data[len - 1] == '\n')
            data[--len] = '\0';
        /* A PEM key used as an HMAC secret is the algorithm-confusion hole
         * made by configuration: refuse it. */
        if (strncmp(data, "-----BEGIN", 10) == 0) {
            (void)snprintf(problem, problem_len, "%s: a PEM key cannot be an %s secret", path,
                           pk_alg_name(alg));
            pk_free_secret(data, len + 1);
            return PK_ST_REFUSED;
        }
        if (len < PK_HMAC_MIN) {
            (void)snprintf(problem, problem_len, "%s: HMAC secret of %zu bytes, at least %d needed",
                           path, len, PK_HMAC_MIN);
            pk_free_secret(data, len + 1);
            return PK_ST_REFUSED;
        }
        key->sig_len = pk_hmac_len(alg);
    } else {
        size_t sig_len = 0;
        st = pk_check_public_key(path, (const unsigned char *)data, len, alg, &sig_len, problem,
                                 problem_len);
        if (st != PK_ST_OK) {
            pk_free_secret(data, len);
            return st;
        }
        key->sig_len = sig_len;
    }
    key->alg = alg;
    key->bytes = (unsigned char *)data;
    key->len = len;
    return PK_ST_OK;
}

void pk_jwt_key_free(struct pk_jwt_key *key)
{
    pk_free_secret(key->bytes, key->len);
    memset(key, 0, sizeof(*key));
}
