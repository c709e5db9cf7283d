/* The relay kind through the real module under pam_wrapper, against a real
 * kakao-pam-relay (behind tests/pam/relay_helper.py's front, which also plays
 * the phone: it presses the button and logs in at the mock Kakao, and can
 * answer 500, answer late, or replay an earlier assertion). Each case asserts
 * the PAM result and the exact decision line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <libgen.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "answer_conv.h"
#include "pamtest_util.h"

extern char **environ;

static struct pt_env env;
static FILE *to_helper, *from_helper;
static pid_t helper_pid;
static long front_port;
static char relay_pub[PATH_MAX];
static const char *run_rhost; /* PAM_RHOST for the next run, NULL: unset */

/* One command to the helper, its one-line answer into out. */
static void helper(const char *cmd, char *out, size_t len)
{
    assert_true(fprintf(to_helper, "%s\n", cmd) > 0);
    assert_int_equal(fflush(to_helper), 0);
    if (fgets(out, (int)len, from_helper) == NULL)
        fail_msg("relay helper gone after \"%s\"", cmd);
    out[strcspn(out, "\n")] = '\0';
}

/* ---- a conversation that reads the URL and plays the user ---- */

struct relay_conv {
    const char *const *answers; /* "@CODE", "@WRONG", or literal text */
    int n, next;
    bool fail;     /* answer the first prompt PAM_CONV_ERR */
    char code[16]; /* the code the phone showed, once approved */
    char prompt[1024];
    int prompts, echo_on;
    char info[8192]; /* the last PAM_TEXT_INFO */
    int infos;       /* how many */
    int info_at;     /* prompts seen when the last info came */
};

static void answer_for(struct relay_conv *c, const char *spec, char *out, size_t len)
{
    if (strcmp(spec, "@CODE") == 0 || strcmp(spec, "@WRONG") == 0) {
        if (c->code[0] == '\0') {
            char cmd[1200], ans[128];
            const char *url = strstr(c->prompt, "https://");
            assert_non_null(url);
            (void)snprintf(cmd, sizeof(cmd), "approve %.*s", (int)strcspn(url, " "), url);
            helper(cmd, ans, sizeof(ans));
            if (strncmp(ans, "code ", 5) != 0)
                fail_msg("approve: %s", ans);
            (void)snprintf(c->code, sizeof(c->code), "%.6s", ans + 5);
        }
        if (spec[1] == 'W')
            (void)snprintf(out, len, "%06ld", (atol(c->code) + 1) % 1000000);
        else /* typed with a space, as the page groups it */
            (void)snprintf(out, len, "%.3s %s", c->code, c->code + 3);
        return;
    }
    (void)snprintf(out, len, "%s", spec);
}

static int relay_answer(void *data, const struct pam_message *msg, char *buf, size_t len,
                        const char **answer)
{
    struct relay_conv *c = data;

    if (msg->msg_style == PAM_TEXT_INFO) {
        c->infos++;
        c->info_at = c->prompts;
        (void)snprintf(c->info, sizeof(c->info), "%s", msg->msg);
    }
    if (msg->msg_style != PAM_PROMPT_ECHO_OFF && msg->msg_style != PAM_PROMPT_ECHO_ON)
        return PAM_SUCCESS;
    c->prompts++;
    c->echo_on += msg->msg_style == PAM_PROMPT_ECHO_ON;
    (void)snprintf(c->prompt, sizeof(c->prompt), "%s", msg->msg);
    if (c->fail || c->next >= c->n)
        return PAM_CONV_ERR;
    answer_for(c, c->answers[c->next++], buf, len);
    *answer = buf;
    return PAM_SUCCESS;
}

static int conv_fn(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    return ac_converse(n, msg, resp, relay_answer, data);
}

struct result {
    int rv;
    char log[PT_LOG_MAX], all_log[PT_LOG_MAX];
    char kakao_id[64];
    double elapsed;
};

/* pt_run's capture of pam_wrapper's syslog lines, with our conversation. */
static void run(const char *user, struct relay_conv *c, struct result *r)
{
    struct pam_conv pc = {conv_fn, c};
    pam_handle_t *ph = NULL;
    FILE *cap = tmpfile();
    int saved = dup(STDERR_FILENO);
    char line[8192];
    struct timespec t0, t1;

    memset(r, 0, sizeof(*r));
    r->rv = -1;
    assert_non_null(cap);
    assert_true(saved >= 0);
    fflush(stderr);
    assert_true(dup2(fileno(cap), STDERR_FILENO) >= 0);
    (void)clock_gettime(CLOCK_MONOTONIC, &t0);
    if (pam_start("pk", user, &pc, &ph) == PAM_SUCCESS) {
        const char *id;
        if (run_rhost != NULL)
            assert_int_equal(pam_set_item(ph, PAM_RHOST, run_rhost), PAM_SUCCESS);
        r->rv = pam_authenticate(ph, 0);
        id = pam_getenv(ph, "KAKAO_ID");
        (void)snprintf(r->kakao_id, sizeof(r->kakao_id), "%s", id != NULL ? id : "");
        (void)pam_end(ph, r->rv);
    }
    (void)clock_gettime(CLOCK_MONOTONIC, &t1);
    r->elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fflush(stderr);
    (void)dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(cap);
    while (fgets(line, sizeof(line), cap) != NULL) {
        char *p = strstr(line, "SYSLOG(");
        if (p == NULL || (p = strstr(p, "): ")) == NULL)
            continue;
        p += 3;
        p[strcspn(p, "\n")] = '\0';
        (void)snprintf(r->log, sizeof(r->log), "%s", p);
        size_t used = strlen(r->all_log);
        (void)snprintf(r->all_log + used, sizeof(r->all_log) - used, "%s\n", p);
    }
    fclose(cap);
}

#define ANSWERS(...)                                                                               \
    .answers = ((const char *const[]){__VA_ARGS__}),                                               \
    .n = (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* timeout = 30: the relay cases are about its answers, which come at once;
 * 30 s keep a TLS handshake slowed by valgrind or a loaded machine from
 * being taken for a relay that does not answer (relay_5xx_and_slow writes
 * its own short timeout). */
static void conf_relay(long port, const char *extra)
{
    char text[8192];
    (void)snprintf(text, sizeof(text),
                   "user_map = %s\nrelay_url = https://127.0.0.1:%ld\nrelay_key = %s\n"
                   "ca_file = %s\ntimeout = 30\n%s",
                   pt_path(env.dir, "relay.users"), port, relay_pub, env.mock_ca, extra);
    pt_write_file(pt_path(env.dir, "cur.conf"), text, 0644);
}

static void expect(struct result *r, int rv, const char *log)
{
    if (r->rv != rv || strcmp(r->log, log) != 0)
        fail_msg("got %d \"%s\", want %d \"%s\"\nall:\n%s", r->rv, r->log, rv, log, r->all_log);
}

static const char *const PROMPT_HEAD = "Approve this login at https://127.0.0.1:";
static const char *const PROMPT_TAIL = " with Kakao, then enter the code: ";

static void approved(void **state)
{
    struct relay_conv c = {ANSWERS("@CODE")};
    struct result r;
    char want[256];
    (void)state;
    conf_relay(front_port, "");
    run("alice", &c, &r);
    expect(&r, PAM_SUCCESS, "accepted relay kakao_id=3095134389 user=alice");
    assert_string_equal(r.kakao_id, "3095134389");
    assert_int_equal(c.prompts, 1);
    assert_int_equal(c.echo_on, 1); /* relay is the only kind */
    (void)snprintf(want, sizeof(want), "%s%ld/a/", PROMPT_HEAD, front_port);
    assert_true(strncmp(c.prompt, want, strlen(want)) == 0);
    assert_string_equal(c.prompt + strlen(c.prompt) - strlen(PROMPT_TAIL), PROMPT_TAIL);
}

/* relay_qr = yes: one PAM_TEXT_INFO right before the first prompt, the URL
 * drawn in the four half-block characters only (no escape sequence), lines
 * no wider than 80 columns; the login then goes on as without it. Without
 * relay_qr no info message at all. */
static void qr_shown(void **state)
{
    struct relay_conv c = {ANSWERS("@CODE")};
    struct relay_conv plain = {ANSWERS("@CODE")};
    struct result r;
    const char *p;
    int lines = 1, cols = 0;
    (void)state;
    conf_relay(front_port, "relay_qr = yes\n");
    run("alice", &c, &r);
    expect(&r, PAM_SUCCESS, "accepted relay kakao_id=3095134389 user=alice");
    assert_int_equal(c.infos, 1);
    assert_int_equal(c.info_at, 0); /* before the prompt */
    assert_int_equal(c.prompts, 1);
    /* An empty first line: the OpenSSH client prefixes the text with "(user@host) ". */
    assert_int_equal(c.info[0], '\n');
    for (p = c.info; *p != '\0';) {
        if (*p == '\n') {
            assert_true(cols <= 80);
            lines++;
            cols = 0;
            p++;
        } else if (*p == ' ') {
            cols++;
            p++;
        } else if (strncmp(p, "\u2580", 3) == 0 || strncmp(p, "\u2584", 3) == 0 ||
                   strncmp(p, "\u2588", 3) == 0) {
            cols++;
            p += 3;
        } else {
            fail_msg("unexpected byte 0x%02x in the QR text", (unsigned char)*p);
        }
    }
    assert_true(cols <= 80);
    assert_true(lines >= 10 && lines <= 24);
    assert_true(c.info[strlen(c.info) - 1] != '\n'); /* the application adds its own */

    conf_relay(front_port, "");
    run("alice", &plain, &r);
    expect(&r, PAM_SUCCESS, "accepted relay kakao_id=3095134389 user=alice");
    assert_int_equal(plain.infos, 0);
}

/* PAM_RHOST goes to the relay as it is; one the relay would refuse (not
 * printable ASCII) is refused before the call, as an outage, not as out of
 * memory. */
static void rhost_sent(void **state)
{
    struct relay_conv c = {ANSWERS("@CODE")};
    struct relay_conv c2 = {ANSWERS("@CODE")};
    struct result r;
    (void)state;
    conf_relay(front_port, "");
    run_rhost = "203.0.113.5";
    run("alice", &c, &r);
    expect(&r, PAM_SUCCESS, "accepted relay kakao_id=3095134389 user=alice");
    run_rhost = "203.0.113.5\x01";
    run("alice", &c2, &r);
    run_rhost = NULL;
    expect(&r, PAM_AUTHINFO_UNAVAIL,
           "relay unavailable for user=alice: user, service, host or rhost is not printable "
           "ASCII");
    assert_int_equal(c2.prompts, 0);
}

static void custom_prompt(void **state)
{
    struct relay_conv c = {ANSWERS("@CODE")};
    struct result r;
    (void)state;
    conf_relay(front_port, "relay_prompt = \"100%% sure? Open %u then type the code: \"\n");
    run("alice", &c, &r);
    expect(&r, PAM_SUCCESS, "accepted relay kakao_id=3095134389 user=alice");
    assert_true(strncmp(c.prompt, "100% sure? Open https://127.0.0.1:", 34) == 0);
    assert_string_equal(c.prompt + strlen(c.prompt) - 21, " then type the code: ");
}

static void unmapped_kakao_user(void **state)
{
    struct relay_conv c = {ANSWERS("@CODE")};
    struct result r;
    (void)state;
    conf_relay(front_port, "");
    run("carol", &c, &r);
    expect(&r, PAM_AUTH_ERR,
           "rejected relay for user=carol: kakao_id not mapped to this user "
           "(kakao_id=3095134389)");
    assert_string_equal(r.kakao_id, "");
}

static void wrong_then_right(void **state)
{
    struct relay_conv c = {ANSWERS("@WRONG", "@CODE")};
    struct result r;
    (void)state;
    conf_relay(front_port, "");
    run("alice", &c, &r);
    expect(&r, PAM_SUCCESS, "accepted relay kakao_id=3095134389 user=alice");
    assert_int_equal(c.prompts, 2);
    assert_non_null(strstr(r.all_log, "wrong relay code for user=alice (attempts_left=2); "
                                      "asking again\n"));
}

static void wrong_until_dead(void **state)
{
    struct relay_conv c = {ANSWERS("@WRONG", "@WRONG", "@WRONG", "@CODE")};
    struct result r;
    (void)state;
    conf_relay(front_port, "");
    run("alice", &c, &r);
    expect(&r, PAM_AUTH_ERR, "rejected relay for user=alice: wrong code (attempts_left=0)");
    assert_int_equal(c.prompts, 3);
}

static void not_approved(void **state)
{
    struct relay_conv c = {ANSWERS("481205")};
    struct result r;
    (void)state;
    conf_relay(front_port, "");
    run("alice", &c, &r);
    expect(&r, PAM_AUTH_ERR, "rejected relay for user=alice: not approved");
}

static void relay_down_alone(void **state)
{
    struct relay_conv c = {ANSWERS("481205")};
    struct result r;
    (void)state;
    conf_relay(env.port_closed, "");
    run("alice", &c, &r);
    assert_int_equal(r.rv, PAM_AUTHINFO_UNAVAIL);
    assert_true(strncmp(r.log, "relay unavailable for user=alice: connect: \"", 44) == 0);
    assert_int_equal(c.prompts, 0);
}

static void relay_down_with_jwt(void **state)
{
    char extra[512];
    struct relay_conv c = {ANSWERS("not-a-token")};
    struct result r;
    (void)state;
    (void)snprintf(extra, sizeof(extra), "jwt_key = %s\njwt_alg = HS256\n",
                   pt_path(env.keys, "hs256.key"));
    conf_relay(env.port_closed, extra);
    run("alice", &c, &r);
    expect(&r, PAM_AUTH_ERR,
           "rejected token for user=alice: malformed token (11 bytes, neither a JWT nor a Kakao "
           "access token)");
    assert_string_equal(c.prompt, "Kakao token: ");
    assert_int_equal(c.echo_on, 0);
    assert_non_null(strstr(r.all_log, "relay unavailable for user=alice: connect: \""));
    assert_non_null(strstr(r.all_log, "; asking for a token instead\n"));
}

static void relay_5xx_and_slow(void **state)
{
    struct relay_conv c = {ANSWERS("481205")};
    struct relay_conv c2 = {ANSWERS("481205")};
    struct result r;
    char ans[64];
    (void)state;
    helper("mode 500", ans, sizeof(ans));
    conf_relay(front_port, "");
    run("alice", &c, &r);
    expect(&r, PAM_AUTHINFO_UNAVAIL,
           "relay unavailable for user=alice: session request answered HTTP 500");
    assert_int_equal(c.prompts, 0);
    helper("mode slow", ans, sizeof(ans));
    conf_relay(front_port, "timeout = 1\n");
    /* timeout given twice in the file would be an error: rewrite without 30 */
    {
        char text[8192];
        (void)snprintf(text, sizeof(text),
                       "user_map = %s\nrelay_url = https://127.0.0.1:%ld\nrelay_key = %s\n"
                       "ca_file = %s\ntimeout = 1\n",
                       pt_path(env.dir, "relay.users"), front_port, relay_pub, env.mock_ca);
        pt_write_file(pt_path(env.dir, "cur.conf"), text, 0644);
    }
    run("alice", &c2, &r);
    helper("mode pass", ans, sizeof(ans));
    expect(&r, PAM_AUTHINFO_UNAVAIL, "relay unavailable for user=alice: timeout after 1 s");
    /* Bounded by the timeout, not by the front's answer 8 s later: 5 s past
     * the timeout, which a loaded CI machine (or an ASan build, which gets
     * no PK_TEST_TIME_SLACK) cannot use up, and still short of 8 s. */
    assert_true(r.elapsed < 1.0 + 5.0 + pt_time_slack());
}

static void routing_two_kinds(void **state)
{
    char extra[512];
    struct relay_conv c = {ANSWERS("@CODE")};
    struct relay_conv c2 = {ANSWERS("aaaa.bbbb.cccc")};
    struct result r;
    (void)state;
    (void)snprintf(extra, sizeof(extra), "jwt_key = %s\njwt_alg = HS256\n",
                   pt_path(env.keys, "hs256.key"));
    conf_relay(front_port, extra);
    run("alice", &c, &r);
    expect(&r, PAM_SUCCESS, "accepted relay kakao_id=3095134389 user=alice");
    assert_int_equal(c.echo_on, 0); /* a token may be typed at this prompt */
    run("alice", &c2, &r);
    assert_int_equal(r.rv, PAM_AUTH_ERR);
    assert_true(strncmp(r.log, "rejected jwt for user=alice: ", 29) == 0);
}

static void non_interactive(void **state)
{
    struct relay_conv c = {ANSWERS("@CODE")};
    struct result r;
    (void)state;
    c.fail = true;
    conf_relay(front_port, "");
    run("alice", &c, &r);
    expect(&r, PAM_CONV_ERR,
           "conversation failed for user=alice: Conversation error (no one answered the relay "
           "prompt)");
}

static void prompt_unmapped_gets_a_session(void **state)
{
    struct relay_conv c = {ANSWERS("481205")};
    struct result r;
    char want[256];
    (void)state;
    conf_relay(front_port, "prompt_unmapped = yes\n");
    run("nobody", &c, &r);
    expect(&r, PAM_USER_UNKNOWN, "no user map entry for user=nobody");
    (void)snprintf(want, sizeof(want), "%s%ld/a/", PROMPT_HEAD, front_port);
    assert_true(strncmp(c.prompt, want, strlen(want)) == 0);
}

/* The answer of an earlier session's redeem, fed to this one: the nonce
 * (the session id) differs, whatever else is right. */
static void replayed_assertion(void **state)
{
    struct relay_conv c = {ANSWERS("481205")};
    struct result r;
    char host[256], cmd[320], ans[128];
    (void)state;
    assert_int_equal(gethostname(host, sizeof(host)), 0);
    (void)snprintf(cmd, sizeof(cmd), "replay %s alice", host);
    helper(cmd, ans, sizeof(ans));
    assert_string_equal(ans, "ok");
    conf_relay(front_port, "");
    run("alice", &c, &r);
    helper("mode pass", ans, sizeof(ans));
    expect(&r, PAM_AUTH_ERR,
           "rejected relay for user=alice: wrong nonce (the assertion is for another session)");
}

static int group_setup(void **state)
{
    char exe[PATH_MAX], top[PATH_MAX], relay[PATH_MAX + 32], script[PATH_MAX + 32];
    char work[PATH_MAX], line[PATH_MAX + 64];
    int in[2], out[2];
    posix_spawn_file_actions_t fa;
    ssize_t n;
    (void)state;

    if (!pt_env_load(&env, PT_NEED_KEYS | PT_NEED_MOCK | PT_NEED_FAULTS))
        return -1;
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    /* BUILD/tests/pam_relay: BUILD/kakao-pam-relay, and the sources above BUILD */
    (void)snprintf(top, sizeof(top), "%s", dirname(dirname(exe)));
    (void)snprintf(relay, sizeof(relay), "%s/kakao-pam-relay", top);
    (void)snprintf(script, sizeof(script), "%s/../tests/pam/relay_helper.py", top);
    (void)snprintf(work, sizeof(work), "%s", pt_path(env.dir, "pam_relay"));
    pt_write_file(pt_path(env.dir, "relay.users"), "3095134389 alice\n1122334455 carol\n", 0644);
    if (pipe(in) != 0 || pipe(out) != 0 || posix_spawn_file_actions_init(&fa) != 0 ||
        posix_spawn_file_actions_adddup2(&fa, in[0], 0) != 0 ||
        posix_spawn_file_actions_adddup2(&fa, out[1], 1) != 0 ||
        posix_spawn_file_actions_addclose(&fa, in[1]) != 0 ||
        posix_spawn_file_actions_addclose(&fa, out[0]) != 0)
        return -1;
    {
        char *argv[] = {"python3", script, relay, work, NULL};
        /* Not under pam_wrapper: the helper and the relay are ordinary programs. */
        char *clean[64];
        int k = 0;
        for (char **e = environ; *e != NULL && k < 63; e++)
            if (strncmp(*e, "LD_PRELOAD=", 11) != 0)
                clean[k++] = *e;
        clean[k] = NULL;
        if (posix_spawnp(&helper_pid, "python3", &fa, NULL, argv, clean) != 0)
            return -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    to_helper = fdopen(in[1], "w");
    from_helper = fdopen(out[0], "r");
    if (to_helper == NULL || from_helper == NULL)
        return -1;
    /* Blocks until the relay logged that it listens: no sleep. */
    if (fgets(line, sizeof(line), from_helper) == NULL ||
        sscanf(line, "ready %ld %4095s", &front_port, relay_pub) != 2) {
        fprintf(stderr, "relay helper did not start: %s\n", line);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    int status;
    (void)state;
    if (to_helper != NULL)
        fclose(to_helper); /* EOF: the helper stops the relay and exits */
    if (from_helper != NULL)
        fclose(from_helper);
    if (helper_pid > 0)
        (void)waitpid(helper_pid, &status, 0);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(approved),
        cmocka_unit_test(custom_prompt),
        cmocka_unit_test(qr_shown),
        cmocka_unit_test(rhost_sent),
        cmocka_unit_test(unmapped_kakao_user),
        cmocka_unit_test(wrong_then_right),
        cmocka_unit_test(wrong_until_dead),
        cmocka_unit_test(not_approved),
        cmocka_unit_test(relay_down_alone),
        cmocka_unit_test(relay_down_with_jwt),
        cmocka_unit_test(relay_5xx_and_slow),
        cmocka_unit_test(routing_two_kinds),
        cmocka_unit_test(non_interactive),
        cmocka_unit_test(prompt_unmapped_gets_a_session),
        cmocka_unit_test(replayed_assertion),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
