/* Concurrency: 200 authentications from 8 threads in one process,
 * each its own pam_start ... pam_end through libpam under pam_wrapper, the
 * app-JWT path and the Kakao path (against the mock Kakao API) mixed.
 * Every answer must be the right one (PAM result and KAKAO_ID), every
 * decision must have its one log line, and no file descriptor may be left
 * open (/proc/self/fd counted before and after, once every path has run
 * once, so that what a library opens for good is already open).
 *
 * Run by tests/run.sh with PK_TEST_DIR, PK_TEST_KEYS, PK_MOCK_PORT and
 * PK_MOCK_CA; service "pk" reads PK_TEST_DIR/cur.conf, written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "answer_conv.h"
#include "pamtest_util.h"
#include "src/jwt_sign.h"

#define THREADS 8
#define PER_THREAD 25
#define ALICE "3095134389"
#define BOB "1122334455"

struct kase {
    const char *name;
    const char *user;
    const char *token;
    int want;
    const char *kakao_id; /* expected KAKAO_ID, NULL: none */
};

struct outcome {
    int rv;
    int acct_rv;
    char kakao_id[32];
};

enum {
    JWT_ALICE,
    KAKAO_ALICE,
    JWT_BOB_AS_ALICE,
    KAKAO_BOB,
    JWT_EXPIRED,
    KAKAO_OTHER_APP,
    UNKNOWN_USER,
    JWT_BOB,
    CASES
};

static struct kase cases[CASES];
static struct outcome results[THREADS * PER_THREAD];
static char *minted[3];

static void authenticate(const struct kase *k, struct outcome *o)
{
    struct pam_conv pc = {ac_answer_conv, (void *)k->token};
    pam_handle_t *ph = NULL;
    const char *env;

    memset(o, 0, sizeof(*o));
    o->rv = o->acct_rv = -1;
    if (pam_start("pk", k->user, &pc, &ph) != PAM_SUCCESS)
        return;
    o->rv = pam_authenticate(ph, PAM_SILENT);
    if (o->rv == PAM_SUCCESS)
        o->acct_rv = pam_acct_mgmt(ph, PAM_SILENT);
    env = pam_getenv(ph, "KAKAO_ID");
    if (env != NULL)
        (void)snprintf(o->kakao_id, sizeof(o->kakao_id), "%s", env);
    (void)pam_end(ph, o->rv);
}

static void *worker(void *arg)
{
    int t = (int)(intptr_t)arg;

    for (int j = 0; j < PER_THREAD; j++) {
        int i = t * PER_THREAD + j;
        authenticate(&cases[(t + j) % CASES], &results[i]);
    }
    return NULL;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

static char *mint(const char *keys, const char *id, long ttl)
{
    char path[1024], claims[200], err[256];
    unsigned char key[256];
    size_t len;
    FILE *f;
    char *token;

    (void)snprintf(path, sizeof(path), "%s/hs256.key", keys);
    f = fopen(path, "rb");
    assert_non_null(f);
    len = fread(key, 1, sizeof(key), f);
    fclose(f);
    if (len > 0 && key[len - 1] == '\n')
        len--;
    (void)snprintf(claims, sizeof(claims), "{\"kakao_id\":%s,\"exp\":%lld}", id,
                   (long long)time(NULL) + ttl);
    token = pk_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, PK_ALG_HS256, key, len, err,
                        sizeof(err));
    assert_non_null(token);
    return token;
}

static int setup(void **state)
{
    struct pt_env env;
    char text[4096];

    (void)state;
    if (!pt_env_load(&env, PT_NEED_KEYS | PT_NEED_MOCK))
        return -1;
    pt_write_file(pt_path(env.dir, "threads.users"), ALICE " alice\n" BOB " bob\n", 0644);
    (void)snprintf(text, sizeof(text),
                   "user_map = %s/threads.users\n"
                   "jwt_key = %s/hs256.key\njwt_alg = HS256\n"
                   "kakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:%ld\n"
                   "ca_file = %s\ntimeout = 30\n",
                   env.dir, env.keys, env.port_main, env.mock_ca);
    pt_write_file(pt_path(env.dir, "cur.conf"), text, 0644);

    minted[0] = mint(env.keys, ALICE, 3600);
    minted[1] = mint(env.keys, BOB, 3600);
    minted[2] = mint(env.keys, ALICE, -3600);
    cases[JWT_ALICE] = (struct kase){"jwt alice", "alice", minted[0], PAM_SUCCESS, ALICE};
    cases[KAKAO_ALICE] =
        (struct kase){"kakao alice", "alice", "mockValidAliceToken_0001", PAM_SUCCESS, ALICE};
    cases[JWT_BOB_AS_ALICE] =
        (struct kase){"jwt bob as alice", "alice", minted[1], PAM_AUTH_ERR, NULL};
    cases[KAKAO_BOB] =
        (struct kase){"kakao bob", "bob", "mockValidBobToken_000002", PAM_SUCCESS, BOB};
    cases[JWT_EXPIRED] = (struct kase){"jwt expired", "alice", minted[2], PAM_AUTH_ERR, NULL};
    cases[KAKAO_OTHER_APP] =
        (struct kase){"kakao other app", "alice", "mockOtherAppToken_00003", PAM_AUTH_ERR, NULL};
    cases[UNKNOWN_USER] = (struct kase){"unknown user", "carol", minted[0], PAM_USER_UNKNOWN, NULL};
    cases[JWT_BOB] = (struct kase){"jwt bob", "bob", minted[1], PAM_SUCCESS, BOB};
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++)
        free(minted[i]);
    return 0;
}

/* Lines of the captured stderr that contain needle. */
static int count_lines(FILE *f, const char *needle)
{
    char line[8192];
    int n = 0;

    rewind(f);
    while (fgets(line, sizeof(line), f) != NULL)
        if (strstr(line, "SYSLOG(") != NULL && strstr(line, needle) != NULL)
            n++;
    return n;
}

static void test_200_authentications_from_8_threads(void **state)
{
    pthread_t th[THREADS];
    struct outcome warm;
    int fds_before, fds_after, wrong = 0, want_accepted = 0;
    FILE *capture;
    int saved;

    (void)state;
    /* Every path once first: libcurl is loaded for good on the first Kakao
     * call (RTLD_NODELETE), pam_wrapper and OpenSSL set themselves up. */
    for (int c = 0; c < CASES; c++) {
        authenticate(&cases[c], &warm);
        if (warm.rv != cases[c].want)
            fprintf(stderr, "warm-up %s: PAM result %d, expected %d\n", cases[c].name, warm.rv,
                    cases[c].want);
        assert_int_equal(warm.rv, cases[c].want);
    }

    capture = tmpfile();
    assert_non_null(capture);
    fflush(stderr);
    saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    fds_before = count_fds();
    assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);

    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);

    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    fds_after = count_fds();
    close(saved);

    for (int t = 0; t < THREADS; t++) {
        for (int j = 0; j < PER_THREAD; j++) {
            const struct kase *k = &cases[(t + j) % CASES];
            const struct outcome *o = &results[t * PER_THREAD + j];
            const char *want_id = k->kakao_id != NULL ? k->kakao_id : "";
            bool ok = o->rv == k->want && strcmp(o->kakao_id, want_id) == 0 &&
                      (k->want != PAM_SUCCESS || o->acct_rv == PAM_SUCCESS);
            want_accepted += k->want == PAM_SUCCESS;
            if (!ok) {
                wrong++;
                fprintf(stderr,
                        "thread %d, run %d (%s): PAM %d acct %d KAKAO_ID \"%s\"; "
                        "expected PAM %d KAKAO_ID \"%s\"\n",
                        t, j, k->name, o->rv, o->acct_rv, o->kakao_id, k->want, want_id);
            }
        }
    }
    printf("%d authentications from %d threads: %d wrong; log lines: %d accepted (expected %d), "
           "%d rejected, %d no map entry; fds %d before, %d after\n",
           THREADS * PER_THREAD, THREADS, wrong, count_lines(capture, ": accepted "), want_accepted,
           count_lines(capture, ": rejected "), count_lines(capture, ": no user map entry"),
           fds_before, fds_after);
    assert_int_equal(wrong, 0);
    assert_int_equal(count_lines(capture, ": accepted "), want_accepted);
    assert_int_equal(count_lines(capture, ": accepted ") + count_lines(capture, ": rejected ") +
                         count_lines(capture, ": no user map entry"),
                     THREADS * PER_THREAD);
    assert_int_equal(fds_after, fds_before);
    fclose(capture);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_200_authentications_from_8_threads),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
