/* The relay kind's offline half (src/relay_kind.c): relay_key parsing and
 * every rule of the login assertion, with assertions forged by a test key
 * (src/jwt_sign.c): wrong key, typ JWT, alg none, HS256 keyed with the
 * public PEM, wrong nonce/aud/iss, expired, exp too far, future iat, old
 * auth_time, kakao_id edge cases, no jti; and that relay_key never verifies
 * an app JWT or ID token (the kinds table routes no token to the relay). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/b64url.h"
#include "src/jwt_sign.h"
#include "src/kinds.h"
#include "src/relay_client.h"
#include "src/relay_kind.h"
#include "src/token.h"
#include "src/verdict.h"

#define T0 1700000000LL
#define ISS "https://relay.example.com"
#define HOST "bastion"
#define NONCE "c2Vzc2lvbi1pZC0yNTYtYml0cy1iYXNlNjR1cmwtYWJj"
#define HDR "{\"alg\":\"ES256\",\"typ\":\"kakao-pam-login+jwt\"}"

static char *relay_priv, *relay_pub, *other_priv, *rsa_pub;
static EVP_PKEY *relay_key;

static char *pem_of(EVP_PKEY *k, int priv)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *out;
    long n;

    assert_non_null(b);
    assert_int_equal(priv ? PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)
                          : PEM_write_bio_PUBKEY(b, k),
                     1);
    n = BIO_get_mem_data(b, &data);
    out = strndup(data, (size_t)n);
    BIO_free(b);
    assert_non_null(out);
    return out;
}

static int group_setup(void **state)
{
    EVP_PKEY *r = EVP_EC_gen("P-256"), *o = EVP_EC_gen("P-256"), *rsa = EVP_RSA_gen(2048);
    char problem[256];

    (void)state;
    if (r == NULL || o == NULL || rsa == NULL)
        return -1;
    relay_priv = pem_of(r, 1);
    relay_pub = pem_of(r, 0);
    other_priv = pem_of(o, 1);
    rsa_pub = pem_of(rsa, 0);
    EVP_PKEY_free(r);
    EVP_PKEY_free(o);
    EVP_PKEY_free(rsa);
    return pk_relay_key_parse(relay_pub, strlen(relay_pub), &relay_key, problem, sizeof(problem)) ==
                   PK_ST_OK
               ? 0
               : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    pk_relay_key_free(relay_key);
    free(relay_priv);
    free(relay_pub);
    free(other_priv);
    free(rsa_pub);
    return 0;
}

static char *sign_with(const char *hdr, const char *payload, enum pk_alg alg, const char *key)
{
    char err[256];
    char *t =
        pk_jwt_sign(hdr, payload, alg, (const unsigned char *)key, strlen(key), err, sizeof(err));
    if (t == NULL)
        fail_msg("sign: %s", err);
    return t;
}

/* A claim set as the relay writes it, with one member replaced. */
static char *claims(const char *iss, const char *aud, const char *nonce, const char *id,
                    long long iat, long long exp, long long auth_time, const char *jti)
{
    char *p = NULL;
    char extra[96] = "";

    if (jti != NULL)
        (void)snprintf(extra, sizeof(extra), ",\"jti\":\"%s\"", jti);
    assert_true(asprintf(&p,
                         "{\"iss\":\"%s\",\"aud\":\"%s\",\"nonce\":\"%s\",\"kakao_id\":%s,"
                         "\"iat\":%lld,\"exp\":%lld,\"auth_time\":%lld%s}",
                         iss, aud, nonce, id, iat, exp, auth_time, extra) > 0);
    return p;
}

static char *good_claims(void)
{
    return claims(ISS, HOST, NONCE, "3095134389", T0, T0 + 300, T0 - 30, "jti-1");
}

static enum pk_outcome check_max_age(const char *assertion, long max_age, struct pk_result *res)
{
    struct pk_relay_expect want = {
        .issuer = ISS,
        .host = HOST,
        .nonce = NONCE,
        .nonce_len = strlen(NONCE),
        .now = (time_t)T0 + 10,
        .leeway = 60,
        .max_token_age = max_age,
    };
    memset(res, 0, sizeof(*res));
    return pk_relay_assertion_check(&want, relay_key, assertion, res);
}

static enum pk_outcome check(const char *assertion, struct pk_result *res)
{
    return check_max_age(assertion, 0, res);
}

/* Signs payload with the relay's key and the relay's header, checks it. */
static enum pk_outcome check_claims_text(char *payload, struct pk_result *res)
{
    char *t = sign_with(HDR, payload, PK_ALG_ES256, relay_priv);
    enum pk_outcome out = check(t, res);
    free(t);
    free(payload);
    return out;
}

static void test_good(void **state)
{
    struct pk_result res;
    (void)state;
    assert_int_equal(check_claims_text(good_claims(), &res), PK_OK);
    assert_int_equal(res.kind, PK_KIND_RELAY);
    assert_int_equal(res.kakao_id, 3095134389LL);
}

static void test_wrong_key(void **state)
{
    struct pk_result res;
    char *p = good_claims();
    char *t = sign_with(HDR, p, PK_ALG_ES256, other_priv);
    (void)state;
    assert_int_equal(check(t, &res), PK_JWT_BAD_SIGNATURE);
    assert_int_equal(res.kind, PK_KIND_RELAY);
    free(t);
    free(p);
}

static void test_typ(void **state)
{
    struct pk_result res;
    char *p = good_claims();
    char *t = sign_with("{\"alg\":\"ES256\",\"typ\":\"JWT\"}", p, PK_ALG_ES256, relay_priv);
    char *t2 = sign_with("{\"alg\":\"ES256\"}", p, PK_ALG_ES256, relay_priv);
    char *t3 = sign_with("{\"alg\":\"ES256\",\"typ\":\"KAKAO-PAM-LOGIN+JWT\"}", p, PK_ALG_ES256,
                         relay_priv);
    (void)state;
    assert_int_equal(check(t, &res), PK_RELAY_BAD_TYP);
    assert_int_equal(check(t2, &res), PK_RELAY_BAD_TYP);
    assert_int_equal(check(t3, &res), PK_RELAY_BAD_TYP);
    free(t);
    free(t2);
    free(t3);
    free(p);
}

static void test_alg_none_and_hs256(void **state)
{
    struct pk_result res;
    char *p = good_claims();
    char *hs = sign_with("{\"alg\":\"HS256\",\"typ\":\"kakao-pam-login+jwt\"}", p, PK_ALG_HS256,
                         relay_pub);
    char *enc_h = pk_b64url_encode((const unsigned char *)"{\"alg\":\"none\",\"typ\":"
                                                          "\"kakao-pam-login+jwt\"}",
                                   strlen("{\"alg\":\"none\",\"typ\":\"kakao-pam-login+jwt\"}"));
    char *enc_p = pk_b64url_encode((const unsigned char *)p, strlen(p));
    char *none = NULL;
    (void)state;
    assert_true(asprintf(&none, "%s.%s.AAAA", enc_h, enc_p) > 0);
    assert_int_equal(check(hs, &res), PK_JWT_ALG_MISMATCH);
    assert_int_equal(check(none, &res), PK_JWT_ALG_MISMATCH);
    free(hs);
    free(enc_h);
    free(enc_p);
    free(none);
    free(p);
}

static void test_claim_rules(void **state)
{
    struct pk_result res;
    (void)state;
    assert_int_equal(
        check_claims_text(claims(ISS, HOST, "another-session", "3095134389", T0, T0 + 300, T0, "j"),
                          &res),
        PK_RELAY_BAD_NONCE);
    /* S with one byte more or less: length is part of the comparison. */
    assert_int_equal(
        check_claims_text(claims(ISS, HOST, NONCE "A", "3095134389", T0, T0 + 300, T0, "j"), &res),
        PK_RELAY_BAD_NONCE);
    assert_int_equal(
        check_claims_text(claims(ISS, "otherhost", NONCE, "3095134389", T0, T0 + 300, T0, "j"),
                          &res),
        PK_JWT_WRONG_AUD);
    assert_int_equal(
        check_claims_text(claims(ISS "/", HOST, NONCE, "3095134389", T0, T0 + 300, T0, "j"), &res),
        PK_JWT_WRONG_ISS);
    assert_int_equal(
        check_claims_text(
            claims("https://evil.example", HOST, NONCE, "3095134389", T0, T0 + 300, T0, "j"), &res),
        PK_JWT_WRONG_ISS);
    /* now = T0 + 10, leeway 60 */
    assert_int_equal(
        check_claims_text(claims(ISS, HOST, NONCE, "3095134389", T0 - 400, T0 - 100, T0 - 400, "j"),
                          &res),
        PK_JWT_EXPIRED);
    assert_int_equal(
        check_claims_text(claims(ISS, HOST, NONCE, "3095134389", T0, T0 + 301, T0, "j"), &res),
        PK_JWT_BAD_CLAIMS);
    assert_string_equal(res.detail, "exp=1700000301 is not within 300 s of iat=1700000000");
    assert_int_equal(check_claims_text(
                         claims(ISS, HOST, NONCE, "3095134389", T0 + 100, T0 + 300, T0, "j"), &res),
                     PK_JWT_IAT_FUTURE);
    assert_int_equal(
        check_claims_text(claims(ISS, HOST, NONCE, "3095134389", T0, T0 + 300, T0, NULL), &res),
        PK_JWT_BAD_CLAIMS);
    assert_string_equal(res.detail, "jti missing");
}

static void test_auth_time(void **state)
{
    struct pk_result res;
    char *p = claims(ISS, HOST, NONCE, "3095134389", T0, T0 + 300, T0 - 3600, "j");
    char *t = sign_with(HDR, p, PK_ALG_ES256, relay_priv);
    (void)state;
    /* max_token_age 600 + leeway 60 < 3610 s */
    assert_int_equal(check_max_age(t, 600, &res), PK_JWT_TOO_OLD);
    assert_int_equal(check_max_age(t, 3600, &res), PK_OK);
    free(t);
    free(p);
    p = strdup("{\"iss\":\"" ISS "\",\"aud\":\"" HOST "\",\"nonce\":\"" NONCE
               "\",\"kakao_id\":1,\"iat\":1700000000,\"exp\":1700000300,\"jti\":\"j\"}");
    assert_non_null(p);
    assert_int_equal(check_claims_text(p, &res), PK_JWT_BAD_CLAIMS);
    assert_string_equal(res.detail, "auth_time missing or not an integer");
}

static void test_kakao_id(void **state)
{
    static const char *const bad[] = {"0",        "\"0\"", "\"0123\"", "\"12345678901234567890\"",
                                      "\"12a4\"", "-5",    "1.5",      "true",
                                      "null"};
    struct pk_result res;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(
            check_claims_text(claims(ISS, HOST, NONCE, bad[i], T0, T0 + 300, T0, "j"), &res),
            PK_JWT_BAD_ID);
    /* 20 digits as a JSON integer overflows jansson: the payload is refused. */
    assert_int_equal(
        check_claims_text(claims(ISS, HOST, NONCE, "12345678901234567890", T0, T0 + 300, T0, "j"),
                          &res),
        PK_JWT_BAD_CLAIMS);
    assert_int_equal(
        check_claims_text(
            claims(ISS, HOST, NONCE, "\"9223372036854775807\"", T0, T0 + 300, T0, "j"), &res),
        PK_OK);
}

static void test_key_parse(void **state)
{
    char problem[256];
    EVP_PKEY *k = NULL;
    (void)state;
    assert_int_equal(pk_relay_key_parse(rsa_pub, strlen(rsa_pub), &k, problem, sizeof(problem)),
                     PK_ST_REFUSED);
    assert_string_equal(problem, "is not an EC P-256 public key");
    assert_int_equal(pk_relay_key_parse("junk", 4, &k, problem, sizeof(problem)), PK_ST_REFUSED);
    assert_string_equal(problem, "is not a PEM public key");
    assert_null(k);
}

/* No token of any shape is routed to the relay kind: an app JWT or ID
 * token, even signed with the relay's own key, is never checked with it. */
static void test_never_claims(void **state)
{
    const struct pk_kind_ops *row = pk_kind_by_name("relay", 5);
    struct pk_token tok;
    struct pk_result res;
    char *p = good_claims();
    char *t = sign_with(HDR, p, PK_ALG_ES256, relay_priv);
    (void)state;
    assert_non_null(row);
    memset(&res, 0, sizeof(res));
    assert_int_equal(pk_token_parse(t, &tok, &res), PK_OK);
    assert_int_equal(row->claims(NULL, &tok), PK_CLAIM_NO);
    assert_int_equal(pk_token_parse("481205", &tok, &res) == PK_OK ? row->claims(NULL, &tok)
                                                                   : PK_CLAIM_NO,
                     PK_CLAIM_NO);
    free(t);
    free(p);
}

/* What counts as a code (src/relay_client.c): 6 digits once spaces and
 * '-' are gone; everything else is left to the token kinds. */
static void test_code_parse(void **state)
{
    static const char *const yes[] = {"481205", "481 205", "481-205", " 481205 ", "4 8 1 2 0 5"};
    static const char *const no[] = {"",        "48120",    "4812056",       "48120a",
                                     "481_205", "481\t205", "\331\24112345", "aaaa.bbbb.cccc"};
    char code[PK_RELAY_CODE_LEN + 1];
    (void)state;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        assert_true(pk_relay_code_parse(yes[i], code));
        assert_string_equal(code, "481205");
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(pk_relay_code_parse(no[i], code));
}

static void test_prompt_text(void **state)
{
    char *t;
    (void)state;
    t = pk_relay_prompt_text("Approve this login at %u with Kakao, then enter the code: ",
                             "https://r.example/a/K7F3");
    assert_string_equal(t, "Approve this login at https://r.example/a/K7F3 with Kakao, then "
                           "enter the code: ");
    free(t);
    t = pk_relay_prompt_text("100%% %u%u: ", "U");
    assert_string_equal(t, "100% UU: ");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),         cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_typ),          cmocka_unit_test(test_alg_none_and_hs256),
        cmocka_unit_test(test_claim_rules),  cmocka_unit_test(test_auth_time),
        cmocka_unit_test(test_kakao_id),     cmocka_unit_test(test_key_parse),
        cmocka_unit_test(test_never_claims), cmocka_unit_test(test_code_parse),
        cmocka_unit_test(test_prompt_text),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
