/* PAM-level tests of the glue around the token: a PAM_AUTHTOK left by an
 * earlier module (use_first_pass, try_first_pass), prompt_unmapped, the
 * failure delay (nodelay), PAM_CONV_AGAIN and sshd's INCORRECT answer. The
 * real pam_kakao.so through libpam under pam_wrapper; every case asserts the
 * PAM result and the log lines. Run by tests/run.sh (services, keys, the
 * mock Kakao API and its request log). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pamtest_util.h"
#include "src/jwt_sign.h"

#define ALICE_KAKAO "mockValidAliceToken_0001"
#define BOB_KAKAO "mockValidBobToken_000002"
#define SSHD_BADPW "\b\n\r\177INCORRECT"

static struct pt_env env; /* what tests/run.sh's pamenv set */

/* cur.conf: the user map, an HS256 app-JWT key, Kakao access tokens against
 * the mock, the given lines, and timeout = 30 last (the mock answers at
 * once, and a TLS handshake slowed by valgrind or a loaded machine must not
 * run out the timeout). */
static void conf(const char *extra)
{
    char text[8192];

    (void)snprintf(text, sizeof(text),
                   "user_map = %s\njwt_key = %s\njwt_alg = HS256\nkakao_app_id = 1234567\n"
                   "kakao_api_url = https://127.0.0.1:%ld\nca_file = %s\n%stimeout = 30\n",
                   pt_path(env.dir, "intake.users"), pt_path(env.keys, "hs256.key"), env.port_main,
                   env.mock_ca, extra);
    pt_write_file(pt_path(env.dir, "cur.conf"), text, 0644);
}

static char *hs_token(long long id, long long exp_in)
{
    char payload[256], err[256] = "";
    FILE *f = fopen(pt_path(env.keys, "hs256.key"), "r");
    char key[4096];
    size_t n;
    char *tok;

    assert_non_null(f);
    n = fread(key, 1, sizeof(key), f);
    fclose(f);
    if (n > 0 && key[n - 1] == '\n')
        n--;
    (void)snprintf(payload, sizeof(payload), "{\"kakao_id\":%lld,\"iat\":%lld,\"exp\":%lld}", id,
                   (long long)time(NULL), (long long)time(NULL) + exp_in);
    tok = pk_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, PK_ALG_HS256,
                      (unsigned char *)key, n, err, sizeof(err));
    if (tok == NULL)
        fail_msg("pk_jwt_sign: %s", err);
    return tok;
}

/* ---- the mock's request log ---- */

static size_t requests(void)
{
    FILE *f = fopen(env.mock_log, "r");
    size_t n = 0;
    int c;

    if (f == NULL)
        return 0;
    while ((c = fgetc(f)) != EOF)
        if (c == '\n')
            n++;
    fclose(f);
    return n;
}

/* How many of the mock's requests after the first `since` carried `token`
 * as a bearer token. The log is shared with every test program of the run
 * (other programs send the same fixture tokens), so only requests made
 * since a count taken in this test say anything about this test. */
static size_t requests_with(const char *token, size_t since)
{
    char want[256], line[8192];
    FILE *f = fopen(env.mock_log, "r");
    size_t n = 0, seen = 0;

    if (f == NULL)
        return 0;
    (void)snprintf(want, sizeof(want), "Bearer %s\"", token);
    while (fgets(line, sizeof(line), f) != NULL)
        if (seen++ >= since && strstr(line, want) != NULL)
            n++;
    fclose(f);
    return n;
}

#define assert_rv(r, want)                                                                         \
    do {                                                                                           \
        if ((r)->auth_rv != (want))                                                                \
            fail_msg("rv %d (%s), want %d (%s); log:\n%s", (r)->auth_rv,                           \
                     pam_strerror(NULL, (r)->auth_rv), (want), pam_strerror(NULL, (want)),         \
                     (r)->all_log);                                                                \
    } while (0)

/* Sets PAM_AUTHTOK for pam_set_items (the earlier module), or unsets it. */
static void authtok(const char *value)
{
    if (value != NULL)
        assert_int_equal(setenv("PAM_AUTHTOK", value, 1), 0);
    else
        assert_int_equal(unsetenv("PAM_AUTHTOK"), 0);
}

/* ---- item 1: a PAM_AUTHTOK from another module is only a JWT ---- */

static void use_first_pass_password_never_sent(void **state)
{
    struct pt_run r;
    size_t before;
    char *good = hs_token(3095134389LL, 300);
    (void)state;

    conf("");
    /* The earlier module's "password" happens to be a valid Kakao access
     * token: it must still never reach Kakao. */
    authtok(ALICE_KAKAO);
    before = requests();
    pt_run("pk_use_first_set", "alice", good, false, &r);
    assert_rv(&r, PAM_AUTH_ERR);
    assert_int_equal(r.prompts, 0);
    assert_string_equal(r.all_log, "rejected token for user=alice: PAM_AUTHTOK is not a JWT");
    assert_int_equal(requests(), before);

    /* an ordinary password: the same, and its text is nowhere */
    authtok("correct horse battery staple");
    pt_run("pk_use_first_set", "alice", good, false, &r);
    assert_rv(&r, PAM_AUTH_ERR);
    assert_int_equal(r.prompts, 0);
    assert_string_equal(r.all_log, "rejected token for user=alice: PAM_AUTHTOK is not a JWT");
    assert_int_equal(requests(), before);

    /* a JWT in PAM_AUTHTOK is judged offline as usual */
    authtok(good);
    pt_run("pk_use_first_set", "alice", "never-asked", false, &r);
    assert_rv(&r, PAM_SUCCESS);
    assert_int_equal(r.prompts, 0);
    assert_string_equal(r.all_log, "accepted jwt kakao_id=3095134389 user=alice");
    pt_run("pk_use_first_set", "bob", "never-asked", false, &r);
    assert_rv(&r, PAM_AUTH_ERR);
    assert_string_equal(r.all_log, "rejected jwt for user=bob: kakao_id not mapped to this user "
                                   "(kakao_id=3095134389)");
    assert_int_equal(requests(), before);
    authtok(NULL);
    free(good);
}

static void try_first_pass_falls_back_to_the_prompt(void **state)
{
    struct pt_run r;
    size_t before;
    char *expired = hs_token(3095134389LL, -3600);
    char *good = hs_token(3095134389LL, 300);
    (void)state;

    conf("");
    /* a Kakao-token-shaped PAM_AUTHTOK: not sent, the prompt comes, and a
     * Kakao access token typed there is checked online as always */
    authtok(BOB_KAKAO);
    before = requests();
    pt_run("pk_try_first_set", "alice", ALICE_KAKAO, false, &r);
    assert_rv(&r, PAM_SUCCESS);
    assert_int_equal(r.prompts, 1);
    assert_string_equal(r.all_log, "accepted kakao kakao_id=3095134389 user=alice");
    assert_int_equal(requests(), before + 1);
    assert_int_equal(requests_with(BOB_KAKAO, before), 0);

    /* a JWT that fails (expired): the prompt; one decision line only */
    authtok(expired);
    pt_run("pk_try_first_set", "alice", good, false, &r);
    assert_rv(&r, PAM_SUCCESS);
    assert_int_equal(r.prompts, 1);
    assert_string_equal(r.all_log, "accepted jwt kakao_id=3095134389 user=alice");

    /* the prompted answer is refused on its own merits, still one line */
    pt_run("pk_try_first_set", "alice", expired, false, &r);
    assert_rv(&r, PAM_AUTH_ERR);
    assert_int_equal(r.prompts, 1);
    if (strncmp(r.all_log, "rejected jwt for user=alice: expired (exp=", 42) != 0 ||
        strchr(r.all_log, '\n') != NULL)
        fail_msg("want one expired line, got:\n%s", r.all_log);

    /* with debug, the fallen-through first attempt is named at debug level */
    conf("debug = yes\n");
    authtok("hunter2-hunter2-hunter2");
    pt_run("pk_try_first_set", "alice", good, false, &r);
    assert_rv(&r, PAM_SUCCESS);
    assert_int_equal(r.prompts, 1);
    assert_string_equal(r.all_log,
                        "try_first_pass: PAM_AUTHTOK not used (rejected token for user=alice: "
                        "PAM_AUTHTOK is not a JWT); asking\n"
                        "accepted jwt kakao_id=3095134389 user=alice");
    /* a good JWT in PAM_AUTHTOK: no prompt */
    conf("");
    authtok(good);
    pt_run("pk_try_first_set", "alice", "never-asked", false, &r);
    assert_rv(&r, PAM_SUCCESS);
    assert_int_equal(r.prompts, 0);
    assert_string_equal(r.all_log, "accepted jwt kakao_id=3095134389 user=alice");
    assert_int_equal(requests_with(BOB_KAKAO, before), 0);
    authtok(NULL);
    free(expired);
    free(good);
}

/* ---- item 2: prompt_unmapped ---- */

static void prompt_unmapped(void **state)
{
    struct pt_run r;
    size_t before;
    char *good = hs_token(3095134389LL, 300);
    (void)state;

    authtok(NULL);
    before = requests();
    /* default: no prompt */
    conf("");
    pt_run("pk", "carol", ALICE_KAKAO, false, &r);
    assert_rv(&r, PAM_USER_UNKNOWN);
    assert_int_equal(r.prompts, 0);
    assert_string_equal(r.all_log, "no user map entry for user=carol");
    conf("prompt_unmapped = no\n");
    pt_run("pk", "carol", ALICE_KAKAO, false, &r);
    assert_rv(&r, PAM_USER_UNKNOWN);
    assert_int_equal(r.prompts, 0);

    /* yes: the same prompt as a mapped user gets; the answer (here a valid
     * Kakao token, and a valid JWT) is never checked */
    conf("prompt_unmapped = yes\nprompt = \"Token please: \"\n");
    pt_run("pk", "carol", ALICE_KAKAO, false, &r);
    assert_rv(&r, PAM_USER_UNKNOWN);
    assert_int_equal(r.prompts, 1);
    assert_string_equal(r.all_log, "no user map entry for user=carol");
    pt_run("pk", "carol", good, false, &r);
    assert_rv(&r, PAM_USER_UNKNOWN);
    assert_int_equal(r.prompts, 1);
    assert_string_equal(r.all_log, "no user map entry for user=carol");
    assert_int_equal(requests(), before);
    /* the conversation fails for carol exactly as for a mapped user */
    pt_run("pk", "carol", NULL, false, &r);
    assert_rv(&r, PAM_CONV_ERR);
    assert_int_equal(r.prompts, 1);
    assert_string_equal(r.log, "conversation failed for user=carol: Conversation error (note: "
                               "sudo refuses answers of 512 bytes or more)");
    /* mapped users are untouched */
    pt_run("pk", "alice", good, false, &r);
    assert_rv(&r, PAM_SUCCESS);
    assert_int_equal(r.prompts, 1);

    /* as a module argument */
    conf("");
    pt_run("pk_unmapped_arg", "carol", good, false, &r);
    assert_rv(&r, PAM_USER_UNKNOWN);
    assert_int_equal(r.prompts, 1);
    assert_string_equal(r.all_log, "no user map entry for user=carol");

    /* use_first_pass never prompts; try_first_pass prompts (as for a mapped
     * user whose PAM_AUTHTOK fails), whatever PAM_AUTHTOK holds */
    conf("prompt_unmapped = yes\n");
    authtok(good);
    pt_run("pk_use_first_set", "carol", good, false, &r);
    assert_rv(&r, PAM_USER_UNKNOWN);
    assert_int_equal(r.prompts, 0);
    assert_string_equal(r.all_log, "no user map entry for user=carol");
    pt_run("pk_try_first_set", "carol", good, false, &r);
    assert_rv(&r, PAM_USER_UNKNOWN);
    assert_int_equal(r.prompts, 1);
    assert_string_equal(r.all_log, "no user map entry for user=carol");
    authtok(NULL);
    pt_run("pk_use_first", "carol", good, false, &r);
    assert_rv(&r, PAM_USER_UNKNOWN);
    assert_int_equal(r.prompts, 0);
    assert_int_equal(requests(), before);
    free(good);
}

/* ---- item 3: failure delay, nodelay, PAM_CONV_AGAIN ---- */

static void fail_delay_requested(void **state)
{
    struct pt_run r;
    char *good = hs_token(3095134389LL, 300);
    (void)state;

    conf("");
    /* libpam hands our PAM_FAIL_DELAY function the delay it computed from
     * the 2 s the module asked for: Linux-PAM's _pam_compute_delay scales it
     * by 1 + (the mean of three uniform draws in [0, 1)) - 0.5, so anywhere
     * in [1 s, 3 s), most often near 2 s */
    pt_run_ex("pk_delay", "alice", "not-a-token", false, PT_RECORD_DELAY, &r);
    assert_rv(&r, PAM_AUTH_ERR);
    assert_int_equal(r.delay_calls, 1);
    printf("failure delay requested: %u usec\n", r.delay_usec);
    if (r.delay_usec < 1000000 || r.delay_usec >= 3000000)
        fail_msg("delay %u usec, want 1-3 s", r.delay_usec);
    assert_string_equal(r.log, "rejected token for user=alice: malformed token "
                               "(11 bytes, neither a JWT nor a Kakao access token)");
    /* asked before the config is read: a broken config is delayed too */
    conf("frob = 1\n");
    pt_run_ex("pk_delay", "alice", good, false, PT_RECORD_DELAY, &r);
    assert_rv(&r, PAM_SERVICE_ERR);
    assert_int_equal(r.delay_calls, 1);
    if (r.delay_usec < 1000000 || r.delay_usec >= 3000000)
        fail_msg("delay %u usec, want 1-3 s", r.delay_usec);

    /* nodelay: nothing asked, libpam hands 0 */
    conf("");
    pt_run_ex("pk", "alice", "not-a-token", false, PT_RECORD_DELAY, &r);
    assert_rv(&r, PAM_AUTH_ERR);
    assert_int_equal(r.delay_calls, 1);
    assert_int_equal(r.delay_usec, 0);
    /* without our function libpam would really sleep: nodelay runs fast */
    pt_run("pk", "alice", "not-a-token", false, &r);
    assert_rv(&r, PAM_AUTH_ERR);
    if (r.elapsed > 1.0)
        fail_msg("nodelay refusal took %.3f s", r.elapsed);

    /* nodelay is an argument, given once, and no config key */
    pt_run("pk_nodelay_twice", "alice", good, false, &r);
    assert_rv(&r, PAM_SERVICE_ERR);
    assert_string_equal(r.log, "config error: argument: option \"nodelay\" given twice");
    conf("nodelay = yes\n");
    pt_run("pk", "alice", good, false, &r);
    assert_rv(&r, PAM_SERVICE_ERR);
    {
        char want[1200];
        (void)snprintf(want, sizeof(want), "config error: %s:7: unknown key \"nodelay\"",
                       pt_path(env.dir, "cur.conf"));
        assert_string_equal(r.log, want);
    }
    free(good);
}

static void conv_again_is_incomplete(void **state)
{
    struct pt_run r;
    char *good = hs_token(3095134389LL, 300);
    (void)state;

    conf("");
    pt_run_ex("pk", "alice", good, true, PT_CONV_AGAIN, &r);
    assert_int_equal(r.first_rv, PAM_INCOMPLETE);
    /* the application calls again: libpam resumes at the module, which asks
     * again, and the answer is judged */
    assert_rv(&r, PAM_SUCCESS);
    assert_int_equal(r.acct_rv, PAM_SUCCESS);
    assert_int_equal(r.prompts, 2);
    /* libpam's own "conversation failed" line, our one line for the
     * incomplete round, then the decision */
    assert_string_equal(r.all_log,
                        "conversation failed\n"
                        "authentication incomplete for user=alice: the conversation answered "
                        "PAM_CONV_AGAIN (the application may call again)\n"
                        "accepted jwt kakao_id=3095134389 user=alice");
    /* no failure delay for PAM_INCOMPLETE (libpam applies it only at the end) */
    pt_run_ex("pk_delay", "alice", good, false, PT_CONV_AGAIN | PT_RECORD_DELAY, &r);
    assert_int_equal(r.first_rv, PAM_INCOMPLETE);
    assert_rv(&r, PAM_SUCCESS);

    /* prompt_unmapped: the same for a user with no map line */
    conf("prompt_unmapped = yes\n");
    pt_run_ex("pk", "carol", good, false, PT_CONV_AGAIN, &r);
    assert_int_equal(r.first_rv, PAM_INCOMPLETE);
    assert_rv(&r, PAM_USER_UNKNOWN);
    assert_int_equal(r.prompts, 2);
    assert_string_equal(r.log, "no user map entry for user=carol");
    free(good);
}

/* ---- item 4: sshd's answer for users it will not let in ---- */

static void sshd_incorrect(void **state)
{
    struct pt_run r;
    size_t before = requests();
    (void)state;

    conf("");
    pt_run("pk", "alice", SSHD_BADPW, false, &r);
    assert_rv(&r, PAM_AUTH_ERR);
    assert_int_equal(r.prompts, 1);
    assert_string_equal(r.all_log, "rejected token for user=alice: sshd refused the user "
                                   "(invalid or not allowed; sent its INCORRECT password)");
    assert_string_equal(r.errors, "");
    /* what sshd really sends: the bytes repeated or cut to the length of
     * what the user typed (auth.c fake_password()); no length hint either */
    pt_run("pk", "alice", SSHD_BADPW SSHD_BADPW "\b\n\r", false, &r);
    assert_rv(&r, PAM_AUTH_ERR);
    assert_string_equal(r.all_log, "rejected token for user=alice: sshd refused the user "
                                   "(invalid or not allowed; sent its INCORRECT password)");
    pt_run("pk", "alice", "\b\n\r\177INCOR", false, &r);
    assert_rv(&r, PAM_AUTH_ERR);
    assert_string_equal(r.all_log, "rejected token for user=alice: sshd refused the user "
                                   "(invalid or not allowed; sent its INCORRECT password)");
    {
        char cut[1024];
        for (size_t i = 0; i < 1023; i++)
            cut[i] = SSHD_BADPW[i % 13];
        cut[1023] = '\0';
        pt_run("pk", "alice", cut, false, &r);
        assert_rv(&r, PAM_AUTH_ERR);
        assert_string_equal(r.all_log, "rejected token for user=alice: sshd refused the user "
                                       "(invalid or not allowed; sent its INCORRECT password)");
        assert_string_equal(r.errors, "");
    }
    /* anything else with those bytes is an ordinary bad byte */
    pt_run("pk", "alice", SSHD_BADPW "x", false, &r);
    assert_rv(&r, PAM_AUTH_ERR);
    assert_string_equal(r.log, "rejected token for user=alice: token has bytes outside printable "
                               "ASCII (byte 0x08 at offset 0)");
    assert_int_equal(requests(), before);
}

static int setup(void **state)
{

    (void)state;
    if (!pt_env_load(&env, PT_NEED_KEYS | PT_NEED_MOCK))
        return -1;
    pt_write_file(pt_path(env.dir, "intake.users"),
                  "# kakao_id     local_user\n"
                  "3095134389     alice\n"
                  "1122334455     bob\n",
                  0644);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(use_first_pass_password_never_sent),
        cmocka_unit_test(try_first_pass_falls_back_to_the_prompt),
        cmocka_unit_test(prompt_unmapped),
        cmocka_unit_test(fail_delay_requested),
        cmocka_unit_test(conv_again_is_incomplete),
        cmocka_unit_test(sshd_incorrect),
    };
    return cmocka_run_group_tests_name("pam_intake", tests, setup, NULL);
}
