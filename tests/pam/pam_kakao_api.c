/* PAM-level tests of the Kakao access-token path (docs/DESIGN.md §4.4, §5.1, §5.2): the
 * real pam_kakao.so through libpam under pam_wrapper, talking HTTPS to the
 * mock Kakao API (tests/mock/README.md). Every case asserts the PAM result
 * and the decision log line, and that the token is in no log line; network
 * faults also assert the time bound, and the mock's request log shows what
 * reached the network.
 *
 * Run by tests/run.sh, which sets PK_TEST_DIR, PK_TEST_KEYS and, from the
 * mock it started, PK_MOCK_PORT, PK_MOCK_ROGUE_PORT, PK_MOCK_HANG_PORT,
 * PK_MOCK_CLOSED_PORT, PK_MOCK_CA and PK_MOCK_LOG. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pamtest_util.h"
#include "src/jwt_sign.h"

#define ALICE 3095134389LL

/* Fixture tokens of tests/mock/mock_kakao.py. */
#define T_ALICE "mockValidAliceToken_0001"
#define T_BOB "mockValidBobToken_000002"
#define T_OTHER_APP "mockOtherAppToken_00003"
#define T_EXPIRED "mockExpiredToken_000004"
#define T_UNKNOWN "mockUnknownToken_000005"
#define T_NO_EMAIL "mockNoEmailToken_000006"
#define T_UNVERIFIED "mockUnverifiedEmail_0007"
#define T_INVALID_EMAIL "mockInvalidEmail_000008"
#define T_ZERO_ID "mockZeroId_00000000009"
#define T_NEG_ID "mockNegativeId_0000010"
#define T_STRING_ID "mockStringId_000000011"
#define T_NO_APP_ID "mockMissingAppId_00012"
#define T_ZERO_EXP "mockZeroExpiry_000013"
#define T_FLOAT_ID "mockFloatId_0000000014"
#define T_HANG "mockFaultHang_00000020"
#define T_DRIP "mockFaultDrip_00000021"
#define T_500 "mockFault500_000000022"
#define T_429 "mockFault429_000000023"
#define T_NOT_JSON "mockFaultNotJson_000024"
#define T_HUGE "mockFaultHuge_00000025"
#define T_REDIRECT "mockFaultRedirect_0026"
#define T_MAINT7 "mockFaultMaint7_000027"
#define T_MAINT9798 "mockFaultMaint9798_28"
#define T_FORBIDDEN "mockForbidden_0000029"
#define T_BAD_PARAM "mockBadParam_00000030"
#define T_NOT_LINKED "mockNotLinked_00000031"
#define T_EMPTY "mockEmpty200_0000032"
#define T_ARRAY "mockArrayBody_000033"
#define T_DUP_KEYS "mockDupKeys_000000034"
#define T_NEG_EXP "mockNegExpiry_0000035"
#define T_BOOL_ID "mockBoolId_00000000036"
#define T_HUGE_ID "mockHugeId_000000037"
#define T_FORGED_MSG "mockForgedMsg_000000038"

#define TOKEN_INFO_PATH "\"path\": \"/v1/user/access_token_info\""
#define USER_ME_PATH "\"path\": \"/v2/user/me\""

/* Network faults run with this timeout (seconds): long enough that the
 * TLS handshake and the request reach the mock within it under valgrind on
 * a loaded machine (the hang and drip cases count the mock's request). */
#define FAULT_TIMEOUT 4
/* How far past FAULT_TIMEOUT a faulty exchange may end (see assert_elapsed). */
#define FAULT_MARGIN 5.0
/* Cases about an answer (a refusal, a TLS failure), not about the deadline,
 * get a generous timeout: under valgrind on a loaded machine a handshake can
 * take longer than FAULT_TIMEOUT, and the case must fail for its own reason
 * only. They must still end well before it (ANSWER_BOUND, a third of it, plus
 * the PK_TEST_TIME_SLACK that the valgrind pass sets): a module that waited
 * for the timeout instead of taking the answer would take 30 s. */
#define ANSWER_TIMEOUT 30
#define ANSWER_BOUND 10.0

static struct pt_env env; /* what tests/run.sh's pamenv set */

/* cur.conf = the user map and the given lines. */
static void conf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void conf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    pt_vconf(env.dir, "kakao.users", "", fmt, ap);
    va_end(ap);
}

/* cur.conf = user map, app id, the mock on `port` with the test CA, and the
 * given lines. */
static void kconf_at(long port, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void kconf_at(long port, const char *fmt, ...)
{
    char body[4096];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    conf("kakao_app_id = 1234567\n"
         "kakao_api_url = https://127.0.0.1:%ld\n"
         "ca_file = %s\n"
         "%s",
         port, env.mock_ca, body);
}

#define kconf(...) kconf_at(env.port_main, __VA_ARGS__)

/* ---- the mock's request log ---- */

/* Number of requests logged so far. */
static size_t reqlog_count(void)
{
    char *all = pt_slurp(env.mock_log);
    size_t n = pt_count_of(all, "\n");
    free(all);
    return n;
}

/* The requests logged after the first `from` (caller frees), and how many. */
static char *reqlog_since(size_t from, size_t *count)
{
    char *all = pt_slurp(env.mock_log);
    char *p = all;
    char *out;

    for (size_t i = 0; i < from; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    out = strdup(p);
    assert_non_null(out);
    free(all);
    *count = pt_count_of(out, "\n");
    return out;
}

/* Each request in `lines` carries `token` exactly once, as the whole value
 * of a single Authorization header: never in the path or the query. */
static void assert_token_only_in_header(const char *lines, const char *token)
{
    char want[700];
    const char *line = lines;

    (void)snprintf(want, sizeof(want), "\"Authorization\": \"Bearer %s\"", token);
    while (*line != '\0') {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        char *one = strndup(line, len);

        assert_non_null(one);
        if (pt_count_of(one, token) != 1 || strstr(one, want) == NULL)
            fail_msg("token not (only) in the Authorization header: %s", one);
        if (strstr(one, "\"query\": \"\"") == NULL)
            fail_msg("request with a query: %s", one);
        if (strcasestr(one, "Proxy-Authorization") != NULL)
            fail_msg("request with Proxy-Authorization: %s", one);
        if (strstr(one, "\"listener\": \"main\"") == NULL)
            fail_msg("request not on the main listener: %s", one);
        free(one);
        line += len;
        if (*line == '\n')
            line++;
    }
}

/* ---- running one attempt ---- */

/* Bounds of a faulty exchange (pam_start to pam_end, in this process):
 * - lower, timeout - 0.5 s: the module must wait out its timeout; a busy
 *   machine only makes it later, so load never trips it;
 * - upper, timeout + FAULT_MARGIN (5 s): the module's promise is one
 *   deadline for the whole exchange, so it never hangs. Outside the deadline
 *   it only reads its config and logs, a few ms, but a loaded 2-core CI
 *   machine (or an ASan build, which has no slack) can deschedule the test
 *   for a second or more, and 1 s of margin can fail for that wrong reason.
 *   5 s still tells a bounded exchange from a hang or from a deadline per
 *   read (with which the drip case's 200 bytes would take 200 s).
 * Upper bound slack for slow runs (valgrind): PK_TEST_TIME_SLACK seconds. */
static void assert_elapsed(const struct pt_run *r, double lo, double hi)
{
    hi += pt_time_slack();
    if (r->elapsed < lo || r->elapsed > hi)
        fail_msg("took %.3f s, want %.1f..%.1f s (log: %s)", r->elapsed, lo, hi, r->log);
    if (lo > 0.0)
        print_message("  %.3f s in %.1f..%.1f s: %s\n", r->elapsed, lo, hi, r->log);
}

static void assert_token_not_logged(const struct pt_run *r, const char *token)
{
    if (strlen(token) >= 4 && strstr(r->all_log, token) != NULL)
        fail_msg("token in the log: %s", r->all_log);
    if (strlen(token) >= 4 && strstr(r->errors, token) != NULL)
        fail_msg("token in a message: %s", r->errors);
}

/* Runs token for user through service "pk"; asserts the PAM result, the
 * decision line (exactly, or as a prefix when `log` ends in '*'), that the
 * token is in no log line and no message, and KAKAO_ID on success only. */
static void attempt(const char *token, const char *user, int rv, const char *log, struct pt_run *r)
{
    size_t loglen = strlen(log);

    pt_run("pk", user, token, rv == PAM_SUCCESS, r);
    if (r->auth_rv != rv)
        fail_msg("%s: rv %d (%s), want %d (%s); log: %s", token, r->auth_rv,
                 pam_strerror(NULL, r->auth_rv), rv, pam_strerror(NULL, rv), r->log);
    if (loglen > 0 && log[loglen - 1] == '*') {
        if (strncmp(r->log, log, loglen - 1) != 0)
            fail_msg("%s: log \"%s\" does not start with \"%.*s\"", token, r->log,
                     (int)(loglen - 1), log);
        print_message("  %s (%.3f s)\n", r->log, r->elapsed);
    } else if (strcmp(r->log, log) != 0) {
        fail_msg("%s: log \"%s\", want \"%s\"", token, r->log, log);
    }
    assert_token_not_logged(r, token);
    if (rv == PAM_SUCCESS) {
        assert_int_equal(r->acct_rv, PAM_SUCCESS);
        assert_int_equal(r->prompts, 1);
    } else {
        assert_string_equal(r->kakao_id_env, "");
    }
}

/* attempt(), and exactly `requests` requests reached the mock, each with the
 * token only in its Authorization header. */
static void attempt_sent(const char *token, const char *user, int rv, const char *log,
                         size_t requests, struct pt_run *r)
{
    size_t before = reqlog_count();
    size_t n;
    char *lines;

    attempt(token, user, rv, log, r);
    /* the hang cases' request may be logged after the module gave up */
    (void)pt_wait_count(env.mock_log, "\n", before + requests);
    lines = reqlog_since(before, &n);
    if (n != requests)
        fail_msg("%s: %zu requests reached the mock, want %zu:\n%s", token, n, requests, lines);
    assert_token_only_in_header(lines, token);
    free(lines);
}

struct row {
    const char *token;
    int rv;
    const char *log;
};

/* One request each, answered within the time bound (configs use
 * timeout = ANSWER_TIMEOUT). */
static void run_rows(const struct row *rows, size_t n)
{
    struct pt_run r;
    for (size_t i = 0; i < n; i++) {
        attempt_sent(rows[i].token, "alice", rows[i].rv, rows[i].log, 1, &r);
        assert_elapsed(&r, 0.0, ANSWER_BOUND);
    }
}

/* ---- valid tokens and the user map ---- */

static void valid_tokens(void **state)
{
    struct pt_run r;
    size_t before, n;
    char *lines;
    (void)state;

    kconf("%s", "");
    attempt_sent(T_ALICE, "alice", PAM_SUCCESS, "accepted kakao kakao_id=3095134389 user=alice", 1,
                 &r);
    assert_string_equal(r.kakao_id_env, "3095134389");
    assert_string_equal(r.all_log, "accepted kakao kakao_id=3095134389 user=alice");
    /* one request: token info, by GET, without a body */
    before = reqlog_count();
    attempt(T_ALICE, "alice", PAM_SUCCESS, "accepted kakao kakao_id=3095134389 user=alice", &r);
    lines = reqlog_since(before, &n);
    assert_int_equal(n, 1);
    assert_non_null(strstr(lines, "\"method\": \"GET\", " TOKEN_INFO_PATH ", \"query\": \"\""));
    assert_non_null(strstr(lines, "\"body_len\": 0"));
    free(lines);

    attempt_sent(T_BOB, "bob", PAM_SUCCESS, "accepted kakao kakao_id=1122334455 user=bob", 1, &r);
    assert_string_equal(r.kakao_id_env, "1122334455");
    /* bob's valid token does not open alice's account */
    attempt_sent(T_BOB, "alice", PAM_AUTH_ERR,
                 "rejected kakao for user=alice: kakao_id not mapped to this user "
                 "(kakao_id=1122334455)",
                 1, &r);
    /* one Kakao account may open several local accounts */
    attempt_sent(T_ALICE, "deploy", PAM_SUCCESS, "accepted kakao kakao_id=3095134389 user=deploy",
                 1, &r);
    /* a user without a map line: no prompt, no request */
    before = reqlog_count();
    pt_run("pk", "carol", T_ALICE, false, &r);
    assert_int_equal(r.auth_rv, PAM_USER_UNKNOWN);
    assert_int_equal(r.prompts, 0);
    assert_string_equal(r.log, "no user map entry for user=carol");
    assert_token_not_logged(&r, T_ALICE);
    assert_int_equal(reqlog_count(), before);
    /* surrounding whitespace is trimmed before the token is sent */
    before = reqlog_count();
    attempt("  " T_ALICE " \n", "alice", PAM_SUCCESS,
            "accepted kakao kakao_id=3095134389 user=alice", &r);
    assert_token_not_logged(&r, T_ALICE);
    lines = reqlog_since(before, &n);
    assert_int_equal(n, 1);
    assert_token_only_in_header(lines, T_ALICE);
    free(lines);
}

static void base_url_forms(void **state)
{
    struct pt_run r;
    char *lines;
    size_t before, n;
    (void)state;

    /* a trailing slash on the base URL does not double the path's slash */
    conf("kakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:%ld/\nca_file = %s\n",
         env.port_main, env.mock_ca);
    before = reqlog_count();
    attempt(T_ALICE, "alice", PAM_SUCCESS, "accepted kakao kakao_id=3095134389 user=alice", &r);
    lines = reqlog_since(before, &n);
    assert_int_equal(n, 1);
    assert_non_null(strstr(lines, TOKEN_INFO_PATH));
    free(lines);

    /* a base URL with a path the API does not have: 404 says nothing
     * about the token */
    conf("kakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:%ld/api\nca_file = %s\n",
         env.port_main, env.mock_ca);
    attempt_sent(T_ALICE, "alice", PAM_AUTHINFO_UNAVAIL,
                 "kakao api unavailable for user=alice: HTTP 404 code=-1 msg=\"not found\"", 1, &r);

    /* by host name: the certificate names localhost too */
    conf("kakao_app_id = 1234567\nkakao_api_url = https://localhost:%ld\nca_file = %s\n",
         env.port_main, env.mock_ca);
    attempt_sent(T_ALICE, "alice", PAM_SUCCESS, "accepted kakao kakao_id=3095134389 user=alice", 1,
                 &r);
}

/* ---- answers about the token: PAM_AUTH_ERR ---- */

static void token_refusals(void **state)
{
    static const struct row rows[] = {
        {T_OTHER_APP, PAM_AUTH_ERR,
         "rejected kakao for user=alice: token issued to another app (app_id=7654321 "
         "expected=1234567)"},
        {T_EXPIRED, PAM_AUTH_ERR,
         "rejected kakao for user=alice: invalid or expired token (HTTP 401 code=-401 "
         "msg=\"this access token is already expired\")"},
        {T_UNKNOWN, PAM_AUTH_ERR,
         "rejected kakao for user=alice: invalid or expired token (HTTP 401 code=-401 "
         "msg=\"this access token does not exist\")"},
        {T_ZERO_ID, PAM_AUTH_ERR, "rejected kakao for user=alice: bad id (id=0)"},
        {T_NEG_ID, PAM_AUTH_ERR, "rejected kakao for user=alice: bad id (id=-5)"},
        {T_ZERO_EXP, PAM_AUTH_ERR,
         "rejected kakao for user=alice: invalid or expired token (expires_in=0)"},
        {T_NEG_EXP, PAM_AUTH_ERR,
         "rejected kakao for user=alice: invalid or expired token (expires_in=-1)"},
        {T_FORBIDDEN, PAM_AUTH_ERR,
         "rejected kakao for user=alice: refused by kakao (HTTP 403 code=-5 (no permission) "
         "msg=\"no permission\")"},
        {T_BAD_PARAM, PAM_AUTH_ERR,
         "rejected kakao for user=alice: refused by kakao (HTTP 400 code=-2 (bad parameter) "
         "msg=\"bad parameter\")"},
        {T_NOT_LINKED, PAM_AUTH_ERR,
         "rejected kakao for user=alice: refused by kakao (HTTP 400 code=-101 (user not linked "
         "to app) msg=\"user not linked\")"},
    };
    (void)state;
    kconf("timeout = %d\n", ANSWER_TIMEOUT);
    run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* Kakao's msg is shown quoted and escaped: its quote, backslash and newline
 * cannot end the field or start a second decision line. */
static void forged_msg_escaped(void **state)
{
    static const char want[] =
        "rejected kakao for user=alice: invalid or expired token (HTTP 401 code=-401 "
        "msg=\"x\\x22 user=root\\x5cok\\x0aaccepted kakao kakao_id=1 user=root\")";
    struct pt_run r;
    (void)state;

    kconf("timeout = %d\n", ANSWER_TIMEOUT);
    attempt_sent(T_FORGED_MSG, "alice", PAM_AUTH_ERR, want, 1, &r);
    /* exactly one line: the decision */
    assert_string_equal(r.all_log, want);
}

/* ---- answers that say nothing trustworthy: PAM_AUTHINFO_UNAVAIL ---- */

static void unusable_answers(void **state)
{
    static const struct row rows[] = {
        {T_STRING_ID, PAM_AUTHINFO_UNAVAIL,
         "kakao api unavailable for user=alice: id is not an integer"},
        {T_FLOAT_ID, PAM_AUTHINFO_UNAVAIL,
         "kakao api unavailable for user=alice: id is not an integer"},
        {T_BOOL_ID, PAM_AUTHINFO_UNAVAIL,
         "kakao api unavailable for user=alice: id is not an integer"},
        {T_HUGE_ID, PAM_AUTHINFO_UNAVAIL,
         "kakao api unavailable for user=alice: number out of range in response"},
        {T_NO_APP_ID, PAM_AUTHINFO_UNAVAIL, "kakao api unavailable for user=alice: missing app_id"},
        {T_DUP_KEYS, PAM_AUTHINFO_UNAVAIL,
         "kakao api unavailable for user=alice: duplicate key in response"},
        {T_ARRAY, PAM_AUTHINFO_UNAVAIL,
         "kakao api unavailable for user=alice: response is not a JSON object"},
        {T_EMPTY, PAM_AUTHINFO_UNAVAIL, "kakao api unavailable for user=alice: empty response"},
        {T_500, PAM_AUTHINFO_UNAVAIL, "kakao api unavailable for user=alice: HTTP 500"},
        {T_429, PAM_AUTHINFO_UNAVAIL,
         "kakao api unavailable for user=alice: HTTP 429 code=-10 (quota exceeded) msg=\"API "
         "limit has been exceeded.\""},
        {T_NOT_JSON, PAM_AUTHINFO_UNAVAIL,
         "kakao api unavailable for user=alice: unparseable JSON response (line 1 column 1)"},
        {T_HUGE, PAM_AUTHINFO_UNAVAIL,
         "kakao api unavailable for user=alice: response over 65536 bytes"},
        {T_REDIRECT, PAM_AUTHINFO_UNAVAIL,
         "kakao api unavailable for user=alice: redirect (HTTP 302) not followed"},
        {T_MAINT7, PAM_AUTHINFO_UNAVAIL,
         "kakao api unavailable for user=alice: HTTP 400 code=-7 (service maintenance) "
         "msg=\"service maintenance\""},
        {T_MAINT9798, PAM_AUTHINFO_UNAVAIL,
         "kakao api unavailable for user=alice: HTTP 503 code=-9798 (service maintenance) "
         "msg=\"service maintenance\""},
    };
    (void)state;
    kconf("timeout = %d\n", ANSWER_TIMEOUT);
    run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* ---- require_email ---- */

static void require_email(void **state)
{
    struct pt_run r;
    size_t before, n;
    char *lines;
    (void)state;

    kconf("require_email = yes\n");
    before = reqlog_count();
    attempt_sent(T_ALICE, "alice", PAM_SUCCESS, "accepted kakao kakao_id=3095134389 user=alice", 2,
                 &r);
    lines = reqlog_since(before, &n);
    /* token info first, then the user */
    assert_non_null(strstr(lines, TOKEN_INFO_PATH));
    assert_non_null(strstr(strstr(lines, TOKEN_INFO_PATH), USER_ME_PATH));
    free(lines);
    attempt_sent(T_NO_EMAIL, "alice", PAM_AUTH_ERR,
                 "rejected kakao for user=alice: account has no email (email needs the user's "
                 "agreement)",
                 2, &r);
    /* "yes" asks only for an address */
    attempt_sent(T_UNVERIFIED, "alice", PAM_SUCCESS,
                 "accepted kakao kakao_id=3095134389 user=alice", 2, &r);
    attempt_sent(T_INVALID_EMAIL, "alice", PAM_SUCCESS,
                 "accepted kakao kakao_id=3095134389 user=alice", 2, &r);
    /* a refused token is not asked about its user */
    attempt_sent(T_EXPIRED, "alice", PAM_AUTH_ERR,
                 "rejected kakao for user=alice: invalid or expired token (HTTP 401 code=-401 "
                 "msg=\"this access token is already expired\")",
                 1, &r);
    attempt_sent(T_OTHER_APP, "alice", PAM_AUTH_ERR,
                 "rejected kakao for user=alice: token issued to another app (app_id=7654321 "
                 "expected=1234567)",
                 1, &r);
    /* the email rule does not bypass the map */
    attempt_sent(T_BOB, "alice", PAM_AUTH_ERR,
                 "rejected kakao for user=alice: kakao_id not mapped to this user "
                 "(kakao_id=1122334455)",
                 2, &r);

    kconf("require_email = verified\n");
    attempt_sent(T_ALICE, "alice", PAM_SUCCESS, "accepted kakao kakao_id=3095134389 user=alice", 2,
                 &r);
    attempt_sent(T_UNVERIFIED, "alice", PAM_AUTH_ERR,
                 "rejected kakao for user=alice: email not valid and verified "
                 "(is_email_verified=false)",
                 2, &r);
    attempt_sent(T_INVALID_EMAIL, "alice", PAM_AUTH_ERR,
                 "rejected kakao for user=alice: email not valid and verified "
                 "(is_email_valid=false)",
                 2, &r);
    attempt_sent(T_NO_EMAIL, "alice", PAM_AUTH_ERR,
                 "rejected kakao for user=alice: account has no email (email needs the user's "
                 "agreement)",
                 2, &r);
}

/* ---- network faults, each within the time bound ---- */

static void timeouts(void **state)
{
    const char *want = "kakao api unavailable for user=alice: timeout after 4 s";
    struct pt_run r;
    (void)state;

    kconf("timeout = %d\n", FAULT_TIMEOUT);
    /* the server reads the request and never answers */
    attempt_sent(T_HANG, "alice", PAM_AUTHINFO_UNAVAIL, want, 1, &r);
    assert_elapsed(&r, FAULT_TIMEOUT - 0.5, FAULT_TIMEOUT + FAULT_MARGIN);
    /* headers at once, then one body byte a second: the deadline is for the
     * whole exchange, not per read */
    attempt_sent(T_DRIP, "alice", PAM_AUTHINFO_UNAVAIL, want, 1, &r);
    assert_elapsed(&r, FAULT_TIMEOUT - 0.5, FAULT_TIMEOUT + FAULT_MARGIN);
    /* TCP accepted, TLS handshake never starts */
    kconf_at(env.port_hang, "timeout = %d\n", FAULT_TIMEOUT);
    attempt_sent(T_ALICE, "alice", PAM_AUTHINFO_UNAVAIL, want, 0, &r);
    assert_elapsed(&r, FAULT_TIMEOUT - 0.5, FAULT_TIMEOUT + FAULT_MARGIN);
}

static void connection_failures(void **state)
{
    char want[256];
    struct pt_run r;
    (void)state;

    /* nothing listens */
    kconf_at(env.port_closed, "timeout = %d\n", ANSWER_TIMEOUT);
    attempt_sent(T_ALICE, "alice", PAM_AUTHINFO_UNAVAIL,
                 "kakao api unavailable for user=alice: connect: *", 0, &r);
    (void)snprintf(want, sizeof(want), "127.0.0.1 port %ld", env.port_closed);
    if (strstr(r.log, want) == NULL)
        fail_msg("log \"%s\" lacks \"%s\"", r.log, want);
    assert_elapsed(&r, 0.0, ANSWER_BOUND);

    /* a certificate from a CA we do not trust: refused in the handshake,
     * so the token never left the module */
    kconf_at(env.port_rogue, "timeout = %d\n", ANSWER_TIMEOUT);
    attempt_sent(T_ALICE, "alice", PAM_AUTHINFO_UNAVAIL,
                 "kakao api unavailable for user=alice: TLS: *", 0, &r);
    assert_elapsed(&r, 0.0, ANSWER_BOUND);

    /* without ca_file the system store applies, which does not know the
     * test CA */
    conf("kakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:%ld\ntimeout = %d\n",
         env.port_main, ANSWER_TIMEOUT);
    attempt_sent(T_ALICE, "alice", PAM_AUTHINFO_UNAVAIL,
                 "kakao api unavailable for user=alice: TLS: *", 0, &r);
    assert_elapsed(&r, 0.0, ANSWER_BOUND);

    /* ca_file replaces the system store: the rogue CA's own bundle trusts
     * only the rogue server, not the main one */
    {
        char rogue_ca[1024];
        char *slash;
        (void)snprintf(rogue_ca, sizeof(rogue_ca), "%s", env.mock_ca);
        slash = strrchr(rogue_ca, '/');
        assert_non_null(slash);
        (void)snprintf(slash + 1, sizeof(rogue_ca) - (size_t)(slash + 1 - rogue_ca),
                       "rogue-ca.pem");
        conf("kakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:%ld\nca_file = %s\n"
             "timeout = %d\n",
             env.port_main, rogue_ca, ANSWER_TIMEOUT);
    }
    attempt_sent(T_ALICE, "alice", PAM_AUTHINFO_UNAVAIL,
                 "kakao api unavailable for user=alice: TLS: *", 0, &r);
}

/* ---- what reaches the network ---- */

static void bad_shapes_never_sent(void **state)
{
    char long513[514], long512[513], long8193[8194];
    struct pt_run r;
    size_t before;
    (void)state;

    kconf("%s", "");
    memset(long513, 'a', 513);
    long513[513] = '\0';
    memset(long512, 'b', 512);
    long512[512] = '\0';
    memset(long8193, 'c', 8193);
    long8193[8193] = '\0';

    before = reqlog_count();
    attempt("short", "alice", PAM_AUTH_ERR,
            "rejected token for user=alice: malformed token (5 bytes, neither a JWT nor a Kakao "
            "access token)",
            &r);
    attempt("mockValidAlice Token_0001", "alice", PAM_AUTH_ERR,
            "rejected token for user=alice: malformed token (25 bytes, neither a JWT nor a Kakao "
            "access token)",
            &r);
    attempt("mockValidAliceToken_0001!", "alice", PAM_AUTH_ERR,
            "rejected token for user=alice: malformed token (25 bytes, neither a JWT nor a Kakao "
            "access token)",
            &r);
    attempt("abcdefghijklmno", "alice", PAM_AUTH_ERR,
            "rejected token for user=alice: malformed token (15 bytes, neither a JWT nor a Kakao "
            "access token)",
            &r);
    attempt(long513, "alice", PAM_AUTH_ERR,
            "rejected token for user=alice: malformed token (513 bytes, neither a JWT nor a "
            "Kakao access token)",
            &r);
    attempt(long8193, "alice", PAM_AUTH_ERR,
            "rejected token for user=alice: token too long (over 8192 bytes)", &r);
    attempt("mockValidAliceToken_0001\x7f", "alice", PAM_AUTH_ERR,
            "rejected token for user=alice: token has bytes outside printable ASCII (byte 0x7f "
            "at offset 24)",
            &r);
    attempt("mockValidAlice\r\nX-Evil: 1", "alice", PAM_AUTH_ERR,
            "rejected token for user=alice: token has bytes outside printable ASCII (byte 0x0d "
            "at offset 14)",
            &r);
    attempt("   ", "alice", PAM_AUTH_ERR, "rejected token for user=alice: empty token", &r);
    if (reqlog_count() != before)
        fail_msg("a token of a refused shape reached the network");

    /* the shape's bounds, 16 and 512 characters, are sent (and unknown) */
    attempt_sent("abcdefghijklmnop", "alice", PAM_AUTH_ERR,
                 "rejected kakao for user=alice: invalid or expired token (HTTP 401 code=-401 "
                 "msg=\"this access token does not exist\")",
                 1, &r);
    attempt_sent(long512, "alice", PAM_AUTH_ERR,
                 "rejected kakao for user=alice: invalid or expired token (HTTP 401 code=-401 "
                 "msg=\"this access token does not exist\")",
                 1, &r);
}

/* A one-connection HTTP CONNECT proxy in a thread: records what the client
 * said to it, then tunnels to 127.0.0.1:<port asked for>. */
struct tunnel {
    int lfd;
    long port;
    pthread_t thread;
    char said[4096]; /* the CONNECT request, as received */
    size_t said_len;
    bool tunnelled;
};

static bool write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

static bool write_str(int fd, const char *text)
{
    return write_all(fd, text, strlen(text));
}

static void relay(int a, int b)
{
    char buf[16384];
    struct pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};

    for (;;) {
        if (poll(fds, 2, 10000) <= 0)
            return;
        for (int i = 0; i < 2; i++) {
            if (fds[i].revents == 0)
                continue;
            ssize_t n = read(fds[i].fd, buf, sizeof(buf));
            if (n <= 0 || !write_all(fds[1 - i].fd, buf, (size_t)n))
                return;
        }
    }
}

static void *tunnel_main(void *arg)
{
    struct tunnel *t = arg;
    struct pollfd pfd = {t->lfd, POLLIN, 0};
    struct sockaddr_in to = {0};
    unsigned port = 0;
    int c, s;

    if (poll(&pfd, 1, 10000) <= 0)
        return NULL;
    c = accept(t->lfd, NULL, NULL);
    if (c < 0)
        return NULL;
    while (t->said_len < sizeof(t->said) - 1 && strstr(t->said, "\r\n\r\n") == NULL) {
        struct pollfd cfd = {c, POLLIN, 0};
        ssize_t n;
        if (poll(&cfd, 1, 10000) <= 0)
            break;
        n = read(c, t->said + t->said_len, sizeof(t->said) - 1 - t->said_len);
        if (n <= 0)
            break;
        t->said_len += (size_t)n;
        t->said[t->said_len] = '\0';
    }
    if (sscanf(t->said, "CONNECT 127.0.0.1:%u HTTP/1.1\r\n", &port) != 1 || port == 0 ||
        port > 65535) {
        (void)write_str(c, "HTTP/1.1 403 Forbidden\r\n\r\n");
        close(c);
        return NULL;
    }
    s = socket(AF_INET, SOCK_STREAM, 0);
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s >= 0 && connect(s, (struct sockaddr *)&to, sizeof(to)) == 0 &&
        write_str(c, "HTTP/1.1 200 Connection established\r\n\r\n")) {
        t->tunnelled = true;
        relay(c, s);
    }
    if (s >= 0)
        close(s);
    close(c);
    return NULL;
}

static void tunnel_start(struct tunnel *t)
{
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof(a);

    memset(t, 0, sizeof(*t));
    t->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(t->lfd >= 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(t->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(t->lfd, 4), 0);
    assert_int_equal(getsockname(t->lfd, (struct sockaddr *)&a, &alen), 0);
    t->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&t->thread, NULL, tunnel_main, t), 0);
}

static void tunnel_stop(struct tunnel *t)
{
    assert_int_equal(pthread_join(t->thread, NULL), 0);
    close(t->lfd);
}

static const char *const proxy_vars[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "ALL_PROXY",
                                         "all_proxy"};
/* "*" exempts every host from proxying, for libcurl when nothing overrides it. */
static const char *const no_proxy_vars[] = {"NO_PROXY", "no_proxy"};

/* One Kakao check through a CONNECT proxy configured in the config file:
 * the proxy must get the tunnel, and only the tunnel request. */
static void through_configured_proxy(void)
{
    static struct tunnel t; /* outlives this frame if an assertion fails */
    struct pt_run r;
    char want[128];

    tunnel_start(&t);
    kconf("proxy = http://127.0.0.1:%ld\ntimeout = %d\n", t.port, ANSWER_TIMEOUT);
    attempt_sent(T_ALICE, "alice", PAM_SUCCESS, "accepted kakao kakao_id=3095134389 user=alice", 1,
                 &r);
    tunnel_stop(&t);
    if (!t.tunnelled)
        fail_msg("the request did not go through the configured proxy");
    (void)snprintf(want, sizeof(want), "CONNECT 127.0.0.1:%ld HTTP/1.1\r\n", env.port_main);
    if (strncmp(t.said, want, strlen(want)) != 0)
        fail_msg("the proxy was told: %s", t.said);
    if (strstr(t.said, T_ALICE) != NULL || strcasestr(t.said, "Authorization") != NULL)
        fail_msg("the token went to the proxy: %s", t.said);
}

static void proxies(void **state)
{
    char proxy[64];
    struct pt_run r;
    (void)state;

    (void)snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%ld", env.port_closed);
    /* proxies from the environment are ignored */
    for (size_t i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++)
        assert_int_equal(setenv(proxy_vars[i], proxy, 1), 0);
    kconf("%s", "");
    attempt_sent(T_ALICE, "alice", PAM_SUCCESS, "accepted kakao kakao_id=3095134389 user=alice", 1,
                 &r);
    for (size_t i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++)
        assert_int_equal(unsetenv(proxy_vars[i]), 0);

    /* a configured proxy is used: a tunnel through it; the token goes
     * inside TLS to the API, never to the proxy */
    through_configured_proxy();

    /* NO_PROXY=* or no_proxy=* in the caller's environment does not route
     * around it: the same tunnel, the same decision */
    for (size_t i = 0; i < sizeof(no_proxy_vars) / sizeof(no_proxy_vars[0]); i++) {
        assert_int_equal(setenv(no_proxy_vars[i], "*", 1), 0);
        through_configured_proxy();
        assert_int_equal(unsetenv(no_proxy_vars[i]), 0);
    }

    /* a configured proxy that refuses connections */
    kconf("proxy = %s\ntimeout = %d\n", proxy, ANSWER_TIMEOUT);
    attempt_sent(T_ALICE, "alice", PAM_AUTHINFO_UNAVAIL,
                 "kakao api unavailable for user=alice: connect: *", 0, &r);
    assert_elapsed(&r, 0.0, ANSWER_BOUND);
}

/* ---- config ---- */

/* ca_file decides whom the check trusts: missing or writable by others is a
 * service error before any prompt, never a network outage. */
static void ca_file_trust(void **state)
{
    char want[1400], ca[1024];
    struct pt_run r;
    size_t before = reqlog_count();
    (void)state;

    conf("kakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:%ld\nca_file = %s\n",
         env.port_main, pt_path(env.dir, "no-such-ca.pem"));
    pt_run("pk", "alice", T_ALICE, false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_int_equal(r.prompts, 0);
    (void)snprintf(want, sizeof(want), "file refused: ca_file %s: does not exist",
                   pt_path(env.dir, "no-such-ca.pem"));
    assert_string_equal(r.log, want);

    (void)snprintf(ca, sizeof(ca), "%s", pt_path(env.dir, "open-ca.pem"));
    {
        char cmd[2200];
        (void)snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 0666 '%s'", env.mock_ca, ca, ca);
        assert_int_equal(system(cmd), 0);
    }
    conf("kakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:%ld\nca_file = %s\n",
         env.port_main, ca);
    pt_run("pk", "alice", T_ALICE, false, &r);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    (void)snprintf(want, sizeof(want),
                   "file refused: ca_file %s: writable by group or others (mode 0666)", ca);
    assert_string_equal(r.log, want);
    assert_int_equal(reqlog_count(), before);
}

static void config_errors(void **state)
{
    char want[1400];
    struct pt_run r;
    size_t before = reqlog_count();
    (void)state;

    conf("kakao_app_id = 1234567\nkakao_api_url = http://127.0.0.1:%ld\nca_file = %s\n",
         env.port_main, env.mock_ca);
    pt_run("pk", "alice", T_ALICE, false, &r);
    assert_token_not_logged(&r, T_ALICE);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    assert_int_equal(r.prompts, 0);
    (void)snprintf(want, sizeof(want),
                   "config error: %s:3: bad value for \"kakao_api_url\": must be an https:// URL",
                   pt_path(env.dir, "cur.conf"));
    assert_string_equal(r.log, want);

    kconf("proxy = socks5://127.0.0.1:%ld\n", env.port_closed);
    pt_run("pk", "alice", T_ALICE, false, &r);
    assert_token_not_logged(&r, T_ALICE);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    (void)snprintf(want, sizeof(want),
                   "config error: %s:5: bad value for \"proxy\": must be an http:// or https:// "
                   "proxy URL",
                   pt_path(env.dir, "cur.conf"));
    assert_string_equal(r.log, want);

    kconf("timeout = 0\n");
    pt_run("pk", "alice", T_ALICE, false, &r);
    assert_token_not_logged(&r, T_ALICE);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    (void)snprintf(want, sizeof(want),
                   "config error: %s:5: bad value for \"timeout\": not a whole number in range",
                   pt_path(env.dir, "cur.conf"));
    assert_string_equal(r.log, want);

    kconf("require_email = maybe\n");
    pt_run("pk", "alice", T_ALICE, false, &r);
    assert_token_not_logged(&r, T_ALICE);
    assert_int_equal(r.auth_rv, PAM_SERVICE_ERR);
    (void)snprintf(want, sizeof(want), "config error: %s:5: bad value for \"require_email\"*",
                   pt_path(env.dir, "cur.conf"));
    if (strncmp(r.log, want, strlen(want) - 1) != 0)
        fail_msg("log \"%s\", want \"%s\"", r.log, want);
    assert_int_equal(reqlog_count(), before);
}

/* Both kinds configured: each token goes its own way; accept narrows. */
static void with_jwt_too(void **state)
{
    char err[256] = "";
    char keybuf[4096];
    size_t keylen;
    char claims[256];
    char *jwt;
    struct pt_run r;
    size_t before;
    FILE *f;
    (void)state;

    f = fopen(pt_path(env.keys, "hs256.key"), "r");
    assert_non_null(f);
    keylen = fread(keybuf, 1, sizeof(keybuf), f);
    fclose(f);
    if (keylen > 0 && keybuf[keylen - 1] == '\n')
        keylen--;
    (void)snprintf(claims, sizeof(claims), "{\"kakao_id\":%lld,\"iat\":%lld,\"exp\":%lld}", ALICE,
                   (long long)time(NULL), (long long)time(NULL) + 300);
    jwt = pk_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, PK_ALG_HS256,
                      (const unsigned char *)keybuf, keylen, err, sizeof(err));
    if (jwt == NULL)
        fail_msg("pk_jwt_sign: %s", err);

    kconf("jwt_key = %s\njwt_alg = HS256\n", pt_path(env.keys, "hs256.key"));
    before = reqlog_count();
    attempt(jwt, "alice", PAM_SUCCESS, "accepted jwt kakao_id=3095134389 user=alice", &r);
    assert_int_equal(reqlog_count(), before); /* offline */
    attempt_sent(T_ALICE, "alice", PAM_SUCCESS, "accepted kakao kakao_id=3095134389 user=alice", 1,
                 &r);
    attempt_sent(T_OTHER_APP, "alice", PAM_AUTH_ERR,
                 "rejected kakao for user=alice: token issued to another app (app_id=7654321 "
                 "expected=1234567)",
                 1, &r);

    kconf("jwt_key = %s\njwt_alg = HS256\naccept = jwt\n", pt_path(env.keys, "hs256.key"));
    attempt(jwt, "alice", PAM_SUCCESS, "accepted jwt kakao_id=3095134389 user=alice", &r);
    attempt_sent(T_ALICE, "alice", PAM_AUTH_ERR,
                 "rejected kakao for user=alice: token kind not accepted (kakao is not in accept)",
                 0, &r);

    kconf("jwt_key = %s\njwt_alg = HS256\naccept = kakao\n", pt_path(env.keys, "hs256.key"));
    before = reqlog_count();
    attempt(jwt, "alice", PAM_AUTH_ERR,
            "rejected jwt for user=alice: token kind not accepted (jwt is not in accept)", &r);
    assert_int_equal(reqlog_count(), before);
    attempt_sent(T_ALICE, "alice", PAM_SUCCESS, "accepted kakao kakao_id=3095134389 user=alice", 1,
                 &r);
    free(jwt);
}

/* debug adds lines, never the token */
static void debug_lines(void **state)
{
    struct pt_run r;
    (void)state;

    kconf("debug = yes\ntimeout = %d\n", ANSWER_TIMEOUT);
    attempt_sent(T_ALICE, "alice", PAM_SUCCESS, "accepted kakao kakao_id=3095134389 user=alice", 1,
                 &r);
    if (strchr(r.all_log, '\n') == NULL)
        fail_msg("debug = yes added no line: %s", r.all_log);
    attempt_sent(T_EXPIRED, "alice", PAM_AUTH_ERR,
                 "rejected kakao for user=alice: invalid or expired token (HTTP 401 code=-401 "
                 "msg=\"this access token is already expired\")",
                 1, &r);
    attempt_sent(T_NOT_JSON, "alice", PAM_AUTHINFO_UNAVAIL,
                 "kakao api unavailable for user=alice: unparseable JSON response (line 1 column "
                 "1)",
                 1, &r);
    /* neither does the body: */
    if (strstr(r.all_log, "not json") != NULL)
        fail_msg("response body in the log: %s", r.all_log);
    kconf_at(env.port_closed, "debug = yes\ntimeout = %d\n", ANSWER_TIMEOUT);
    attempt_sent(T_ALICE, "alice", PAM_AUTHINFO_UNAVAIL,
                 "kakao api unavailable for user=alice: connect: *", 0, &r);
}

/* Runs last: over the whole request log of this run. */
static void request_log_hygiene(void **state)
{
    static const char *const fixtures[] = {
        T_ALICE,      T_BOB,           T_OTHER_APP, T_EXPIRED, T_UNKNOWN,   T_NO_EMAIL,
        T_UNVERIFIED, T_INVALID_EMAIL, T_ZERO_ID,   T_NEG_ID,  T_STRING_ID, T_NO_APP_ID,
        T_ZERO_EXP,   T_FLOAT_ID,      T_HANG,      T_DRIP,    T_500,       T_429,
        T_NOT_JSON,   T_HUGE,          T_REDIRECT,  T_MAINT7,  T_MAINT9798, T_FORBIDDEN,
        T_BAD_PARAM,  T_NOT_LINKED,    T_EMPTY,     T_ARRAY,   T_DUP_KEYS,  T_NEG_EXP,
        T_BOOL_ID,    T_HUGE_ID,
    };
    char *all = pt_slurp(env.mock_log);
    (void)state;

    /* every fixture of the mock was asked about (by this or an earlier run) */
    for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
        char want[128];
        (void)snprintf(want, sizeof(want), "\"Authorization\": \"Bearer %s\"", fixtures[i]);
        if (strstr(all, want) == NULL)
            fail_msg("fixture %s never exercised", fixtures[i]);
    }

    if (strcasestr(all, "Proxy-Authorization") != NULL)
        fail_msg("a request carried Proxy-Authorization");
    if (strstr(all, "redirected=1") != NULL)
        fail_msg("a redirect was followed");
    if (strstr(all, "\"listener\": \"rogue\"") != NULL)
        fail_msg("a request went to the rogue server");
    if (strstr(all, "\"Authorization\": [") != NULL)
        fail_msg("a request carried Authorization twice");
    if (strstr(all, "\"method\": \"GET\"") == NULL)
        fail_msg("no request logged at all");
    free(all);
}

/* A hung exchange must fail its test, not stall the suite: each test gets
 * PER_TEST_LIMIT seconds (valgrind included) before SIGALRM ends the run. */
#define PER_TEST_LIMIT 120

static int watchdog(void **state)
{
    (void)state;
    (void)alarm(PER_TEST_LIMIT);
    return 0;
}

/* Also undoes what a failed test may have left set. */
static int cleanup(void **state)
{
    (void)state;
    (void)alarm(0);
    for (size_t i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++)
        (void)unsetenv(proxy_vars[i]);
    for (size_t i = 0; i < sizeof(no_proxy_vars) / sizeof(no_proxy_vars[0]); i++)
        (void)unsetenv(no_proxy_vars[i]);
    return 0;
}

static int setup(void **state)
{

    (void)state;
    if (!pt_env_load(&env, PT_NEED_KEYS | PT_NEED_MOCK | PT_NEED_FAULTS))
        return -1;
    pt_write_file(pt_path(env.dir, "kakao.users"),
                  "# kakao_id     local_user\n"
                  "3095134389     alice\n"
                  "3095134389     deploy\n"
                  "1122334455     bob\n",
                  0644);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(valid_tokens, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(base_url_forms, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(token_refusals, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(forged_msg_escaped, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(unusable_answers, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(require_email, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(timeouts, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(connection_failures, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(bad_shapes_never_sent, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(proxies, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(config_errors, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(with_jwt_too, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(debug_lines, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(ca_file_trust, watchdog, cleanup),
        cmocka_unit_test_setup_teardown(request_log_hygiene, watchdog, cleanup),
    };
    return cmocka_run_group_tests_name("pam_kakao_api", tests, setup, NULL);
}
