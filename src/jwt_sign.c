/* JWT signing with OpenSSL 3 EVP: HMAC for HS*, PKCS#1 v1.5 for RS*, ECDSA
 * with the DER signature turned into the raw R||S that JWS (RFC 7518 §3.4)
 * and libjwt expect. */
#include "jwt_sign.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "b64url.h"

enum sign_family { FAMILY_HMAC, FAMILY_RSA, FAMILY_EC };

struct sign_alg {
    enum sign_family family;
    const char *digest;     /* OpenSSL digest name */
    int curve_nid;          /* EC only: the curve the JWA name requires */
    const char *curve_name; /* EC only: for messages */
    int coord_len;          /* EC only: bytes of R, and of S, in the raw form */
};

static bool sign_alg_for(enum pk_alg alg, struct sign_alg *out)
{
    static const struct sign_alg hs256 = {FAMILY_HMAC, "SHA256", 0, NULL, 0};
    static const struct sign_alg hs384 = {FAMILY_HMAC, "SHA384", 0, NULL, 0};
    static const struct sign_alg hs512 = {FAMILY_HMAC, "SHA512", 0, NULL, 0};
    static const struct sign_alg rs256 = {FAMILY_RSA, "SHA256", 0, NULL, 0};
    static const struct sign_alg rs384 = {FAMILY_RSA, "SHA384", 0, NULL, 0};
    static const struct sign_alg rs512 = {FAMILY_RSA, "SHA512", 0, NULL, 0};
    static const struct sign_alg es256 = {FAMILY_EC, "SHA256", NID_X9_62_prime256v1, "P-256", 32};
    static const struct sign_alg es384 = {FAMILY_EC, "SHA384", NID_secp384r1, "P-384", 48};
    static const struct sign_alg es512 = {FAMILY_EC, "SHA512", NID_secp521r1, "P-521", 66};

    switch (alg) {
    case PK_ALG_HS256:
        *out = hs256;
        return true;
    case PK_ALG_HS384:
        *out = hs384;
        return true;
    case PK_ALG_HS512:
        *out = hs512;
        return true;
    case PK_ALG_RS256:
        *out = rs256;
        return true;
    case PK_ALG_RS384:
        *out = rs384;
        return true;
    case PK_ALG_RS512:
        *out = rs512;
        return true;
    case PK_ALG_ES256:
        *out = es256;
        return true;
    case PK_ALG_ES384:
        *out = es384;
        return true;
    case PK_ALG_ES512:
        *out = es512;
        return true;
    case PK_ALG_NONE:
        break;
    }
    return false;
}

/* Sets err to what failed, with OpenSSL's first queued reason if any, and
 * empties the (thread-local) OpenSSL error queue. */
static void fail(char *err, size_t err_len, const char *what)
{
    unsigned long code = ERR_get_error();

    if (err != NULL && err_len > 0) {
        if (code != 0) {
            char detail[256];
            ERR_error_string_n(code, detail, sizeof detail);
            (void)snprintf(err, err_len, "%s (%s)", what, detail);
        } else {
            (void)snprintf(err, err_len, "%s", what);
        }
    }
    ERR_clear_error();
}

/* Token pieces are credentials: wiped before they are freed. */
static void free_wiped(void *p, size_t len)
{
    if (p != NULL) {
        explicit_bzero(p, len);
        free(p);
    }
}

static void free_wiped_str(char *s)
{
    if (s != NULL)
        free_wiped(s, strlen(s));
}

/* A key file is never interactive: an encrypted PEM fails instead of
 * prompting on the terminal (OpenSSL's default without a callback). */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static unsigned char *sign_hmac(const struct sign_alg *a, const unsigned char *in, size_t len,
                                const unsigned char *key, size_t key_len, size_t *sig_len,
                                char *err, size_t err_len)
{
    unsigned char *sig = malloc(EVP_MAX_MD_SIZE);

    if (sig == NULL) {
        fail(err, err_len, "out of memory");
        return NULL;
    }
    if (EVP_Q_mac(NULL, "HMAC", NULL, a->digest, NULL, key, key_len, in, len, sig, EVP_MAX_MD_SIZE,
                  sig_len) == NULL) {
        fail(err, err_len, "HMAC failed");
        free_wiped(sig, EVP_MAX_MD_SIZE);
        return NULL;
    }
    return sig;
}

EVP_PKEY *pk_private_key_from_pem(const unsigned char *key, size_t key_len, char *err,
                                  size_t err_len)
{
    BIO *bio;
    EVP_PKEY *pkey;

    if (key_len > INT_MAX) {
        fail(err, err_len, "key too long");
        return NULL;
    }
    bio = BIO_new_mem_buf(key, (int)key_len);
    if (bio == NULL) {
        fail(err, err_len, "out of memory");
        return NULL;
    }
    pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (pkey == NULL)
        fail(err, err_len, "key is not an unencrypted PEM private key");
    return pkey;
}

/* RS* takes a plain RSA key (not RSA-PSS, which refuses PKCS#1 v1.5);
 * ES* takes an EC key on exactly the curve its name implies (RFC 7518 §3.4). */
static bool key_fits(EVP_PKEY *pkey, const struct sign_alg *a, char *err, size_t err_len)
{
    char msg[128];
    char group[64];
    size_t group_len = 0;
    const char *type = EVP_PKEY_get0_type_name(pkey);

    if (type == NULL)
        type = "unknown";
    if (a->family == FAMILY_RSA) {
        if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA)
            return true;
        (void)snprintf(msg, sizeof msg, "the algorithm needs an RSA key, not %s", type);
        fail(err, err_len, msg);
        return false;
    }
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) {
        (void)snprintf(msg, sizeof msg, "the algorithm needs an EC key on %s, not %s",
                       a->curve_name, type);
        fail(err, err_len, msg);
        return false;
    }
    if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &group_len) != 1) {
        (void)snprintf(msg, sizeof msg,
                       "the algorithm needs an EC key on %s, not explicit parameters",
                       a->curve_name);
        fail(err, err_len, msg);
        return false;
    }
    if (OBJ_txt2nid(group) != a->curve_nid) {
        (void)snprintf(msg, sizeof msg, "the algorithm needs an EC key on %s, not %s",
                       a->curve_name, group);
        fail(err, err_len, msg);
        return false;
    }
    return true;
}

/* Rewrites the DER ECDSA-Sig-Value in buf (of size cap) as R||S, each
 * left-padded to coord_len bytes; the rest of buf is wiped. */
static bool ecdsa_der_to_raw(unsigned char *buf, size_t cap, size_t *len, int coord_len)
{
    const unsigned char *p = buf;
    unsigned char raw[2 * 66];
    const size_t raw_len = (size_t)coord_len * 2;
    const BIGNUM *r = NULL;
    const BIGNUM *s = NULL;
    ECDSA_SIG *sig;
    bool ok;

    if (*len > LONG_MAX || raw_len > sizeof raw || raw_len > cap)
        return false;
    sig = d2i_ECDSA_SIG(NULL, &p, (long)*len);
    if (sig == NULL)
        return false;
    ECDSA_SIG_get0(sig, &r, &s);
    ok = p == buf + *len && r != NULL && s != NULL &&
         BN_bn2binpad(r, raw, coord_len) == coord_len &&
         BN_bn2binpad(s, raw + coord_len, coord_len) == coord_len;
    ECDSA_SIG_free(sig);
    if (ok) {
        memcpy(buf, raw, raw_len);
        explicit_bzero(buf + raw_len, cap - raw_len);
        *len = raw_len;
    }
    explicit_bzero(raw, sizeof raw);
    return ok;
}

static unsigned char *sign_pkey(const struct sign_alg *a, const unsigned char *in, size_t len,
                                const unsigned char *key, size_t key_len, size_t *sig_len,
                                char *err, size_t err_len)
{
    EVP_PKEY *pkey;
    EVP_MD_CTX *md = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *sig = NULL;
    size_t cap = 0;

    pkey = pk_private_key_from_pem(key, key_len, err, err_len);
    if (pkey == NULL)
        return NULL;
    if (!key_fits(pkey, a, err, err_len))
        goto out;
    md = EVP_MD_CTX_new();
    if (md == NULL) {
        fail(err, err_len, "out of memory");
        goto out;
    }
    if (EVP_DigestSignInit_ex(md, &pctx, a->digest, NULL, NULL, pkey, NULL) != 1) {
        fail(err, err_len, "cannot start signing");
        goto out;
    }
    if (a->family == FAMILY_RSA && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) {
        fail(err, err_len, "cannot select RSA PKCS#1 v1.5 padding");
        goto out;
    }
    if (EVP_DigestSign(md, NULL, &cap, in, len) != 1 || cap == 0) {
        fail(err, err_len, "cannot size the signature");
        goto out;
    }
    sig = malloc(cap);
    if (sig == NULL) {
        fail(err, err_len, "out of memory");
        goto out;
    }
    *sig_len = cap;
    if (EVP_DigestSign(md, sig, sig_len, in, len) != 1) {
        fail(err, err_len, "signing failed");
        free_wiped(sig, cap);
        sig = NULL;
        goto out;
    }
    if (a->family == FAMILY_EC && !ecdsa_der_to_raw(sig, cap, sig_len, a->coord_len)) {
        fail(err, err_len, "cannot convert the ECDSA signature to R||S");
        free_wiped(sig, cap);
        sig = NULL;
    }
out:
    EVP_MD_CTX_free(md); /* frees pctx too */
    EVP_PKEY_free(pkey);
    return sig;
}

char *pk_jwt_sign_input(const char *signing_input, size_t len, enum pk_alg alg,
                        const unsigned char *key, size_t key_len, char *err, size_t err_len)
{
    struct sign_alg a;
    const unsigned char *in = (const unsigned char *)signing_input;
    unsigned char *sig;
    size_t sig_len = 0;
    char *out;

    if (err != NULL && err_len > 0)
        err[0] = '\0';
    /* Only this call's OpenSSL errors should explain its failure. */
    ERR_clear_error();
    if (signing_input == NULL || key == NULL) {
        fail(err, err_len, "no signing input or no key");
        return NULL;
    }
    if (!sign_alg_for(alg, &a)) {
        fail(err, err_len, "unsupported algorithm");
        return NULL;
    }
    if (key_len == 0) {
        fail(err, err_len, "empty key");
        return NULL;
    }
    if (a.family == FAMILY_HMAC)
        sig = sign_hmac(&a, in, len, key, key_len, &sig_len, err, err_len);
    else
        sig = sign_pkey(&a, in, len, key, key_len, &sig_len, err, err_len);
    if (sig == NULL)
        return NULL;
    out = pk_b64url_encode(sig, sig_len);
    free_wiped(sig, sig_len);
    if (out == NULL) {
        fail(err, err_len, "out of memory");
        return NULL;
    }
    /* Key decoders may leave errors queued even on success. */
    ERR_clear_error();
    return out;
}

char *pk_jwt_sign(const char *header_json, const char *payload_json, enum pk_alg alg,
                  const unsigned char *key, size_t key_len, char *err, size_t err_len)
{
    char *header = NULL;
    char *payload = NULL;
    char *input = NULL;
    char *sig = NULL;
    char *token = NULL;
    size_t header_len, payload_len, input_len, sig_len;

    if (err != NULL && err_len > 0)
        err[0] = '\0';
    if (header_json == NULL || payload_json == NULL) {
        fail(err, err_len, "no header or no payload");
        return NULL;
    }
    header = pk_b64url_encode((const unsigned char *)header_json, strlen(header_json));
    payload = pk_b64url_encode((const unsigned char *)payload_json, strlen(payload_json));
    if (header == NULL || payload == NULL)
        goto nomem;
    header_len = strlen(header);
    payload_len = strlen(payload);
    /* Each part below a quarter of SIZE_MAX: the sums cannot wrap. */
    if (header_len > SIZE_MAX / 4 || payload_len > SIZE_MAX / 4)
        goto nomem;
    input_len = header_len + 1 + payload_len;
    input = malloc(input_len + 1);
    if (input == NULL)
        goto nomem;
    memcpy(input, header, header_len);
    input[header_len] = '.';
    memcpy(input + header_len + 1, payload, payload_len + 1);

    sig = pk_jwt_sign_input(input, input_len, alg, key, key_len, err, err_len);
    if (sig == NULL)
        goto out;
    sig_len = strlen(sig);
    if (sig_len > SIZE_MAX / 4)
        goto nomem;
    token = malloc(input_len + 1 + sig_len + 1);
    if (token == NULL)
        goto nomem;
    memcpy(token, input, input_len);
    token[input_len] = '.';
    memcpy(token + input_len + 1, sig, sig_len + 1);
    goto out;

nomem:
    fail(err, err_len, "out of memory");
out:
    free_wiped_str(sig);
    free_wiped_str(input);
    free_wiped_str(header);
    free_wiped_str(payload);
    return token;
}
