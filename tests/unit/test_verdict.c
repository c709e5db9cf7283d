/* The outcome table (docs/DESIGN.md §5.1) and the one log line per decision
 * (docs/DESIGN.md §5.2).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <security/_pam_types.h>
#include <stdio.h>
#include <string.h>

#include "src/verdict.h"

static void make_result(struct pk_result *res, enum pk_outcome outcome, enum pk_kind kind,
                        int64_t id, const char *detail)
{
    memset(res, 0, sizeof(*res));
    res->outcome = outcome;
    res->kind = kind;
    res->kakao_id = id;
    if (detail != NULL)
        (void)snprintf(res->detail, sizeof(res->detail), "%s", detail);
}

static void expect_line(enum pk_outcome outcome, enum pk_kind kind, int64_t id, const char *detail,
                        const char *user, const char *want)
{
    char buf[512];
    struct pk_result res;

    make_result(&res, outcome, kind, id, detail);
    memset(buf, 'Z', sizeof(buf));
    pk_verdict_line(buf, sizeof(buf), &res, user);
    assert_string_equal(buf, want);
}

static void test_every_outcome_has_a_row(void **state)
{
    (void)state;
    for (int o = 0; o < PK_OUTCOME_COUNT; o++) {
        char line[512];
        struct pk_result res;
        make_result(&res, (enum pk_outcome)o, PK_KIND_JWT, 1, "x");
        pk_verdict_line(line, sizeof(line), &res, "u");
        /* no row: the fallback's "internal error"; an empty reason: ": (x)" or ": x" first */
        if (strstr(line, "internal error") != NULL || strstr(line, ": (x)") != NULL ||
            line[0] == ':' || strncmp(line, " for", 4) == 0)
            fail_msg("outcome %d has no row in the table: %s", o, line);
    }
}

static void test_out_of_range_outcome(void **state)
{
    (void)state;
    assert_int_equal(pk_outcome_pam_code(PK_OUTCOME_COUNT), PAM_SERVICE_ERR);
    assert_int_equal(pk_outcome_wording(PK_OUTCOME_COUNT), PK_WORD_SERVICE);
    expect_line((enum pk_outcome) - 1, PK_KIND_JWT, 0, "x", "alice", "internal error: x");
    assert_int_equal(pk_outcome_pam_code((enum pk_outcome) - 1), PAM_SERVICE_ERR);
    assert_int_equal(pk_outcome_pam_code((enum pk_outcome)1000), PAM_SERVICE_ERR);
    expect_line(PK_OUTCOME_COUNT, PK_KIND_JWT, 0, "x", "alice", "internal error: x");
}

/* docs/DESIGN.md §5.1 (pam_kakao(8) RETURN VALUES), row by row. */
static void test_pam_codes(void **state)
{
    (void)state;
    assert_int_equal(pk_outcome_pam_code(PK_OK), PAM_SUCCESS);
    assert_int_equal(pk_outcome_pam_code(PK_NOT_MAPPED), PAM_AUTH_ERR);
    assert_int_equal(pk_outcome_pam_code(PK_JWT_EXPIRED), PAM_AUTH_ERR);
    assert_int_equal(pk_outcome_pam_code(PK_JWT_WRONG_ISS), PAM_AUTH_ERR);
    assert_int_equal(pk_outcome_pam_code(PK_JWT_BAD_SIGNATURE), PAM_AUTH_ERR);
    assert_int_equal(pk_outcome_pam_code(PK_KAKAO_WRONG_APP), PAM_AUTH_ERR);
    assert_int_equal(pk_outcome_pam_code(PK_KAKAO_INVALID_TOKEN), PAM_AUTH_ERR);
    assert_int_equal(pk_outcome_pam_code(PK_TOKEN_EMPTY), PAM_AUTH_ERR);
    assert_int_equal(pk_outcome_pam_code(PK_USER_UNKNOWN), PAM_USER_UNKNOWN);
    assert_int_equal(pk_outcome_pam_code(PK_KAKAO_UNAVAILABLE), PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(pk_outcome_pam_code(PK_CONFIG_ERROR), PAM_SERVICE_ERR);
    assert_int_equal(pk_outcome_pam_code(PK_FILE_ERROR), PAM_SERVICE_ERR);
    assert_int_equal(pk_outcome_pam_code(PK_CONV_ERROR), PAM_CONV_ERR);
    assert_int_equal(pk_outcome_pam_code(PK_NO_AUTHTOK), PAM_AUTH_ERR);
    assert_int_equal(pk_outcome_pam_code(PK_NO_MEMORY), PAM_BUF_ERR);
    assert_int_equal(pk_outcome_pam_code(PK_AUTHTOK_NOT_JWT), PAM_AUTH_ERR);
    assert_int_equal(pk_outcome_pam_code(PK_SSHD_INCORRECT), PAM_AUTH_ERR);
    assert_int_equal(pk_outcome_pam_code(PK_CONV_AGAIN), PAM_INCOMPLETE);
}

/* Every refusal between PK_NOT_MAPPED and PK_KAKAO_EMAIL_UNVERIFIED is an
 * authentication failure worded as "rejected". */
static void test_refusals_are_auth_err(void **state)
{
    (void)state;
    for (int o = PK_NOT_MAPPED; o <= PK_KAKAO_EMAIL_UNVERIFIED; o++) {
        if (pk_outcome_pam_code((enum pk_outcome)o) != PAM_AUTH_ERR)
            fail_msg("outcome %d is not PAM_AUTH_ERR", o);
        if (pk_outcome_wording((enum pk_outcome)o) != PK_WORD_REJECTED)
            fail_msg("outcome %d is not worded as rejected", o);
    }
    assert_int_equal(pk_outcome_wording(PK_OK), PK_WORD_ACCEPTED);
    assert_int_equal(pk_outcome_wording(PK_USER_UNKNOWN), PK_WORD_UNKNOWN);
    assert_int_equal(pk_outcome_wording(PK_KAKAO_UNAVAILABLE), PK_WORD_UNAVAILABLE);
    assert_int_equal(pk_outcome_wording(PK_CONFIG_ERROR), PK_WORD_SERVICE);
    assert_int_equal(pk_outcome_wording(PK_FILE_ERROR), PK_WORD_SERVICE);
    assert_int_equal(pk_outcome_wording(PK_NO_MEMORY), PK_WORD_SERVICE);
    assert_int_equal(pk_outcome_wording(PK_CONV_ERROR), PK_WORD_CONV);
}

static void test_reasons(void **state)
{
    (void)state;
    /* the reasons as the decision line carries them */
    expect_line(PK_JWT_EXPIRED, PK_KIND_JWT, 0, NULL, "alice",
                "rejected jwt for user=alice: expired");
    expect_line(PK_NOT_MAPPED, PK_KIND_KAKAO, 0, NULL, "alice",
                "rejected kakao for user=alice: kakao_id not mapped to this user");
    expect_line(PK_KAKAO_WRONG_APP, PK_KIND_KAKAO, 0, NULL, "alice",
                "rejected kakao for user=alice: token issued to another app");
    expect_line(PK_JWT_SIG_LENGTH, PK_KIND_JWT, 0, NULL, "alice",
                "rejected jwt for user=alice: signature length wrong, token probably cut off");
    expect_line(PK_CONFIG_ERROR, PK_KIND_NONE, 0, "x", "alice", "config error: x");
    expect_line(PK_FILE_ERROR, PK_KIND_NONE, 0, "x", "alice", "file refused: x");
}

/* The cut-off hint (pk_auth_add_hint) is for refusals the typed token may
 * explain: never an accepted or unmapped token, an outage, another module's
 * PAM_AUTHTOK or sshd's stand-in answer. */
static void test_cut_hint(void **state)
{
    static const enum pk_outcome none[] = {
        PK_OK, PK_NOT_MAPPED, PK_KAKAO_UNAVAILABLE, PK_JWKS_UNAVAILABLE, PK_AUTHTOK_NOT_JWT,
        PK_SSHD_INCORRECT,
        /* a 6-digit code is never cut off */
        PK_RELAY_WRONG_CODE, PK_RELAY_NOT_APPROVED, PK_RELAY_EXPIRED, PK_RELAY_USED,
        PK_RELAY_UNKNOWN, PK_RELAY_BAD_TYP, PK_RELAY_BAD_NONCE, PK_RELAY_UNAVAILABLE,
        /* one-time tokens: the token passed every check (or had no jti, which
         * is how it was minted, not how it was typed); the store is an outage */
        PK_JWT_NO_JTI, PK_TOKEN_USED, PK_STORE_UNAVAILABLE};

    (void)state;
    for (int o = 0; o < PK_OUTCOME_COUNT; o++) {
        bool want = true;
        for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
            if (none[i] == (enum pk_outcome)o)
                want = false;
        if (pk_outcome_cut_hint((enum pk_outcome)o) != want)
            fail_msg("outcome %d: cut hint %d, want %d", o, !want, want);
        /* an outage says nothing of the token: a new one must not get a hint */
        if (pk_outcome_pam_code((enum pk_outcome)o) == PAM_AUTHINFO_UNAVAIL)
            assert_false(pk_outcome_cut_hint((enum pk_outcome)o));
    }
    assert_true(pk_outcome_cut_hint(PK_JWT_SIG_LENGTH));
    assert_true(pk_outcome_cut_hint(PK_TOKEN_MALFORMED));
}

static void test_kind_names(void **state)
{
    (void)state;
    assert_string_equal(pk_kind_name(PK_KIND_KAKAO), "kakao");
    assert_string_equal(pk_kind_name(PK_KIND_JWT), "jwt");
    assert_string_equal(pk_kind_name(PK_KIND_ID_TOKEN), "id_token");
    assert_string_equal(pk_kind_name(PK_KIND_NONE), "token");
    assert_string_equal(pk_kind_name((enum pk_kind)(PK_KIND_KAKAO | PK_KIND_JWT)), "token");
}

/* Three example lines of pam_kakao(8) LOGGING, verbatim. */
static void test_spec_examples(void **state)
{
    (void)state;
    expect_line(PK_OK, PK_KIND_JWT, 3095134389LL, NULL, "alice",
                "accepted jwt kakao_id=3095134389 user=alice");
    expect_line(PK_JWT_EXPIRED, PK_KIND_JWT, 0, "exp=1697167622 now=1697170000", "alice",
                "rejected jwt for user=alice: expired (exp=1697167622 now=1697170000)");
    expect_line(PK_KAKAO_UNAVAILABLE, PK_KIND_KAKAO, 0, "timeout after 5 s", "alice",
                "kakao api unavailable for user=alice: timeout after 5 s");
}

/* One-time tokens (docs/DESIGN.md §8.6): the three new lines. */
static void test_one_time_lines(void **state)
{
    (void)state;
    expect_line(PK_TOKEN_USED, PK_KIND_JWT, 0, "mark=1a2b3c4d", "alice",
                "rejected jwt for user=alice: token already used (mark=1a2b3c4d)");
    expect_line(PK_TOKEN_USED, PK_KIND_ID_TOKEN, 0, "mark=1a2b3c4d", "alice",
                "rejected id_token for user=alice: token already used (mark=1a2b3c4d)");
    expect_line(PK_JWT_NO_JTI, PK_KIND_JWT, 0, "no jti claim", "alice",
                "rejected jwt for user=alice: no usable jti for one_time (no jti claim)");
    expect_line(PK_STORE_UNAVAILABLE, PK_KIND_JWT, 0,
                "redis 127.0.0.1:6379: connect: Connection refused", "alice",
                "one-time store unavailable for user=alice: redis 127.0.0.1:6379: connect: "
                "Connection refused");
    assert_int_equal(pk_outcome_pam_code(PK_TOKEN_USED), PAM_AUTH_ERR);
    assert_int_equal(pk_outcome_pam_code(PK_JWT_NO_JTI), PAM_AUTH_ERR);
    assert_int_equal(pk_outcome_pam_code(PK_STORE_UNAVAILABLE), PAM_AUTHINFO_UNAVAIL);
}

static void test_accepted(void **state)
{
    (void)state;
    expect_line(PK_OK, PK_KIND_KAKAO, 1122334455, "ignored detail", "bob",
                "accepted kakao kakao_id=1122334455 user=bob");
    expect_line(PK_OK, PK_KIND_ID_TOKEN, INT64_MAX, NULL, "deploy",
                "accepted id_token kakao_id=9223372036854775807 user=deploy");
}

static void test_rejected(void **state)
{
    (void)state;
    expect_line(PK_NOT_MAPPED, PK_KIND_KAKAO, 3095134389LL, NULL, "bob",
                "rejected kakao for user=bob: kakao_id not mapped to this user");
    expect_line(PK_NOT_MAPPED, PK_KIND_KAKAO, 3095134389LL, "kakao_id=3095134389", "bob",
                "rejected kakao for user=bob: kakao_id not mapped to this user "
                "(kakao_id=3095134389)");
    expect_line(PK_TOKEN_EMPTY, PK_KIND_NONE, 0, NULL, "alice",
                "rejected token for user=alice: empty token");
    expect_line(PK_TOKEN_MALFORMED, PK_KIND_NONE, 0,
                "1023 bytes: probably cut off by the OpenSSH client", "alice",
                "rejected token for user=alice: malformed token "
                "(1023 bytes: probably cut off by the OpenSSH client)");
    expect_line(PK_KAKAO_WRONG_APP, PK_KIND_KAKAO, 0, "app_id=7654321 expected=1234567", "alice",
                "rejected kakao for user=alice: token issued to another app "
                "(app_id=7654321 expected=1234567)");
    expect_line(PK_NO_AUTHTOK, PK_KIND_NONE, 0, NULL, "alice",
                "rejected token for user=alice: use_first_pass but no PAM_AUTHTOK");
    expect_line(PK_AUTHTOK_NOT_JWT, PK_KIND_NONE, 0, NULL, "alice",
                "rejected token for user=alice: PAM_AUTHTOK is not a JWT");
    expect_line(PK_SSHD_INCORRECT, PK_KIND_NONE, 0, NULL, "carol",
                "rejected token for user=carol: sshd refused the user (invalid or not allowed; "
                "sent its INCORRECT password)");
    expect_line(PK_CONV_AGAIN, PK_KIND_NONE, 0, "the conversation answered PAM_CONV_AGAIN", "alice",
                "authentication incomplete for user=alice: the conversation answered "
                "PAM_CONV_AGAIN");
    assert_int_equal(pk_outcome_wording(PK_CONV_AGAIN), PK_WORD_INCOMPLETE);
}

static void test_unknown(void **state)
{
    (void)state;
    expect_line(PK_USER_UNKNOWN, PK_KIND_NONE, 0, NULL, "carol",
                "no user map entry for user=carol");
    expect_line(PK_USER_UNKNOWN, PK_KIND_NONE, 0, "/etc/security/pam_kakao.users", "carol",
                "no user map entry for user=carol (/etc/security/pam_kakao.users)");
}

static void test_unavailable(void **state)
{
    (void)state;
    expect_line(PK_KAKAO_UNAVAILABLE, PK_KIND_KAKAO, 0, NULL, "alice",
                "kakao api unavailable for user=alice: unknown error");
    expect_line(PK_KAKAO_UNAVAILABLE, PK_KIND_KAKAO, 0, "HTTP 503", "alice",
                "kakao api unavailable for user=alice: HTTP 503");
}

static void test_service(void **state)
{
    (void)state;
    expect_line(PK_CONFIG_ERROR, PK_KIND_NONE, 0,
                "/etc/security/pam_kakao.conf:3: unknown key \"foo\"", "alice",
                "config error: /etc/security/pam_kakao.conf:3: unknown key \"foo\"");
    expect_line(PK_CONFIG_ERROR, PK_KIND_NONE, 0, NULL, "alice", "config error: (no detail)");
    expect_line(PK_FILE_ERROR, PK_KIND_NONE, 0,
                "/etc/security/pam_kakao.users: writable by group or others (mode 0666)", "alice",
                "file refused: /etc/security/pam_kakao.users: writable by group or others "
                "(mode 0666)");
    expect_line(PK_NO_MEMORY, PK_KIND_NONE, 0, NULL, NULL, "out of memory: (no detail)");
}

static void test_conv(void **state)
{
    (void)state;
    expect_line(PK_CONV_ERROR, PK_KIND_NONE, 0, NULL, "alice",
                "conversation failed for user=alice: no answer");
    expect_line(PK_CONV_ERROR, PK_KIND_NONE, 0, "sudo refuses answers of 512 bytes or more",
                "alice",
                "conversation failed for user=alice: sudo refuses answers of 512 bytes or more");
}

static void test_user_escaping(void **state)
{
    char long_user[300];
    char want[512];

    (void)state;
    expect_line(PK_OK, PK_KIND_JWT, 1, NULL, "ali\nce", "accepted jwt kakao_id=1 user=ali\\x0ace");
    expect_line(PK_NOT_MAPPED, PK_KIND_JWT, 1, NULL, "a\\b",
                "rejected jwt for user=a\\x5cb: kakao_id not mapped to this user");
    expect_line(PK_USER_UNKNOWN, PK_KIND_NONE, 0, NULL, "x\ry\x1b\x7f\xff",
                "no user map entry for user=x\\x0dy\\x1b\\x7f\\xff");
    /* a forged second log line stays on one line */
    expect_line(PK_NOT_MAPPED, PK_KIND_JWT, 1, NULL, "eve\naccepted jwt kakao_id=1 user=root",
                "rejected jwt for user=eve\\x0aaccepted\\x20jwt\\x20kakao_id=1\\x20user=root: "
                "kakao_id not mapped to this user");
    /* a forged decision inside the line: no raw space, no raw quote in user= */
    expect_line(PK_USER_UNKNOWN, PK_KIND_NONE, 0, NULL, "x accepted kakao kakao_id=1 user=root",
                "no user map entry for user=x\\x20accepted\\x20kakao\\x20kakao_id=1\\x20user=root");
    expect_line(PK_OK, PK_KIND_KAKAO, 7, NULL, "x accepted kakao kakao_id=1 user=root",
                "accepted kakao kakao_id=7 user=x\\x20accepted\\x20kakao\\x20kakao_id=1\\x20"
                "user=root");
    expect_line(PK_NOT_MAPPED, PK_KIND_JWT, 1, NULL, "a\" b",
                "rejected jwt for user=a\\x22\\x20b: kakao_id not mapped to this user");
    expect_line(PK_USER_UNKNOWN, PK_KIND_NONE, 0, NULL, NULL, "no user map entry for user=(none)");
    expect_line(PK_USER_UNKNOWN, PK_KIND_NONE, 0, NULL, "", "no user map entry for user=");

    /* An overlong user name is cut visibly ("..." in the 128-byte field),
     * never overflows, and cannot pass for a shorter real name */
    memset(long_user, 'u', sizeof(long_user) - 1);
    long_user[sizeof(long_user) - 1] = '\0';
    (void)snprintf(want, sizeof(want), "no user map entry for user=%.124s...", long_user);
    expect_line(PK_USER_UNKNOWN, PK_KIND_NONE, 0, NULL, long_user, want);
}

static void test_line_truncated_to_buffer(void **state)
{
    char buf[16];
    struct pk_result res;

    (void)state;
    make_result(&res, PK_OK, PK_KIND_JWT, 3095134389LL, NULL);
    memset(buf, 'Z', sizeof(buf));
    pk_verdict_line(buf, sizeof(buf), &res, "alice");
    assert_string_equal(buf, "accepted jwt ka");
    /* a one-byte buffer gets just the terminator */
    memset(buf, 'Z', sizeof(buf));
    pk_verdict_line(buf, 1, &res, "alice");
    assert_int_equal(buf[0], '\0');
    assert_int_equal(buf[1], 'Z');
}

static void test_result_set(void **state)
{
    struct pk_result res;
    char big[600];

    (void)state;
    memset(&res, 0, sizeof(res));
    assert_int_equal(pk_result_set(&res, PK_JWT_EXPIRED, "exp=%d now=%d", 1, 2), PK_JWT_EXPIRED);
    assert_int_equal(res.outcome, PK_JWT_EXPIRED);
    assert_string_equal(res.detail, "exp=1 now=2");
    assert_int_equal(pk_result_set(&res, PK_TOKEN_EMPTY, NULL), PK_TOKEN_EMPTY);
    assert_int_equal(res.outcome, PK_TOKEN_EMPTY);
    assert_string_equal(res.detail, "");

    memset(big, 'd', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    (void)pk_result_set(&res, PK_CONFIG_ERROR, "%s", big);
    assert_int_equal(strlen(res.detail), PK_DETAIL_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_outcome_has_a_row),
        cmocka_unit_test(test_out_of_range_outcome),
        cmocka_unit_test(test_pam_codes),
        cmocka_unit_test(test_refusals_are_auth_err),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_cut_hint),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_spec_examples),
        cmocka_unit_test(test_one_time_lines),
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_rejected),
        cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_unavailable),
        cmocka_unit_test(test_service),
        cmocka_unit_test(test_conv),
        cmocka_unit_test(test_user_escaping),
        cmocka_unit_test(test_line_truncated_to_buffer),
        cmocka_unit_test(test_result_set),
    };
    return cmocka_run_group_tests_name("verdict", tests, NULL, NULL);
}
