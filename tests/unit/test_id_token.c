/* pk_id_token_validate and its dispatch in pk_validate_token: RS256 only,
 * key by kid, the claim rules of docs/DESIGN.md §4.4 with iss = id_token_issuer and aud =
 * kakao_rest_api_key, sub as a string of digits; the attacks (alg none,
 * HS256 with the JWK modulus or PEM as MAC key, another key under Kakao's
 * kid); app JWTs and ID tokens never crossing over; and the checked-in
 * real-shaped Kakao ID token at its real timestamps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <security/_pam_types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixtures.h"
#include "jwk_test_util.h"
#include "src/config.h"
#include "src/id_token.h"
#include "src/jwks_cache.h"
#include "src/keys.h"
#include "src/token.h"
#include "src/validate.h"
#include "src/verdict.h"

#define T0 1700000000LL
#define REST_KEY "5d2f7c1e9a8b4f3d6e0c2a1b7f9e8d4c"
#define ISS "https://kauth.kakao.com"
#define HDR "{\"kid\":\"k1\",\"typ\":\"JWT\",\"alg\":\"RS256\"}"

static char tmpdir[64];
static char jwks_path[PATH_MAX], app_key_path[PATH_MAX], other_key_path[PATH_MAX];
static EVP_PKEY *kakao, *other, *big;
static struct pk_config cfg;
static struct pk_jwks_store store;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0 || chmod(path, mode) != 0)
        abort();
}

static int group_setup(void **state)
{
    char *k1, *k3, *jwks, *pem;

    (void)state;
    kakao = jt_rsa_new(2048);
    other = jt_rsa_new(2048);
    big = jt_rsa_new(3072);
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/pk_id_token.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    k1 = jt_jwk(kakao, "k1", ",\"use\":\"sig\",\"alg\":\"RS256\"");
    k3 = jt_jwk(big, "k3", "");
    jwks = jt_jwks(k1, k3, NULL);
    (void)snprintf(jwks_path, sizeof(jwks_path), "%s/kakao.jwks", tmpdir);
    write_text(jwks_path, jwks, 0644);
    /* the app-JWT key: Kakao's own public key, to show it is never used
     * for ID tokens even when it would verify them */
    pem = jt_public_pem(kakao);
    (void)snprintf(app_key_path, sizeof(app_key_path), "%s/app.pub.pem", tmpdir);
    write_text(app_key_path, pem, 0600);
    free(pem);
    pem = jt_public_pem(other);
    (void)snprintf(other_key_path, sizeof(other_key_path), "%s/other.pub.pem", tmpdir);
    write_text(other_key_path, pem, 0600);
    free(pem);
    free(k1);
    free(k3);
    free(jwks);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(kakao);
    EVP_PKEY_free(other);
    EVP_PKEY_free(big);
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void load_store(const char *path)
{
    char problem[512];

    cfg.jwks_file = (char *)path;
    if (pk_jwks_store_load(&store, &cfg, geteuid(), (time_t)T0, NULL, NULL, NULL, problem,
                           sizeof(problem)) != PK_ST_OK)
        fail_msg("jwks: %s", problem);
}

static int setup(void **state)
{
    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.leeway = 60;
    cfg.id_token_issuer = (char *)ISS;
    cfg.kakao_rest_api_key = (char *)REST_KEY;
    cfg.jwt_id_claim = (char *)"kakao_id";
    load_store(jwks_path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pk_jwks_store_free(&store);
    return 0;
}

/* Kakao's claims, iat = now; extra members appended (",\"x\":1"). */
static char *kakao_claims(long long now, const char *extra)
{
    return jt_printf("{\"aud\":\"" REST_KEY "\",\"sub\":\"3095134389\",\"auth_time\":%lld,"
                     "\"iss\":\"" ISS "\",\"nickname\":\"Alice\",\"exp\":%lld,\"iat\":%lld%s}",
                     now, now + 21600, now, extra);
}

static enum pk_outcome check_at(const char *text, long long now, struct pk_result *res)
{
    struct pk_token tok;
    enum pk_outcome out;

    memset(res, 0, sizeof(*res));
    out = pk_token_parse(text, &tok, res);
    if (out != PK_OK)
        return out;
    return pk_id_token_validate(&cfg, &store, &tok, (time_t)now, true, res);
}

static void expect(const char *text, enum pk_outcome want, const char *detail)
{
    struct pk_result res;
    enum pk_outcome out = check_at(text, T0, &res);

    if (out != want || res.outcome != want)
        fail_msg("outcome %d (%s), want %d", out, res.detail, want);
    if (detail != NULL && strcmp(res.detail, detail) != 0)
        fail_msg("detail \"%s\", want \"%s\"", res.detail, detail);
    assert_int_equal(res.kind, PK_KIND_ID_TOKEN);
}

static void accepted(void **state)
{
    char *claims = kakao_claims(T0, "");
    char *tok = jt_sign_rs256(kakao, HDR, claims);
    struct pk_result res;
    char line[256];
    (void)state;

    assert_int_equal(check_at(tok, T0, &res), PK_OK);
    assert_int_equal(res.kakao_id, 3095134389LL);
    assert_int_equal(res.kind, PK_KIND_ID_TOKEN);
    pk_verdict_line(line, sizeof(line), &res, "alice");
    assert_string_equal(line, "accepted id_token kakao_id=3095134389 user=alice");
    free(tok);
    free(claims);
    /* aud as an array that contains our key */
    claims = jt_printf("{\"aud\":[\"other\",\"" REST_KEY "\"],\"sub\":\"1122334455\","
                       "\"iss\":\"" ISS "\",\"exp\":%lld}",
                       T0 + 60);
    tok = jt_sign_rs256(kakao, "{\"alg\":\"RS256\",\"kid\":\"k1\"}", claims);
    assert_int_equal(check_at(tok, T0, &res), PK_OK);
    assert_int_equal(res.kakao_id, 1122334455LL);
    free(tok);
    free(claims);
    /* a 3072-bit key of the set */
    claims = kakao_claims(T0, "");
    tok = jt_sign_rs256(big, "{\"kid\":\"k3\",\"typ\":\"JWT\",\"alg\":\"RS256\"}", claims);
    assert_int_equal(check_at(tok, T0, &res), PK_OK);
    free(tok);
    free(claims);
}

struct claim_case {
    const char *claims;
    enum pk_outcome want;
    const char *detail;
};

static void claim_rules(void **state)
{
    static const struct {
        long long exp_off, iat_off;
        const char *extra;
        enum pk_outcome want;
    } times[] = {
        {-59, -21600, "", PK_OK},          /* expired within leeway */
        {-60, -21600, "", PK_JWT_EXPIRED}, /* exp + leeway reached */
        {-3600, -21600, "", PK_JWT_EXPIRED},
        {3600, 59, "", PK_OK}, /* iat ahead within leeway */
        {3600, 61, "", PK_JWT_IAT_FUTURE},
        {3600, 0, ",\"nbf\":1700000061", PK_JWT_NOT_YET_VALID},
        {3600, 0, ",\"nbf\":1700000060", PK_OK},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        char *claims = jt_printf("{\"aud\":\"" REST_KEY "\",\"sub\":\"3095134389\",\"iss\":\"" ISS
                                 "\",\"exp\":%lld,\"iat\":%lld%s}",
                                 T0 + times[i].exp_off, T0 + times[i].iat_off, times[i].extra);
        char *tok = jt_sign_rs256(kakao, HDR, claims);
        struct pk_result res;
        if (check_at(tok, T0, &res) != times[i].want)
            fail_msg("case %zu: outcome %d (%s)", i, res.outcome, res.detail);
        free(tok);
        free(claims);
    }

    static const struct claim_case cases[] = {
        {"{\"aud\":\"" REST_KEY "\",\"sub\":\"3095134389\",\"iss\":\"" ISS "\"}", PK_JWT_NO_EXP,
         ""},
        {"{\"aud\":\"0123\",\"sub\":\"3095134389\",\"iss\":\"" ISS "\",\"exp\":1700000600}",
         PK_JWT_WRONG_AUD, "aud does not contain \"" REST_KEY "\""},
        {"{\"aud\":[\"a\",\"b\"],\"sub\":\"3095134389\",\"iss\":\"" ISS "\",\"exp\":1700000600}",
         PK_JWT_WRONG_AUD, "aud does not contain \"" REST_KEY "\""},
        {"{\"sub\":\"3095134389\",\"iss\":\"" ISS "\",\"exp\":1700000600}", PK_JWT_WRONG_AUD,
         "aud missing"},
        {"{\"aud\":\"" REST_KEY "\",\"sub\":\"3095134389\",\"iss\":\"https://kauth.kakao.co\","
         "\"exp\":1700000600}",
         PK_JWT_WRONG_ISS, "iss=\"https://kauth.kakao.co\""},
        {"{\"aud\":\"" REST_KEY "\",\"sub\":\"3095134389\",\"exp\":1700000600}", PK_JWT_WRONG_ISS,
         "iss missing"},
        {"{\"aud\":\"" REST_KEY "\",\"sub\":3095134389,\"iss\":\"" ISS "\",\"exp\":1700000600}",
         PK_JWT_BAD_ID, "sub is a number, not a string"},
        {"{\"aud\":\"" REST_KEY "\",\"sub\":\"03095134389\",\"iss\":\"" ISS
         "\",\"exp\":1700000600}",
         PK_JWT_BAD_ID, "sub is not a decimal id"},
        {"{\"aud\":\"" REST_KEY "\",\"sub\":\"-5\",\"iss\":\"" ISS "\",\"exp\":1700000600}",
         PK_JWT_BAD_ID, "sub is not a decimal id"},
        {"{\"aud\":\"" REST_KEY "\",\"sub\":\"9223372036854775808\",\"iss\":\"" ISS
         "\",\"exp\":1700000600}",
         PK_JWT_BAD_ID, "sub is not a decimal id"},
        {"{\"aud\":\"" REST_KEY "\",\"iss\":\"" ISS "\",\"exp\":1700000600}", PK_JWT_BAD_ID,
         "sub missing"},
        {"{\"aud\":\"" REST_KEY "\",\"sub\":\"1\",\"sub\":\"2\",\"iss\":\"" ISS
         "\",\"exp\":1700000600}",
         PK_JWT_BAD_CLAIMS, "payload: duplicate key"},
        {"{\"aud\":\"" REST_KEY "\",\"sub\":\"3095134389\",\"iss\":\"" ISS
         "\",\"exp\":\"1700000600\"}",
         PK_JWT_BAD_CLAIMS, "exp is not an integer"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *tok = jt_sign_rs256(kakao, HDR, cases[i].claims);
        expect(tok, cases[i].want, cases[i].detail);
        free(tok);
    }
}

static void step_up_freshness(void **state)
{
    char *claims = jt_printf("{\"aud\":\"" REST_KEY "\",\"sub\":\"3095134389\",\"iss\":\"" ISS
                             "\",\"exp\":%lld,\"iat\":%lld,\"auth_time\":%lld}",
                             T0 + 600, T0, T0 - 1000);
    char *tok = jt_sign_rs256(kakao, HDR, claims);
    (void)state;

    cfg.max_token_age = 300;
    expect(tok, PK_JWT_TOO_OLD, "auth_time=1699999000 now=1700000000 max_token_age=300");
    cfg.max_token_age = 3600;
    expect(tok, PK_OK, "");
    free(tok);
    free(claims);
}

static void header_rules(void **state)
{
    static const struct {
        const char *header;
        enum pk_outcome want;
        const char *detail;
    } cases[] = {
        {"{\"alg\":\"RS256\",\"typ\":\"JWT\"}", PK_JWT_BAD_HEADER, "no kid"},
        {"{\"alg\":\"RS256\",\"kid\":\"\"}", PK_JWT_BAD_HEADER, "no kid"},
        {"{\"alg\":\"RS256\",\"kid\":7}", PK_JWT_BAD_HEADER, "kid not a short string"},
        {"{\"alg\":\"RS512\",\"kid\":\"k1\"}", PK_JWT_ALG_MISMATCH,
         "alg=\"RS512\", configured RS256"},
        {"{\"alg\":\"rs256\",\"kid\":\"k1\"}", PK_JWT_ALG_MISMATCH,
         "alg=\"rs256\", configured RS256"},
        {"{\"alg\":\"none\",\"kid\":\"k1\"}", PK_JWT_ALG_MISMATCH,
         "alg=\"none\", configured RS256"},
        {"{\"kid\":\"k1\"}", PK_JWT_BAD_HEADER, "alg missing or not a string"},
        {"{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWE\"}", PK_JWT_BAD_TYP, ""},
        {"{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[\"x\"]}", PK_JWT_CRIT, ""},
        {"{\"alg\":\"RS256\",\"kid\":\"nope\"}", PK_JWT_UNKNOWN_KID,
         "kid=\"nope\" not in the JWKS"},
        {"{\"alg\":\"RS256\",\"kid\":\"K1\"}", PK_JWT_UNKNOWN_KID, "kid=\"K1\" not in the JWKS"},
    };
    char *claims = kakao_claims(T0, "");
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *tok = jt_sign_rs256(kakao, cases[i].header, claims);
        expect(tok, cases[i].want, cases[i].detail);
        free(tok);
    }
    free(claims);
}

static void signature_attacks(void **state)
{
    char *claims = kakao_claims(T0, "");
    char err[256];
    char *tok;
    size_t n_len;
    unsigned char *n = jt_param_bytes(kakao, OSSL_PKEY_PARAM_RSA_N, &n_len);
    char *pem = jt_public_pem(kakao);
    (void)state;

    /* HS256 MACed with the JWK's modulus, and with the PEM libjwt would get */
    tok = pk_jwt_sign("{\"kid\":\"k1\",\"typ\":\"JWT\",\"alg\":\"HS256\"}", claims, PK_ALG_HS256, n,
                      n_len, err, sizeof(err));
    assert_non_null(tok);
    expect(tok, PK_JWT_ALG_MISMATCH, "alg=\"HS256\", configured RS256");
    free(tok);
    tok = pk_jwt_sign("{\"kid\":\"k1\",\"typ\":\"JWT\",\"alg\":\"HS256\"}", claims, PK_ALG_HS256,
                      (const unsigned char *)pem, strlen(pem), err, sizeof(err));
    assert_non_null(tok);
    expect(tok, PK_JWT_ALG_MISMATCH, "alg=\"HS256\", configured RS256");
    free(tok);

    /* another RSA key signs under Kakao's kid */
    tok = jt_sign_rs256(other, HDR, claims);
    expect(tok, PK_JWT_BAD_SIGNATURE, "");
    free(tok);
    /* a 3072-bit signature under the 2048-bit kid */
    tok = jt_sign_rs256(big, HDR, claims);
    expect(tok, PK_JWT_SIG_LENGTH, "384 bytes, expected 256");
    free(tok);
    /* Kakao's token with its payload swapped: the signature no longer fits */
    {
        char *good = jt_sign_rs256(kakao, HDR, claims);
        char *bob_claims = jt_printf("{\"aud\":\"" REST_KEY
                                     "\",\"sub\":\"1122334455\",\"iss\":\"" ISS "\",\"exp\":%lld}",
                                     T0 + 60);
        char *bob = jt_sign_rs256(other, HDR, bob_claims);
        char *forged = jt_printf("%.*s%.*s%s", (int)(strchr(good, '.') - good), good,
                                 (int)(strrchr(bob, '.') - strchr(bob, '.')), strchr(bob, '.'),
                                 strrchr(good, '.'));
        expect(forged, PK_JWT_BAD_SIGNATURE, "");
        free(good);
        free(bob_claims);
        free(bob);
        free(forged);
    }
    free(n);
    free(pem);
    free(claims);
}

/* The unverified iss picks the rules: an app JWT never passes as an ID
 * token, an ID token never as an app JWT, even with one key for both. */
static void kinds_never_cross(void **state)
{
    struct pk_jwt_key app_key;
    char problem[256];
    struct pk_validator v;
    struct pk_kind_state keys;
    struct pk_result res;
    char *claims = kakao_claims(T0, "");
    char *id_tok = jt_sign_rs256(kakao, HDR, claims);
    char *app_claims = jt_printf("{\"kakao_id\":3095134389,\"exp\":%lld}", T0 + 60);
    char *app_tok = jt_sign_rs256(kakao, HDR, app_claims);
    (void)state;

    assert_int_equal(
        pk_jwt_key_load(app_key_path, PK_ALG_RS256, geteuid(), &app_key, problem, sizeof(problem)),
        PK_ST_OK);
    cfg.jwt_key = app_key_path;
    cfg.jwt_alg = PK_ALG_RS256;
    /* shallow copies: app_key and store stay the owners */
    memset(&keys, 0, sizeof(keys));
    keys.jwt_key = app_key;
    keys.have_jwt_key = true;
    keys.jwks = store;
    keys.have_jwks = true;
    memset(&v, 0, sizeof(v));
    v.cfg = &cfg;
    v.keys = &keys;
    v.now = (time_t)T0;

    /* both kinds accepted: each token by its own rules */
    assert_int_equal(pk_validate_token(&v, id_tok, &res), PK_OK);
    assert_int_equal(res.kind, PK_KIND_ID_TOKEN);
    assert_int_equal(pk_validate_token(&v, app_tok, &res), PK_OK);
    assert_int_equal(res.kind, PK_KIND_JWT);

    /* jwt only: the ID token is refused though the app key would verify it */
    cfg.accept = PK_KIND_JWT;
    assert_int_equal(pk_validate_token(&v, id_tok, &res), PK_KIND_NOT_ACCEPTED);
    assert_int_equal(res.kind, PK_KIND_ID_TOKEN);
    assert_string_equal(res.detail, "iss is the id_token issuer; id_token is not in accept");

    /* id_token only: an app JWT is refused though the JWKS would verify it */
    cfg.accept = PK_KIND_ID_TOKEN;
    assert_int_equal(pk_validate_token(&v, app_tok, &res), PK_KIND_NOT_ACCEPTED);
    assert_int_equal(res.kind, PK_KIND_JWT);
    assert_string_equal(res.detail, "jwt is not in accept");
    pk_jwt_key_free(&app_key);

    /* an app JWT that claims iss = Kakao, signed with the app key: checked
     * only against the JWKS, where that key is not */
    assert_int_equal(pk_jwt_key_load(other_key_path, PK_ALG_RS256, geteuid(), &app_key, problem,
                                     sizeof(problem)),
                     PK_ST_OK);
    keys.jwt_key = app_key;
    cfg.jwt_key = other_key_path;
    cfg.accept = 0;
    free(app_tok);
    app_tok = jt_sign_rs256(other, HDR, claims);
    assert_int_equal(pk_validate_token(&v, app_tok, &res), PK_JWT_BAD_SIGNATURE);
    assert_int_equal(res.kind, PK_KIND_ID_TOKEN);
    free(app_tok);
    app_tok = jt_sign_rs256(other, "{\"alg\":\"RS256\"}", claims);
    assert_int_equal(pk_validate_token(&v, app_tok, &res), PK_JWT_BAD_HEADER);
    assert_string_equal(res.detail, "no kid");
    pk_jwt_key_free(&app_key);

    /* no JWKS handed in: a configuration error, never a pass */
    keys.have_jwks = false;
    assert_int_equal(pk_validate_token(&v, id_tok, &res), PK_CONFIG_ERROR);
    free(id_tok);
    free(app_tok);
    free(app_claims);
    free(claims);
}

static void unavailable_jwks_line(void **state)
{
    struct pk_result res;
    char line[512];
    (void)state;

    memset(&res, 0, sizeof(res));
    res.kind = PK_KIND_ID_TOKEN;
    (void)pk_result_set(&res, PK_JWKS_UNAVAILABLE,
                        "https://x/jwks: timeout after 5 s (no "
                        "cached copy)");
    pk_verdict_line(line, sizeof(line), &res, "alice");
    assert_string_equal(line, "jwks unavailable for user=alice: https://x/jwks: timeout after 5 s "
                              "(no cached copy)");
    assert_int_equal(pk_outcome_pam_code(PK_JWKS_UNAVAILABLE), PAM_AUTHINFO_UNAVAIL);
}

/* tests/fixtures/id_token: Kakao's header and claims, signed by the test
 * key; iat 1697167622, exp iat + 21600. */
static void real_shaped_fixture(void **state)
{
    char dir[1024], path[1200], tok[2048];
    struct pk_result res;
    FILE *f;
    size_t n;
    const long long iat = 1697167622LL, exp = iat + 21600;
    (void)state;

    (void)snprintf(dir, sizeof(dir), "%s/id_token", pk_test_fixtures());
    (void)snprintf(path, sizeof(path), "%s/id_token.jwt", dir);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(tok, 1, sizeof(tok) - 1, f);
    fclose(f);
    tok[n] = '\0';
    while (n > 0 && tok[n - 1] == '\n')
        tok[--n] = '\0';
    assert_in_range(n, 630, 830);
    pk_jwks_store_free(&store);
    (void)snprintf(path, sizeof(path), "%s/jwks.json", dir);
    load_store(path);

    assert_int_equal(check_at(tok, iat + 600, &res), PK_OK);
    assert_int_equal(res.kakao_id, 3095134389LL);
    assert_int_equal(check_at(tok, exp + 59, &res), PK_OK);
    assert_int_equal(check_at(tok, exp + 60, &res), PK_JWT_EXPIRED);
    assert_string_equal(res.detail, "exp=1697189222 now=1697189282");
    assert_int_equal(check_at(tok, iat - 61, &res), PK_JWT_IAT_FUTURE);
    /* its aud is another app's key to anyone else */
    cfg.kakao_rest_api_key = (char *)"ffffffffffffffffffffffffffffffff";
    assert_int_equal(check_at(tok, iat + 600, &res), PK_JWT_WRONG_AUD);
    /* and the token with one byte of the signature changed fails */
    tok[n - 5] = tok[n - 5] == 'A' ? 'B' : 'A';
    cfg.kakao_rest_api_key = (char *)REST_KEY;
    assert_int_equal(check_at(tok, iat + 600, &res), PK_JWT_BAD_SIGNATURE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(claim_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(step_up_freshness, setup, teardown),
        cmocka_unit_test_setup_teardown(header_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(signature_attacks, setup, teardown),
        cmocka_unit_test_setup_teardown(kinds_never_cross, setup, teardown),
        cmocka_unit_test_setup_teardown(unavailable_jwks_line, setup, teardown),
        cmocka_unit_test_setup_teardown(real_shaped_fixture, setup, teardown),
    };
    return cmocka_run_group_tests_name("id_token", tests, group_setup, group_teardown);
}
