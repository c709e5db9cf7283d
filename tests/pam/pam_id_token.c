/* PAM-level tests of Kakao OIDC ID tokens (docs/DESIGN.md §4.3, §4.4, §8.3): the real
 * pam_kakao.so through libpam under pam_wrapper, with the JWKS from a file
 * or from the mock Kakao API (tests/mock/README.md: /.well-known/jwks.json
 * with per-test channels that a test fills or breaks with POST /mock/jwks).
 * The mock's request log counts the JWKS fetches. Clock-dependent cases
 * (a cache past jwks_max_age, expiry around a real token's timestamps) run
 * pamtester under faketime.
 *
 * Run by tests/run.sh, which sets PK_TEST_DIR, PK_TEST_KEYS (RSA keys from
 * tests/keys/make_keys.sh) and PK_MOCK_PORT, PK_MOCK_CLOSED_PORT,
 * PK_MOCK_CA, PK_MOCK_LOG. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <ftw.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../unit/jwk_test_util.h"
#include "pamtest_util.h"
#include "src/b64url.h"

#define REST "5d2f7c1e9a8b4f3d6e0c2a1b7f9e8d4c"
#define ISS "https://kauth.kakao.com"
#define KA "9f252dadd5f233f93d2fa528d12fea" /* Kakao's current key */
#define KB "3f96980381e451efad0d2ddd30e3d3" /* the key rotated in */
#define KW "1a2b3c4d5e6f708192a3b4c5d6e7f8" /* a 1024-bit key */
#define ALICE "3095134389"
#define BOB "1122334455"
#define PICTURE "http://k.kakaocdn.net/dn/bxHYkq/btsA1b2C3d4/img_110x110.jpg"

/* Network faults run with this timeout (seconds). */
#define FAULT_TIMEOUT 2
/* How far past FAULT_TIMEOUT a faulty fetch may end: the bound shows the
 * login is bounded (never hangs), and a loaded 2-core CI machine or an ASan
 * build (no PK_TEST_TIME_SLACK) can deschedule the test for a second or
 * more, which a margin of 1 s would count as a failure. */
#define FAULT_MARGIN 5.0
/* Where the mock answers (a JWKS, an error) the config gets this timeout: a
 * TLS handshake slowed by valgrind or a loaded machine must not run out the
 * default 5 s and fail the case for the wrong reason. */
#define ANSWER_TIMEOUT "timeout = 30\n"

static struct pt_env env; /* what tests/run.sh's pamenv set */
static EVP_PKEY *key_a, *key_b, *key_x, *key_w;
static char *jwk_a, *jwk_b, *jwk_w, *jwk_x_as_a;

/* cur.conf = the user map, the REST API key, and the given lines. */
static void conf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void conf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    pt_vconf(env.dir, "idt.users", "kakao_rest_api_key = " REST "\n", fmt, ap);
    va_end(ap);
}

/* A JWKS file in the test dir; returns its path. */
static const char *jwks_file(const char *name, const char *text)
{
    const char *p = pt_path(env.dir, name);
    pt_write_file(p, text, 0644); /* a JWKS may be world-readable */
    return p;
}

static char *jwks_url(const char *channel)
{
    static char buf[4][256];
    static int slot;
    char *p = buf[slot++ % 4];
    (void)snprintf(p, sizeof(buf[0]), "https://127.0.0.1:%ld/.well-known/jwks.json?ch=%s",
                   env.port_main, channel);
    return p;
}

/* An empty cache_dir path for one test (the module creates it). */
static const char *fresh_cache(const char *name)
{
    char cmd[1200];
    const char *p = pt_path(env.dir, name);
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p);
    assert_int_equal(system(cmd), 0);
    return p;
}

/* ---- the mock: JWKS channels and the request log ---- */

static size_t discard(char *data, size_t size, size_t nmemb, void *ctx)
{
    (void)data;
    (void)ctx;
    return size * nmemb;
}

/* Channel ch of the mock now serves body, or the fault (hang, 500, notjson). */
static void mock_jwks(const char *ch, const char *body, const char *fault)
{
    char url[512];
    CURL *h = curl_easy_init();
    long code = 0;
    CURLcode rc;

    assert_non_null(h);
    (void)snprintf(url, sizeof(url), "https://127.0.0.1:%ld/mock/jwks?ch=%s%s%s", env.port_main, ch,
                   fault != NULL ? "&fault=" : "", fault != NULL ? fault : "");
    body = body != NULL ? body : "";
    rc = curl_easy_setopt(h, CURLOPT_URL, url);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_CAINFO, env.mock_ca);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_PROXY, "");
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        rc = curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK || code != 200)
        fail_msg("mock channel %s: %s, HTTP %ld", ch, curl_easy_strerror(rc), code);
}

/* JWKS fetches of channel ch logged so far. */
static size_t fetches_at_least(const char *ch, size_t at_least)
{
    char want[256];

    (void)snprintf(
        want, sizeof(want),
        "\"method\": \"GET\", \"path\": \"/.well-known/jwks.json\", \"query\": \"ch=%s\"", ch);
    return pt_wait_count(env.mock_log, want, at_least);
}

static size_t fetches(const char *ch)
{
    return fetches_at_least(ch, 0);
}

/* ---- tokens ---- */

/* Kakao's ID token: header {"kid","typ","alg"}, claims as Kakao sends. */
static char *id_token_at(EVP_PKEY *k, const char *kid, const char *sub, long long iat,
                         const char *aud_json)
{
    char *header = jt_printf("{\"kid\":\"%s\",\"typ\":\"JWT\",\"alg\":\"RS256\"}", kid);
    char *claims =
        jt_printf("{\"aud\":%s,\"sub\":\"%s\",\"auth_time\":%lld,\"iss\":\"" ISS
                  "\",\"nickname\":\"Alice\",\"exp\":%lld,\"iat\":%lld,\"picture\":\"" PICTURE
                  "\",\"email\":\"alice@example.com\"}",
                  aud_json, sub, iat, iat + 21600, iat);
    char *tok = jt_sign_rs256(k, header, claims);

    free(header);
    free(claims);
    return tok;
}

static char *id_token(EVP_PKEY *k, const char *kid, const char *sub)
{
    return id_token_at(k, kid, sub, (long long)time(NULL), "\"" REST "\"");
}

/* ---- running one attempt ---- */

static void assert_elapsed(const struct pt_run *r, double lo, double hi)
{
    hi += pt_time_slack();
    if (r->elapsed < lo || r->elapsed > hi)
        fail_msg("took %.3f s, want %.1f..%.1f s (log: %s)", r->elapsed, lo, hi, r->log);
}

static void assert_log_matches(const char *what, const char *got, const char *want)
{
    size_t n = strlen(want);

    if (n > 0 && want[n - 1] == '*') {
        if (strncmp(got, want, n - 1) != 0)
            fail_msg("%s \"%s\" does not start with \"%.*s\"", what, got, (int)(n - 1), want);
    } else if (strcmp(got, want) != 0) {
        fail_msg("%s \"%s\", want \"%s\"", what, got, want);
    }
}

static void assert_logged(const struct pt_run *r, const char *line)
{
    if (strstr(r->all_log, line) == NULL)
        fail_msg("no log line \"%s\" in:\n%s", line, r->all_log);
}

/* Neither the token nor its signature appears in the log. */
static void assert_token_not_logged(const char *log, const char *token)
{
    const char *sig = token != NULL ? strrchr(token, '.') : NULL;

    if (token == NULL || strlen(token) < 16)
        return;
    if (strstr(log, token) != NULL || (sig != NULL && strlen(sig) > 16 && strstr(log, sig) != NULL))
        fail_msg("token in the log: %s", log);
}

/* Runs token for user through service "pk" and checks the PAM result, the
 * decision line (exact, or a prefix when want ends in '*'), that the token
 * is in no log line, and KAKAO_ID. */
static void attempt(const char *token, const char *user, int rv, const char *want, struct pt_run *r)
{
    pt_run("pk", user, token, rv == PAM_SUCCESS, r);
    if (r->auth_rv != rv)
        fail_msg("rv %d (%s), want %d (%s); log:\n%s", r->auth_rv, pam_strerror(NULL, r->auth_rv),
                 rv, pam_strerror(NULL, rv), r->all_log);
    assert_log_matches("log", r->log, want);
    assert_token_not_logged(r->all_log, token);
    if (rv == PAM_SUCCESS)
        assert_int_equal(r->acct_rv, PAM_SUCCESS);
    else
        assert_string_equal(r->kakao_id_env, "");
}

/* attempt(), and exactly `want_fetches` fetches of channel ch. */
static void attempt_fetching(const char *ch, size_t want_fetches, const char *token,
                             const char *user, int rv, const char *want, struct pt_run *r)
{
    size_t before = fetches(ch);
    size_t got;

    attempt(token, user, rv, want, r);
    /* a fetch from a hanging URL may be logged after the module gave up */
    got = fetches_at_least(ch, before + want_fetches) - before;
    if (got != want_fetches)
        fail_msg("%zu fetches of channel %s, want %zu (log: %s)", got, ch, want_fetches,
                 r->all_log);
}

struct tester_run {
    int status;               /* pamtester's exit status: 0 authenticated */
    char log[PT_LOG_MAX];     /* the decision: the last SYSLOG line */
    char all_log[PT_LOG_MAX]; /* every SYSLOG line */
    double elapsed;
};

/* pamtester (misc_conv reads the token from stdin) authenticating user on
 * service "pk" under faketime: `when` is "+7200s"-style or "@2023-10-13
 * 03:27:02" (UTC). The child inherits pam_wrapper from this process. */
static void pamtester_at(const char *when, const char *user, const char *token,
                         struct tester_run *t)
{
    char cmd[4096], line[8192];
    const char *tok_path = pt_path(env.dir, "idt.token");
    const char *out_path = pt_path(env.dir, "idt.pamtester.out");
    struct timespec t0, t1;
    FILE *f;
    int rc;

    /* libfaketime and an ASan-built module hang or abort together
     * (SANITIZE=1 runs): these clock cases run in the normal pass. */
    if (getenv("PK_SANITIZE") != NULL)
        skip();
    memset(t, 0, sizeof(*t));
    pt_write_file(tok_path, token, 0600);
    (void)snprintf(cmd, sizeof(cmd),
                   "TZ=UTC faketime -f '%s' pamtester -v pk '%s' authenticate <'%s' >'%s' 2>&1",
                   when, user, tok_path, out_path);
    assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
    rc = system(cmd);
    assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
    t->elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(rc != -1 && WIFEXITED(rc));
    t->status = WEXITSTATUS(rc);
    f = fopen(out_path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        char *p = strstr(line, "SYSLOG(");
        char *nl;
        size_t used = strlen(t->all_log);
        if (p == NULL || (p = strstr(p, "): ")) == NULL)
            continue;
        p += 3;
        nl = strchr(p, '\n');
        if (nl != NULL)
            *nl = '\0';
        (void)snprintf(t->all_log + used, sizeof(t->all_log) - used, "%s%s", used ? "\n" : "", p);
        (void)snprintf(t->log, sizeof(t->log), "%s", p);
    }
    fclose(f);
    assert_token_not_logged(t->all_log, token);
}

/* "@YYYY-MM-DD HH:MM:SS" (UTC) for faketime. */
static const char *at_time(long long when)
{
    static char buf[4][40];
    static int slot;
    char *p = buf[slot++ % 4];
    time_t t = (time_t)when;
    struct tm tm;

    assert_non_null(gmtime_r(&t, &tm));
    assert_true(strftime(p, sizeof(buf[0]), "@%Y-%m-%d %H:%M:%S", &tm) > 0);
    return p;
}

/* ---- tests ---- */

static void valid_tokens(void **state)
{
    struct pt_run r;
    char *tok = id_token(key_a, KA, ALICE);
    char *bob = id_token(key_b, KB, BOB);
    char *both = jt_jwks(jwk_a, jwk_b, NULL);
    (void)state;

    conf("jwks_file = %s\n", jwks_file("idt_ab.jwks", both));
    /* shaped like Kakao's: 630-830 characters, fine for OpenSSH, not for sudo */
    assert_in_range(strlen(tok), 630, 830);
    attempt(tok, "alice", PAM_SUCCESS, "accepted id_token kakao_id=3095134389 user=alice", &r);
    assert_string_equal(r.all_log, "accepted id_token kakao_id=3095134389 user=alice");
    assert_string_equal(r.kakao_id_env, ALICE);
    assert_int_equal(r.prompts, 1);
    /* one Kakao account, several local accounts */
    attempt(tok, "deploy", PAM_SUCCESS, "accepted id_token kakao_id=3095134389 user=deploy", &r);
    /* bob's valid token does not open alice's account */
    attempt(bob, "alice", PAM_AUTH_ERR,
            "rejected id_token for user=alice: kakao_id not mapped to this user "
            "(kakao_id=1122334455)",
            &r);
    attempt(bob, "bob", PAM_SUCCESS, "accepted id_token kakao_id=1122334455 user=bob", &r);
    /* a user without a map line: no prompt */
    pt_run("pk", "carol", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_USER_UNKNOWN);
    assert_int_equal(r.prompts, 0);
    /* aud as an array holding our key */
    free(tok);
    tok = id_token_at(key_a, KA, ALICE, (long long)time(NULL), "[\"other\",\"" REST "\"]");
    attempt(tok, "alice", PAM_SUCCESS, "accepted id_token kakao_id=3095134389 user=alice", &r);
    /* the JWKS given as a module argument works the same */
    conf("jwks_file = %s\naccept = id_token\n", jwks_file("idt_ab.jwks", both));
    attempt(tok, "alice", PAM_SUCCESS, "accepted id_token kakao_id=3095134389 user=alice", &r);
    free(tok);
    free(bob);
    free(both);
}

static void claims_refused(void **state)
{
    struct pt_run r;
    char want[512];
    long long now = (long long)time(NULL);
    char *tok;
    char *a = jt_jwks(jwk_a, NULL);
    (void)state;

    conf("jwks_file = %s\n", jwks_file("idt_a.jwks", a));
    /* expired: issued 7 h ago, exp = iat + 6 h */
    tok = id_token_at(key_a, KA, ALICE, now - 25200, "\"" REST "\"");
    (void)snprintf(want, sizeof(want), "rejected id_token for user=alice: expired (exp=%lld now=*",
                   now - 3600);
    attempt(tok, "alice", PAM_AUTH_ERR, want, &r);
    free(tok);
    /* issued to another app */
    tok = id_token_at(key_a, KA, ALICE, now, "\"0123456789abcdef0123456789abcdef\"");
    attempt(tok, "alice", PAM_AUTH_ERR,
            "rejected id_token for user=alice: wrong audience (aud does not contain \"" REST "\")",
            &r);
    free(tok);
    /* sub must be a string of digits */
    tok = jt_sign_rs256(key_a, "{\"kid\":\"" KA "\",\"alg\":\"RS256\"}",
                        "{\"aud\":\"" REST "\",\"sub\":3095134389,\"iss\":\"" ISS
                        "\",\"exp\":99999999999}");
    attempt(tok, "alice", PAM_AUTH_ERR,
            "rejected id_token for user=alice: bad id claim (sub is a number, not a string)", &r);
    free(tok);
    /* another issuer is not an ID token: with only id_token accepted, refused */
    conf("jwks_file = %s\naccept = id_token\n", jwks_file("idt_a.jwks", a));
    {
        char *claims = jt_printf("{\"aud\":\"" REST "\",\"sub\":\"" ALICE
                                 "\",\"iss\":\"https://kauth.kakao.com/\",\"exp\":%lld}",
                                 now + 600);
        tok = jt_sign_rs256(key_a, "{\"kid\":\"" KA "\",\"alg\":\"RS256\"}", claims);
        free(claims);
    }
    attempt(tok, "alice", PAM_AUTH_ERR,
            "rejected jwt for user=alice: token kind not accepted (jwt is not in accept)", &r);
    free(tok);
    /* the configured issuer is what makes an ID token */
    conf("jwks_file = %s\nid_token_issuer = https://issuer.example\n", jwks_file("idt_a.jwks", a));
    tok = id_token(key_a, KA, ALICE);
    attempt(tok, "alice", PAM_AUTH_ERR,
            "rejected jwt for user=alice: token kind not accepted (jwt is not in accept)", &r);
    free(tok);
    free(a);
}

static void attacks(void **state)
{
    struct pt_run r;
    char err[256];
    size_t n_len;
    unsigned char *n = jt_param_bytes(key_a, OSSL_PKEY_PARAM_RSA_N, &n_len);
    char *claims =
        jt_printf("{\"aud\":\"" REST "\",\"sub\":\"" ALICE "\",\"iss\":\"" ISS "\",\"exp\":%lld}",
                  (long long)time(NULL) + 600);
    char *a = jt_jwks(jwk_a, NULL);
    char *tok;
    (void)state;

    conf("jwks_file = %s\n", jwks_file("idt_a.jwks", a));
    /* HS256 with the JWK's modulus as the MAC key */
    tok = pk_jwt_sign("{\"kid\":\"" KA "\",\"typ\":\"JWT\",\"alg\":\"HS256\"}", claims,
                      PK_ALG_HS256, n, n_len, err, sizeof(err));
    assert_non_null(tok);
    attempt(tok, "alice", PAM_AUTH_ERR,
            "rejected id_token for user=alice: algorithm not allowed (alg=\"HS256\", configured "
            "RS256)",
            &r);
    free(tok);
    /* alg none, with and without a signature */
    {
        char *h = pk_b64url_encode((const unsigned char *)"{\"kid\":\"" KA "\",\"alg\":\"none\"}",
                                   strlen("{\"kid\":\"" KA "\",\"alg\":\"none\"}"));
        char *p = pk_b64url_encode((const unsigned char *)claims, strlen(claims));
        tok = jt_printf("%s.%s.AAAA", h, p);
        attempt(tok, "alice", PAM_AUTH_ERR,
                "rejected id_token for user=alice: algorithm not allowed (alg=\"none\", "
                "configured RS256)",
                &r);
        free(tok);
        tok = jt_printf("%s.%s.", h, p);
        attempt(tok, "alice", PAM_AUTH_ERR, "rejected token for user=alice: malformed token*", &r);
        free(tok);
        free(h);
        free(p);
    }
    /* another key signs under Kakao's kid */
    tok = jt_sign_rs256(key_x, "{\"kid\":\"" KA "\",\"typ\":\"JWT\",\"alg\":\"RS256\"}", claims);
    attempt(tok, "alice", PAM_AUTH_ERR, "rejected id_token for user=alice: bad signature", &r);
    free(tok);
    /* a kid with a space, a quote and a backslash is escaped in the one line */
    tok = jt_sign_rs256(key_a, "{\"kid\":\"k 1\\\"2\\\\\",\"typ\":\"JWT\",\"alg\":\"RS256\"}",
                        claims);
    attempt(tok, "alice", PAM_AUTH_ERR,
            "rejected id_token for user=alice: unknown kid (kid=\"k\\x201\\x222\\x5c\" not in "
            "the JWKS)",
            &r);
    assert_string_equal(r.all_log, r.log);
    free(tok);
    /* no kid: no key is guessed */
    tok = jt_sign_rs256(key_a, "{\"typ\":\"JWT\",\"alg\":\"RS256\"}", claims);
    attempt(tok, "alice", PAM_AUTH_ERR, "rejected id_token for user=alice: bad header (no kid)",
            &r);
    free(tok);
    free(n);
    free(a);
    free(claims);
}

static void weak_and_duplicate_keys(void **state)
{
    struct pt_run r;
    char want[1400];
    char *text;
    const char *path;
    char *weak = id_token(key_w, KW, ALICE);
    char *good = id_token(key_a, KA, ALICE);
    char *bob = id_token(key_b, KB, BOB);
    (void)state;

    /* a 1024-bit key is skipped, with a line; the set's other keys work */
    text = jt_jwks(jwk_w, jwk_a, NULL);
    path = jwks_file("idt_weak.jwks", text);
    conf("jwks_file = %s\n", path);
    attempt(weak, "alice", PAM_AUTH_ERR,
            "rejected id_token for user=alice: unknown kid (kid=\"" KW "\": RSA key of 1024 "
            "bits, at least 2048 needed)",
            &r);
    (void)snprintf(want, sizeof(want),
                   "jwks %s: key #0 (kid \"" KW "\") skipped: RSA key of 1024 bits, at least 2048 "
                   "needed",
                   path);
    assert_logged(&r, want);
    attempt(good, "alice", PAM_SUCCESS, "accepted id_token kakao_id=3095134389 user=alice", &r);
    free(text);
    /* a set with no usable key is a broken file: before the prompt */
    text = jt_jwks(jwk_w, NULL);
    path = jwks_file("idt_weak_only.jwks", text);
    conf("jwks_file = %s\n", path);
    pt_run("pk", "alice", good, false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_int_equal(r.prompts, 0);
    (void)snprintf(want, sizeof(want), "file refused: jwks_file %s: no usable RSA signing key",
                   path);
    assert_string_equal(r.log, want);
    free(text);

    /* two keys under Kakao's kid: neither is used */
    text = jt_jwks(jwk_a, jwk_x_as_a, jwk_b, NULL);
    path = jwks_file("idt_dup.jwks", text);
    conf("jwks_file = %s\n", path);
    attempt(good, "alice", PAM_AUTH_ERR,
            "rejected id_token for user=alice: unknown kid (kid=\"" KA "\": kid names 2 keys in "
            "the set (ambiguous))",
            &r);
    (void)snprintf(want, sizeof(want), "jwks %s: kid \"" KA "\" names 2 keys: refused as ambiguous",
                   path);
    assert_logged(&r, want);
    attempt(bob, "bob", PAM_SUCCESS, "accepted id_token kakao_id=1122334455 user=bob", &r);
    free(text);
    free(weak);
    free(good);
    free(bob);
}

static void bad_jwks_files(void **state)
{
    struct pt_run r;
    char want[1400];
    char link[1024];
    const char *path = jwks_file("idt_html.jwks", "<html>not json</html>");
    char *a = jt_jwks(jwk_a, NULL);
    char *tok = id_token(key_a, KA, ALICE);
    (void)state;

    conf("jwks_file = %s\n", path);
    pt_run("pk", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_int_equal(r.prompts, 0);
    (void)snprintf(want, sizeof(want), "file refused: jwks_file %s: not valid JSON", path);
    assert_string_equal(r.log, want);

    /* trusted like a config file: not writable by group or others */
    path = jwks_file("idt_a.jwks", a);
    assert_int_equal(chmod(path, 0664), 0);
    conf("jwks_file = %s\n", path);
    pt_run("pk", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_int_equal(r.prompts, 0);
    (void)snprintf(want, sizeof(want),
                   "file refused: jwks_file %s: writable by group or others (mode 0664)", path);
    assert_string_equal(r.log, want);
    /* no symbolic links */
    assert_int_equal(chmod(path, 0644), 0);
    (void)snprintf(link, sizeof(link), "%s", pt_path(env.dir, "idt_link.jwks"));
    (void)unlink(link);
    assert_int_equal(symlink(path, link), 0);
    conf("jwks_file = %s\n", link);
    pt_run("pk", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    (void)snprintf(want, sizeof(want),
                   "file refused: jwks_file %s: is a symbolic link (not followed)", link);
    assert_string_equal(r.log, want);
    /* missing */
    conf("jwks_file = %s\n", pt_path(env.dir, "idt_missing.jwks"));
    pt_run("pk", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    (void)snprintf(want, sizeof(want), "file refused: jwks_file %s: does not exist",
                   pt_path(env.dir, "idt_missing.jwks"));
    assert_string_equal(r.log, want);
    free(a);
    free(tok);
}

static void fetched_and_cached(void **state)
{
    struct pt_run r;
    struct stat st;
    char want[1400];
    const char *cache = fresh_cache("idt_cache_fetch");
    char *a = jt_jwks(jwk_a, NULL);
    char *tok = id_token(key_a, KA, ALICE);
    (void)state;

    mock_jwks("fetch", a, NULL);
    conf("jwks_url = %s\nca_file = %s\ncache_dir = %s\n" ANSWER_TIMEOUT, jwks_url("fetch"),
         env.mock_ca, cache);
    /* the first login fetches, the next ones use the cache */
    attempt_fetching("fetch", 1, tok, "alice", PAM_SUCCESS,
                     "accepted id_token kakao_id=3095134389 user=alice", &r);
    assert_string_equal(r.all_log, "accepted id_token kakao_id=3095134389 user=alice");
    attempt_fetching("fetch", 0, tok, "alice", PAM_SUCCESS,
                     "accepted id_token kakao_id=3095134389 user=alice", &r);
    /* cache_dir was made root-only, the copy is ours alone */
    assert_int_equal(lstat(cache, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    {
        char cmd[1200];
        (void)snprintf(cmd, sizeof(cmd),
                       "test \"$(find '%s' -type f -name 'jwks-*.json' -perm 0600 | wc -l)\" = 1 "
                       "&& test \"$(ls -A '%s' | wc -l)\" = 1",
                       cache, cache);
        assert_int_equal(system(cmd), 0);
    }
    /* a user without a map line costs no fetch */
    pt_run("pk", "carol", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_USER_UNKNOWN);

    /* a cache_dir others can read is not used: each login fetches */
    assert_int_equal(chmod(cache, 0755), 0);
    attempt_fetching("fetch", 1, tok, "alice", PAM_SUCCESS,
                     "accepted id_token kakao_id=3095134389 user=alice", &r);
    (void)snprintf(want, sizeof(want),
                   "cache_dir %s: mode 0755, not root-only (0700); the JWKS is not cached", cache);
    assert_logged(&r, want);
    attempt_fetching("fetch", 1, tok, "alice", PAM_SUCCESS,
                     "accepted id_token kakao_id=3095134389 user=alice", &r);
    /* the JWKS request carried no credentials */
    {
        char *all = pt_slurp(env.mock_log);
        const char *p = strstr(all, "\"query\": \"ch=fetch\"");
        assert_non_null(p);
        if (strstr(p, "Authorization") != NULL && strstr(p, "Authorization") < strchr(p, '\n'))
            fail_msg("JWKS request with an Authorization header");
        free(all);
    }
    free(a);
    free(tok);
}

static void unknown_kid_refetch(void **state)
{
    struct pt_run r;
    const char *cache = fresh_cache("idt_cache_kid");
    char *a = jt_jwks(jwk_a, NULL);
    char *tok = id_token(key_a, KA, ALICE);
    char *stranger1 = id_token(key_x, "unknown-kid-1", ALICE);
    char *stranger2 = id_token(key_x, "unknown-kid-2", ALICE);
    (void)state;

    mock_jwks("kid", a, NULL);
    conf("jwks_url = %s\nca_file = %s\ncache_dir = %s\n" ANSWER_TIMEOUT, jwks_url("kid"),
         env.mock_ca, cache);
    attempt_fetching("kid", 1, tok, "alice", PAM_SUCCESS,
                     "accepted id_token kakao_id=3095134389 user=alice", &r);
    /* an unknown kid: one refetch, then refused */
    attempt_fetching("kid", 1, stranger1, "alice", PAM_AUTH_ERR,
                     "rejected id_token for user=alice: unknown kid (kid=\"unknown-kid-1\" not in "
                     "the JWKS (refetched))",
                     &r);
    /* another unknown kid within 300 s: no refetch */
    attempt_fetching("kid", 0, stranger2, "alice", PAM_AUTH_ERR,
                     "rejected id_token for user=alice: unknown kid (kid=\"unknown-kid-2\" not in "
                     "the JWKS (last refetch *",
                     &r);
    attempt_fetching("kid", 0, stranger1, "alice", PAM_AUTH_ERR,
                     "rejected id_token for user=alice: unknown kid*", &r);
    /* the known key still works, from the cache */
    attempt_fetching("kid", 0, tok, "alice", PAM_SUCCESS,
                     "accepted id_token kakao_id=3095134389 user=alice", &r);
    free(a);
    free(tok);
    free(stranger1);
    free(stranger2);
}

/* A PAM_AUTHTOK left by an earlier module is judged offline only: an
 * unknown kid in it makes no refetch (the same token typed at the prompt
 * does), and nothing at all is sent for it. */
static void first_pass_never_fetches(void **state)
{
    struct pt_run r;
    const char *cache = fresh_cache("idt_cache_first");
    char *a = jt_jwks(jwk_a, NULL);
    char *tok = id_token(key_a, KA, ALICE);
    char *stranger = id_token(key_x, "unknown-kid-first", ALICE);
    size_t before;
    (void)state;

    mock_jwks("first", a, NULL);
    conf("jwks_url = %s\nca_file = %s\ncache_dir = %s\n" ANSWER_TIMEOUT, jwks_url("first"),
         env.mock_ca, cache);
    attempt_fetching("first", 1, tok, "alice", PAM_SUCCESS,
                     "accepted id_token kakao_id=3095134389 user=alice", &r);
    /* a good ID token in PAM_AUTHTOK: accepted from the cached JWKS */
    assert_int_equal(setenv("PAM_AUTHTOK", tok, 1), 0);
    before = fetches("first");
    pt_run("pk_use_first_set", "alice", "never-asked", false, &r);
    assert_int_equal(r.auth_rv, PAM_SUCCESS);
    assert_int_equal(r.prompts, 0);
    assert_string_equal(r.all_log, "accepted id_token kakao_id=3095134389 user=alice");
    /* an unknown kid: refused without the refetch a typed token would get */
    assert_int_equal(setenv("PAM_AUTHTOK", stranger, 1), 0);
    pt_run("pk_use_first_set", "alice", "never-asked", false, &r);
    assert_int_equal(r.auth_rv, PAM_AUTH_ERR);
    assert_int_equal(r.prompts, 0);
    assert_string_equal(r.all_log,
                        "rejected id_token for user=alice: unknown kid (kid=\"unknown-kid-first\" "
                        "not in the JWKS (no refetch for PAM_AUTHTOK))");
    /* try_first_pass: the prompt, and the typed token is judged as always */
    pt_run("pk_try_first_set", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_SUCCESS);
    assert_int_equal(r.prompts, 1);
    assert_string_equal(r.all_log, "accepted id_token kakao_id=3095134389 user=alice");
    assert_int_equal(fetches("first"), before);
    assert_int_equal(unsetenv("PAM_AUTHTOK"), 0);
    /* the same token typed at the prompt does refetch: the refusal above
     * was the first-pass rule, not the refetch limit */
    attempt_fetching("first", 1, stranger, "alice", PAM_AUTH_ERR,
                     "rejected id_token for user=alice: unknown kid (kid=\"unknown-kid-first\" "
                     "not in the JWKS (refetched))",
                     &r);
    free(a);
    free(tok);
    free(stranger);
}

static void rotated_keys(void **state)
{
    struct pt_run r;
    const char *cache = fresh_cache("idt_cache_rot");
    char *a = jt_jwks(jwk_a, NULL);
    char *b = jt_jwks(jwk_b, NULL);
    char *old = id_token(key_a, KA, ALICE);
    char *fresh = id_token(key_b, KB, ALICE);
    (void)state;

    mock_jwks("rot", a, NULL);
    conf("jwks_url = %s\nca_file = %s\ncache_dir = %s\n" ANSWER_TIMEOUT, jwks_url("rot"),
         env.mock_ca, cache);
    attempt_fetching("rot", 1, old, "alice", PAM_SUCCESS,
                     "accepted id_token kakao_id=3095134389 user=alice", &r);
    /* Kakao rotates: B replaces A. A token with B's kid makes one refetch. */
    mock_jwks("rot", b, NULL);
    attempt_fetching("rot", 1, fresh, "alice", PAM_SUCCESS,
                     "accepted id_token kakao_id=3095134389 user=alice", &r);
    attempt_fetching("rot", 0, fresh, "alice", PAM_SUCCESS,
                     "accepted id_token kakao_id=3095134389 user=alice", &r);
    /* the retired key is gone from the cached copy too */
    attempt_fetching("rot", 0, old, "alice", PAM_AUTH_ERR,
                     "rejected id_token for user=alice: unknown kid (kid=\"" KA "\" not in the "
                     "JWKS (last refetch *",
                     &r);
    free(a);
    free(b);
    free(old);
    free(fresh);
}

/* faketime moves pamtester's clock past jwks_max_age: the copy is
 * refreshed; with the URL hanging, the stale copy is used (its age logged)
 * after at most `timeout`, and the URL is not tried again for 300 s. */
static void max_age_and_outages(void **state)
{
    /* pamtester under faketime: not with an ASan module (see pamtester_at);
     * skipped before anything is allocated. */
    if (getenv("PK_SANITIZE") != NULL)
        skip();
    struct pt_run r;
    struct tester_run t;
    const char *cache = fresh_cache("idt_cache_age");
    char *a = jt_jwks(jwk_a, NULL);
    char *ab = jt_jwks(jwk_a, jwk_b, NULL);
    long long now = (long long)time(NULL);

    /* valid for 6 h from now, so still valid 2 h ahead */
    char *tok_a = id_token_at(key_a, KA, ALICE, now, "\"" REST "\"");
    char *tok_b = id_token_at(key_b, KB, ALICE, now, "\"" REST "\"");
    char want[1400];
    size_t before;
    (void)state;

    mock_jwks("age", a, NULL);
    conf("jwks_url = %s\nca_file = %s\ncache_dir = %s\njwks_max_age = 3600\ntimeout = %d\n",
         jwks_url("age"), env.mock_ca, cache, FAULT_TIMEOUT);
    attempt_fetching("age", 1, tok_a, "alice", PAM_SUCCESS,
                     "accepted id_token kakao_id=3095134389 user=alice", &r);

    /* two hours later the copy is refreshed: B is known without a refetch */
    mock_jwks("age", ab, NULL);
    before = fetches("age");
    pamtester_at("+2h", "alice", tok_b, &t);
    assert_int_equal(t.status, 0);
    assert_string_equal(t.log, "accepted id_token kakao_id=3095134389 user=alice");
    assert_int_equal(fetches("age") - before, 1);

    /* now the URL hangs; two hours ahead the copy is fresh: no try */
    mock_jwks("age", NULL, "hang");
    before = fetches("age");
    pamtester_at("+2h", "alice", tok_b, &t);
    assert_int_equal(t.status, 0);
    assert_string_equal(t.all_log, "accepted id_token kakao_id=3095134389 user=alice");
    assert_int_equal(fetches("age") - before, 0);
    /* four hours ahead the copy is stale: one bounded try, then the copy */
    before = fetches("age");
    pamtester_at("+4h", "alice", tok_b, &t);
    assert_int_equal(t.status, 0);
    assert_string_equal(t.log, "accepted id_token kakao_id=3095134389 user=alice");
    (void)snprintf(want, sizeof(want),
                   "jwks %s: fetching failed (timeout after %d s); using the cached copy, 72",
                   jwks_url("age"), FAULT_TIMEOUT);
    if (strstr(t.all_log, want) == NULL)
        fail_msg("no stale-copy line \"%s\" in:\n%s", want, t.all_log);
    /* the hanging fetch may be logged after the module gave up on it */
    assert_int_equal(fetches_at_least("age", before + 1) - before, 1);
    /* bounded by the timeout (FAULT_MARGIN past it); 2 s more for starting
     * pamtester under faketime, which takes longest on a busy machine */
    if (t.elapsed < FAULT_TIMEOUT - 0.5 || t.elapsed > FAULT_TIMEOUT + FAULT_MARGIN + 2.0)
        fail_msg("took %.3f s with a hanging JWKS URL and timeout %d", t.elapsed, FAULT_TIMEOUT);
    /* right after: no new try, the copy at once */
    before = fetches("age");
    pamtester_at("+4h", "alice", tok_b, &t);
    assert_int_equal(t.status, 0);
    (void)snprintf(want, sizeof(want), "jwks %s: using the cached copy, 72", jwks_url("age"));
    if (strstr(t.all_log, want) == NULL || strstr(t.all_log, "next try in") == NULL)
        fail_msg("no back-off line in:\n%s", t.all_log);
    assert_int_equal(fetches("age") - before, 0);
    /* A new try would cost the whole timeout on its own (the URL hangs), and
     * the fetch count above already shows none was made; a run without one
     * gets all of that time, even on a busy machine. */
    if (t.elapsed >= FAULT_TIMEOUT)
        fail_msg("took %.3f s: the hanging URL was tried again", t.elapsed);

    /* without any copy the hanging URL costs `timeout`, then AUTHINFO_UNAVAIL */
    cache = fresh_cache("idt_cache_age2");
    conf("jwks_url = %s\nca_file = %s\ncache_dir = %s\ntimeout = %d\n", jwks_url("age"),
         env.mock_ca, cache, FAULT_TIMEOUT);
    (void)snprintf(want, sizeof(want),
                   "jwks unavailable for user=alice: %s: timeout after %d s (no cached copy)",
                   jwks_url("age"), FAULT_TIMEOUT);
    attempt_fetching("age", 1, tok_a, "alice", PAM_AUTHINFO_UNAVAIL, want, &r);
    /* at least the timeout, and bounded by it (FAULT_MARGIN past it) */
    assert_elapsed(&r, FAULT_TIMEOUT - 0.5, FAULT_TIMEOUT + FAULT_MARGIN);
    free(a);
    free(ab);
    free(tok_a);
    free(tok_b);
}

static void bad_answers_from_url(void **state)
{
    /* pamtester under faketime: not with an ASan module (see pamtester_at);
     * skipped before anything is allocated. */
    if (getenv("PK_SANITIZE") != NULL)
        skip();
    struct pt_run r;
    struct tester_run t;
    char want[1400];
    const char *cache = fresh_cache("idt_cache_bad");
    char *a = jt_jwks(jwk_a, NULL);
    char *tok = id_token(key_a, KA, ALICE);
    (void)state;

    /* no copy and an answer that is not a JWKS */
    mock_jwks("bad", NULL, "notjson");
    conf("jwks_url = %s\nca_file = %s\ncache_dir = %s\njwks_max_age = 3600\n" ANSWER_TIMEOUT,
         jwks_url("bad"), env.mock_ca, cache);
    (void)snprintf(want, sizeof(want),
                   "jwks unavailable for user=alice: %s: not a JWKS (not valid JSON) (no cached "
                   "copy)",
                   jwks_url("bad"));
    attempt_fetching("bad", 1, tok, "alice", PAM_AUTHINFO_UNAVAIL, want, &r);
    mock_jwks("bad", NULL, "500");
    (void)snprintf(want, sizeof(want),
                   "jwks unavailable for user=alice: %s: HTTP 500 (no cached copy)",
                   jwks_url("bad"));
    attempt_fetching("bad", 1, tok, "alice", PAM_AUTHINFO_UNAVAIL, want, &r);

    /* with a copy: the copy, its age logged */
    mock_jwks("bad", a, NULL);
    attempt_fetching("bad", 1, tok, "alice", PAM_SUCCESS,
                     "accepted id_token kakao_id=3095134389 user=alice", &r);
    mock_jwks("bad", NULL, "notjson");
    pamtester_at("+2h", "alice", tok, &t);
    assert_int_equal(t.status, 0);
    (void)snprintf(want, sizeof(want),
                   "jwks %s: fetching failed (not a JWKS (not valid JSON)); using the cached copy, "
                   "72",
                   jwks_url("bad"));
    if (strstr(t.all_log, want) == NULL)
        fail_msg("no stale-copy line \"%s\" in:\n%s", want, t.all_log);

    /* a closed port: connection refused, at once */
    conf("jwks_url = https://127.0.0.1:%ld/.well-known/jwks.json\nca_file = %s\ncache_dir = "
         "%s\n" ANSWER_TIMEOUT,
         env.port_closed, env.mock_ca, fresh_cache("idt_cache_closed"));
    attempt(tok, "alice", PAM_AUTHINFO_UNAVAIL, "jwks unavailable for user=alice: *", &r);
    if (strstr(r.log, "connect: ") == NULL || strstr(r.log, "(no cached copy)") == NULL)
        fail_msg("log: %s", r.log);
    /* refused at once: 10 s leave a busy machine room and stay well under
     * the timeout (30 s) that a wait for an answer would cost */
    assert_elapsed(&r, 0.0, 10.0);
    free(a);
    free(tok);
}

/* Kakao's default JWKS route serves the checked-in fixture set. */
static void default_route(void **state)
{
    struct pt_run r;
    char *tok = id_token(key_a, KA, ALICE);
    (void)state;

    conf("jwks_url = https://127.0.0.1:%ld/.well-known/jwks.json\nca_file = %s\ncache_dir = "
         "%s\n" ANSWER_TIMEOUT,
         env.port_main, env.mock_ca, fresh_cache("idt_cache_default"));
    /* the fixture key is not key A: a kid it does not have */
    attempt(tok, "alice", PAM_AUTH_ERR,
            "rejected id_token for user=alice: unknown kid (kid=\"" KA "\" not in the JWKS "
            "(fetched just now))",
            &r);
    free(tok);
}

/* docs/DESIGN.md §4.3: an app JWT can never pass as an ID token, nor the reverse. */
static void kinds_never_cross(void **state)
{
    struct pt_run r;
    long long now = (long long)time(NULL);
    char *b = jt_jwks(jwk_b, NULL);
    char *a = jt_jwks(jwk_a, NULL);
    char *claims = jt_printf("{\"kakao_id\":" ALICE ",\"aud\":\"" REST "\",\"sub\":\"" ALICE
                             "\",\"iss\":\"" ISS "\",\"exp\":%lld}",
                             now + 600);
    /* signed with the app key (rsa.pem = key A), claiming Kakao as issuer */
    char *app_as_kakao = jt_sign_rs256(key_a, "{\"alg\":\"RS256\",\"kid\":\"" KB "\"}", claims);
    char *app_as_kakao_nokid = jt_sign_rs256(key_a, "{\"alg\":\"RS256\"}", claims);
    char *app_claims = jt_printf("{\"kakao_id\":" ALICE ",\"exp\":%lld}", now + 600);
    char *app = jt_sign_rs256(key_a, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", app_claims);
    char *id_b = id_token(key_b, KB, ALICE);
    char *id_a = id_token(key_a, KA, ALICE);
    (void)state;

    /* jwt only: a JWT with Kakao's iss is refused as an ID token */
    conf("jwt_key = %s\njwt_alg = RS256\n", pt_path(env.keys, "rsa.pub.pem"));
    attempt(app_as_kakao, "alice", PAM_AUTH_ERR,
            "rejected id_token for user=alice: token kind not accepted (iss is the id_token "
            "issuer; id_token is not in accept)",
            &r);
    attempt(app, "alice", PAM_SUCCESS, "accepted jwt kakao_id=3095134389 user=alice", &r);
    /* even when the app key is Kakao's key, an ID token is not an app JWT */
    conf("jwt_key = %s\njwt_alg = RS256\njwks_file = %s\naccept = jwt\n",
         pt_path(env.keys, "rsa.pub.pem"), jwks_file("idt_a.jwks", a));
    attempt(id_a, "alice", PAM_AUTH_ERR,
            "rejected id_token for user=alice: token kind not accepted (iss is the id_token "
            "issuer; id_token is not in accept)",
            &r);

    /* both accepted: the app key never verifies an ID token ... */
    conf("jwt_key = %s\njwt_alg = RS256\njwks_file = %s\n", pt_path(env.keys, "rsa.pub.pem"),
         jwks_file("idt_b.jwks", b));
    attempt(app_as_kakao, "alice", PAM_AUTH_ERR, "rejected id_token for user=alice: bad signature",
            &r);
    attempt(app_as_kakao_nokid, "alice", PAM_AUTH_ERR,
            "rejected id_token for user=alice: bad header (no kid)", &r);
    attempt(id_b, "alice", PAM_SUCCESS, "accepted id_token kakao_id=3095134389 user=alice", &r);
    attempt(app, "alice", PAM_SUCCESS, "accepted jwt kakao_id=3095134389 user=alice", &r);
    /* ... and the JWKS never verifies an app JWT */
    conf("jwt_key = %s\njwt_alg = RS256\njwks_file = %s\n", pt_path(env.keys, "rsa_other.pub.pem"),
         jwks_file("idt_a.jwks", a));
    attempt(app, "alice", PAM_AUTH_ERR, "rejected jwt for user=alice: bad signature", &r);
    attempt(id_a, "alice", PAM_SUCCESS, "accepted id_token kakao_id=3095134389 user=alice", &r);
    free(a);
    free(b);
    free(claims);
    free(app_as_kakao);
    free(app_as_kakao_nokid);
    free(app_claims);
    free(app);
    free(id_a);
    free(id_b);
}

/* A token shaped exactly like Kakao's, at its real timestamps: iat
 * 1697167622 (2023-10-13), exp = iat + 6 h, through pamtester under
 * faketime; leeway 60 s. */
static void real_timestamps(void **state)
{
    /* pamtester under faketime: not with an ASan module (see pamtester_at);
     * skipped before anything is allocated. */
    if (getenv("PK_SANITIZE") != NULL)
        skip();
    struct tester_run t;
    struct pt_run r;
    const long long iat = 1697167622LL, exp = iat + 21600;
    char *tok = id_token_at(key_a, KA, ALICE, iat, "\"" REST "\"");
    char *a = jt_jwks(jwk_a, NULL);
    (void)state;

    assert_in_range(strlen(tok), 630, 830);
    conf("jwks_file = %s\n", jwks_file("idt_a.jwks", a));
    pamtester_at(at_time(iat + 100), "alice", tok, &t);
    assert_int_equal(t.status, 0);
    assert_string_equal(t.log, "accepted id_token kakao_id=3095134389 user=alice");
    pamtester_at(at_time(exp + 50), "alice", tok, &t);
    assert_int_equal(t.status, 0);
    pamtester_at(at_time(exp + 70), "alice", tok, &t);
    assert_true(t.status != 0);
    assert_log_matches("pamtester log", t.log,
                       "rejected id_token for user=alice: expired (exp=1697189222 now=16971892*");
    pamtester_at(at_time(iat - 120), "alice", tok, &t);
    assert_true(t.status != 0);
    assert_log_matches("pamtester log", t.log,
                       "rejected id_token for user=alice: issued in the future (iat=1697167622 "
                       "now=*");
    /* and today it is long expired */
    attempt(tok, "alice", PAM_AUTH_ERR,
            "rejected id_token for user=alice: expired (exp=1697189222*", &r);
    free(tok);
    free(a);
}

/* An ID token only fails when the JWKS cannot be had; other kinds go on. */
static void other_kinds_unaffected(void **state)
{
    struct pt_run r;
    char *tok = id_token(key_a, KA, ALICE);
    (void)state;

    conf("kakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:%ld\nca_file = %s\n"
         "jwks_url = https://127.0.0.1:%ld/.well-known/jwks.json\ncache_dir = %s\n" ANSWER_TIMEOUT,
         env.port_main, env.mock_ca, env.port_closed, fresh_cache("idt_cache_other"));
    attempt("mockValidAliceToken_0001", "alice", PAM_SUCCESS,
            "accepted kakao kakao_id=3095134389 user=alice", &r);
    attempt(tok, "alice", PAM_AUTHINFO_UNAVAIL, "jwks unavailable for user=alice: *", &r);
    free(tok);
}

/* one_time = yes (docs/DESIGN.md §8.6): an ID token carries no jti, so its
 * mark is the SHA-256 of its decoded signature: one token, one login; a
 * new token of the same account is a new mark. Kakao access tokens are not
 * one-time: the same one logs in twice. */
static void one_time_id_tokens(void **state)
{
    struct pt_run r;
    char *tok = id_token_at(key_a, KA, ALICE, (long long)time(NULL) - 1, "\"" REST "\"");
    char *next = id_token(key_a, KA, ALICE);
    char *a = jt_jwks(jwk_a, NULL);
    const char *sig = strrchr(tok, '.') + 1;
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    char want[256];
    (void)state;

    assert_int_equal(pk_b64url_decode(sig, strlen(sig), &raw, &raw_len), PK_ST_OK);
    assert_int_equal(EVP_Digest(raw, raw_len, md, &md_len, EVP_sha256(), NULL), 1);
    free(raw);
    (void)snprintf(want, sizeof(want),
                   "rejected id_token for user=alice: token already used (mark=%02x%02x%02x%02x)",
                   md[0], md[1], md[2], md[3]);
    conf("jwks_file = %s\none_time = yes\ncache_dir = %s\nkakao_app_id = 1234567\n"
         "kakao_api_url = https://127.0.0.1:%ld\nca_file = %s\n",
         jwks_file("idt_a.jwks", a), fresh_cache("idt_cache_once"), env.port_main, env.mock_ca);
    attempt(tok, "alice", PAM_SUCCESS, "accepted id_token kakao_id=3095134389 user=alice", &r);
    attempt(tok, "alice", PAM_AUTH_ERR, want, &r);
    attempt(next, "alice", PAM_SUCCESS, "accepted id_token kakao_id=3095134389 user=alice", &r);
    attempt("mockValidAliceToken_0001", "alice", PAM_SUCCESS,
            "accepted kakao kakao_id=3095134389 user=alice", &r);
    attempt("mockValidAliceToken_0001", "alice", PAM_SUCCESS,
            "accepted kakao kakao_id=3095134389 user=alice", &r);
    free(tok);
    free(next);
    free(a);
}

/* A hung exchange must fail its test, not stall the suite. */
#define PER_TEST_LIMIT 120

static int watchdog(void **state)
{
    (void)state;
    (void)alarm(PER_TEST_LIMIT);
    return 0;
}

static int cleanup(void **state)
{
    (void)state;
    (void)alarm(0);
    return 0;
}

static int setup(void **state)
{
    char cmd[1400];

    (void)state;
    if (!pt_env_load(&env, PT_NEED_KEYS | PT_NEED_MOCK | PT_NEED_FAULTS))
        return -1;
    /* keys made once per suite run by the openssl CLI (fast under valgrind) */
    (void)snprintf(cmd, sizeof(cmd),
                   "test -s '%s/idt_attacker.pem' || openssl genpkey -quiet -algorithm RSA "
                   "-pkeyopt rsa_keygen_bits:2048 -out '%s/idt_attacker.pem'",
                   env.dir, env.dir);
    if (system(cmd) != 0)
        return -1;
    key_a = jt_rsa_load(pt_path(env.keys, "rsa.pem"));
    key_b = jt_rsa_load(pt_path(env.keys, "rsa_other.pem"));
    key_w = jt_rsa_load(pt_path(env.keys, "rsa1024.pem"));
    key_x = jt_rsa_load(pt_path(env.dir, "idt_attacker.pem"));
    jwk_a = jt_jwk(key_a, KA, ",\"use\":\"sig\",\"alg\":\"RS256\"");
    jwk_b = jt_jwk(key_b, KB, ",\"use\":\"sig\",\"alg\":\"RS256\"");
    jwk_w = jt_jwk(key_w, KW, ",\"use\":\"sig\",\"alg\":\"RS256\"");
    jwk_x_as_a = jt_jwk(key_x, KA, ",\"use\":\"sig\",\"alg\":\"RS256\"");
    pt_write_file(pt_path(env.dir, "idt.users"),
                  "# kakao_id     local_user\n"
                  "3095134389     alice\n"
                  "3095134389     deploy\n"
                  "1122334455     bob\n",
                  0644);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(key_a);
    EVP_PKEY_free(key_b);
    EVP_PKEY_free(key_w);
    EVP_PKEY_free(key_x);
    free(jwk_a);
    free(jwk_b);
    free(jwk_w);
    free(jwk_x_as_a);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(valid_tokens, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(claims_refused, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(attacks, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(weak_and_duplicate_keys, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(bad_jwks_files, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(fetched_and_cached, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(unknown_kid_refetch, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(first_pass_never_fetches, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(rotated_keys, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(max_age_and_outages, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(bad_answers_from_url, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(default_route, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(kinds_never_cross, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(real_timestamps, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(other_kinds_unaffected, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(one_time_id_tokens, watchdog, cleanup),
    };
    return cmocka_run_group_tests_name("pam_id_token", tests, setup, teardown);
}
