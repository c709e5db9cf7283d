/* PAM-level tests of one-time tokens (one_time = yes, docs/DESIGN.md §8.6):
 * the real pam_kakao.so through libpam under pam_wrapper, with the local
 * store (files in cache_dir) and with a real redis-server that the test
 * starts and stops (tests/unit/redis_server.h). Two "hosts" are two configs
 * with different cache_dirs; concurrent uses are threads, each its own
 * pam_start ... pam_end. Every case asserts the PAM result and the log line.
 *
 * Run by tests/run.sh, which sets PK_TEST_DIR and PK_TEST_KEYS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pamtest_util.h"
#include "src/jwt_sign.h"
#include "tests/unit/redis_server.h"

#define ALICE 3095134389LL
#define BOB 1122334455LL
#define REDIS_PASSWORD "one-time-test-password-4f1d"
#define CONCURRENT 50
/* Store faults run with this timeout (seconds). */
#define FAULT_TIMEOUT 2
/* A faulty store fails the login within FAULT_TIMEOUT + FAULT_BOUND_MARGIN:
 * the bound shows it is bounded (never hangs); a loaded 2-core CI machine or
 * an ASan build (no PK_TEST_TIME_SLACK) can deschedule the test for a second
 * or more, which a margin of 1 s would count as a failure. */
#define FAULT_BOUND_MARGIN 5
/* Cases about the server's answer (a refused password) get this timeout, so
 * that a server slow to answer on a loaded machine is not mistaken for one
 * that does not answer; they must still end within the bound above. */
#define ANSWER_TIMEOUT 30

static struct pt_env env;
static struct pk_test_redis redis;
static char redis_url[64];
static char redis_unix_url[160];
static char password_file[512];
static unsigned jti_counter;

static long long now_s(void)
{
    return (long long)time(NULL);
}

/* An empty cache_dir (0700) of its own for one test or one "host". */
static const char *fresh_cache(const char *name)
{
    static char buf[8][512];
    static int slot;
    char *p = buf[slot++ % 8];
    char cmd[600];

    (void)snprintf(p, sizeof(buf[0]), "%s/ot-cache-%s", env.dir, name);
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(mkdir(p, 0700), 0);
    return p;
}

/* cur.conf: HS256 app JWTs, one_time = yes, and the given lines. */
static void conf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void conf(const char *fmt, ...)
{
    char head[1024];
    va_list ap;

    (void)snprintf(head, sizeof(head), "jwt_key = %s\njwt_alg = HS256\n",
                   pt_path(env.keys, "hs256.key"));
    va_start(ap, fmt);
    pt_vconf(env.dir, "ot.users", head, fmt, ap);
    va_end(ap);
}

/* An HS256 app JWT with these claims (a JSON object's members). */
static char *mint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *mint(const char *fmt, ...)
{
    char claims[2048];
    char err[256] = "";
    unsigned char key[256];
    size_t len;
    FILE *f = fopen(pt_path(env.keys, "hs256.key"), "rb");
    char *tok;
    va_list ap;

    assert_non_null(f);
    len = fread(key, 1, sizeof(key), f);
    fclose(f);
    if (len > 0 && key[len - 1] == '\n')
        len--;
    va_start(ap, fmt);
    (void)vsnprintf(claims, sizeof(claims), fmt, ap);
    va_end(ap);
    tok = pk_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, PK_ALG_HS256, key, len, err,
                      sizeof(err));
    if (tok == NULL)
        fail_msg("pk_jwt_sign: %s", err);
    return tok;
}

/* A fresh jti for each token of a run, so that runs never share marks. */
static const char *new_jti(char buf[64])
{
    (void)snprintf(buf, 64, "jti-%ld-%u", (long)getpid(), ++jti_counter);
    return buf;
}

/* alice's token (exp in an hour) with this jti. */
static char *alice_token(const char *jti)
{
    return mint("{\"kakao_id\":%lld,\"iat\":%lld,\"exp\":%lld,\"jti\":\"%s\"}", ALICE, now_s(),
                now_s() + 3600, jti);
}

/* The mark's first 8 hex digits: SHA-256(iss "\0" jti). */
static void mark8(const char *iss, const char *jti, char out[9])
{
    unsigned char buf[512];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    size_t il = strlen(iss), jl = strlen(jti);

    memcpy(buf, iss, il);
    buf[il] = '\0';
    memcpy(buf + il + 1, jti, jl);
    assert_int_equal(EVP_Digest(buf, il + 1 + jl, md, &md_len, EVP_sha256(), NULL), 1);
    for (int i = 0; i < 4; i++)
        (void)snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* One login: the PAM result and the decision line; with max_s >= 0, also
 * done within max_s seconds (plus the valgrind pass's slack). */
static void expect_within(const char *user, const char *token, int want_rv, const char *want_log,
                          double max_s)
{
    struct pt_run r;

    pt_run("pk", user, token, false, &r);
    if (r.auth_rv != want_rv || strcmp(r.log, want_log) != 0)
        fail_msg("PAM %d, log \"%s\"; want PAM %d, log \"%s\"", r.auth_rv, r.log, want_rv,
                 want_log);
    if (max_s >= 0 && r.elapsed > max_s + pt_time_slack())
        fail_msg("took %.3f s, at most %.1f s allowed", r.elapsed, max_s + pt_time_slack());
    if (max_s >= 0)
        print_message("  %.3f s: %s\n", r.elapsed, r.log);
}

static void expect(const char *user, const char *token, int want_rv, const char *want_log)
{
    expect_within(user, token, want_rv, want_log, -1);
}

static void expect_used(const char *kind, const char *user, const char *token, const char *iss,
                        const char *jti)
{
    char m[9];
    char want[256];

    mark8(iss, jti, m);
    (void)snprintf(want, sizeof(want), "rejected %s for user=%s: token already used (mark=%s)",
                   kind, user, m);
    expect(user, token, PAM_AUTH_ERR, want);
}

static size_t once_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, "once-", 5) == 0;
    closedir(d);
    return n;
}

#define ACCEPTED_ALICE "accepted jwt kakao_id=3095134389 user=alice"

/* The same token twice on one host: the second is refused, and the mark is
 * one root-only file in cache_dir whose mtime is exp + leeway. */
static void same_token_twice_local(void **state)
{
    const char *cache = fresh_cache("twice");
    char jti[64];
    char *tok;
    long long exp = now_s() + 3600;
    char m[9];
    char path[700];
    struct stat st;
    DIR *d;
    struct dirent *e;

    (void)state;
    conf("one_time = yes\ncache_dir = %s\nleeway = 30\n", cache);
    new_jti(jti);
    tok = mint("{\"kakao_id\":%lld,\"iat\":%lld,\"exp\":%lld,\"jti\":\"%s\"}", ALICE, now_s(), exp,
               jti);
    expect("alice", tok, PAM_SUCCESS, ACCEPTED_ALICE);
    expect_used("jwt", "alice", tok, "", jti);
    expect_used("jwt", "deploy", tok, "", jti); /* another account of the same kakao_id */

    mark8("", jti, m);
    assert_int_equal(once_files(cache), 1);
    d = opendir(cache);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "once-", 5) == 0)
            (void)snprintf(path, sizeof(path), "%s/%s", cache, e->d_name);
    closedir(d);
    assert_non_null(strstr(path, m));
    assert_int_equal(strlen(strrchr(path, '/') + 1), 5 + 64);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal((long long)st.st_mtime, exp + 30);
    free(tok);

    /* The same jti from another issuer is another mark. */
    tok = mint("{\"kakao_id\":%lld,\"exp\":%lld,\"jti\":\"%s\",\"iss\":\"other\"}", ALICE,
               now_s() + 60, jti);
    expect("alice", tok, PAM_SUCCESS, ACCEPTED_ALICE);
    expect_used("jwt", "alice", tok, "other", jti);
    free(tok);
}

/* one_time = yes wants a jti of 1-128 printable bytes. */
static void jti_required(void **state)
{
    static const struct {
        const char *member; /* ",\"jti\":..." or "" */
        const char *detail;
    } bad[] = {
        {"", "no jti claim"},
        {",\"jti\":42", "jti is not a string"},
        {",\"jti\":\"\"", "jti of 0 bytes, 1-128 allowed"},
        {",\"jti\":\"a\\tb\"", "jti has bytes outside printable ASCII"},
        {",\"jti\":"
         "\"jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj"
         "jjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjjj\"",
         "jti of 129 bytes, 1-128 allowed"},
    };
    const char *cache = fresh_cache("jti");
    char long_jti[129];
    char want[256];
    char *tok;

    (void)state;
    conf("one_time = yes\ncache_dir = %s\n", cache);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tok = mint("{\"kakao_id\":%lld,\"exp\":%lld%s}", ALICE, now_s() + 60, bad[i].member);
        (void)snprintf(want, sizeof(want),
                       "rejected jwt for user=alice: no usable jti for one_time (%s)",
                       bad[i].detail);
        expect("alice", tok, PAM_AUTH_ERR, want);
        free(tok);
    }
    assert_int_equal(once_files(cache), 0);
    memset(long_jti, 'j', sizeof(long_jti));
    long_jti[128] = '\0'; /* 128 bytes, spaces allowed */
    long_jti[5] = ' ';
    tok = mint("{\"kakao_id\":%lld,\"exp\":%lld,\"jti\":\"%s\"}", ALICE, now_s() + 60, long_jti);
    expect("alice", tok, PAM_SUCCESS, ACCEPTED_ALICE);
    expect_used("jwt", "alice", tok, "", long_jti);
    free(tok);
}

/* The mark is set last: a token refused for any other reason uses nothing
 * up, and the same token is accepted afterwards where it is valid. */
static void refused_token_keeps_its_mark(void **state)
{
    const char *cache = fresh_cache("refused");
    char jti[64];
    char *tok;
    char *forged;
    size_t n;

    (void)state;
    conf("one_time = yes\ncache_dir = %s\n", cache);
    new_jti(jti);
    tok = mint("{\"kakao_id\":%lld,\"exp\":%lld,\"jti\":\"%s\"}", BOB, now_s() + 60, jti);
    /* bob's token at alice's account: not mapped, no mark */
    expect("alice", tok, PAM_AUTH_ERR,
           "rejected jwt for user=alice: kakao_id not mapped to this user (kakao_id=1122334455)");
    assert_int_equal(once_files(cache), 0);
    /* the same claims with a broken signature: no mark */
    forged = strdup(tok);
    assert_non_null(forged);
    n = strlen(forged);
    forged[n - 2] = forged[n - 2] == 'A' ? 'B' : 'A';
    expect("bob", forged, PAM_AUTH_ERR, "rejected jwt for user=bob: bad signature");
    free(forged);
    assert_int_equal(once_files(cache), 0);
    expect("bob", tok, PAM_SUCCESS, "accepted jwt kakao_id=1122334455 user=bob");
    expect_used("jwt", "bob", tok, "", jti);
    free(tok);

    /* expired: refused as expired, no mark */
    new_jti(jti);
    tok = mint("{\"kakao_id\":%lld,\"exp\":%lld,\"jti\":\"%s\"}", ALICE, now_s() - 3600, jti);
    {
        struct pt_run r;
        pt_run("pk", "alice", tok, false, &r);
        assert_int_equal(r.auth_rv, PAM_AUTH_ERR);
        assert_non_null(strstr(r.log, "rejected jwt for user=alice: expired (exp="));
    }
    assert_int_equal(once_files(cache), 1);
    free(tok);
}

/* Whether this process has mapped hiredis (it stays mapped once loaded:
 * RTLD_NODELETE). */
static bool hiredis_loaded(void)
{
    char *maps = pt_slurp("/proc/self/maps");
    bool loaded = strstr(maps, "libhiredis") != NULL;

    free(maps);
    return loaded;
}

/* A redis:// URL where nothing listens (the port held by *hold). */
static unsigned dead_url(char url[64], int *hold)
{
    unsigned port = pk_test_redis_dead_port(hold);

    assert_int_not_equal(port, 0);
    (void)snprintf(url, 64, "redis://127.0.0.1:%u", port);
    return port;
}

/* one_time = no: the store is never touched; a dead Redis does not matter. */
static void one_time_off_never_touches_the_store(void **state)
{
    const char *cache = fresh_cache("off");
    char url[64];
    char jti[64];
    int hold = -1;
    char *tok;

    (void)state;
    (void)dead_url(url, &hold);
    conf("cache_dir = %s\nstore = %s\n", cache, url);
    tok = alice_token(new_jti(jti));
    expect("alice", tok, PAM_SUCCESS, ACCEPTED_ALICE);
    expect("alice", tok, PAM_SUCCESS, ACCEPTED_ALICE);
    conf("one_time = no\ncache_dir = %s\n", cache);
    expect("alice", tok, PAM_SUCCESS, ACCEPTED_ALICE);
    assert_int_equal(once_files(cache), 0);
    /* nor was hiredis loaded (this case runs first; the local store never loads it either) */
    assert_false(hiredis_loaded());
    conf("one_time = yes\ncache_dir = %s\n", cache);
    expect("alice", tok, PAM_SUCCESS, ACCEPTED_ALICE);
    assert_false(hiredis_loaded());
    (void)close(hold);
    free(tok);
}

static void conf_redis(const char *cache, const char *store, const char *extra)
{
    conf("one_time = yes\ncache_dir = %s\nstore = %s\nredis_password_file = %s\n%s", cache, store,
         password_file, extra);
}

/* Two hosts (two configs, two cache_dirs) sharing one Redis: one use in
 * the fleet. A unix: socket store works the same. */
static void two_hosts_share_redis(void **state)
{
    const char *host_a = fresh_cache("host-a");
    const char *host_b = fresh_cache("host-b");
    char jti[64];
    char *tok;

    (void)state;
    tok = alice_token(new_jti(jti));
    conf_redis(host_a, redis_url, "");
    expect("alice", tok, PAM_SUCCESS, ACCEPTED_ALICE);
    assert_true(hiredis_loaded()); /* so that hiredis_loaded can see it at all */
    conf_redis(host_b, redis_url, "");
    expect_used("jwt", "alice", tok, "", jti);
    conf_redis(host_a, redis_url, "");
    expect_used("jwt", "alice", tok, "", jti);
    assert_int_equal(once_files(host_a) + once_files(host_b), 0);
    free(tok);

    tok = alice_token(new_jti(jti));
    conf_redis(host_b, redis_unix_url, "");
    expect("alice", tok, PAM_SUCCESS, ACCEPTED_ALICE);
    conf_redis(host_a, redis_url, ""); /* the same server over TCP */
    expect_used("jwt", "alice", tok, "", jti);
    free(tok);

    /* Another database is another fleet. */
    tok = alice_token(new_jti(jti));
    {
        char url[80];

        (void)snprintf(url, sizeof(url), "%s/5", redis_url);
        conf_redis(host_a, url, "");
        expect("alice", tok, PAM_SUCCESS, ACCEPTED_ALICE);
        expect_used("jwt", "alice", tok, "", jti);
    }
    conf_redis(host_b, redis_url, "");
    expect("alice", tok, PAM_SUCCESS, ACCEPTED_ALICE);
    free(tok);
}

static void expect_unavailable(const char *token, const char *want_log, double max_s)
{
    expect_within("alice", token, PAM_AUTHINFO_UNAVAIL, want_log, max_s);
}

/* Redis down, stopped (SIGSTOP), or refusing the password: the login fails
 * closed, PAM_AUTHINFO_UNAVAIL, within FAULT_TIMEOUT + FAULT_BOUND_MARGIN. */
static void redis_faults_fail_closed(void **state)
{
    const char *cache = fresh_cache("faults");
    char url[64];
    char want[512];
    char extra[64];
    char answer[64];
    char jti[64];
    int hold = -1;
    unsigned port = dead_url(url, &hold);
    char *tok;

    (void)state;
    (void)snprintf(extra, sizeof(extra), "timeout = %d\n", FAULT_TIMEOUT);
    (void)snprintf(answer, sizeof(answer), "timeout = %d\n", ANSWER_TIMEOUT);
    tok = alice_token(new_jti(jti));

    conf_redis(cache, url, extra);
    (void)snprintf(want, sizeof(want),
                   "one-time store unavailable for user=alice: redis 127.0.0.1:%u: connect: "
                   "Connection refused",
                   port);
    expect_unavailable(tok, want, FAULT_TIMEOUT + FAULT_BOUND_MARGIN);
    (void)close(hold);

    /* A stopped server: the kernel accepts, nobody answers. */
    conf_redis(cache, redis_url, extra);
    assert_int_equal(kill(redis.pid, SIGSTOP), 0);
    (void)snprintf(want, sizeof(want),
                   "one-time store unavailable for user=alice: redis 127.0.0.1:%u: no answer "
                   "before the deadline",
                   redis.port);
    expect_unavailable(tok, want, FAULT_TIMEOUT + FAULT_BOUND_MARGIN);
    assert_int_equal(kill(redis.pid, SIGCONT), 0);

    /* A wrong password, and none at all. */
    pt_write_file(pt_path(env.dir, "ot-wrong.pw"), "not-the-password\n", 0600);
    conf("one_time = yes\ncache_dir = %s\nstore = %s\nredis_password_file = %s\n%s", cache,
         redis_url, pt_path(env.dir, "ot-wrong.pw"), answer);
    (void)snprintf(want, sizeof(want),
                   "one-time store unavailable for user=alice: redis 127.0.0.1:%u refused AUTH: "
                   "\"WRONGPASS invalid username-password pair or user is disabled.\"",
                   redis.port);
    expect_unavailable(tok, want, FAULT_TIMEOUT + FAULT_BOUND_MARGIN);
    conf("one_time = yes\ncache_dir = %s\nstore = %s\n%s", cache, redis_url, answer);
    (void)snprintf(want, sizeof(want),
                   "one-time store unavailable for user=alice: redis 127.0.0.1:%u refused SET: "
                   "\"NOAUTH Authentication required.\"",
                   redis.port);
    expect_unavailable(tok, want, FAULT_TIMEOUT + FAULT_BOUND_MARGIN);

    /* The token was never used up: with the store back, it logs in once. */
    conf_redis(cache, redis_url, answer);
    expect("alice", tok, PAM_SUCCESS, ACCEPTED_ALICE);
    expect_used("jwt", "alice", tok, "", jti);
    free(tok);
}

/* redis_password_file is a key file: group/other access is refused before
 * the prompt; a store URL the config does not take is a config error. */
static void store_settings_checked(void **state)
{
    const char *cache = fresh_cache("settings");
    const char *loose = pt_path(env.dir, "ot-loose.pw");
    char want[1024];
    char jti[64];
    char *tok = alice_token(new_jti(jti));
    struct pt_run r;

    (void)state;
    pt_write_file(loose, REDIS_PASSWORD "\n", 0644);
    conf("one_time = yes\ncache_dir = %s\nstore = %s\nredis_password_file = %s\n", cache, redis_url,
         loose);
    pt_run("pk", "alice", tok, false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_int_equal(r.prompts, 0);
    (void)snprintf(want, sizeof(want), "file refused: redis_password_file: %s:", loose);
    if (strncmp(r.log, want, strlen(want)) != 0)
        fail_msg("log \"%s\", want it to start with \"%s\"", r.log, want);

    conf("one_time = yes\nstore = redis://localhost:6379\n");
    (void)snprintf(want, sizeof(want),
                   "config error: %s:5: bad value for \"store\": must be local, or redis:// host "
                   "must be numeric (IPv4, or [IPv6]): names are not looked up",
                   pt_path(env.dir, "cur.conf"));
    expect("alice", tok, PAM_SERVICE_ERR, want);
    conf("store = local\nredis_password_file = %s\n", password_file);
    expect("alice", tok, PAM_SERVICE_ERR,
           "config error: redis_password_file is set, but store is not a Redis server");
    free(tok);
}

/* ---- many uses of one token at once ---- */

struct use {
    const char *token;
    pthread_barrier_t *start;
    struct pt_run r;
};

static void *use_token(void *arg)
{
    struct use *u = arg;

    (void)pthread_barrier_wait(u->start);
    pt_run_ex("pk", "alice", u->token, false, PT_NO_CAPTURE, &u->r);
    return NULL;
}

/* CONCURRENT threads, each its own login with the same token, released
 * together: exactly one succeeds, every other is refused as used, with one
 * decision line each. */
static void concurrent_uses(const char *store_name)
{
    const char *cache = fresh_cache(store_name);
    const char *logfile = pt_path(env.dir, "ot-concurrent.log");
    static struct use uses[CONCURRENT];
    pthread_t th[CONCURRENT];
    pthread_barrier_t start;
    char jti[64];
    char m[9];
    char used_line[128];
    char *tok;
    char *log;
    int ok = 0, used = 0, saved;
    FILE *capture;

    if (strcmp(store_name, "local") == 0)
        conf("one_time = yes\ncache_dir = %s\ntimeout = 30\n", cache);
    else
        conf_redis(cache, redis_url, "timeout = 30\n");
    tok = alice_token(new_jti(jti));
    mark8("", jti, m);
    (void)snprintf(used_line, sizeof(used_line),
                   ": rejected jwt for user=alice: token already used (mark=%s)\n", m);

    capture = fopen(logfile, "w+");
    assert_non_null(capture);
    fflush(stderr);
    saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
    assert_int_equal(pthread_barrier_init(&start, NULL, CONCURRENT), 0);
    for (int i = 0; i < CONCURRENT; i++) {
        uses[i].token = tok;
        uses[i].start = &start;
        assert_int_equal(pthread_create(&th[i], NULL, use_token, &uses[i]), 0);
    }
    for (int i = 0; i < CONCURRENT; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    (void)pthread_barrier_destroy(&start);
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    fclose(capture);

    for (int i = 0; i < CONCURRENT; i++) {
        ok += uses[i].r.auth_rv == PAM_SUCCESS;
        used += uses[i].r.auth_rv == PAM_AUTH_ERR;
    }
    log = pt_slurp(logfile);
    print_message("  %s: %d of %d succeeded, %d refused; log: %zu accepted, %zu used\n", store_name,
                  ok, CONCURRENT, used, pt_count_of(log, ": " ACCEPTED_ALICE "\n"),
                  pt_count_of(log, used_line));
    assert_int_equal(ok, 1);
    assert_int_equal(used, CONCURRENT - 1);
    assert_int_equal(pt_count_of(log, ": " ACCEPTED_ALICE "\n"), 1);
    assert_int_equal(pt_count_of(log, used_line), CONCURRENT - 1);
    assert_int_equal(pt_count_of(log, "SYSLOG("), CONCURRENT);
    free(log);
    free(tok);
}

static void concurrent_uses_local(void **state)
{
    (void)state;
    concurrent_uses("local");
}

static void concurrent_uses_redis(void **state)
{
    (void)state;
    concurrent_uses("redis");
}

static int setup(void **state)
{
    (void)state;
    if (!pt_env_load(&env, PT_NEED_KEYS))
        return -1;
    pt_write_file(pt_path(env.dir, "ot.users"),
                  "3095134389 alice\n3095134389 deploy\n1122334455 bob\n", 0644);
    (void)snprintf(password_file, sizeof(password_file), "%s/ot-redis.pw", env.dir);
    pt_write_file(password_file, REDIS_PASSWORD "\n", 0600);
    if (!pk_test_redis_start(&redis, REDIS_PASSWORD)) {
        pk_test_redis_stop(&redis);
        fprintf(stderr, "cannot start redis-server (apt-get install redis-server)\n");
        return -1;
    }
    (void)snprintf(redis_url, sizeof(redis_url), "redis://127.0.0.1:%u", redis.port);
    (void)snprintf(redis_unix_url, sizeof(redis_unix_url), "unix:%s", redis.sock);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pk_test_redis_stop(&redis);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_time_off_never_touches_the_store), /* first: hiredis_loaded */
        cmocka_unit_test(same_token_twice_local),
        cmocka_unit_test(jti_required),
        cmocka_unit_test(refused_token_keeps_its_mark),
        cmocka_unit_test(two_hosts_share_redis),
        cmocka_unit_test(redis_faults_fail_closed),
        cmocka_unit_test(store_settings_checked),
        cmocka_unit_test(concurrent_uses_local),
        cmocka_unit_test(concurrent_uses_redis),
    };

    return cmocka_run_group_tests_name("pam_one_time", tests, setup, teardown);
}
