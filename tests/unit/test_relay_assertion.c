/* relay/assertion.c: the header is exactly {alg ES256, typ
 * kakao-pam-login+jwt}, the claims are the session's, exp = iat + 60
 * (never past iat + 300), jti is random, and the signature verifies with
 * OpenSSL directly (raw r||s converted to DER here, not by our code). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "relay/assertion.h"
#include "src/b64url.h"

struct keypair {
    char *priv_pem;
    EVP_PKEY *pkey;
};

static char *pem_private(EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p, *out;
    long n;

    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL), 1);
    n = BIO_get_mem_data(bio, &p);
    out = calloc(1, (size_t)n + 1);
    assert_non_null(out);
    memcpy(out, p, (size_t)n);
    BIO_free(bio);
    return out;
}

static json_t *segment_json(const char *seg, size_t len)
{
    size_t n;
    unsigned char *raw = NULL;
    json_t *j;

    assert_int_equal(pk_b64url_decode(seg, len, &raw, &n), PK_ST_OK);
    assert_non_null(raw);
    j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    assert_non_null(j);
    return j;
}

static bool verifies(EVP_PKEY *pkey, const char *token)
{
    const char *dot2 = strrchr(token, '.');
    size_t n;
    unsigned char *sig = NULL;
    enum pk_status st = pk_b64url_decode(dot2 + 1, strlen(dot2 + 1), &sig, &n);
    ECDSA_SIG *es = ECDSA_SIG_new();
    unsigned char *der = NULL;
    int der_len, ok;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    assert_int_equal(st, PK_ST_OK);
    assert_non_null(sig);
    assert_int_equal(n, 64);
    assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL)),
                     1);
    der_len = i2d_ECDSA_SIG(es, &der);
    assert_true(der_len > 0);
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey), 1);
    ok = EVP_DigestVerify(ctx, der, (size_t)der_len, (const unsigned char *)token,
                          (size_t)(dot2 - token));
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    free(sig);
    return ok == 1;
}

static void test_header_claims_signature(void **state)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char *pem = pem_private(pkey);
    struct pk_relay_claims c = {
        "https://login.example.com", "bastion", "S-value", "3095134389", 1700000000, 1699999990};
    char err[256] = "";
    char *a = pk_relay_assertion(&c, pem, err, sizeof(err));
    char *b;
    const char *dot1, *dot2;
    json_t *h, *cl;

    (void)state;
    assert_non_null(a);
    dot1 = strchr(a, '.');
    dot2 = strrchr(a, '.');
    assert_true(dot1 != NULL && dot2 != dot1);
    h = segment_json(a, (size_t)(dot1 - a));
    assert_int_equal(json_object_size(h), 2);
    assert_string_equal(json_string_value(json_object_get(h, "alg")), "ES256");
    assert_string_equal(json_string_value(json_object_get(h, "typ")), "kakao-pam-login+jwt");
    cl = segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    assert_int_equal(json_object_size(cl), 8);
    assert_string_equal(json_string_value(json_object_get(cl, "iss")), "https://login.example.com");
    assert_string_equal(json_string_value(json_object_get(cl, "aud")), "bastion");
    assert_string_equal(json_string_value(json_object_get(cl, "nonce")), "S-value");
    assert_true(json_is_integer(json_object_get(cl, "kakao_id")));
    assert_int_equal(json_integer_value(json_object_get(cl, "kakao_id")), 3095134389LL);
    assert_int_equal(json_integer_value(json_object_get(cl, "iat")), 1700000000);
    assert_int_equal(json_integer_value(json_object_get(cl, "exp")), 1700000060);
    assert_true(json_integer_value(json_object_get(cl, "exp")) -
                    json_integer_value(json_object_get(cl, "iat")) <=
                300);
    assert_int_equal(json_integer_value(json_object_get(cl, "auth_time")), 1699999990);
    assert_true(json_string_length(json_object_get(cl, "jti")) >= 16);
    assert_true(verifies(pkey, a));
    /* A second assertion has its own jti. */
    b = pk_relay_assertion(&c, pem, err, sizeof(err));
    assert_non_null(b);
    {
        const char *b1 = strchr(b, '.');
        json_t *cl2 = segment_json(b1 + 1, (size_t)(strrchr(b, '.') - b1 - 1));
        assert_string_not_equal(json_string_value(json_object_get(cl, "jti")),
                                json_string_value(json_object_get(cl2, "jti")));
        json_decref(cl2);
    }
    /* Any changed byte of the signed part breaks the signature. */
    a[dot1 - a + 2] = a[dot1 - a + 2] == 'A' ? 'B' : 'A';
    assert_false(verifies(pkey, a));
    json_decref(h);
    json_decref(cl);
    free(a);
    free(b);
    free(pem);
    EVP_PKEY_free(pkey);
}

static void test_refusals(void **state)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    char *pem = pem_private(pkey);
    struct pk_relay_claims c = {"https://r", "h", "n", "0", 1, 1};
    char err[256] = "";

    (void)state;
    assert_null(pk_relay_assertion(&c, pem, err, sizeof(err)));
    assert_string_equal(err, "kakao_id is not a positive number");
    c.kakao_id = "12x";
    assert_null(pk_relay_assertion(&c, pem, err, sizeof(err)));
    c.kakao_id = "12";
    assert_null(pk_relay_assertion(&c, "not a key", err, sizeof(err)));
    assert_true(err[0] != '\0');
    free(pem);
    EVP_PKEY_free(pkey);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_claims_signature),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
