/* PAM-level tests of the app-JWT path: the real pam_kakao.so through
 * libpam under pam_wrapper. Every case asserts the PAM result and the log
 * line. Run by tests/run.sh, which sets PK_TEST_DIR (services, configs)
 * and PK_TEST_KEYS (keys from tests/keys/make_keys.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pamtest_util.h"
#include "src/b64url.h"
#include "src/jwt_sign.h"

#define ALICE 3095134389LL
#define BOB 1122334455LL

static struct pt_env env; /* what tests/run.sh's pamenv set */

/* cur.conf = user_map + the given lines. */
static void conf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void conf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    pt_vconf(env.dir, "users", "", fmt, ap);
    va_end(ap);
}

static void conf_hs(const char *alg, const char *extra)
{
    conf("jwt_key = %s\njwt_alg = %s\n%s", pt_path(env.keys, "hs256.key"), alg, extra);
}

static char *read_key(const char *name, size_t *len)
{
    FILE *f = fopen(pt_path(env.keys, name), "r");
    char *buf = calloc(1, 65536);
    size_t n;

    assert_non_null(f);
    assert_non_null(buf);
    n = fread(buf, 1, 65535, f);
    fclose(f);
    if (strstr(name, ".key") != NULL && n > 0 && buf[n - 1] == '\n')
        n--;
    *len = n;
    return buf;
}

static const char *key_for(enum pk_alg alg)
{
    switch (alg) {
    case PK_ALG_RS256:
    case PK_ALG_RS384:
    case PK_ALG_RS512:
        return "rsa.pem";
    case PK_ALG_ES256:
        return "ec256.pem";
    case PK_ALG_ES384:
        return "ec384.pem";
    case PK_ALG_ES512:
        return "ec521.pem";
    default:
        return "hs256.key";
    }
}

/* A token with a verbatim header and payload, signed with keyname. */
static char *mint_with(const char *header, const char *payload, enum pk_alg alg,
                       const char *keyname)
{
    char err[256] = "";
    size_t len;
    char *key = read_key(keyname, &len);
    char *tok = pk_jwt_sign(header, payload, alg, (unsigned char *)key, len, err, sizeof(err));

    free(key);
    if (tok == NULL)
        fail_msg("pk_jwt_sign: %s", err);
    return tok;
}

static char *mint(const char *header, const char *payload, enum pk_alg alg)
{
    return mint_with(header, payload, alg, key_for(alg));
}

static char *claims(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *claims(const char *fmt, ...)
{
    static char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return buf;
}

static long long now_s(void)
{
    return (long long)time(NULL);
}

static char *hs_token(long long id, long long exp_in)
{
    return mint(
        "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
        claims("{\"kakao_id\":%lld,\"iat\":%lld,\"exp\":%lld}", id, now_s(), now_s() + exp_in),
        PK_ALG_HS256);
}

#define assert_log(r, text) assert_string_equal((r)->log, (text))
#define assert_log_has(r, text)                                                                    \
    do {                                                                                           \
        if (strstr((r)->log, (text)) == NULL)                                                      \
            fail_msg("log \"%s\" lacks \"%s\"", (r)->log, (text));                                 \
    } while (0)

static void expect_reject(const char *token, const char *user, int rv, const char *log_prefix)
{
    struct pt_run r;

    pt_run("pk", user, token, false, &r);
    if (r.auth_rv != rv)
        fail_msg("rv %d (%s), want %d; log: %s", r.auth_rv, pam_strerror(NULL, r.auth_rv), rv,
                 r.log);
    if (strncmp(r.log, log_prefix, strlen(log_prefix)) != 0)
        fail_msg("log \"%s\" does not start with \"%s\"", r.log, log_prefix);
    assert_string_equal(r.kakao_id_env, "");
}

/* ---- outcome table rows (docs/DESIGN.md §5.1) ---- */

static void valid_token_mapped_user(void **state)
{
    struct pt_run r;
    char *tok = hs_token(ALICE, 300);

    (void)state;
    conf_hs("HS256", "");
    pt_run("pk", "alice", tok, true, &r);
    assert_int_equal(r.auth_rv, PAM_SUCCESS);
    assert_int_equal(r.acct_rv, PAM_SUCCESS);
    assert_int_equal(r.prompts, 1);
    assert_log(&r, "accepted jwt kakao_id=3095134389 user=alice");
    assert_string_equal(r.kakao_id_env, "3095134389");
    /* the malformed map line is reported with file:line, before the decision */
    {
        char want[1200];
        (void)snprintf(want, sizeof(want),
                       "%s:5: malformed line ignored: bad kakao_id\n"
                       "accepted jwt kakao_id=3095134389 user=alice",
                       pt_path(env.dir, "users"));
        assert_string_equal(r.all_log, want);
    }
    /* one Kakao account may open several local accounts */
    pt_run("pk", "deploy", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_SUCCESS);
    assert_log(&r, "accepted jwt kakao_id=3095134389 user=deploy");
    free(tok);
}

static void valid_token_other_user(void **state)
{
    char *tok = hs_token(BOB, 300);
    (void)state;
    conf_hs("HS256", "");
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: kakao_id not mapped to this user "
                  "(kakao_id=1122334455)");
    free(tok);
}

static void user_without_map_line(void **state)
{
    struct pt_run r;
    (void)state;
    conf_hs("HS256", "");
    pt_run("pk", "carol", "never-asked", true, &r);
    assert_int_equal(r.auth_rv, PAM_USER_UNKNOWN);
    assert_int_equal(r.prompts, 0);
    assert_log(&r, "no user map entry for user=carol");
    /* account is not ours to decide when we did not authenticate */
    assert_int_equal(r.acct_rv == PAM_SUCCESS, 0);
}

/* Values from outside never forge a field: a user name with spaces and
 * quotes, a JWT header alg with a quote and spaces. */
static void crafted_values_escaped(void **state)
{
    struct pt_run r;
    char *tok;
    (void)state;

    conf_hs("HS256", "");
    pt_run("pk", "x accepted kakao kakao_id=1 user=\"root\"", "never-asked", true, &r);
    assert_int_equal(r.auth_rv, PAM_USER_UNKNOWN);
    assert_int_equal(r.prompts, 0);
    assert_log(&r, "no user map entry for "
                   "user=x\\x20accepted\\x20kakao\\x20kakao_id=1\\x20user=\\x22root\\x22");
    /* one decision line, after the map file's own warning */
    {
        char want[1200];
        (void)snprintf(want, sizeof(want),
                       "%s:5: malformed line ignored: bad kakao_id\n"
                       "no user map entry for user=x\\x20accepted\\x20kakao\\x20kakao_id=1"
                       "\\x20user=\\x22root\\x22",
                       pt_path(env.dir, "users"));
        assert_string_equal(r.all_log, want);
    }

    tok = mint("{\"alg\":\"HS256 \\\" x\",\"typ\":\"JWT\",\"kid\":\"k 1\\\"2\"}",
               claims("{\"kakao_id\":%lld,\"exp\":%lld}", ALICE, now_s() + 60), PK_ALG_HS256);
    pt_run("pk", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_AUTH_ERR);
    assert_log(&r, "rejected jwt for user=alice: algorithm not allowed "
                   "(alg=\"HS256\\x20\\x22\\x20x\", configured HS256)");
    free(tok);
}

static void bad_config_and_options(void **state)
{
    struct pt_run r;
    (void)state;

    conf_hs("HS256", "frob = 1\n");
    pt_run("pk", "alice", "x", false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_int_equal(r.prompts, 0);
    {
        char want[1200];
        (void)snprintf(want, sizeof(want), "config error: %s:4: unknown key \"frob\"",
                       pt_path(env.dir, "cur.conf"));
        assert_log(&r, want);
    }
    conf_hs("HS256", "timeout = 5 # s\n");
    pt_run("pk", "alice", "x", false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_log_has(&r, ":4: bad value for \"timeout\": not a whole number in range");

    conf_hs("HS256", "");
    pt_run("pk_unknown_opt", "alice", "x", false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_log(&r, "config error: argument: unknown option \"frobnicate\"");
    pt_run("pk_twice", "alice", "x", false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_log(&r, "config error: argument: key \"leeway\" given twice");
    pt_run("pk_use_try", "alice", "x", false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_log(&r, "config error: argument: use_first_pass and try_first_pass are exclusive");
    pt_run("pk_missing_conf", "alice", "x", false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_log_has(&r, "does-not-exist.conf: does not exist");

    conf("jwt_alg = HS256\n");
    pt_run("pk", "alice", "x", false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_log(&r, "config error: jwt_key and jwt_alg must be given together");

    conf("leeway = 5\n");
    pt_run("pk", "alice", "x", false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_log(&r, "config error: no token kind configured (set kakao_app_id, or jwt_key and "
                   "jwt_alg)");

    conf_hs("HS256", "accept = kakao\n");
    pt_run("pk", "alice", "x", false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_log(&r, "config error: accept names kakao, which needs kakao_app_id");
}

static void arguments_override_file(void **state)
{
    struct pt_run r;
    char *tok;
    (void)state;

    /* pk_override adds leeway=0: a token 30 s expired is refused, though the
     * file allows 600 s of leeway */
    conf_hs("HS256", "leeway = 600\n");
    tok = hs_token(ALICE, -30);
    pt_run("pk", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_SUCCESS);
    pt_run("pk_override", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_AUTH_ERR);
    assert_log_has(&r, "rejected jwt for user=alice: expired (exp=");
    free(tok);
}

static void conversation_failure(void **state)
{
    struct pt_run r;
    (void)state;
    conf_hs("HS256", "");
    pt_run("pk", "alice", NULL, false, &r);
    assert_int_equal(r.auth_rv, PAM_CONV_ERR);
    assert_log(&r, "conversation failed for user=alice: Conversation error (note: sudo refuses "
                   "answers of 512 bytes or more)");
}

static void first_pass_options(void **state)
{
    struct pt_run r;
    char *tok = hs_token(ALICE, 300);
    (void)state;

    conf_hs("HS256", "");
    assert_int_equal(unsetenv("PAM_AUTHTOK"), 0);
    pt_run("pk_use_first", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_AUTH_ERR);
    assert_int_equal(r.prompts, 0);
    assert_log(&r, "rejected token for user=alice: use_first_pass but no PAM_AUTHTOK");

    pt_run("pk_try_first", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_SUCCESS);
    assert_int_equal(r.prompts, 1);

    /* pam_set_items (from pam_wrapper) sets PAM_AUTHTOK from the environment */
    assert_int_equal(setenv("PAM_AUTHTOK", tok, 1), 0);
    pt_run("pk_use_first_set", "alice", "wrong", false, &r);
    assert_int_equal(r.auth_rv, PAM_SUCCESS);
    assert_int_equal(r.prompts, 0);
    assert_log(&r, "accepted jwt kakao_id=3095134389 user=alice");
    pt_run("pk_try_first_set", "alice", "wrong", false, &r);
    assert_int_equal(r.auth_rv, PAM_SUCCESS);
    assert_int_equal(r.prompts, 0);
    assert_int_equal(unsetenv("PAM_AUTHTOK"), 0);
    free(tok);
}

static void all_algorithms(void **state)
{
    static const struct {
        enum pk_alg alg;
        const char *name;
        const char *pub;
    } algs[] = {
        {PK_ALG_HS256, "HS256", "hs256.key"},     {PK_ALG_HS384, "HS384", "hs256.key"},
        {PK_ALG_HS512, "HS512", "hs256.key"},     {PK_ALG_RS256, "RS256", "rsa.pub.pem"},
        {PK_ALG_RS384, "RS384", "rsa.pub.pem"},   {PK_ALG_RS512, "RS512", "rsa.pub.pem"},
        {PK_ALG_ES256, "ES256", "ec256.pub.pem"}, {PK_ALG_ES384, "ES384", "ec384.pub.pem"},
        {PK_ALG_ES512, "ES512", "ec521.pub.pem"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        struct pt_run r;
        char hdr[64];
        char *tok;
        conf("jwt_key = %s\njwt_alg = %s\n", pt_path(env.keys, algs[i].pub), algs[i].name);
        (void)snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", algs[i].name);
        tok =
            mint(hdr, claims("{\"kakao_id\":%lld,\"exp\":%lld}", ALICE, now_s() + 60), algs[i].alg);
        pt_run("pk", "alice", tok, false, &r);
        if (r.auth_rv != PAM_SUCCESS)
            fail_msg("%s: rv %d log %s", algs[i].name, r.auth_rv, r.log);
        assert_log(&r, "accepted jwt kakao_id=3095134389 user=alice");
        /* signed with another key of the same kind: refused */
        free(tok);
        if (algs[i].alg >= PK_ALG_RS256 && algs[i].alg <= PK_ALG_RS512) {
            tok = mint_with(hdr, claims("{\"kakao_id\":%lld,\"exp\":%lld}", ALICE, now_s() + 60),
                            algs[i].alg, "rsa_other.pem");
            expect_reject(tok, "alice", PAM_AUTH_ERR, "rejected jwt for user=alice: bad signature");
            free(tok);
        }
    }
}

/* ---- attacks ---- */

static void alg_none(void **state)
{
    char *h = pk_b64url_encode((const unsigned char *)"{\"alg\":\"none\"}", 14);
    char *p;
    char tok[1024];
    (void)state;

    conf_hs("HS256", "");
    p = pk_b64url_encode(
        (const unsigned char *)claims("{\"kakao_id\":%lld,\"exp\":%lld}", ALICE, now_s() + 60),
        strlen(claims("{\"kakao_id\":%lld,\"exp\":%lld}", ALICE, now_s() + 60)));
    /* empty signature: not even JWT-shaped */
    (void)snprintf(tok, sizeof(tok), "%s.%s.", h, p);
    expect_reject(tok, "alice", PAM_AUTH_ERR, "rejected token for user=alice: malformed token");
    /* with some signature: the alg is refused */
    (void)snprintf(tok, sizeof(tok), "%s.%s.AAAA", h, p);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: algorithm not allowed (alg=\"none\", configured "
                  "HS256)");
    free(h);
    free(p);
}

static void algorithm_confusion(void **state)
{
    char err[256];
    size_t len;
    char *pem = read_key("rsa.pub.pem", &len);
    char *tok;
    (void)state;

    conf("jwt_key = %s\njwt_alg = RS256\n", pt_path(env.keys, "rsa.pub.pem"));
    /* HS256 MACed with the RSA public key's PEM text */
    tok = pk_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                      claims("{\"kakao_id\":%lld,\"exp\":%lld}", ALICE, now_s() + 60), PK_ALG_HS256,
                      (unsigned char *)pem, len, err, sizeof(err));
    assert_non_null(tok);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: algorithm not allowed (alg=\"HS256\", configured "
                  "RS256)");
    free(tok);
    free(pem);
}

static void alg_case_and_size(void **state)
{
    char *tok;
    (void)state;
    conf_hs("HS256", "");
    tok = mint("{\"alg\":\"hs256\",\"typ\":\"JWT\"}",
               claims("{\"kakao_id\":%lld,\"exp\":%lld}", ALICE, now_s() + 60), PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: algorithm not allowed (alg=\"hs256\", configured "
                  "HS256)");
    free(tok);
    tok = mint("{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
               claims("{\"kakao_id\":%lld,\"exp\":%lld}", ALICE, now_s() + 60), PK_ALG_HS512);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: algorithm not allowed (alg=\"HS512\", configured "
                  "HS256)");
    free(tok);
}

static void crit_and_typ_headers(void **state)
{
    char *tok;
    (void)state;
    conf_hs("HS256", "");
    tok = mint("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}",
               claims("{\"kakao_id\":%lld,\"exp\":%lld}", ALICE, now_s() + 60), PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: crit header not supported");
    free(tok);
    tok = mint("{\"alg\":\"HS256\",\"typ\":\"JWE\"}",
               claims("{\"kakao_id\":%lld,\"exp\":%lld}", ALICE, now_s() + 60), PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR, "rejected jwt for user=alice: typ header not JWT");
    free(tok);
    tok = mint("{\"alg\":\"HS256\",\"alg\":\"HS256\"}",
               claims("{\"kakao_id\":%lld,\"exp\":%lld}", ALICE, now_s() + 60), PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: bad header (header: duplicate key)");
    free(tok);
}

static void time_claims(void **state)
{
    const char *h = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char *tok;
    char want[256];
    (void)state;

    conf_hs("HS256", "");
    tok = mint(h, claims("{\"kakao_id\":%lld}", ALICE), PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR, "rejected jwt for user=alice: no exp claim");
    free(tok);
    tok = mint(h, claims("{\"kakao_id\":%lld,\"exp\":1697167622}", ALICE), PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: expired (exp=1697167622 now=");
    free(tok);
    tok =
        mint(h, claims("{\"kakao_id\":%lld,\"exp\":\"%lld\"}", ALICE, now_s() + 60), PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: bad claims (exp is not an integer)");
    free(tok);
    tok = mint(h, claims("{\"kakao_id\":%lld,\"exp\":%lld.5}", ALICE, now_s() + 60), PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: bad claims (exp is not an integer)");
    free(tok);
    (void)snprintf(want, sizeof(want), "rejected jwt for user=alice: not yet valid (nbf=%lld",
                   now_s() + 3600);
    tok = mint(h,
               claims("{\"kakao_id\":%lld,\"exp\":%lld,\"nbf\":%lld}", ALICE, now_s() + 7200,
                      now_s() + 3600),
               PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR, want);
    free(tok);
    (void)snprintf(want, sizeof(want),
                   "rejected jwt for user=alice: issued in the future (iat=%lld", now_s() + 3600);
    tok = mint(h,
               claims("{\"kakao_id\":%lld,\"exp\":%lld,\"iat\":%lld}", ALICE, now_s() + 7200,
                      now_s() + 3600),
               PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR, want);
    free(tok);
    /* within leeway (60 s default) both are fine */
    tok = mint(h,
               claims("{\"kakao_id\":%lld,\"exp\":%lld,\"nbf\":%lld,\"iat\":%lld}", ALICE,
                      now_s() - 20, now_s() + 20, now_s() + 20),
               PK_ALG_HS256);
    {
        struct pt_run r;
        pt_run("pk", "alice", tok, false, &r);
        assert_int_equal(r.auth_rv, PAM_SUCCESS);
    }
    free(tok);
}

static void issuer_and_audience(void **state)
{
    const char *h = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char *tok;
    struct pt_run r;
    (void)state;

    conf_hs("HS256", "jwt_issuer = https://api.example.com\njwt_audience = ssh\n");
    tok = mint(h,
               claims("{\"kakao_id\":%lld,\"exp\":%lld,\"iss\":\"https://evil.example\","
                      "\"aud\":\"ssh\"}",
                      ALICE, now_s() + 60),
               PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: wrong issuer (iss=\"https://evil.example\")");
    free(tok);
    tok = mint(h, claims("{\"kakao_id\":%lld,\"exp\":%lld,\"aud\":\"ssh\"}", ALICE, now_s() + 60),
               PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: wrong issuer (iss missing)");
    free(tok);
    tok = mint(h,
               claims("{\"kakao_id\":%lld,\"exp\":%lld,\"iss\":\"https://api.example.com\","
                      "\"aud\":\"web\"}",
                      ALICE, now_s() + 60),
               PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: wrong audience (aud does not contain \"ssh\")");
    free(tok);
    tok = mint(h,
               claims("{\"kakao_id\":%lld,\"exp\":%lld,\"iss\":\"https://api.example.com\","
                      "\"aud\":[\"web\",\"ssh\"]}",
                      ALICE, now_s() + 60),
               PK_ALG_HS256);
    pt_run("pk", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_SUCCESS);
    free(tok);
    tok = mint(h,
               claims("{\"kakao_id\":%lld,\"exp\":%lld,\"iss\":\"https://api.example.com\","
                      "\"aud\":[\"web\",1]}",
                      ALICE, now_s() + 60),
               PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: bad claims (aud is not a string or array of "
                  "strings)");
    free(tok);
    /* a NUL inside iss must not pass as the configured issuer */
    tok = mint(h,
               claims("{\"kakao_id\":%lld,\"exp\":%lld,\"iss\":\"https://api.example.com\\u0000x\","
                      "\"aud\":\"ssh\"}",
                      ALICE, now_s() + 60),
               PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: bad claims (payload: NUL character in a string)");
    free(tok);
}

static void duplicate_claims(void **state)
{
    char *tok;
    (void)state;
    conf_hs("HS256", "");
    tok =
        mint("{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
             claims("{\"kakao_id\":%lld,\"kakao_id\":%lld,\"exp\":%lld}", BOB, ALICE, now_s() + 60),
             PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: bad claims (payload: duplicate key)");
    free(tok);
}

static void id_claim_types(void **state)
{
    static const struct {
        const char *value;
        const char *log;
    } cases[] = {
        {"3095134389.0", "rejected jwt for user=alice: bad id claim (kakao_id is a float)"},
        {"-3095134389", "rejected jwt for user=alice: bad id claim (kakao_id is not positive)"},
        {"0", "rejected jwt for user=alice: bad id claim (kakao_id is not positive)"},
        {"true", "rejected jwt for user=alice: bad id claim (kakao_id is a boolean)"},
        {"null", "rejected jwt for user=alice: bad id claim (kakao_id is a null)"},
        {"[3095134389]", "rejected jwt for user=alice: bad id claim (kakao_id is a structure)"},
        {"99999999999999999999", "rejected jwt for user=alice: bad claims (payload: number out "
                                 "of range)"},
        {"\"3095134389x\"", "rejected jwt for user=alice: bad id claim (kakao_id is not a "
                            "decimal id)"},
        {"\"03095134389\"", "rejected jwt for user=alice: bad id claim (kakao_id is not a "
                            "decimal id)"},
        {"\"9223372036854775808\"", "rejected jwt for user=alice: bad id claim (kakao_id is not "
                                    "a decimal id)"},
        {"\"\"", "rejected jwt for user=alice: bad id claim (kakao_id is not a decimal id)"},
    };
    struct pt_run r;
    char *tok;
    (void)state;

    conf_hs("HS256", "");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tok = mint("{\"alg\":\"HS256\"}",
                   claims("{\"kakao_id\":%s,\"exp\":%lld}", cases[i].value, now_s() + 60),
                   PK_ALG_HS256);
        expect_reject(tok, "alice", PAM_AUTH_ERR, cases[i].log);
        free(tok);
    }
    tok = mint("{\"alg\":\"HS256\"}", claims("{\"exp\":%lld}", now_s() + 60), PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: bad id claim (kakao_id missing)");
    free(tok);
    /* a string of digits is fine */
    tok = mint("{\"alg\":\"HS256\"}",
               claims("{\"kakao_id\":\"%lld\",\"exp\":%lld}", ALICE, now_s() + 60), PK_ALG_HS256);
    pt_run("pk", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_SUCCESS);
    free(tok);
    /* the seed article's back end puts the id in user_id */
    conf_hs("HS256", "jwt_id_claim = user_id\n");
    tok =
        mint("{\"alg\":\"HS256\"}",
             claims("{\"user_id\":%lld,\"kakao_id\":%lld,\"exp\":%lld}", ALICE, BOB, now_s() + 60),
             PK_ALG_HS256);
    pt_run("pk", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_SUCCESS);
    assert_log(&r, "accepted jwt kakao_id=3095134389 user=alice");
    free(tok);
}

static void tampered_signatures(void **state)
{
    char *good = hs_token(ALICE, 300);
    char *other = hs_token(BOB, 300);
    char tok[2048];
    char *dot1, *dot2;
    (void)state;

    conf_hs("HS256", "");
    /* bob's payload under alice's signature */
    dot1 = strchr(good, '.');
    dot2 = strrchr(good, '.');
    {
        char *odot1 = strchr(other, '.');
        char *odot2 = strrchr(other, '.');
        (void)snprintf(tok, sizeof(tok), "%.*s%.*s%s", (int)(dot1 - good), good,
                       (int)(odot2 - odot1), odot1, dot2);
    }
    expect_reject(tok, "bob", PAM_AUTH_ERR, "rejected jwt for user=bob: bad signature");
    (void)snprintf(tok, sizeof(tok), "%s!!", good);
    expect_reject(tok, "alice", PAM_AUTH_ERR, "rejected token for user=alice: malformed token");
    (void)snprintf(tok, sizeof(tok), "%s==", good);
    expect_reject(tok, "alice", PAM_AUTH_ERR, "rejected token for user=alice: malformed token");
    (void)snprintf(tok, sizeof(tok), "%sAAA", good);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: signature length wrong, token probably cut off "
                  "(34 bytes, expected 32)");
    /* the last character's unused bits changed: same bytes to a lax decoder */
    (void)snprintf(tok, sizeof(tok), "%s", good);
    {
        char *last = tok + strlen(tok) - 1;
        const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        int v = (int)(strchr(alphabet, *last) - alphabet);
        *last = alphabet[v ^ 1];
    }
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: bad signature (signature is not canonical "
                  "base64url)");
    free(good);
    free(other);
}

static void huge_and_odd_tokens(void **state)
{
    size_t big = 16u << 20;
    char *tok = malloc(big + 1);
    struct pt_run r;
    (void)state;

    assert_non_null(tok);
    conf_hs("HS256", "");
    memset(tok, 'A', big);
    tok[big] = '\0';
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected token for user=alice: token too long (over 8192 bytes)");
    free(tok);
    expect_reject("abc\x01"
                  "defghijklmnopqrstuv",
                  "alice", PAM_AUTH_ERR,
                  "rejected token for user=alice: token has bytes outside printable ASCII "
                  "(byte 0x01 at offset 3)");
    expect_reject("abcdefghijklmnop\xc3\xa9", "alice", PAM_AUTH_ERR,
                  "rejected token for user=alice: token has bytes outside printable ASCII "
                  "(byte 0xc3 at offset 16)");
    expect_reject("   \t ", "alice", PAM_AUTH_ERR, "rejected token for user=alice: empty token");
    expect_reject("short", "alice", PAM_AUTH_ERR,
                  "rejected token for user=alice: malformed token (5 bytes, neither a JWT nor a "
                  "Kakao access token)");
    /* a Kakao access token while only jwt is configured */
    expect_reject("abcdefghijklmnopqrstuvwxyz0123456789_-ABCDEFGHIJKLMNOP", "alice", PAM_AUTH_ERR,
                  "rejected kakao for user=alice: token kind not accepted (kakao is not in "
                  "accept)");
    /* surrounding whitespace is trimmed */
    tok = hs_token(ALICE, 300);
    {
        char padded[2048];
        (void)snprintf(padded, sizeof(padded), "  %s \n", tok);
        pt_run("pk", "alice", padded, false, &r);
        assert_int_equal(r.auth_rv, PAM_SUCCESS);
    }
    free(tok);
}

/* A token cut at the length a client allows gets a hint, in the log and
 * to the user. */
static void client_limit_hints(void **state)
{
    char *tok;
    char pad[4200];
    struct pt_run r;
    (void)state;

    conf_hs("HS256", "");
    memset(pad, 'x', sizeof(pad) - 1);
    pad[sizeof(pad) - 1] = '\0';
    tok = mint("{\"alg\":\"HS256\"}",
               claims("{\"kakao_id\":%lld,\"exp\":%lld,\"pad\":\"%s\"}", ALICE, now_s() + 60, pad),
               PK_ALG_HS256);
    assert_true(strlen(tok) > 4096);
    tok[1023] = '\0';
    pt_run("pk", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_AUTH_ERR);
    assert_log_has(&r, "1023 bytes: probably cut off by the OpenSSH client");
    assert_string_equal(r.errors,
                        "The token is 1023 bytes: the OpenSSH client probably cut it off.");
    free(tok);

    tok = mint("{\"alg\":\"HS256\"}",
               claims("{\"kakao_id\":%lld,\"exp\":%lld,\"pad\":\"%s\"}", ALICE, now_s() + 60, pad),
               PK_ALG_HS256);
    tok[4095] = '\0';
    pt_run("pk", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_AUTH_ERR);
    assert_log_has(&r, "4095 bytes: probably cut off by pamtester or another misc_conv client");
    assert_string_equal(r.errors, "The token is 4095 bytes: the client probably cut it off.");
    free(tok);

    /* an RS256 signature cut short inside the segment */
    conf("jwt_key = %s\njwt_alg = RS256\n", pt_path(env.keys, "rsa.pub.pem"));
    tok = mint("{\"alg\":\"RS256\"}",
               claims("{\"kakao_id\":%lld,\"exp\":%lld}", ALICE, now_s() + 60), PK_ALG_RS256);
    tok[strlen(tok) - 40] = '\0';
    pt_run("pk", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_AUTH_ERR);
    assert_log_has(&r, "rejected jwt for user=alice: signature length wrong, token probably cut "
                       "off (226 bytes, expected 256)");
    assert_string_equal(r.errors, "The token's signature has the wrong length: it was probably "
                                  "cut off by the client.");
    free(tok);
}

static void step_up_freshness(void **state)
{
    const char *h = "{\"alg\":\"HS256\"}";
    char *tok;
    struct pt_run r;
    (void)state;

    conf_hs("HS256", "max_token_age = 300\n");
    tok = mint(
        h,
        claims("{\"kakao_id\":%lld,\"exp\":%lld,\"iat\":%lld}", ALICE, now_s() + 600, now_s() - 10),
        PK_ALG_HS256);
    pt_run("pk", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_SUCCESS);
    free(tok);
    tok = mint(h,
               claims("{\"kakao_id\":%lld,\"exp\":%lld,\"iat\":%lld}", ALICE, now_s() + 600,
                      now_s() - 1000),
               PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: authentication too old (iat=");
    free(tok);
    /* auth_time is preferred over a fresh iat */
    tok = mint(h,
               claims("{\"kakao_id\":%lld,\"exp\":%lld,\"iat\":%lld,\"auth_time\":%lld}", ALICE,
                      now_s() + 600, now_s(), now_s() - 1000),
               PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: authentication too old (auth_time=");
    free(tok);
    tok = mint(h, claims("{\"kakao_id\":%lld,\"exp\":%lld}", ALICE, now_s() + 600), PK_ALG_HS256);
    expect_reject(tok, "alice", PAM_AUTH_ERR,
                  "rejected jwt for user=alice: authentication too old (no auth_time or iat, "
                  "max_token_age=300)");
    free(tok);
}

/* ---- file trust (docs/DESIGN.md §6) ---- */

static void unsafe_files(void **state)
{
    struct pt_run r;
    char want[1400];
    char link[1024];
    (void)state;

    (void)snprintf(link, sizeof(link), "%s", pt_path(env.dir, "link.conf"));
    conf_hs("HS256", "");
    assert_int_equal(chmod(pt_path(env.dir, "cur.conf"), 0666), 0);
    pt_run("pk", "alice", "x", false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    (void)snprintf(want, sizeof(want), "config error: %s: writable by group or others (mode 0666)",
                   pt_path(env.dir, "cur.conf"));
    assert_log(&r, want);

    /* a symlinked config (the service's config= points at cur.conf; make it a link) */
    conf_hs("HS256", "");
    (void)unlink(link);
    assert_int_equal(rename(pt_path(env.dir, "cur.conf"), link), 0);
    assert_int_equal(symlink(link, pt_path(env.dir, "cur.conf")), 0);
    pt_run("pk", "alice", "x", false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    (void)snprintf(want, sizeof(want), "config error: %s: is a symbolic link (not followed)",
                   pt_path(env.dir, "cur.conf"));
    assert_log(&r, want);
    assert_int_equal(unlink(pt_path(env.dir, "cur.conf")), 0);

    /* user map writable by others */
    conf_hs("HS256", "");
    assert_int_equal(chmod(pt_path(env.dir, "users"), 0646), 0);
    pt_run("pk", "alice", "x", false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_int_equal(r.prompts, 0);
    (void)snprintf(want, sizeof(want), "file refused: %s: writable by group or others (mode 0646)",
                   pt_path(env.dir, "users"));
    assert_log(&r, want);
    assert_int_equal(chmod(pt_path(env.dir, "users"), 0644), 0);

    /* key readable by others */
    pt_write_file(pt_path(env.dir, "open.key"), "0123456789abcdef0123456789abcdef0123\n", 0644);
    conf("jwt_key = %s\njwt_alg = HS256\n", pt_path(env.dir, "open.key"));
    pt_run("pk", "alice", "x", false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    (void)snprintf(want, sizeof(want),
                   "file refused: jwt_key %s: key file readable by others (mode 0644)",
                   pt_path(env.dir, "open.key"));
    assert_log(&r, want);

    /* HMAC secret too short */
    conf("jwt_key = %s\njwt_alg = HS256\n", pt_path(env.keys, "hs_short.key"));
    pt_run("pk", "alice", "x", false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_log_has(&r, "HMAC secret of 20 bytes, at least 32 needed");

    /* key that does not fit the algorithm */
    conf("jwt_key = %s\njwt_alg = RS256\n", pt_path(env.keys, "ec256.pub.pem"));
    pt_run("pk", "alice", "x", false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_log_has(&r, "RS256 needs an RSA key");
}

static void config_owned_by_other_user(void **state)
{
    struct pt_run r;
    char want[1400];
    (void)state;

    if (geteuid() != 0)
        skip();
    conf_hs("HS256", "");
    assert_int_equal(chown(pt_path(env.dir, "cur.conf"), 12345, 12345), 0);
    pt_run("pk", "alice", "x", false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    (void)snprintf(want, sizeof(want), "config error: %s: owned by uid 12345, not root or uid 0",
                   pt_path(env.dir, "cur.conf"));
    assert_log(&r, want);
    assert_int_equal(chown(pt_path(env.dir, "cur.conf"), 0, 0), 0);
}

static void account_without_auth(void **state)
{
    struct pt_run r;
    (void)state;
    conf_hs("HS256", "");
    /* acct_mgmt alone: this module did not authenticate, so it does not
     * grant; with only it in the stack libpam turns PAM_IGNORE into a denial */
    pt_run("pk_acct_only", "alice", NULL, true, &r);
    assert_int_not_equal(r.acct_rv, PAM_SUCCESS);
}

static int setup(void **state)
{

    (void)state;
    if (!pt_env_load(&env, PT_NEED_KEYS))
        return -1;
    pt_write_file(pt_path(env.dir, "users"),
                  "# kakao_id     local_user\n"
                  "3095134389     alice\n"
                  "3095134389     deploy   # one Kakao account, several local accounts\n"
                  "1122334455     bob\n"
                  "0123           mallory  # malformed: never grants\n",
                  0644);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_token_mapped_user),
        cmocka_unit_test(valid_token_other_user),
        cmocka_unit_test(user_without_map_line),
        cmocka_unit_test(crafted_values_escaped),
        cmocka_unit_test(bad_config_and_options),
        cmocka_unit_test(arguments_override_file),
        cmocka_unit_test(conversation_failure),
        cmocka_unit_test(first_pass_options),
        cmocka_unit_test(all_algorithms),
        cmocka_unit_test(alg_none),
        cmocka_unit_test(algorithm_confusion),
        cmocka_unit_test(alg_case_and_size),
        cmocka_unit_test(crit_and_typ_headers),
        cmocka_unit_test(time_claims),
        cmocka_unit_test(issuer_and_audience),
        cmocka_unit_test(duplicate_claims),
        cmocka_unit_test(id_claim_types),
        cmocka_unit_test(tampered_signatures),
        cmocka_unit_test(huge_and_odd_tokens),
        cmocka_unit_test(client_limit_hints),
        cmocka_unit_test(step_up_freshness),
        cmocka_unit_test(unsafe_files),
        cmocka_unit_test(config_owned_by_other_user),
        cmocka_unit_test(account_without_auth),
    };
    return cmocka_run_group_tests_name("pam_jwt", tests, setup, NULL);
}
