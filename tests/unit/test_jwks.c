/* pk_jwks_parse / pk_jwks_find: JWK to PEM with OpenSSL 3 (compared with
 * OpenSSL's own SPKI PEM of the same key), every skip rule with its log
 * line, ambiguous kids, malformed sets, and the checked-in fixture JWKS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "jwk_test_util.h"
#include "src/jwks.h"
#include "src/log.h"

#define MAX_LINES 32

struct capture {
    char lines[MAX_LINES][512];
    int count;
};

static void capture_emit(void *ctx, int priority, const char *msg)
{
    struct capture *c = ctx;
    (void)priority;
    if (c->count < MAX_LINES)
        (void)snprintf(c->lines[c->count++], sizeof(c->lines[0]), "%s", msg);
}

static struct capture cap;
static const struct pk_logger logger = {capture_emit, &cap, false};

static EVP_PKEY *rsa2048, *rsa2048b, *rsa3072, *rsa1024, *ec256;

static int group_setup(void **state)
{
    (void)state;
    rsa2048 = jt_rsa_new(2048);
    rsa2048b = jt_rsa_new(2048);
    rsa3072 = jt_rsa_new(3072);
    rsa1024 = jt_rsa_new(1024);
    ec256 = EVP_EC_gen("P-256");
    return ec256 == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(rsa2048);
    EVP_PKEY_free(rsa2048b);
    EVP_PKEY_free(rsa3072);
    EVP_PKEY_free(rsa1024);
    EVP_PKEY_free(ec256);
    return 0;
}

static enum pk_status parse(const char *json, struct pk_jwks *set, char *problem)
{
    memset(&cap, 0, sizeof(cap));
    problem[0] = '\0';
    return pk_jwks_parse(json, strlen(json), "test.jwks", &logger, set, problem, 128);
}

static void converts_rsa_keys(void **state)
{
    struct pk_jwks set;
    char problem[128];
    char *a = jt_jwk(rsa2048, "k2048", ",\"use\":\"sig\",\"alg\":\"RS256\"");
    char *b = jt_jwk(rsa3072, "k3072", "");
    char *jwks = jt_jwks(a, b, NULL);
    char *pem_a = jt_public_pem(rsa2048);
    char *pem_b = jt_public_pem(rsa3072);
    const struct pk_jwk *key;
    const char *why;
    (void)state;

    assert_int_equal(parse(jwks, &set, problem), PK_ST_OK);
    assert_int_equal(cap.count, 0);
    assert_int_equal(set.count, 2);
    assert_int_equal(pk_jwks_find(&set, "k2048", &key, &why), PK_ST_OK);
    assert_string_equal((const char *)key->pem, pem_a);
    assert_int_equal(key->pem_len, strlen(pem_a));
    assert_int_equal(key->sig_len, 256);
    assert_int_equal(key->bits, 2048);
    assert_int_equal(pk_jwks_find(&set, "k3072", &key, &why), PK_ST_OK);
    assert_string_equal((const char *)key->pem, pem_b);
    assert_int_equal(key->sig_len, 384);
    /* kids are compared exactly */
    assert_int_equal(pk_jwks_find(&set, "K2048", &key, &why), PK_ST_MISSING);
    assert_null(key);
    assert_int_equal(pk_jwks_find(&set, "k204", &key, &why), PK_ST_MISSING);
    assert_int_equal(pk_jwks_find(&set, "k20488", &key, &why), PK_ST_MISSING);
    assert_int_equal(pk_jwks_find(&set, "", &key, &why), PK_ST_MISSING);
    pk_jwks_free(&set);
    pk_jwks_free(&set); /* idempotent */
    free(a);
    free(b);
    free(jwks);
    free(pem_a);
    free(pem_b);
}

/* One n with a leading zero byte (some publishers pad): same key. */
static void modulus_with_leading_zero(void **state)
{
    struct pk_jwks set;
    char problem[128];
    size_t len;
    unsigned char *n = jt_param_bytes(rsa2048, OSSL_PKEY_PARAM_RSA_N, &len);
    unsigned char *padded = calloc(1, len + 1);
    char *n64, *jwks, *pem = jt_public_pem(rsa2048);
    const struct pk_jwk *key;
    const char *why;
    (void)state;

    assert_non_null(padded);
    memcpy(padded + 1, n, len);
    n64 = pk_b64url_encode(padded, len + 1);
    jwks =
        jt_printf("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"z\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", n64);
    assert_int_equal(parse(jwks, &set, problem), PK_ST_OK);
    assert_int_equal(pk_jwks_find(&set, "z", &key, &why), PK_ST_OK);
    assert_string_equal((const char *)key->pem, pem);
    pk_jwks_free(&set);
    free(n);
    free(padded);
    free(n64);
    free(jwks);
    free(pem);
}

struct skip_case {
    const char *name;
    const char *jwk; /* "%s" stands for the good 2048-bit n */
    const char *line;
    const char *kid; /* the kid left unusable, or NULL */
};

/* tmpl with its "%s" (if any) replaced by n. */
static char *subst_n(const char *tmpl, const char *n)
{
    const char *at = strstr(tmpl, "%s");
    if (at == NULL)
        return jt_printf("%s", tmpl);
    return jt_printf("%.*s%s%s", (int)(at - tmpl), tmpl, n, at + 2);
}

static void skip_rules(void **state)
{
    static const struct skip_case cases[] = {
        {"EC key", "{\"kty\":\"EC\",\"kid\":\"e1\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}",
         "jwks test.jwks: key #0 (kid \"e1\") skipped: kty \"EC\" is not RSA", "e1"},
        {"oct key", "{\"kty\":\"oct\",\"kid\":\"o1\",\"k\":\"c2VjcmV0\"}",
         "jwks test.jwks: key #0 (kid \"o1\") skipped: kty \"oct\" is not RSA", "o1"},
        {"no kty", "{\"kid\":\"x1\",\"n\":\"%s\",\"e\":\"AQAB\"}",
         "jwks test.jwks: key #0 (kid \"x1\") skipped: kty missing or not a string", "x1"},
        {"use enc", "{\"kty\":\"RSA\",\"kid\":\"u1\",\"use\":\"enc\",\"n\":\"%s\",\"e\":\"AQAB\"}",
         "jwks test.jwks: key #0 (kid \"u1\") skipped: use \"enc\" is not sig", "u1"},
        {"use not a string",
         "{\"kty\":\"RSA\",\"kid\":\"u2\",\"use\":1,\"n\":\"%s\",\"e\":\"AQAB\"}",
         "jwks test.jwks: key #0 (kid \"u2\") skipped: use \"?\" is not sig", "u2"},
        {"alg RS512",
         "{\"kty\":\"RSA\",\"kid\":\"a1\",\"alg\":\"RS512\",\"n\":\"%s\",\"e\":\"AQAB\"}",
         "jwks test.jwks: key #0 (kid \"a1\") skipped: alg \"RS512\" is not RS256", "a1"},
        {"alg lower case",
         "{\"kty\":\"RSA\",\"kid\":\"a2\",\"alg\":\"rs256\",\"n\":\"%s\",\"e\":\"AQAB\"}",
         "jwks test.jwks: key #0 (kid \"a2\") skipped: alg \"rs256\" is not RS256", "a2"},
        {"no kid", "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}",
         "jwks test.jwks: key #0 skipped: no usable kid", NULL},
        {"empty kid", "{\"kty\":\"RSA\",\"kid\":\"\",\"n\":\"%s\",\"e\":\"AQAB\"}",
         "jwks test.jwks: key #0 skipped: no usable kid", NULL},
        {"kid a number", "{\"kty\":\"RSA\",\"kid\":7,\"n\":\"%s\",\"e\":\"AQAB\"}",
         "jwks test.jwks: key #0 skipped: no usable kid", NULL},
        {"no n", "{\"kty\":\"RSA\",\"kid\":\"n1\",\"e\":\"AQAB\"}",
         "jwks test.jwks: key #0 (kid \"n1\") skipped: \"n\" missing or not a string", "n1"},
        {"no e", "{\"kty\":\"RSA\",\"kid\":\"n2\",\"n\":\"%s\"}",
         "jwks test.jwks: key #0 (kid \"n2\") skipped: \"e\" missing or not a string", "n2"},
        {"n padded base64", "{\"kty\":\"RSA\",\"kid\":\"n3\",\"n\":\"%s==\",\"e\":\"AQAB\"}",
         "jwks test.jwks: key #0 (kid \"n3\") skipped: \"n\" is not base64url", "n3"},
        {"e standard base64", "{\"kty\":\"RSA\",\"kid\":\"n4\",\"n\":\"%s\",\"e\":\"AQ+B\"}",
         "jwks test.jwks: key #0 (kid \"n4\") skipped: \"e\" is not base64url", "n4"},
        {"e too wide", "{\"kty\":\"RSA\",\"kid\":\"n5\",\"n\":\"%s\",\"e\":\"AQABAQABAQABAQAB\"}",
         "jwks test.jwks: key #0 (kid \"n5\") skipped: \"e\" of 12 bytes", "n5"},
        {"tiny n", "{\"kty\":\"RSA\",\"kid\":\"n6\",\"n\":\"AQAB\",\"e\":\"AQAB\"}",
         "jwks test.jwks: key #0 (kid \"n6\") skipped: RSA key of 17 bits, at least 2048 needed",
         "n6"},
        {"not an object", "[1,2]", "jwks test.jwks: key #0 skipped: not a JSON object", NULL},
        {"kid with odd bytes", "{\"kty\":\"EC\",\"kid\":\"a\\u00e9\\n\"}",
         "jwks test.jwks: key #0 (kid \"a\\xc3\\xa9\\x0a\") skipped: kty \"EC\" is not RSA",
         "a\xc3\xa9\n"},
    };
    char *n = jt_param_b64(rsa2048, OSSL_PKEY_PARAM_RSA_N);
    char *good = jt_jwk(rsa2048b, "good", "");
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pk_jwks set;
        char problem[128];
        char *jwk = subst_n(cases[i].jwk, n);
        char *jwks = jt_jwks(jwk, good, NULL);
        const struct pk_jwk *key;
        const char *why;

        if (parse(jwks, &set, problem) != PK_ST_OK)
            fail_msg("%s: %s", cases[i].name, problem);
        if (cap.count != 1 || strcmp(cap.lines[0], cases[i].line) != 0)
            fail_msg("%s: %d lines, first \"%s\", want \"%s\"", cases[i].name, cap.count,
                     cap.lines[0], cases[i].line);
        assert_int_equal(set.count, 1);
        assert_int_equal(pk_jwks_find(&set, "good", &key, &why), PK_ST_OK);
        if (cases[i].kid != NULL) {
            assert_int_equal(pk_jwks_find(&set, cases[i].kid, &key, &why), PK_ST_REFUSED);
            assert_null(key);
            assert_non_null(strstr(cases[i].line, why));
        }
        pk_jwks_free(&set);
        free(jwk);
        free(jwks);
    }
    free(n);
    free(good);
}

static void short_and_long_keys(void **state)
{
    struct pk_jwks set;
    char problem[128];
    char *weak = jt_jwk(rsa1024, "weak", ",\"use\":\"sig\",\"alg\":\"RS256\"");
    char *jwks = jt_jwks(weak, NULL);
    const struct pk_jwk *key;
    const char *why;
    (void)state;

    /* a set whose only key is too short parses, and holds no key */
    assert_int_equal(parse(jwks, &set, problem), PK_ST_OK);
    assert_int_equal(set.count, 0);
    assert_int_equal(cap.count, 1);
    assert_string_equal(cap.lines[0], "jwks test.jwks: key #0 (kid \"weak\") skipped: RSA key of "
                                      "1024 bits, at least 2048 needed");
    assert_int_equal(pk_jwks_find(&set, "weak", &key, &why), PK_ST_REFUSED);
    assert_string_equal(why, "RSA key of 1024 bits, at least 2048 needed");
    pk_jwks_free(&set);
    free(jwks);

    /* a 9000-bit modulus is refused before any work on it */
    {
        unsigned char big[1125];
        char *n64, *text;
        memset(big, 0xff, sizeof(big));
        n64 = pk_b64url_encode(big, sizeof(big));
        text = jt_printf(
            "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"big\",\"n\":\"%s\",\"e\":\"AQAB\"}]}", n64);
        assert_int_equal(parse(text, &set, problem), PK_ST_OK);
        assert_int_equal(set.count, 0);
        assert_string_equal(cap.lines[0], "jwks test.jwks: key #0 (kid \"big\") skipped: \"n\" of "
                                          "1125 bytes");
        pk_jwks_free(&set);
        free(n64);
        free(text);
    }
    free(weak);
}

/* An even modulus is no RSA key: OpenSSL's public check refuses it. */
static void invalid_rsa_numbers(void **state)
{
    struct pk_jwks set;
    char problem[128];
    size_t len;
    unsigned char *n = jt_param_bytes(rsa2048, OSSL_PKEY_PARAM_RSA_N, &len);
    char *good = jt_param_b64(rsa2048, OSSL_PKEY_PARAM_RSA_N);
    char *n64, *jwks;
    (void)state;

    n[len - 1] &= 0xfe;
    n64 = pk_b64url_encode(n, len);
    jwks = jt_printf("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"even\",\"n\":\"%s\",\"e\":\"AQAB\"},"
                     "{\"kty\":\"RSA\",\"kid\":\"e2\",\"n\":\"%s\",\"e\":\"Ag\"}]}",
                     n64, good);
    assert_int_equal(parse(jwks, &set, problem), PK_ST_OK);
    assert_int_equal(set.count, 0);
    assert_int_equal(cap.count, 2);
    assert_string_equal(
        cap.lines[0], "jwks test.jwks: key #0 (kid \"even\") skipped: not a valid RSA public key");
    assert_string_equal(cap.lines[1],
                        "jwks test.jwks: key #1 (kid \"e2\") skipped: not a valid RSA public key");
    pk_jwks_free(&set);
    free(n);
    free(n64);
    free(good);
    free(jwks);
}

static void ambiguous_kids(void **state)
{
    struct pk_jwks set;
    char problem[128];
    char *a = jt_jwk(rsa2048, "dup", "");
    char *b = jt_jwk(rsa2048b, "dup", "");
    char *c = jt_jwk(rsa3072, "other", "");
    char *ec = jt_printf("{\"kty\":\"EC\",\"kid\":\"other\"}");
    char *jwks = jt_jwks(a, c, b, NULL);
    const struct pk_jwk *key;
    const char *why;
    (void)state;

    /* the two keys under "dup": neither is used, one line says so */
    assert_int_equal(parse(jwks, &set, problem), PK_ST_OK);
    assert_int_equal(set.count, 1);
    assert_int_equal(cap.count, 1);
    assert_string_equal(cap.lines[0],
                        "jwks test.jwks: kid \"dup\" names 2 keys: refused as ambiguous");
    assert_int_equal(pk_jwks_find(&set, "dup", &key, &why), PK_ST_REFUSED);
    assert_string_equal(why, "kid names 2 keys in the set (ambiguous)");
    assert_int_equal(pk_jwks_find(&set, "other", &key, &why), PK_ST_OK);
    pk_jwks_free(&set);
    free(jwks);

    /* a skipped key shares the kid: still ambiguous */
    jwks = jt_jwks(c, ec, NULL);
    assert_int_equal(parse(jwks, &set, problem), PK_ST_OK);
    assert_int_equal(set.count, 0);
    assert_string_equal(cap.lines[0],
                        "jwks test.jwks: kid \"other\" names 2 keys: refused as ambiguous");
    assert_int_equal(pk_jwks_find(&set, "other", &key, &why), PK_ST_REFUSED);
    pk_jwks_free(&set);
    free(jwks);
    free(a);
    free(b);
    free(c);
    free(ec);
}

static void malformed_sets(void **state)
{
    static const struct {
        const char *text;
        const char *problem;
    } cases[] = {
        {"<html>not json</html>", "not valid JSON"},
        {"", "not valid JSON"},
        {"{\"keys\":[]", "not valid JSON"},
        {"[]", "not a JSON object"},
        {"\"keys\"", "not valid JSON"},
        {"{}", "no \"keys\" array"},
        {"{\"keys\":{}}", "no \"keys\" array"},
        {"{\"keys\":null}", "no \"keys\" array"},
        {"{\"keys\":[],\"keys\":[]}", "duplicate key in JSON"},
        {"{\"keys\":[{\"kid\":\"a\",\"kid\":\"b\"}]}", "duplicate key in JSON"},
        {"{\"keys\":[{\"kid\":\"a\\u0000b\"}]}", "not valid JSON"},
    };
    struct pk_jwks set;
    char problem[128];
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(parse(cases[i].text, &set, problem), PK_ST_REFUSED);
        assert_string_equal(problem, cases[i].problem);
        assert_int_equal(set.count, 0);
        assert_null(set.keys);
    }
    /* an empty set is a set */
    assert_int_equal(parse("{\"keys\":[]}", &set, problem), PK_ST_OK);
    assert_int_equal(set.count, 0);
    pk_jwks_free(&set);
    /* too many entries, too many bytes */
    {
        char *text = jt_printf("{\"keys\":[1");
        for (int i = 0; i < 64; i++) {
            char *next = jt_printf("%s,1", text);
            free(text);
            text = next;
        }
        {
            char *done = jt_printf("%s]}", text);
            free(text);
            text = done;
        }
        assert_int_equal(parse(text, &set, problem), PK_ST_REFUSED);
        assert_string_equal(problem, "65 keys, at most 64");
        free(text);
    }
    {
        size_t big = PK_JWKS_MAX + 1;
        char *text = malloc(big + 1);
        assert_non_null(text);
        memset(text, ' ', big);
        text[big] = '\0';
        assert_int_equal(parse(text, &set, problem), PK_ST_REFUSED);
        assert_string_equal(problem, "larger than 65536 bytes");
        free(text);
    }
}

/* The fixture the mock serves by default: its key converts to the same
 * SPKI PEM that the openssl CLI wrote (tests/fixtures/id_token). */
static void fixture_jwks(void **state)
{
    char dir[1024], path[1200];
    char jwks[8192], pem[4096];
    size_t n;
    FILE *f;
    struct pk_jwks set;
    char problem[128];
    const struct pk_jwk *key;
    const char *why;
    (void)state;

    (void)snprintf(dir, sizeof(dir), "%s/id_token", pk_test_fixtures());
    (void)snprintf(path, sizeof(path), "%s/jwks.json", dir);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(jwks, 1, sizeof(jwks) - 1, f);
    jwks[n] = '\0';
    fclose(f);
    (void)snprintf(path, sizeof(path), "%s/kakao_test.pub.pem", dir);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(pem, 1, sizeof(pem) - 1, f);
    pem[n] = '\0';
    fclose(f);

    assert_int_equal(parse(jwks, &set, problem), PK_ST_OK);
    assert_int_equal(cap.count, 0);
    assert_int_equal(set.count, 1);
    assert_int_equal(pk_jwks_find(&set, "3f96980381e451efad0d2ddd30e3d3", &key, &why), PK_ST_OK);
    assert_string_equal((const char *)key->pem, pem);
    assert_int_equal(key->sig_len, 256);
    pk_jwks_free(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(converts_rsa_keys),   cmocka_unit_test(modulus_with_leading_zero),
        cmocka_unit_test(skip_rules),          cmocka_unit_test(short_and_long_keys),
        cmocka_unit_test(invalid_rsa_numbers), cmocka_unit_test(ambiguous_kids),
        cmocka_unit_test(malformed_sets),      cmocka_unit_test(fixture_jwks),
    };
    return cmocka_run_group_tests_name("jwks", tests, group_setup, group_teardown);
}
