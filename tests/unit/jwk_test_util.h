/* Test helpers for the ID-token tests (unit and PAM level): RSA keys made
 * or loaded with OpenSSL, written out as JWKs and JWKS text, and RS256
 * tokens signed with them. Every helper aborts the test on failure and
 * returns malloc'd text the caller frees. */
#ifndef PK_JWK_TEST_UTIL_H
#define PK_JWK_TEST_UTIL_H

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/b64url.h"
#include "src/jwt_sign.h"

static inline void jt_die(const char *what)
{
    fprintf(stderr, "jwk_test_util: %s failed\n", what);
    abort();
}

static inline EVP_PKEY *jt_rsa_new(unsigned bits)
{
    EVP_PKEY *k = EVP_RSA_gen(bits);
    if (k == NULL)
        jt_die("EVP_RSA_gen");
    return k;
}

static inline EVP_PKEY *jt_rsa_load(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k;

    if (f == NULL)
        jt_die(path);
    k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (k == NULL)
        jt_die("PEM_read_PrivateKey");
    return k;
}

static inline char *jt_bio_text(BIO *b)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *out;

    if (n <= 0 || data == NULL)
        jt_die("BIO_get_mem_data");
    out = malloc((size_t)n + 1);
    if (out == NULL)
        jt_die("malloc");
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    BIO_free(b);
    return out;
}

static inline char *jt_private_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL || PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1)
        jt_die("PEM_write_bio_PrivateKey");
    return jt_bio_text(b);
}

static inline char *jt_public_pem(EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL || PEM_write_bio_PUBKEY(b, k) != 1)
        jt_die("PEM_write_bio_PUBKEY");
    return jt_bio_text(b);
}

/* The raw big-endian bytes of an RSA parameter (n or e). */
static inline unsigned char *jt_param_bytes(EVP_PKEY *k, const char *name, size_t *len)
{
    BIGNUM *bn = NULL;
    unsigned char *buf;

    if (EVP_PKEY_get_bn_param(k, name, &bn) != 1)
        jt_die("EVP_PKEY_get_bn_param");
    *len = (size_t)BN_num_bytes(bn);
    buf = malloc(*len + 1);
    if (buf == NULL || BN_bn2bin(bn, buf) != (int)*len)
        jt_die("BN_bn2bin");
    BN_free(bn);
    return buf;
}

static inline char *jt_param_b64(EVP_PKEY *k, const char *name)
{
    size_t len;
    unsigned char *raw = jt_param_bytes(k, name, &len);
    char *out = pk_b64url_encode(raw, len);

    free(raw);
    if (out == NULL)
        jt_die("pk_b64url_encode");
    return out;
}

static inline char *jt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *jt_printf(const char *fmt, ...)
{
    va_list ap;
    char *out = NULL;

    va_start(ap, fmt);
    if (vasprintf(&out, fmt, ap) < 0)
        jt_die("vasprintf");
    va_end(ap);
    return out;
}

/* {"kty":"RSA","kid":KID,"n":..,"e":..EXTRA}; extra is "" or ",\"use\":\"sig\"" and so on. */
static inline char *jt_jwk(EVP_PKEY *k, const char *kid, const char *extra)
{
    char *n = jt_param_b64(k, OSSL_PKEY_PARAM_RSA_N);
    char *e = jt_param_b64(k, OSSL_PKEY_PARAM_RSA_E);
    char *out =
        jt_printf("{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\",\"e\":\"%s\"%s}", kid, n, e, extra);

    free(n);
    free(e);
    return out;
}

/* {"keys":[jwk, ...]} from NULL-terminated JWK texts (not freed). */
static inline char *jt_jwks(const char *first, ...)
{
    va_list ap;
    const char *jwk;
    char *acc = jt_printf("{\"keys\":[");

    va_start(ap, first);
    for (jwk = first; jwk != NULL; jwk = va_arg(ap, const char *)) {
        char *next = jt_printf("%s%s%s", acc, jwk == first ? "" : ",", jwk);
        free(acc);
        acc = next;
    }
    va_end(ap);
    {
        char *done = jt_printf("%s]}", acc);
        free(acc);
        return done;
    }
}

/* header.payload signed RS256 with k (both taken verbatim). */
static inline char *jt_sign_rs256(EVP_PKEY *k, const char *header, const char *payload)
{
    char err[256] = "";
    char *pem = jt_private_pem(k);
    char *tok = pk_jwt_sign(header, payload, PK_ALG_RS256, (const unsigned char *)pem, strlen(pem),
                            err, sizeof(err));

    explicit_bzero(pem, strlen(pem));
    free(pem);
    if (tok == NULL) {
        fprintf(stderr, "pk_jwt_sign: %s\n", err);
        abort();
    }
    return tok;
}

#endif
