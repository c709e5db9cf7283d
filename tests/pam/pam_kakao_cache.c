/* PAM-level tests of the Kakao check cache (cache_ttl, cache_dir; docs/DESIGN.md §8.2):
 * the real pam_kakao.so through libpam under pam_wrapper against the mock
 * Kakao API (tests/mock/README.md). The mock's request log proves a hit
 * (no request) or a miss (a request); every decision line is the one of
 * docs/DESIGN.md §5.2 whether the answer came from Kakao or from the cache.
 *
 * Run by tests/run.sh, which sets PK_TEST_DIR, PK_MOCK_PORT, PK_MOCK_CA and
 * PK_MOCK_LOG. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pamtest_util.h"
#include "src/cache_dir.h"

/* Fixture tokens of tests/mock/mock_kakao.py. */
#define T_ALICE "mockValidAliceToken_0001"
#define T_BOB "mockValidBobToken_000002"
#define T_OTHER_APP "mockOtherAppToken_00003"
#define T_EXPIRED "mockExpiredToken_000004"
#define T_UNVERIFIED "mockUnverifiedEmail_0007"
#define T_500 "mockFault500_000000022"

#define OK_ALICE "accepted kakao kakao_id=3095134389 user=alice"
#define OK_BOB "accepted kakao kakao_id=1122334455 user=bob"
#define BOB_NOT_ALICE                                                                              \
    "rejected kakao for user=alice: kakao_id not mapped to this user (kakao_id=1122334455)"

static struct pt_env env; /* what tests/run.sh's pamenv set */
static char cache[1024];  /* this test's cache_dir */

/* cur.conf = the user map, the mock with the test CA, cache_dir = cache,
 * and the given lines. */
static void kconf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void kconf(const char *fmt, ...)
{
    char head[2048];
    va_list ap;

    /* timeout = 30: the mock answers at once here; a TLS handshake slowed
     * by valgrind or a loaded machine must not run out the timeout. */
    (void)snprintf(head, sizeof(head),
                   "kakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:%ld\n"
                   "ca_file = %s\ncache_dir = %s\ntimeout = 30\n",
                   env.port_main, env.mock_ca, cache);
    va_start(ap, fmt);
    pt_vconf(env.dir, "kakao.users", head, fmt, ap);
    va_end(ap);
}

/* Each test: a cache_dir path of its own, not yet created (the valgrind
 * pass runs this binary again in the same PK_TEST_DIR). */
static int fresh_cache(void **state)
{
    static int n;
    (void)state;
    (void)snprintf(cache, sizeof(cache), "%s/kcache.%ld.%d", env.dir, (long)getpid(), n++);
    return 0;
}

/* Number of requests in the mock's log so far. */
static size_t reqlog_count(void)
{
    FILE *f = fopen(env.mock_log, "r");
    size_t n = 0;
    int c;

    if (f == NULL)
        return 0;
    while ((c = getc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

/* Runs token for user; asserts the PAM result, the decision line, that the
 * token is in no log line, and how many requests reached the mock. */
static void attempt(const char *token, const char *user, int rv, const char *log, size_t requests,
                    struct pt_run *r)
{
    size_t before = reqlog_count(), sent;

    pt_run("pk", user, token, rv == PAM_SUCCESS, r);
    sent = reqlog_count() - before;
    if (r->auth_rv != rv || strcmp(r->log, log) != 0)
        fail_msg("%s: rv %d, want %d; log \"%s\", want \"%s\"", token, r->auth_rv, rv, r->log, log);
    if (sent != requests)
        fail_msg("%s: %zu requests reached the mock, want %zu (log: %s)", token, sent, requests,
                 r->all_log);
    if (strstr(r->all_log, token) != NULL)
        fail_msg("token in the log: %s", r->all_log);
    if (rv == PAM_SUCCESS)
        assert_int_equal(r->acct_rv, PAM_SUCCESS);
}

/* Path of token's entry in cache. */
static void entry_path(const char *token, char *path, size_t len)
{
    char hex[65];

    assert_true(pk_sha256_hex(token, strlen(token), hex));
    (void)snprintf(path, len, "%s/kakao-%s", cache, hex);
}

static char *slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static long long entry_field(const char *token, const char *name)
{
    char path[1200], key[64];
    const char *p;

    entry_path(token, path, sizeof(path));
    (void)snprintf(key, sizeof(key), "\n%s=", name);
    p = strstr(slurp(path), key);
    assert_non_null(p);
    return strtoll(p + strlen(key), NULL, 10);
}

/* Files in dir_path (not . and ..); -1 when it is not there. */
static int files_in(const char *dir_path)
{
    DIR *d = opendir(dir_path);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* ---- hits ---- */

static void hit_after_miss(void **state)
{
    char path[1200];
    struct stat st;
    struct pt_run r;
    (void)state;

    kconf("cache_ttl = 600\n");
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 1, &r);
    /* the repeat costs no request; same decision line, same KAKAO_ID */
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 0, &r);
    assert_string_equal(r.kakao_id_env, "3095134389");
    assert_string_equal(r.all_log, OK_ALICE);
    attempt(T_ALICE, "deploy", PAM_SUCCESS, "accepted kakao kakao_id=3095134389 user=deploy", 0,
            &r);

    /* cache_dir made root-only; one entry, 0600, without the token */
    assert_int_equal(lstat(cache, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(files_in(cache), 1);
    entry_path(T_ALICE, path, sizeof(path));
    assert_int_equal(lstat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_null(strstr(slurp(path), T_ALICE));
    assert_int_equal(entry_field(T_ALICE, "kakao_id"), 3095134389LL);
    assert_int_equal(entry_field(T_ALICE, "app_id"), 1234567);
    /* cache_ttl shorter than the token's life */
    assert_int_equal(entry_field(T_ALICE, "expires") - entry_field(T_ALICE, "created"), 600);

    /* "cached" only in a debug line; the decision line is unchanged */
    kconf("cache_ttl = 600\ndebug = yes\n");
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 0, &r);
    if (strstr(r.all_log, "kakao check cache: hit (cached) for token ") == NULL)
        fail_msg("no debug line for the hit: %s", r.all_log);
}

/* Kakao's expires_in (21599 s for the mock's tokens) bounds the entry. */
static void never_past_expires_in(void **state)
{
    struct pt_run r;
    (void)state;

    kconf("cache_ttl = 86400\n");
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 1, &r);
    assert_int_equal(entry_field(T_ALICE, "expires") - entry_field(T_ALICE, "created"), 21599);
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 0, &r);
}

static void ttl_expires(void **state)
{
    struct pt_run r;
    (void)state;

    kconf("cache_ttl = 1\n");
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 1, &r);
    sleep(2);
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 1, &r);
}

/* The cached kakao_id still has to be mapped to the user. */
static void cached_id_still_mapped(void **state)
{
    struct pt_run r;
    (void)state;

    kconf("cache_ttl = 600\n");
    attempt(T_BOB, "alice", PAM_AUTH_ERR, BOB_NOT_ALICE, 1, &r);
    attempt(T_BOB, "alice", PAM_AUTH_ERR, BOB_NOT_ALICE, 0, &r);
    assert_string_equal(r.kakao_id_env, "");
    attempt(T_BOB, "bob", PAM_SUCCESS, OK_BOB, 0, &r);
    pt_run("pk", "carol", T_BOB, false, &r);
    assert_int_equal(r.auth_rv, PAM_USER_UNKNOWN);
    assert_int_equal(r.prompts, 0);
}

/* ---- never cached ---- */

static void refusals_not_cached(void **state)
{
    struct pt_run r;
    (void)state;

    kconf("cache_ttl = 600\n");
    for (int i = 0; i < 2; i++) {
        attempt(T_EXPIRED, "alice", PAM_AUTH_ERR,
                "rejected kakao for user=alice: invalid or expired token (HTTP 401 code=-401 "
                "msg=\"this access token is already expired\")",
                1, &r);
        attempt(T_OTHER_APP, "alice", PAM_AUTH_ERR,
                "rejected kakao for user=alice: token issued to another app (app_id=7654321 "
                "expected=1234567)",
                1, &r);
        attempt(T_500, "alice", PAM_AUTHINFO_UNAVAIL,
                "kakao api unavailable for user=alice: HTTP 500", 1, &r);
    }
    assert_int_equal(files_in(cache), 0);
}

/* ---- what an entry stands for ---- */

static void require_email_stricter(void **state)
{
    struct pt_run r;
    (void)state;

    /* checked without email: a stricter config asks Kakao again */
    kconf("cache_ttl = 600\n");
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 1, &r);
    kconf("cache_ttl = 600\nrequire_email = verified\n");
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 2, &r);
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 0, &r);
    kconf("cache_ttl = 600\nrequire_email = yes\n");
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 0, &r);
    kconf("cache_ttl = 600\n");
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 0, &r);

    /* an entry made without email checks never passes verified */
    attempt(T_UNVERIFIED, "alice", PAM_SUCCESS, OK_ALICE, 1, &r);
    kconf("cache_ttl = 600\nrequire_email = verified\n");
    for (int i = 0; i < 2; i++)
        attempt(T_UNVERIFIED, "alice", PAM_AUTH_ERR,
                "rejected kakao for user=alice: email not valid and verified "
                "(is_email_verified=false)",
                2, &r);
}

static void other_app_id(void **state)
{
    struct pt_run r;
    char text[4096], path[1100];
    (void)state;

    kconf("cache_ttl = 600\n");
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 1, &r);
    /* the same cache_dir under a config for another app */
    (void)snprintf(text, sizeof(text),
                   "user_map = %s/kakao.users\nkakao_app_id = 7654321\n"
                   "kakao_api_url = https://127.0.0.1:%ld\nca_file = %s\ncache_dir = %s\n"
                   "cache_ttl = 600\n",
                   env.dir, env.port_main, env.mock_ca, cache);
    (void)snprintf(path, sizeof(path), "%s/cur.conf", env.dir);
    pt_write_file(path, text, 0644);
    attempt(T_ALICE, "alice", PAM_AUTH_ERR,
            "rejected kakao for user=alice: token issued to another app (app_id=1234567 "
            "expected=7654321)",
            1, &r);
}

/* ---- unsafe or broken caches ---- */

static void tampered_entry(void **state)
{
    char path[1200], text[4096];
    struct pt_run r;
    (void)state;

    kconf("cache_ttl = 600\n");
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 1, &r);
    entry_path(T_ALICE, path, sizeof(path));

    /* not in the format (bob's id with a trailing blank): ignored, said
     * so, and replaced by a fresh check */
    (void)snprintf(text, sizeof(text), "%s", slurp(path));
    {
        char *id = strstr(text, "kakao_id=3095134389\n");
        assert_non_null(id);
        memcpy(id, "kakao_id=1122334455 ", 20);
    }
    pt_write_file(path, text, 0600);
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 1, &r);
    if (strstr(r.all_log, ": not in the entry format; removed") == NULL)
        fail_msg("tampering not logged: %s", r.all_log);
    assert_int_equal(entry_field(T_ALICE, "kakao_id"), 3095134389LL);
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 0, &r);

    /* writable by others: not trusted */
    assert_int_equal(chmod(path, 0666), 0);
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 1, &r);
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 0, &r);

    /* a symbolic link in its place is not followed */
    {
        char target[1300];
        (void)snprintf(target, sizeof(target), "%s.elsewhere", cache);
        pt_write_file(target, slurp(path), 0600);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(symlink(target, path), 0);
        attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 1, &r);
        assert_int_equal(unlink(target), 0);
    }
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 0, &r);
}

static void unusable_dir_skipped(void **state)
{
    char debug_want[1400];
    struct pt_run r;
    (void)state;

    /* not root-only: every login asks Kakao; no error, no extra line */
    assert_int_equal(mkdir(cache, 0700), 0);
    assert_int_equal(chmod(cache, 0755), 0);
    kconf("cache_ttl = 600\n");
    for (int i = 0; i < 2; i++) {
        attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 1, &r);
        assert_string_equal(r.all_log, OK_ALICE);
    }
    assert_int_equal(files_in(cache), 0);
    /* with debug, one line says why */
    kconf("cache_ttl = 600\ndebug = yes\n");
    attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 1, &r);
    (void)snprintf(debug_want, sizeof(debug_want),
                   "cache_dir %s: mode 0755, not root-only (0700); Kakao token checks are not "
                   "cached",
                   cache);
    if (strstr(r.all_log, debug_want) == NULL)
        fail_msg("no debug line \"%s\": %s", debug_want, r.all_log);

    /* cannot be created */
    (void)snprintf(cache, sizeof(cache), "%s/missing/cache", env.dir);
    kconf("cache_ttl = 600\n");
    for (int i = 0; i < 2; i++) {
        attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 1, &r);
        assert_string_equal(r.all_log, OK_ALICE);
    }
    /* a refusal is still a refusal */
    attempt(T_EXPIRED, "alice", PAM_AUTH_ERR,
            "rejected kakao for user=alice: invalid or expired token (HTTP 401 code=-401 "
            "msg=\"this access token is already expired\")",
            1, &r);
}

static void symlinked_dir_refused(void **state)
{
    char target[1100];
    struct pt_run r;
    (void)state;

    (void)snprintf(target, sizeof(target), "%s.real", cache);
    assert_int_equal(mkdir(target, 0700), 0);
    assert_int_equal(symlink(target, cache), 0);
    kconf("cache_ttl = 600\n");
    for (int i = 0; i < 2; i++)
        attempt(T_ALICE, "alice", PAM_SUCCESS, OK_ALICE, 1, &r);
    assert_int_equal(files_in(target), 0);
}

static int setup(void **state)
{

    (void)state;
    if (!pt_env_load(&env, PT_NEED_MOCK))
        return -1;
    pt_write_file(pt_path(env.dir, "kakao.users"),
                  "3095134389     alice\n"
                  "3095134389     deploy\n"
                  "1122334455     bob\n",
                  0644);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(hit_after_miss, fresh_cache),
        cmocka_unit_test_setup(never_past_expires_in, fresh_cache),
        cmocka_unit_test_setup(ttl_expires, fresh_cache),
        cmocka_unit_test_setup(cached_id_still_mapped, fresh_cache),
        cmocka_unit_test_setup(refusals_not_cached, fresh_cache),
        cmocka_unit_test_setup(require_email_stricter, fresh_cache),
        cmocka_unit_test_setup(other_app_id, fresh_cache),
        cmocka_unit_test_setup(tampered_entry, fresh_cache),
        cmocka_unit_test_setup(unusable_dir_skipped, fresh_cache),
        cmocka_unit_test_setup(symlinked_dir_refused, fresh_cache),
    };
    return cmocka_run_group_tests_name("pam_kakao_cache", tests, setup, NULL);
}
