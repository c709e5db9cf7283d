/* pk_config_load (pam_kakao(8) OPTIONS, pam_kakao.conf(5)): every key accepted with a valid value
 * and refused with a malformed one, from the arguments and from the file; the file syntax; argument
 * rules; cross-key rules; keep_going. Problems are recorded through the report callback and checked
 * verbatim. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/config.h"
#include "src/verdict.h"

#define MAX_REPORTS 32

struct report {
    char where[PATH_MAX + 32];
    char problem[600];
};

struct reports {
    unsigned count;
    struct report r[MAX_REPORTS];
};

static char tmpdir[64];
static char conf_path[PATH_MAX];   /* the config file the tests write */
static char absent_path[PATH_MAX]; /* a default path that does not exist */
static struct pk_config cfg;
static struct reports reps;

static void record(void *ctx, const char *where, const char *problem)
{
    struct reports *r = ctx;

    if (r->count < MAX_REPORTS) {
        (void)snprintf(r->r[r->count].where, sizeof(r->r[0].where), "%s", where);
        (void)snprintf(r->r[r->count].problem, sizeof(r->r[0].problem), "%s", problem);
    }
    r->count++;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int group_setup(void **state)
{
    int a, b;

    (void)state;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/pk_config.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    a = snprintf(conf_path, sizeof(conf_path), "%s/pam_kakao.conf", tmpdir);
    b = snprintf(absent_path, sizeof(absent_path), "%s/absent.conf", tmpdir);
    return a > 0 && b > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    pk_config_free(&cfg);
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int test_teardown(void **state)
{
    (void)state;
    pk_config_free(&cfg);
    (void)unlink(conf_path);
    return 0;
}

static void write_conf_bytes(const char *data, size_t len, mode_t mode)
{
    int fd;

    (void)unlink(conf_path);
    fd = open(conf_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
    assert_int_equal(chmod(conf_path, mode), 0);
}

static int count_args(const char *const *args)
{
    int n = 0;
    while (args != NULL && args[n] != NULL)
        n++;
    return n;
}

/* Loads with args (NULL-terminated, may be NULL). With file != NULL it is
 * written to conf_path, the default config; otherwise the default config
 * does not exist. */
static enum pk_status load(const char *file, bool keep_going, const char *const *args)
{
    pk_config_free(&cfg);
    memset(&reps, 0, sizeof(reps));
    if (file != NULL)
        write_conf_bytes(file, strlen(file), 0644);
    return pk_config_load(&cfg, count_args(args), (const char **)args,
                          file != NULL ? conf_path : absent_path, geteuid(), keep_going, record,
                          &reps);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void expect_ok(enum pk_status rc)
{
    if (rc != PK_ST_OK || reps.count != 0)
        fail_msg("rc=%d, %u problems, first: %s: %s", rc, reps.count,
                 reps.count ? reps.r[0].where : "", reps.count ? reps.r[0].problem : "");
}

/* "conf_path:LINE" */
static const char *file_line(unsigned line)
{
    static char buf[PATH_MAX + 32];
    int n = snprintf(buf, sizeof(buf), "%s:%u", conf_path, line);
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    return buf;
}

static void expect_report(unsigned i, const char *where, const char *problem)
{
    if (i >= reps.count)
        fail_msg("no report %u (only %u); wanted %s: %s", i, reps.count, where, problem);
    assert_string_equal(reps.r[i].where, where);
    assert_string_equal(reps.r[i].problem, problem);
}

/* Exactly one problem, and a failed load. */
static void expect_problem(enum pk_status rc, const char *where, const char *problem)
{
    assert_int_equal(rc, PK_ST_REFUSED);
    expect_report(0, where, problem);
    if (reps.count != 1)
        fail_msg("%u problems, want 1; second: %s: %s", reps.count, reps.r[1].where,
                 reps.r[1].problem);
}

/* The value of a config field, as text, by key name. */
static const char *field(const char *key)
{
    static char buf[64];

#define STR_FIELD(k)                                                                               \
    if (strcmp(key, #k) == 0)                                                                      \
        return cfg.k != NULL ? cfg.k : "(null)";
#define LONG_FIELD(k)                                                                              \
    if (strcmp(key, #k) == 0) {                                                                    \
        (void)snprintf(buf, sizeof(buf), "%ld", cfg.k);                                            \
        return buf;                                                                                \
    }
    STR_FIELD(user_map)
    STR_FIELD(prompt)
    STR_FIELD(kakao_api_url)
    STR_FIELD(ca_file)
    STR_FIELD(jwt_key)
    STR_FIELD(jwt_issuer)
    STR_FIELD(jwt_audience)
    STR_FIELD(jwt_id_claim)
    STR_FIELD(proxy)
    STR_FIELD(kakao_rest_api_key)
    STR_FIELD(id_token_issuer)
    STR_FIELD(jwks_file)
    STR_FIELD(jwks_url)
    STR_FIELD(cache_dir)
    LONG_FIELD(timeout)
    LONG_FIELD(leeway)
    LONG_FIELD(max_token_age)
    LONG_FIELD(jwks_max_age)
    LONG_FIELD(cache_ttl)
#undef STR_FIELD
#undef LONG_FIELD
    if (strcmp(key, "accept") == 0) {
        (void)snprintf(buf, sizeof(buf), "%s%s%s", (cfg.accept & PK_KIND_KAKAO) ? "kakao," : "",
                       (cfg.accept & PK_KIND_JWT) ? "jwt," : "",
                       (cfg.accept & PK_KIND_ID_TOKEN) ? "id_token," : "");
        return buf;
    }
    if (strcmp(key, "kakao_app_id") == 0) {
        if (!cfg.has_app_id)
            return "(unset)";
        (void)snprintf(buf, sizeof(buf), "%lld", (long long)cfg.kakao_app_id);
        return buf;
    }
    if (strcmp(key, "require_email") == 0)
        return cfg.require_email == PK_EMAIL_NO    ? "no"
               : cfg.require_email == PK_EMAIL_YES ? "yes"
                                                   : "verified";
    if (strcmp(key, "jwt_alg") == 0)
        return pk_alg_name(cfg.jwt_alg);
    if (strcmp(key, "debug") == 0)
        return cfg.debug ? "yes" : "no";
    if (strcmp(key, "prompt_unmapped") == 0)
        return cfg.prompt_unmapped ? "yes" : "no";
    fail_msg("unknown field %s", key);
    return NULL;
}

/* ------------------------------------------------------------------ */

/* One list of require_email words, for the config and the check cache. */
static void test_email_rule_words(void **state)
{
    static const char *const words[] = {"no", "yes", "verified"};
    enum pk_email_rule rule;
    (void)state;

    for (int i = PK_EMAIL_NO; i <= PK_EMAIL_VERIFIED; i++) {
        assert_string_equal(pk_email_rule_name((enum pk_email_rule)i), words[i]);
        assert_true(pk_email_rule_from_name(words[i], &rule));
        assert_int_equal(rule, i);
    }
    assert_null(pk_email_rule_name((enum pk_email_rule)(PK_EMAIL_VERIFIED + 1)));
    assert_false(pk_email_rule_from_name("Verified", &rule));
    assert_false(pk_email_rule_from_name("", &rule));
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1", "timeout=60")));
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "timeout=61")), "argument",
                   "bad value for \"timeout\": not a whole number in range");
    assert_int_equal(PK_TIMEOUT_MIN, 1);
    assert_int_equal(PK_TIMEOUT_MAX, 60);
}

static void test_defaults(void **state)
{
    (void)state;
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1234567")));
    assert_string_equal(cfg.config_path, absent_path);
    assert_false(cfg.config_explicit);
    assert_int_equal(cfg.authtok, PK_AUTHTOK_PROMPT);
    assert_string_equal(field("user_map"), "/etc/security/pam_kakao.users");
    assert_string_equal(field("accept"), "");
    assert_string_equal(field("prompt"), "Kakao token: ");
    assert_string_equal(field("kakao_app_id"), "1234567");
    assert_string_equal(field("kakao_api_url"), "https://kapi.kakao.com");
    assert_string_equal(field("ca_file"), "(null)");
    assert_string_equal(field("timeout"), "5");
    assert_string_equal(field("require_email"), "no");
    assert_string_equal(field("jwt_key"), "(null)");
    assert_string_equal(field("jwt_alg"), "none");
    assert_string_equal(field("jwt_issuer"), "(null)");
    assert_string_equal(field("jwt_audience"), "(null)");
    assert_string_equal(field("jwt_id_claim"), "kakao_id");
    assert_string_equal(field("leeway"), "60");
    assert_string_equal(field("max_token_age"), "0");
    assert_string_equal(field("debug"), "no");
    assert_string_equal(field("prompt_unmapped"), "no");
    assert_false(cfg.nodelay);
    assert_string_equal(field("proxy"), "(null)");
    assert_string_equal(field("kakao_rest_api_key"), "(null)");
    assert_string_equal(field("id_token_issuer"), "https://kauth.kakao.com");
    assert_string_equal(field("jwks_file"), "(null)");
    assert_string_equal(field("jwks_url"), "(null)");
    assert_string_equal(field("jwks_max_age"), "86400");
    assert_string_equal(field("cache_ttl"), "0");
    assert_string_equal(field("cache_dir"), "/run/pam_kakao");
    assert_int_equal(pk_config_kinds(&cfg), PK_KIND_KAKAO);
}

struct valid_case {
    const char *key;
    const char *value;
    const char *stored;   /* field(key) after loading */
    const char *extra[3]; /* companions the value needs, NULL-terminated */
};

static const struct valid_case valid_cases[] = {
    {"user_map", "/etc/security/other.users", "/etc/security/other.users", {NULL}},
    {"accept", "kakao", "kakao,", {NULL}},
    {"accept", "kakao,jwt", "kakao,jwt,", {"jwt_key=/k", "jwt_alg=HS256", NULL}},
    {"accept", "jwt, kakao", "kakao,jwt,", {"jwt_key=/k", "jwt_alg=HS256", NULL}},
    {"prompt", "Your token >", "Your token >", {NULL}},
    {"prompt", "\"Token: \"", "Token: ", {NULL}},
    {"prompt", "\"\"", "", {NULL}},
    {"prompt", "~!@#$%^&*()_+{}|:<>?`-=[];',./", "~!@#$%^&*()_+{}|:<>?`-=[];',./", {NULL}},
    {"kakao_app_id", "1", "1", {NULL}},
    {"kakao_app_id", "9223372036854775807", "9223372036854775807", {NULL}},
    {"kakao_api_url", "https://127.0.0.1:8443/mock", "https://127.0.0.1:8443/mock", {NULL}},
    {"ca_file", "/etc/ssl/certs/ca.pem", "/etc/ssl/certs/ca.pem", {NULL}},
    {"timeout", "1", "1", {NULL}},
    {"timeout", "60", "60", {NULL}},
    {"timeout", "\"7\"", "7", {NULL}},
    {"require_email", "no", "no", {NULL}},
    {"require_email", "yes", "yes", {NULL}},
    {"require_email", "verified", "verified", {NULL}},
    {"jwt_key", "/etc/security/jwt.key", "/etc/security/jwt.key", {"jwt_alg=HS256", NULL}},
    {"jwt_alg", "HS256", "HS256", {"jwt_key=/k", NULL}},
    {"jwt_alg", "HS384", "HS384", {"jwt_key=/k", NULL}},
    {"jwt_alg", "HS512", "HS512", {"jwt_key=/k", NULL}},
    {"jwt_alg", "RS256", "RS256", {"jwt_key=/k", NULL}},
    {"jwt_alg", "RS384", "RS384", {"jwt_key=/k", NULL}},
    {"jwt_alg", "RS512", "RS512", {"jwt_key=/k", NULL}},
    {"jwt_alg", "ES256", "ES256", {"jwt_key=/k", NULL}},
    {"jwt_alg", "ES384", "ES384", {"jwt_key=/k", NULL}},
    {"jwt_alg", "ES512", "ES512", {"jwt_key=/k", NULL}},
    {"jwt_issuer", "https://backend.example", "https://backend.example", {NULL}},
    {"jwt_audience", "pam", "pam", {NULL}},
    {"jwt_id_claim", "sub", "sub", {NULL}},
    {"jwt_id_claim",
     "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
     "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
     {NULL}},
    {"leeway", "0", "0", {NULL}},
    {"leeway", "600", "600", {NULL}},
    {"max_token_age", "0", "0", {NULL}},
    {"max_token_age", "300", "300", {NULL}},
    {"max_token_age", "31536000", "31536000", {NULL}},
    {"debug", "yes", "yes", {NULL}},
    {"debug", "true", "yes", {NULL}},
    {"debug", "no", "no", {NULL}},
    {"debug", "false", "no", {NULL}},
    {"prompt_unmapped", "yes", "yes", {NULL}},
    {"prompt_unmapped", "true", "yes", {NULL}},
    {"prompt_unmapped", "no", "no", {NULL}},
    {"prompt_unmapped", "false", "no", {NULL}},
    {"proxy", "http://proxy.example:3128", "http://proxy.example:3128", {NULL}},
    {"proxy", "https://proxy.example", "https://proxy.example", {NULL}},
    {"kakao_rest_api_key",
     "0123456789abcdef0123456789abcdef",
     "0123456789abcdef0123456789abcdef",
     {"jwks_file=/j.json", "accept=kakao", NULL}},
    {"id_token_issuer", "https://kauth.kakao.com", "https://kauth.kakao.com", {NULL}},
    {"jwks_file",
     "/etc/security/kakao.jwks",
     "/etc/security/kakao.jwks",
     {"kakao_rest_api_key=k", "accept=kakao", NULL}},
    {"jwks_url",
     "https://kauth.kakao.com/.well-known/jwks.json",
     "https://kauth.kakao.com/.well-known/jwks.json",
     {"kakao_rest_api_key=k", "accept=kakao", NULL}},
    {"jwks_max_age", "60", "60", {NULL}},
    {"jwks_max_age", "2592000", "2592000", {NULL}},
    {"cache_ttl", "0", "0", {NULL}},
    {"cache_ttl", "300", "300", {NULL}},
    {"cache_ttl", "86400", "86400", {NULL}},
    {"cache_dir", "/run/pam_kakao_test", "/run/pam_kakao_test", {NULL}},
};

/* Each valid value, given as a module argument. */
static void test_valid_values_as_arguments(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
        const struct valid_case *c = &valid_cases[i];
        char arg[256];
        const char *args[6] = {"kakao_app_id=42", arg, NULL};
        int n = 2;

        (void)snprintf(arg, sizeof(arg), "%s=%s", c->key, c->value);
        if (strcmp(c->key, "kakao_app_id") == 0) {
            args[0] = "jwt_key=/k";
            args[n++] = "jwt_alg=HS256";
        }
        for (size_t e = 0; c->extra[e] != NULL; e++)
            args[n++] = c->extra[e];
        args[n] = NULL;
        if (load(NULL, false, args) != PK_ST_OK || reps.count != 0)
            fail_msg("case %zu: %s refused: %s: %s", i, arg, reps.r[0].where, reps.r[0].problem);
        assert_string_equal(field(c->key), c->stored);
    }
}

/* Each valid value, given in the config file. */
static void test_valid_values_in_file(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
        const struct valid_case *c = &valid_cases[i];
        char text[1024];
        int n = snprintf(text, sizeof(text), "%s = %s\n%s\n", c->key, c->value,
                         strcmp(c->key, "kakao_app_id") == 0 ? "jwt_key = /k\njwt_alg = HS256"
                                                             : "kakao_app_id = 42");

        for (size_t e = 0; c->extra[e] != NULL; e++) {
            const char *eq = strchr(c->extra[e], '=');
            n += snprintf(text + n, sizeof(text) - (size_t)n, "%.*s = %s\n",
                          (int)(eq - c->extra[e]), c->extra[e], eq + 1);
        }
        if (load(text, false, NULL) != PK_ST_OK || reps.count != 0)
            fail_msg("case %zu: \"%s = %s\" refused: %s: %s", i, c->key, c->value, reps.r[0].where,
                     reps.r[0].problem);
        assert_string_equal(field(c->key), c->stored);
    }
}

struct bad_case {
    const char *key;
    const char *value;
    const char *why;
    bool arg_only; /* blanks that the file trims away */
};

#define RANGE "not a whole number in range"
#define APP_ID "not a positive decimal number"
#define ABS "must be an absolute path"
#define HTTPS "must be an https:// URL"
#define ALGS "must be one of HS256 HS384 HS512 RS256 RS384 RS512 ES256 ES384 ES512"
#define KINDS "must be a comma list of kakao, jwt, id_token, relay"
#define RELAY_URL "must be an https:// URL without a trailing slash"
#define PERCENT "a percent sign must be followed by u (the URL) or % (a percent sign)"

static const struct bad_case bad_cases[] = {
    {"user_map", "pam_kakao.users", ABS, false},
    {"user_map", "~/users", ABS, false},
    {"user_map", "", "empty value", false},
    {"user_map", "\"\"", "empty value", false},
    {"accept", "kakao,kakao", KINDS, false},
    {"accept", "jwt,kakao,jwt", KINDS, false},
    {"accept", "kakao,foo", KINDS, false},
    {"accept", "Kakao", KINDS, false},
    {"accept", "kakao,", KINDS, false},
    {"accept", ",kakao", KINDS, false},
    {"accept", "kakao,,jwt", KINDS, false},
    {"accept", "kakao jwt", KINDS, false},
    {"accept", "kakao;jwt", KINDS, false},
    {"accept", "all", KINDS, false},
    {"accept", "", "empty value", false},
    {"prompt", "a\tb", "control or non-ASCII bytes", false},
    {"prompt", "Tok\xc3\xa9n", "control or non-ASCII bytes", false},
    {"prompt", "a\x7f", "control or non-ASCII bytes", false},
    {"prompt", "", "empty value", false},
    {"prompt", "\"a\"b\"", "stray double quote", false},
    {"prompt", "\"Token: ", "stray double quote", false},
    {"prompt", "Token\"", "stray double quote", false},
    {"prompt", "\"", "stray double quote", false},
    {"kakao_app_id", "0", APP_ID, false},
    {"kakao_app_id", "-1", APP_ID, false},
    {"kakao_app_id", "+1", APP_ID, false},
    {"kakao_app_id", "01234567", APP_ID, false},
    {"kakao_app_id", "12a", APP_ID, false},
    {"kakao_app_id", "1.0", APP_ID, false},
    {"kakao_app_id", "1e6", APP_ID, false},
    {"kakao_app_id", "0x10", APP_ID, false},
    {"kakao_app_id", "9223372036854775808", APP_ID, false},
    {"kakao_app_id", "12345678901234567890", APP_ID, false},
    {"kakao_app_id", " 1", APP_ID, true},
    {"kakao_app_id", "1 ", APP_ID, true},
    {"kakao_app_id", "", "empty value", false},
    {"kakao_api_url", "http://kapi.kakao.com", HTTPS, false},
    {"kakao_api_url", "HTTPS://kapi.kakao.com", HTTPS, false},
    {"kakao_api_url", "kapi.kakao.com", HTTPS, false},
    {"kakao_api_url", "https://", HTTPS, false},
    {"kakao_api_url", "https:///path", HTTPS, false},
    {"kakao_api_url", "https://a b", HTTPS, false},
    {"kakao_api_url", "ftp://kapi.kakao.com", HTTPS, false},
    {"ca_file", "ca.pem", ABS, false},
    {"relay_url", "http://relay.example", RELAY_URL, false},
    {"relay_url", "https://relay.example/", RELAY_URL, false},
    {"relay_url", "https://", RELAY_URL, false},
    {"relay_key", "relay.pub", ABS, false},
    {"relay_prompt", "Go to %s", PERCENT, false},
    {"relay_prompt", "100%", PERCENT, false},
    {"relay_prompt", "%d%%", PERCENT, false},
    {"relay_qr", "maybe", "must be yes or no", false},
    {"one_time", "1", "must be yes or no", false},
    {"store", "Local", "must be local, or not redis://HOST:PORT[/DB] or unix:PATH", false},
    {"store", "rediss://10.0.0.1:6379", "must be local, or not redis://HOST:PORT[/DB] or unix:PATH",
     false},
    {"store", "redis://10.0.0.1", "must be local, or redis:// needs HOST:PORT", false},
    {"store", "redis://redis.example:6379",
     "must be local, or redis:// host must be numeric (IPv4, or [IPv6]): names are not looked up",
     false},
    {"store", "redis://10.0.0.1:6379/x", "must be local, or redis:// database must be 0-65535",
     false},
    {"store", "unix:run/redis.sock", "must be local, or unix: needs an absolute path", false},
    {"redis_password_file", "redis.pw", ABS, false},
    {"timeout", "0", RANGE, false},
    {"timeout", "61", RANGE, false},
    {"timeout", "-1", RANGE, false},
    {"timeout", "+5", RANGE, false},
    {"timeout", "5s", RANGE, false},
    {"timeout", "5 # s", RANGE, false},
    {"timeout", "0x5", RANGE, false},
    {"timeout", "1e1", RANGE, false},
    {"timeout", "5.0", RANGE, false},
    {"timeout", "99999999999999999999", RANGE, false},
    {"timeout", " 5", RANGE, true},
    {"timeout", "", "empty value", false},
    {"require_email", "Yes", "must be no, yes or verified", false},
    {"require_email", "true", "must be no, yes or verified", false},
    {"require_email", "1", "must be no, yes or verified", false},
    {"require_email", "verify", "must be no, yes or verified", false},
    {"jwt_key", "jwt.key", ABS, false},
    {"jwt_alg", "hs256", ALGS, false},
    {"jwt_alg", "Hs256", ALGS, false},
    {"jwt_alg", "none", ALGS, false},
    {"jwt_alg", "NONE", ALGS, false},
    {"jwt_alg", "PS256", ALGS, false},
    {"jwt_alg", "EdDSA", ALGS, false},
    {"jwt_alg", "HS", ALGS, false},
    {"jwt_alg", "HS256,RS256", ALGS, false},
    {"jwt_alg", "HS256 ", ALGS, true},
    {"jwt_issuer", "a\x01", "control or non-ASCII bytes", false},
    {"jwt_audience", "", "empty value", false},
    {"jwt_id_claim", "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
     "claim name too long", false},
    {"leeway", "601", RANGE, false},
    {"leeway", "-1", RANGE, false},
    {"max_token_age", "31536001", RANGE, false},
    {"max_token_age", "-5", RANGE, false},
    {"debug", "1", "must be yes or no", false},
    {"debug", "on", "must be yes or no", false},
    {"debug", "YES", "must be yes or no", false},
    {"prompt_unmapped", "1", "must be yes or no", false},
    {"prompt_unmapped", "Yes", "must be yes or no", false},
    {"prompt_unmapped", "", "empty value", false},
    {"proxy", "socks5://proxy:1080", "must be an http:// or https:// proxy URL", false},
    {"proxy", "proxy.example:3128", "must be an http:// or https:// proxy URL", false},
    {"proxy", "http://", "must be an http:// or https:// proxy URL", false},
    {"kakao_rest_api_key", "", "empty value", false},
    {"id_token_issuer", "", "empty value", false},
    {"jwks_file", "kakao.jwks", ABS, false},
    {"jwks_url", "http://kauth.kakao.com/.well-known/jwks.json", HTTPS, false},
    {"jwks_max_age", "59", RANGE, false},
    {"jwks_max_age", "2592001", RANGE, false},
    {"cache_ttl", "86401", RANGE, false},
    {"cache_ttl", "-1", RANGE, false},
    {"cache_dir", "run/pam_kakao", ABS, false},
};

static void test_bad_values_as_arguments(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        char arg[256], want[256];
        enum pk_status rc;

        (void)snprintf(arg, sizeof(arg), "%s=%s", c->key, c->value);
        (void)snprintf(want, sizeof(want), "bad value for \"%s\": %s", c->key, c->why);
        /* a bad kakao_app_id must not meet a good one first */
        rc = load(NULL, false,
                  ARGS(strcmp(c->key, "kakao_app_id") == 0 ? "leeway=1" : "kakao_app_id=42", arg));
        if (rc != PK_ST_REFUSED || reps.count != 1 || strcmp(reps.r[0].problem, want) != 0 ||
            strcmp(reps.r[0].where, "argument") != 0)
            fail_msg("case %zu: \"%s\": rc=%d, %u problems, first \"%s: %s\", want "
                     "\"argument: %s\"",
                     i, arg, rc, reps.count, reps.r[0].where, reps.r[0].problem, want);
    }
}

static void test_bad_values_in_file(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        char text[512], want[256];
        enum pk_status rc;

        if (c->arg_only)
            continue;
        (void)snprintf(text, sizeof(text), "# a comment\n%s\n%s = %s\n",
                       strcmp(c->key, "kakao_app_id") == 0 ? "leeway = 1" : "kakao_app_id = 42",
                       c->key, c->value);
        (void)snprintf(want, sizeof(want), "bad value for \"%s\": %s", c->key, c->why);
        rc = load(text, false, NULL);
        if (rc != PK_ST_REFUSED || reps.count != 1 || strcmp(reps.r[0].problem, want) != 0 ||
            strcmp(reps.r[0].where, file_line(3)) != 0)
            fail_msg("case %zu: \"%s = %s\": rc=%d, %u problems, first \"%s: %s\", want "
                     "\"%s: %s\"",
                     i, c->key, c->value, rc, reps.count, reps.r[0].where, reps.r[0].problem,
                     file_line(3), want);
    }
}

static void test_prompt_too_long(void **state)
{
    char arg[1100];

    (void)state;
    memcpy(arg, "prompt=", 7);
    memset(arg + 7, 'p', 1024);
    arg[7 + 1024] = '\0';
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1", arg)));
    assert_int_equal(strlen(cfg.prompt), 1024);
    arg[7 + 1024] = 'p';
    arg[7 + 1025] = '\0';
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", arg)), "argument",
                   "bad value for \"prompt\": too long");
}

static void test_all_keys_in_one_file(void **state)
{
    (void)state;
    expect_ok(load("user_map = /etc/u\n"
                   "accept = kakao, jwt\n"
                   "prompt = \"Token: \"\n"
                   "kakao_app_id = 1234567\n"
                   "kakao_api_url = https://kapi.example\n"
                   "ca_file = /etc/ca.pem\n"
                   "timeout = 9\n"
                   "require_email = verified\n"
                   "jwt_key = /etc/jwt.key\n"
                   "jwt_alg = ES384\n"
                   "jwt_issuer = iss\n"
                   "jwt_audience = aud\n"
                   "jwt_id_claim = uid\n"
                   "leeway = 30\n"
                   "max_token_age = 120\n"
                   "debug = yes\n"
                   "proxy = http://proxy:3128\n"
                   "kakao_rest_api_key = rest\n"
                   "id_token_issuer = https://issuer\n"
                   "jwks_file = /etc/jwks.json\n"
                   "jwks_url = https://jwks\n"
                   "jwks_max_age = 3600\n"
                   "cache_ttl = 0\n"
                   "cache_dir = /run/pk\n"
                   "prompt_unmapped = yes\n",
                   false, NULL));
    assert_string_equal(field("user_map"), "/etc/u");
    assert_string_equal(field("accept"), "kakao,jwt,");
    assert_string_equal(field("prompt"), "Token: ");
    assert_string_equal(field("kakao_app_id"), "1234567");
    assert_string_equal(field("kakao_api_url"), "https://kapi.example");
    assert_string_equal(field("ca_file"), "/etc/ca.pem");
    assert_string_equal(field("timeout"), "9");
    assert_string_equal(field("require_email"), "verified");
    assert_string_equal(field("jwt_key"), "/etc/jwt.key");
    assert_string_equal(field("jwt_alg"), "ES384");
    assert_string_equal(field("jwt_issuer"), "iss");
    assert_string_equal(field("jwt_audience"), "aud");
    assert_string_equal(field("jwt_id_claim"), "uid");
    assert_string_equal(field("leeway"), "30");
    assert_string_equal(field("max_token_age"), "120");
    assert_string_equal(field("debug"), "yes");
    assert_string_equal(field("proxy"), "http://proxy:3128");
    assert_string_equal(field("kakao_rest_api_key"), "rest");
    assert_string_equal(field("id_token_issuer"), "https://issuer");
    assert_string_equal(field("jwks_file"), "/etc/jwks.json");
    assert_string_equal(field("jwks_url"), "https://jwks");
    assert_string_equal(field("jwks_max_age"), "3600");
    assert_string_equal(field("cache_ttl"), "0");
    assert_string_equal(field("cache_dir"), "/run/pk");
    assert_string_equal(field("prompt_unmapped"), "yes");
    assert_int_equal(pk_config_kinds(&cfg), PK_KIND_KAKAO | PK_KIND_JWT);
    assert_false(cfg.config_explicit);
    assert_string_equal(cfg.config_path, conf_path);
}

/* ---- file syntax ---------------------------------------------------- */

static void test_comments_blank_lines_and_whitespace(void **state)
{
    (void)state;
    expect_ok(load("# pam_kakao.conf\n"
                   "\n"
                   "   \n"
                   "\t\n"
                   "   # indented comment = with equals\n"
                   "#timeout = 0\n"
                   "#\n"
                   "  kakao_app_id\t=\t1234567  \n"
                   "timeout=7\n"
                   "\tleeway =   9\t\n",
                   false, NULL));
    assert_string_equal(field("kakao_app_id"), "1234567");
    assert_string_equal(field("timeout"), "7");
    assert_string_equal(field("leeway"), "9");
}

static void test_quoted_values(void **state)
{
    (void)state;
    expect_ok(load("kakao_app_id = 1\n"
                   "prompt = \"Token: \"\n"
                   "jwt_issuer = \"  spaced  out  \"\n"
                   "jwt_audience = \"\"\n"
                   "user_map = \"/etc/with space.users\"\n",
                   false, NULL));
    assert_string_equal(cfg.prompt, "Token: ");
    assert_string_equal(cfg.jwt_issuer, "  spaced  out  ");
    assert_string_equal(cfg.jwt_audience, "");
    assert_string_equal(cfg.user_map, "/etc/with space.users");

    /* unquoted, the blanks around the value are trimmed */
    expect_ok(load("kakao_app_id = 1\nprompt =   Token:   \n", false, NULL));
    assert_string_equal(cfg.prompt, "Token:");

    /* module arguments are not trimmed, and may be quoted too */
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1", "prompt=Token: ")));
    assert_string_equal(cfg.prompt, "Token: ");
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1", "prompt=\"Kakao: \"")));
    assert_string_equal(cfg.prompt, "Kakao: ");
}

/* There are no trailing comments: the text after '#' is part of the value. */
static void test_trailing_comment_is_part_of_value(void **state)
{
    (void)state;
    expect_problem(load("kakao_app_id = 1\ntimeout = 5 # s\n", false, NULL), file_line(2),
                   "bad value for \"timeout\": not a whole number in range");
    expect_problem(load("kakao_app_id = 1 # my app\n", false, NULL), file_line(1),
                   "bad value for \"kakao_app_id\": not a positive decimal number");
    expect_ok(load("kakao_app_id = 1\nprompt = Token # x\n", false, NULL));
    assert_string_equal(cfg.prompt, "Token # x");
}

static void test_crlf_line_endings(void **state)
{
    (void)state;
    expect_ok(load("# windows editor\r\n"
                   "\r\n"
                   "kakao_app_id = 1234567\r\n"
                   "timeout = 9\r\n"
                   "prompt = \"Token: \"\r\n"
                   "accept = kakao\r\n",
                   false, NULL));
    assert_string_equal(field("kakao_app_id"), "1234567");
    assert_string_equal(field("timeout"), "9");
    assert_string_equal(cfg.prompt, "Token: ");
    assert_int_equal(cfg.accept, PK_KIND_KAKAO);
}

/* kakao-pam check's load: the trust problem of the file and its syntax
 * problems, cfg kept with a bad path value made unknown; pk_config_load stays
 * strict on the same file. */
static void test_load_check_reports_all(void **state)
{
    static const char text[] = "user_map = users\njwt_key = /k\njwt_alg = HS256\nfrob = 1\n";
    char want[PATH_MAX + 64], arg[PATH_MAX + 16];
    const char *argv[2];
    enum pk_status rc;

    (void)state;
    pk_config_free(&cfg);
    memset(&reps, 0, sizeof(reps));
    write_conf_bytes(text, sizeof(text) - 1, 0666);
    rc = pk_config_load(&cfg, 0, NULL, conf_path, geteuid(), true, record, &reps);
    (void)snprintf(want, sizeof(want), "%s: writable by group or others (mode 0666)", conf_path);
    expect_problem(rc, "config", want);

    memset(&reps, 0, sizeof(reps));
    (void)snprintf(arg, sizeof(arg), "config=%s", conf_path);
    argv[0] = arg;
    argv[1] = "cache_dir=./c";
    rc = pk_config_load_check(&cfg, 2, argv, geteuid(), record, &reps);
    assert_int_equal(rc, PK_ST_REFUSED);
    assert_int_equal(reps.count, 4);
    assert_string_equal(reps.r[0].where, "argument");
    assert_string_equal(reps.r[0].problem, "bad value for \"cache_dir\": must be an absolute path");
    assert_string_equal(reps.r[1].where, "config");
    assert_string_equal(reps.r[1].problem, want);
    assert_string_equal(reps.r[2].where, file_line(1));
    assert_string_equal(reps.r[2].problem, "bad value for \"user_map\": must be an absolute path");
    assert_string_equal(reps.r[3].where, file_line(4));
    assert_string_equal(reps.r[3].problem, "unknown key \"frob\"");
    /* Kept for check to go on: the key file, not the default user map. */
    assert_null(cfg.user_map);
    assert_null(cfg.cache_dir);
    assert_string_equal(cfg.jwt_key, "/k");
    assert_int_equal(cfg.jwt_alg, PK_ALG_HS256);
    pk_config_free(&cfg);
}

static void test_key_is_path(void **state)
{
    static const char *const paths[] = {"config",  "user_map",  "jwt_key",
                                        "ca_file", "jwks_file", "cache_dir"};
    static const char *const others[] = {"prompt",  "jwt_alg", "kakao_api_url", "jwks_url",
                                         "timeout", "frob",    "user_mapx",     ""};

    (void)state;
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        assert_true(pk_config_key_is_path(paths[i], strlen(paths[i])));
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        assert_false(pk_config_key_is_path(others[i], strlen(others[i])));
    assert_true(pk_config_key_is_path("user_map=./x", 8));
}

static void test_no_newline_at_end(void **state)
{
    (void)state;
    expect_ok(load("timeout = 3\nkakao_app_id = 77", false, NULL));
    assert_string_equal(field("kakao_app_id"), "77");
}

static void test_nul_byte_in_file(void **state)
{
    static const char text[] = "kakao_app_id = 1\n\0timeout = 5\n";
    char want[PATH_MAX + 64];
    enum pk_status rc;

    (void)state;
    pk_config_free(&cfg);
    memset(&reps, 0, sizeof(reps));
    write_conf_bytes(text, sizeof(text) - 1, 0644);
    rc = pk_config_load(&cfg, 0, NULL, conf_path, geteuid(), false, record, &reps);
    (void)snprintf(want, sizeof(want), "%s: contains a NUL byte", conf_path);
    expect_problem(rc, "config", want);
}

static void test_line_without_equals(void **state)
{
    (void)state;
    expect_problem(load("kakao_app_id = 1\n\ntimeout 5\n", false, NULL), file_line(3),
                   "expected key = value");
    expect_problem(load("kakao_app_id = 1\n[section]\n", false, NULL), file_line(2),
                   "expected key = value");
}

static void test_unknown_key_in_file(void **state)
{
    (void)state;
    expect_problem(load("# comment\n\nfoo = 1\nkakao_app_id = 1\n", false, NULL), file_line(3),
                   "unknown key \"foo\"");
    expect_problem(load("kakao_app_id = 1\nTimeout = 5\n", false, NULL), file_line(2),
                   "unknown key \"Timeout\"");
    expect_problem(load("kakao_app_id = 1\nkakao app_id = 5\n", false, NULL), file_line(2),
                   "unknown key \"kakao\\x20app_id\"");
    expect_problem(load("kakao_app_id = 1\n= 5\n", false, NULL), file_line(2), "unknown key \"\"");
    /* config, use_first_pass and friends are module arguments only */
    expect_problem(load("kakao_app_id = 1\nconfig = /etc/other.conf\n", false, NULL), file_line(2),
                   "unknown key \"config\"");
    expect_problem(load("kakao_app_id = 1\nuse_first_pass = yes\n", false, NULL), file_line(2),
                   "unknown key \"use_first_pass\"");
}

static void test_duplicate_key_in_file(void **state)
{
    (void)state;
    expect_problem(load("kakao_app_id = 1\ntimeout = 5\n# again\ntimeout = 5\n", false, NULL),
                   file_line(4), "key \"timeout\" given twice");
    expect_problem(load("kakao_app_id = 1\nkakao_app_id = 2\n", false, NULL), file_line(2),
                   "key \"kakao_app_id\" given twice");
}

static void test_file_too_large(void **state)
{
    char *text = malloc(70000);
    char want[PATH_MAX + 64];

    (void)state;
    assert_non_null(text);
    memset(text, '#', 69999);
    text[69999] = '\0';
    (void)snprintf(want, sizeof(want), "%s: larger than 65536 bytes", conf_path);
    expect_problem(load(text, false, ARGS("kakao_app_id=1")), "config", want);
    free(text);
}

static void test_unsafe_default_config(void **state)
{
    char want[PATH_MAX + 64];
    enum pk_status rc;

    (void)state;
    pk_config_free(&cfg);
    memset(&reps, 0, sizeof(reps));
    write_conf_bytes("kakao_app_id = 1\n", 17, 0666);
    rc = pk_config_load(&cfg, 0, NULL, conf_path, geteuid(), false, record, &reps);
    (void)snprintf(want, sizeof(want), "%s: writable by group or others (mode 0666)", conf_path);
    expect_problem(rc, "config", want);
}

static void test_symlinked_config(void **state)
{
    char link[PATH_MAX], arg[PATH_MAX + 16], want[PATH_MAX + 64];

    (void)state;
    write_conf_bytes("kakao_app_id = 1\n", 17, 0644);
    (void)snprintf(link, sizeof(link), "%s/link.conf", tmpdir);
    assert_int_equal(symlink(conf_path, link), 0);
    (void)snprintf(arg, sizeof(arg), "config=%s", link);
    (void)snprintf(want, sizeof(want), "%s: is a symbolic link (not followed)", link);
    pk_config_free(&cfg);
    memset(&reps, 0, sizeof(reps));
    expect_problem(pk_config_load(&cfg, 1, (const char *[]){arg}, absent_path, geteuid(), false,
                                  record, &reps),
                   "config", want);
    assert_int_equal(unlink(link), 0);
}

/* ---- module arguments ----------------------------------------------- */

static void test_missing_default_config_is_fine(void **state)
{
    (void)state;
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1")));
    assert_false(cfg.config_explicit);
}

static void test_explicit_config(void **state)
{
    char arg[PATH_MAX + 16], missing[PATH_MAX + 16], want[PATH_MAX + 64];

    (void)state;
    write_conf_bytes("kakao_app_id = 99\ntimeout = 11\n", 30, 0644);
    (void)snprintf(arg, sizeof(arg), "config=%s", conf_path);
    pk_config_free(&cfg);
    memset(&reps, 0, sizeof(reps));
    expect_ok(pk_config_load(&cfg, 1, (const char *[]){arg}, absent_path, geteuid(), false, record,
                             &reps));
    assert_true(cfg.config_explicit);
    assert_string_equal(cfg.config_path, conf_path);
    assert_string_equal(field("kakao_app_id"), "99");
    assert_string_equal(field("timeout"), "11");

    /* named explicitly but missing: an error, even with everything in arguments */
    (void)snprintf(missing, sizeof(missing), "config=%s", absent_path);
    (void)snprintf(want, sizeof(want), "%s: does not exist", absent_path);
    expect_problem(load(NULL, false, ARGS(missing, "kakao_app_id=1")), "config", want);
}

static void test_config_argument_rules(void **state)
{
    char arg[PATH_MAX + 16];

    (void)state;
    expect_problem(load(NULL, false, ARGS("config=pam_kakao.conf", "kakao_app_id=1")), "argument",
                   "bad value for \"config\": must be an absolute path");
    expect_problem(load(NULL, false, ARGS("config=", "kakao_app_id=1")), "argument",
                   "bad value for \"config\": must be an absolute path");
    expect_problem(load(NULL, false, ARGS("config=/etc/a\tb", "kakao_app_id=1")), "argument",
                   "bad value for \"config\": must be an absolute path");
    write_conf_bytes("kakao_app_id = 1\n", 17, 0644);
    (void)snprintf(arg, sizeof(arg), "config=%s", conf_path);
    pk_config_free(&cfg);
    memset(&reps, 0, sizeof(reps));
    expect_problem(pk_config_load(&cfg, 2, (const char *[]){arg, arg}, absent_path, geteuid(),
                                  false, record, &reps),
                   "argument", "option \"config\" given twice");
}

static void test_arguments_override_file(void **state)
{
    (void)state;
    expect_ok(load("kakao_app_id = 1\ntimeout = 10\nleeway = 5\nprompt = File: \n", false,
                   ARGS("timeout=20", "prompt=Arg: ")));
    assert_string_equal(field("timeout"), "20");
    assert_string_equal(field("leeway"), "5");
    assert_string_equal(cfg.prompt, "Arg: ");
    assert_string_equal(field("kakao_app_id"), "1");

    /* debug given as a flag wins over the file */
    expect_ok(load("kakao_app_id = 1\ndebug = no\n", false, ARGS("debug")));
    assert_true(cfg.debug);
    expect_ok(load("kakao_app_id = 1\ndebug = yes\n", false, ARGS("debug=no")));
    assert_false(cfg.debug);
}

/* An argument overrides the file's value, but a malformed file value is still
 * an error: the file is wrong for every other service using it. */
static void test_malformed_file_value_despite_override(void **state)
{
    (void)state;
    expect_problem(load("kakao_app_id = 1\ntimeout = 99\n", false, ARGS("timeout=20")),
                   file_line(2), "bad value for \"timeout\": not a whole number in range");
    expect_problem(load("kakao_app_id = 1\njwt_alg = hs256\n", false, ARGS("accept=kakao")),
                   file_line(2), "bad value for \"jwt_alg\": " ALGS);
    /* a duplicate in the file too */
    expect_problem(load("kakao_app_id = 1\ntimeout = 5\ntimeout = 6\n", false, ARGS("timeout=20")),
                   file_line(3), "key \"timeout\" given twice");
}

static void test_argument_given_twice(void **state)
{
    (void)state;
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "timeout=5", "timeout=5")), "argument",
                   "key \"timeout\" given twice");
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "kakao_app_id=1")), "argument",
                   "key \"kakao_app_id\" given twice");
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "debug", "debug")), "argument",
                   "option \"debug\" given twice");
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "debug", "debug=yes")), "argument",
                   "option \"debug\" given twice");
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "debug=yes", "debug")), "argument",
                   "option \"debug\" given twice");
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "use_first_pass", "use_first_pass")),
                   "argument", "option \"use_first_pass\" given twice");
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "try_first_pass", "try_first_pass")),
                   "argument", "option \"try_first_pass\" given twice");
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "nodelay", "nodelay")), "argument",
                   "option \"nodelay\" given twice");
    expect_problem(
        load(NULL, false, ARGS("kakao_app_id=1", "prompt_unmapped=yes", "prompt_unmapped=no")),
        "argument", "key \"prompt_unmapped\" given twice");
    expect_problem(
        load("kakao_app_id = 1\nprompt_unmapped = yes\nprompt_unmapped = yes\n", false, NULL),
        file_line(3), "key \"prompt_unmapped\" given twice");
}

/* nodelay is a flag among the arguments, never a key: libpam is asked for
 * the delay before the file is read (pam_kakao(8)). */
static void test_nodelay(void **state)
{
    (void)state;
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1", "nodelay")));
    assert_true(cfg.nodelay);
    assert_true(pk_config_args_nodelay(2, (const char *[]){"kakao_app_id=1", "nodelay"}));
    assert_false(pk_config_args_nodelay(1, (const char *[]){"kakao_app_id=1"}));
    assert_false(pk_config_args_nodelay(1, (const char *[]){"nodelay=yes"}));
    assert_false(pk_config_args_nodelay(0, NULL));
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "nodelay=yes")), "argument",
                   "unknown key \"nodelay\"");
    expect_problem(load("kakao_app_id = 1\nnodelay = yes\n", false, NULL), file_line(2),
                   "unknown key \"nodelay\"");
    /* prompt_unmapped as an argument overrides the file */
    expect_ok(load("kakao_app_id = 1\nprompt_unmapped = yes\n", false, ARGS("prompt_unmapped=no")));
    assert_string_equal(field("prompt_unmapped"), "no");
}

static void test_unknown_argument(void **state)
{
    (void)state;
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "nullok")), "argument",
                   "unknown option \"nullok\"");
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "Debug")), "argument",
                   "unknown option \"Debug\"");
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "")), "argument",
                   "unknown option \"\"");
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "foo=bar")), "argument",
                   "unknown key \"foo\"");
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "=bar")), "argument",
                   "unknown key \"\"");
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "use_first_pass=yes")), "argument",
                   "unknown key \"use_first_pass\"");
    /* the offending name is escaped, never copied raw into the log */
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "ti\nme=5")), "argument",
                   "unknown key \"ti\\x0ame\"");
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "bad\x01")), "argument",
                   "unknown option \"bad\\x01\"");
}

static void test_first_pass_options(void **state)
{
    (void)state;
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1", "use_first_pass")));
    assert_int_equal(cfg.authtok, PK_AUTHTOK_USE_FIRST);
    expect_ok(load(NULL, false, ARGS("try_first_pass", "kakao_app_id=1")));
    assert_int_equal(cfg.authtok, PK_AUTHTOK_TRY_FIRST);
    expect_problem(load(NULL, false, ARGS("use_first_pass", "kakao_app_id=1", "try_first_pass")),
                   "argument", "use_first_pass and try_first_pass are exclusive");
    expect_problem(load(NULL, false, ARGS("try_first_pass", "use_first_pass", "kakao_app_id=1")),
                   "argument", "use_first_pass and try_first_pass are exclusive");
}

/* Without keep_going, loading stops at the first problem: one report. */
static void test_stops_at_first_problem(void **state)
{
    (void)state;
    expect_problem(load("foo = 1\ntimeout = 0\n", false, ARGS("leeway=999", "nullok")), "argument",
                   "bad value for \"leeway\": not a whole number in range");
    expect_problem(load("foo = 1\ntimeout = 0\n", false, ARGS("kakao_app_id=1")), file_line(1),
                   "unknown key \"foo\"");
}

/* The same for problems with the option words (config=, debug, *_first_pass). */
static void test_stops_at_first_option_problem(void **state)
{
    (void)state;
    expect_problem(load(NULL, false, ARGS("config=relative", "timeout=0")), "argument",
                   "bad value for \"config\": must be an absolute path");
    expect_problem(load(NULL, false, ARGS("debug", "debug", "timeout=0")), "argument",
                   "option \"debug\" given twice");
    expect_problem(load(NULL, false, ARGS("use_first_pass", "use_first_pass", "try_first_pass")),
                   "argument", "option \"use_first_pass\" given twice");
}

static void test_keep_going_reports_everything(void **state)
{
    enum pk_status rc;

    (void)state;
    rc = load(
        "foo = 1\n"
        "timeout = 5\n"
        "timeout = 6\n"
        "jwt_alg = hs256\n"
        "leeway 3\n",
        true,
        ARGS("nullok", "timeout=0", "leeway=5", "leeway=6", "use_first_pass", "try_first_pass"));
    assert_int_equal(rc, PK_ST_REFUSED);
    expect_report(0, "argument", "unknown option \"nullok\"");
    expect_report(1, "argument", "bad value for \"timeout\": not a whole number in range");
    expect_report(2, "argument", "key \"leeway\" given twice");
    expect_report(3, "argument", "use_first_pass and try_first_pass are exclusive");
    expect_report(4, file_line(1), "unknown key \"foo\"");
    expect_report(5, file_line(3), "key \"timeout\" given twice");
    expect_report(6, file_line(4), "bad value for \"jwt_alg\": " ALGS);
    expect_report(7, file_line(5), "expected key = value");
    assert_int_equal(reps.count, 8);

    /* cross-key rules are checked too */
    rc = load("accept = kakao, jwt\nrequire_email = yes\n", true,
              ARGS("jwt_key=/k", "cache_ttl=60"));
    assert_int_equal(rc, PK_ST_REFUSED);
    expect_report(0, "config", "jwt_key and jwt_alg must be given together");
    expect_report(1, "config", "accept names kakao, which needs kakao_app_id");
    expect_report(2, "config", "accept names jwt, which needs jwt_key and jwt_alg");
    expect_report(3, "config",
                  "require_email applies to kakao access tokens, but kakao is not accepted");
    assert_int_equal(reps.count, 4);

    /* and a clean config reports nothing */
    expect_ok(load("kakao_app_id = 1\n", true, ARGS("timeout=3")));
}

/* ---- rules across keys ---------------------------------------------- */

static void test_no_kind_configured(void **state)
{
    (void)state;
    expect_problem(load("# nothing\ntimeout = 5\n", false, NULL), "config",
                   "no token kind configured (set kakao_app_id, or jwt_key and jwt_alg)");
    expect_problem(load(NULL, false, ARGS("timeout=5")), "config",
                   "no token kind configured (set kakao_app_id, or jwt_key and jwt_alg)");
    /* kakao_rest_api_key alone, or a JWKS alone, configure nothing */
    expect_problem(load(NULL, false, ARGS("kakao_rest_api_key=k")), "config",
                   "no token kind configured (set kakao_app_id, or jwt_key and jwt_alg)");
    expect_problem(load(NULL, false, ARGS("jwks_file=/j")), "config",
                   "no token kind configured (set kakao_app_id, or jwt_key and jwt_alg)");
}

static void test_accept_unconfigured_kind(void **state)
{
    (void)state;
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "accept=kakao,jwt")), "config",
                   "accept names jwt, which needs jwt_key and jwt_alg");
    expect_problem(load(NULL, false, ARGS("jwt_key=/k", "jwt_alg=HS256", "accept=kakao")), "config",
                   "accept names kakao, which needs kakao_app_id");
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "accept=id_token")), "config",
                   "accept names id_token, which needs kakao_rest_api_key and jwks_file or "
                   "jwks_url");
    expect_problem(
        load(NULL, false, ARGS("kakao_app_id=1", "kakao_rest_api_key=k", "accept=kakao,id_token")),
        "config",
        "accept names id_token, which needs kakao_rest_api_key and jwks_file or "
        "jwks_url");
}

static void test_relay_keys(void **state)
{
    (void)state;
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "accept=kakao,relay")), "config",
                   "accept names relay, which needs relay_url and relay_key");
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "relay_url=https://r.example")),
                   "config", "relay_url and relay_key must be given together");
    expect_ok(load(NULL, false,
                   ARGS("relay_url=https://r.example", "relay_key=/k", "relay_qr=yes",
                        "relay_prompt=\"Open %u (100%%): \"")));
    assert_string_equal(cfg.relay_prompt, "Open %u (100%%): ");
    assert_true(cfg.relay_qr);
    assert_int_equal(pk_config_kinds(&cfg), PK_KIND_RELAY);
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1")));
    assert_string_equal(cfg.relay_prompt,
                        "Approve this login at %u with Kakao, then enter the code: ");
    assert_false(cfg.relay_qr);
    assert_null(cfg.relay_url);
}

/* One-time tokens (docs/DESIGN.md §8.6): one_time, store, redis_password_file. */
static void test_one_time_keys(void **state)
{
    (void)state;
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1")));
    assert_false(cfg.one_time);
    assert_string_equal(cfg.store, "local");
    assert_false(pk_config_store_is_redis(&cfg));
    assert_null(cfg.redis_password_file);
    expect_ok(load(NULL, false,
                   ARGS("kakao_app_id=1", "one_time=yes", "store=redis://10.0.0.1:6379/2",
                        "redis_password_file=/etc/security/redis.pw")));
    assert_true(cfg.one_time);
    assert_string_equal(cfg.store, "redis://10.0.0.1:6379/2");
    assert_true(pk_config_store_is_redis(&cfg));
    assert_string_equal(cfg.redis_password_file, "/etc/security/redis.pw");
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1", "store=unix:/run/redis/redis.sock")));
    assert_true(pk_config_store_is_redis(&cfg));
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1", "store=redis://[::1]:6379")));
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "redis_password_file=/pw")), "config",
                   "redis_password_file is set, but store is not a Redis server");
    assert_true(pk_config_key_is_path("redis_password_file", 19));
    assert_false(pk_config_key_is_path("store", 5));
}

static void test_jwt_key_and_alg_together(void **state)
{
    (void)state;
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "jwt_key=/k")), "config",
                   "jwt_key and jwt_alg must be given together");
    expect_problem(load(NULL, false, ARGS("kakao_app_id=1", "jwt_alg=RS256")), "config",
                   "jwt_key and jwt_alg must be given together");
    expect_problem(load(NULL, false, ARGS("jwt_key=/k")), "config",
                   "jwt_key and jwt_alg must be given together");
    expect_ok(load(NULL, false, ARGS("jwt_key=/k", "jwt_alg=RS256")));
    assert_int_equal(pk_config_kinds(&cfg), PK_KIND_JWT);
}

static void test_require_email_needs_kakao(void **state)
{
    (void)state;
    expect_problem(load(NULL, false, ARGS("jwt_key=/k", "jwt_alg=HS256", "require_email=yes")),
                   "config",
                   "require_email applies to kakao access tokens, but kakao is not accepted");
    expect_problem(load(NULL, false,
                        ARGS("kakao_app_id=1", "jwt_key=/k", "jwt_alg=HS256", "accept=jwt",
                             "require_email=verified")),
                   "config",
                   "require_email applies to kakao access tokens, but kakao is not accepted");
    expect_ok(load(NULL, false, ARGS("jwt_key=/k", "jwt_alg=HS256", "require_email=no")));
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1", "require_email=verified")));
    assert_int_equal(cfg.require_email, PK_EMAIL_VERIFIED);
}

/* This version refuses what it cannot do yet instead of ignoring it; ID
 * tokens it can do. */
static void test_not_yet_supported(void **state)
{
    (void)state;
    expect_ok(load(NULL, false, ARGS("kakao_rest_api_key=k", "jwks_file=/j")));
    assert_int_equal(pk_config_kinds(&cfg), PK_KIND_ID_TOKEN);
    expect_ok(load(NULL, false,
                   ARGS("kakao_app_id=1", "kakao_rest_api_key=k",
                        "jwks_url=https://kauth.kakao.com/.well-known/jwks.json")));
    assert_int_equal(pk_config_kinds(&cfg), PK_KIND_KAKAO | PK_KIND_ID_TOKEN);
    expect_ok(load(NULL, false, ARGS("kakao_rest_api_key=k", "jwks_file=/j", "accept=id_token")));
    assert_int_equal(pk_config_kinds(&cfg), PK_KIND_ID_TOKEN);
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1", "cache_ttl=60")));
    assert_int_equal(cfg.cache_ttl, 60);
}

static void test_config_kinds(void **state)
{
    (void)state;
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1")));
    assert_int_equal(pk_config_kinds(&cfg), PK_KIND_KAKAO);
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1", "jwt_key=/k", "jwt_alg=HS256")));
    assert_int_equal(pk_config_kinds(&cfg), PK_KIND_KAKAO | PK_KIND_JWT);
    expect_ok(
        load(NULL, false, ARGS("kakao_app_id=1", "jwt_key=/k", "jwt_alg=HS256", "accept=jwt")));
    assert_int_equal(pk_config_kinds(&cfg), PK_KIND_JWT);
    expect_ok(
        load(NULL, false, ARGS("kakao_app_id=1", "jwt_key=/k", "jwt_alg=HS256", "accept=kakao")));
    assert_int_equal(pk_config_kinds(&cfg), PK_KIND_KAKAO);
    expect_ok(load(NULL, false,
                   ARGS("kakao_app_id=1", "jwt_key=/k", "jwt_alg=HS256", "accept=jwt,kakao")));
    assert_int_equal(pk_config_kinds(&cfg), PK_KIND_KAKAO | PK_KIND_JWT);
    /* configured for id_token but not accepting it */
    expect_ok(load(NULL, false,
                   ARGS("kakao_app_id=1", "kakao_rest_api_key=k", "jwks_file=/j", "accept=kakao")));
    assert_int_equal(pk_config_kinds(&cfg), PK_KIND_KAKAO);

    /* directly on a struct */
    {
        struct pk_config c;
        memset(&c, 0, sizeof(c));
        assert_int_equal(pk_config_kinds(&c), 0);
        c.has_app_id = true;
        c.kakao_rest_api_key = (char *)"k";
        c.jwks_url = (char *)"https://j";
        assert_int_equal(pk_config_kinds(&c), PK_KIND_KAKAO | PK_KIND_ID_TOKEN);
        c.accept = PK_KIND_ID_TOKEN | PK_KIND_JWT;
        assert_int_equal(pk_config_kinds(&c), PK_KIND_ID_TOKEN);
    }
}

static void test_alg_names(void **state)
{
    static const char *const names[] = {"HS256", "HS384", "HS512", "RS256", "RS384",
                                        "RS512", "ES256", "ES384", "ES512"};

    (void)state;
    for (size_t i = 0; i < 9; i++) {
        enum pk_alg a = pk_alg_from_name(names[i]);
        assert_int_equal(a, (int)(PK_ALG_HS256 + i));
        assert_string_equal(pk_alg_name(a), names[i]);
    }
    assert_int_equal(pk_alg_from_name("hs256"), PK_ALG_NONE);
    assert_int_equal(pk_alg_from_name("none"), PK_ALG_NONE);
    assert_int_equal(pk_alg_from_name(""), PK_ALG_NONE);
    assert_int_equal(pk_alg_from_name("HS2560"), PK_ALG_NONE);
    assert_string_equal(pk_alg_name(PK_ALG_NONE), "none");
    assert_string_equal(pk_alg_name((enum pk_alg)99), "none");
}

static void test_free_is_idempotent(void **state)
{
    (void)state;
    expect_ok(load(NULL, false, ARGS("kakao_app_id=1")));
    pk_config_free(&cfg);
    assert_null(cfg.prompt);
    pk_config_free(&cfg);
    /* a failed load leaves nothing to free */
    assert_int_equal(load(NULL, false, ARGS("nullok")), PK_ST_REFUSED);
    assert_null(cfg.prompt);
    assert_null(cfg.config_path);
}

#define T(f) cmocka_unit_test_teardown(f, test_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_email_rule_words),
        T(test_valid_values_as_arguments),
        T(test_valid_values_in_file),
        T(test_bad_values_as_arguments),
        T(test_bad_values_in_file),
        T(test_prompt_too_long),
        T(test_all_keys_in_one_file),
        T(test_comments_blank_lines_and_whitespace),
        T(test_quoted_values),
        T(test_trailing_comment_is_part_of_value),
        T(test_crlf_line_endings),
        T(test_no_newline_at_end),
        T(test_nul_byte_in_file),
        T(test_line_without_equals),
        T(test_unknown_key_in_file),
        T(test_duplicate_key_in_file),
        T(test_file_too_large),
        T(test_unsafe_default_config),
        T(test_symlinked_config),
        T(test_missing_default_config_is_fine),
        T(test_explicit_config),
        T(test_config_argument_rules),
        T(test_arguments_override_file),
        T(test_malformed_file_value_despite_override),
        T(test_argument_given_twice),
        T(test_nodelay),
        T(test_unknown_argument),
        T(test_first_pass_options),
        T(test_stops_at_first_problem),
        T(test_stops_at_first_option_problem),
        T(test_keep_going_reports_everything),
        T(test_no_kind_configured),
        T(test_accept_unconfigured_kind),
        T(test_jwt_key_and_alg_together),
        T(test_relay_keys),
        T(test_one_time_keys),
        T(test_require_email_needs_kakao),
        T(test_not_yet_supported),
        T(test_config_kinds),
        T(test_alg_names),
        T(test_free_is_idempotent),
        T(test_load_check_reports_all),
        T(test_key_is_path),
    };
    return cmocka_run_group_tests_name("config", tests, group_setup, group_teardown);
}
