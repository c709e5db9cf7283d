/* pk_kakao_parse_token_info / pk_kakao_parse_user_me: every branch of
 * the Kakao answer rules of docs/DESIGN.md §4.4 and the email rules, table-driven, with the exact
 * outcome and, where it matters to the admin, the exact detail. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "kakao_api.h"
#include "verdict.h"

#define APP 1234567
#define ALICE 3095134389LL

struct info_case {
    const char *name;
    long status;
    const char *body;
    enum pk_outcome want;
    const char *detail; /* NULL: not checked */
};

static const struct info_case info_cases[] = {
    {"valid", 200, "{\"id\":3095134389,\"expires_in\":21599,\"app_id\":1234567}", PK_OK,
     "expires_in=21599"},
    {"valid, keys reordered, extra key", 200,
     "{\"app_id\":1234567,\"x\":[1,{}],\"expires_in\":1,\"id\":1}", PK_OK, NULL},
    {"valid, max int64 id", 200, "{\"id\":9223372036854775807,\"expires_in\":5,\"app_id\":1234567}",
     PK_OK, NULL},
    {"wrong app", 200, "{\"id\":3095134389,\"expires_in\":21599,\"app_id\":7654321}",
     PK_KAKAO_WRONG_APP, "app_id=7654321 expected=1234567"},
    {"wrong app wins over bad id", 200, "{\"id\":0,\"expires_in\":21599,\"app_id\":7654321}",
     PK_KAKAO_WRONG_APP, NULL},
    {"id 0", 200, "{\"id\":0,\"expires_in\":21599,\"app_id\":1234567}", PK_KAKAO_BAD_ID, "id=0"},
    {"id negative", 200, "{\"id\":-5,\"expires_in\":21599,\"app_id\":1234567}", PK_KAKAO_BAD_ID,
     "id=-5"},
    {"id string", 200, "{\"id\":\"3095134389\",\"expires_in\":21599,\"app_id\":1234567}",
     PK_KAKAO_UNAVAILABLE, "id is not an integer"},
    {"id float", 200, "{\"id\":3095134389.0,\"expires_in\":21599,\"app_id\":1234567}",
     PK_KAKAO_UNAVAILABLE, "id is not an integer"},
    {"id exponent", 200, "{\"id\":3e9,\"expires_in\":21599,\"app_id\":1234567}",
     PK_KAKAO_UNAVAILABLE, "id is not an integer"},
    {"id true", 200, "{\"id\":true,\"expires_in\":21599,\"app_id\":1234567}", PK_KAKAO_UNAVAILABLE,
     "id is not an integer"},
    {"id null", 200, "{\"id\":null,\"expires_in\":21599,\"app_id\":1234567}", PK_KAKAO_UNAVAILABLE,
     "id is not an integer"},
    {"id beyond int64", 200,
     "{\"id\":99999999999999999999,\"expires_in\":21599,\"app_id\":1234567}", PK_KAKAO_UNAVAILABLE,
     "number out of range in response"},
    {"id 2^63", 200, "{\"id\":9223372036854775808,\"expires_in\":21599,\"app_id\":1234567}",
     PK_KAKAO_UNAVAILABLE, "number out of range in response"},
    {"id missing", 200, "{\"expires_in\":21599,\"app_id\":1234567}", PK_KAKAO_UNAVAILABLE,
     "missing id"},
    {"app_id missing", 200, "{\"id\":3095134389,\"expires_in\":21599}", PK_KAKAO_UNAVAILABLE,
     "missing app_id"},
    {"app_id string", 200, "{\"id\":3095134389,\"expires_in\":21599,\"app_id\":\"1234567\"}",
     PK_KAKAO_UNAVAILABLE, "app_id is not an integer"},
    {"expires_in missing", 200, "{\"id\":3095134389,\"app_id\":1234567}", PK_KAKAO_UNAVAILABLE,
     "missing expires_in"},
    {"expires_in float", 200, "{\"id\":3095134389,\"expires_in\":1.5,\"app_id\":1234567}",
     PK_KAKAO_UNAVAILABLE, "expires_in is not an integer"},
    {"expires_in 0", 200, "{\"id\":3095134389,\"expires_in\":0,\"app_id\":1234567}",
     PK_KAKAO_INVALID_TOKEN, "expires_in=0"},
    {"expires_in -1", 200, "{\"id\":3095134389,\"expires_in\":-1,\"app_id\":1234567}",
     PK_KAKAO_INVALID_TOKEN, "expires_in=-1"},
    {"duplicate id", 200,
     "{\"id\":3095134389,\"id\":1122334455,\"expires_in\":100,\"app_id\":1234567}",
     PK_KAKAO_UNAVAILABLE, "duplicate key in response"},
    {"duplicate nested key", 200,
     "{\"id\":1,\"expires_in\":100,\"app_id\":1234567,\"x\":{\"a\":1,\"a\":2}}",
     PK_KAKAO_UNAVAILABLE, "duplicate key in response"},
    {"array", 200, "[]", PK_KAKAO_UNAVAILABLE, "response is not a JSON object"},
    {"number", 200, "42", PK_KAKAO_UNAVAILABLE, NULL},
    {"empty body", 200, "", PK_KAKAO_UNAVAILABLE, "empty response"},
    {"html", 200, "<html>not json</html>", PK_KAKAO_UNAVAILABLE,
     "unparseable JSON response (line 1 column 1)"},
    {"trailing garbage", 200, "{\"id\":1,\"expires_in\":1,\"app_id\":1234567} x",
     PK_KAKAO_UNAVAILABLE, NULL},
    {"truncated", 200, "{\"id\":3095134389,\"expires_in\":215", PK_KAKAO_UNAVAILABLE, NULL},
    {"401 -401 expired", 401, "{\"msg\":\"this access token is already expired\",\"code\":-401}",
     PK_KAKAO_INVALID_TOKEN, "HTTP 401 code=-401 msg=\"this access token is already expired\""},
    {"401 without body", 401, "", PK_KAKAO_INVALID_TOKEN, "HTTP 401"},
    {"401 html", 401, "<html>401</html>", PK_KAKAO_INVALID_TOKEN, "HTTP 401"},
    {"400 -401", 400, "{\"msg\":\"x\",\"code\":-401}", PK_KAKAO_INVALID_TOKEN, NULL},
    {"200 carrying code -401", 200, "{\"msg\":\"x\",\"code\":-401}", PK_KAKAO_INVALID_TOKEN, NULL},
    {"400 -2", 400, "{\"msg\":\"bad parameter\",\"code\":-2}", PK_KAKAO_REFUSED,
     "HTTP 400 code=-2 (bad parameter) msg=\"bad parameter\""},
    {"400 -101", 400, "{\"msg\":\"user not linked\",\"code\":-101}", PK_KAKAO_REFUSED, NULL},
    {"400 -402", 400, "{\"msg\":\"scope\",\"code\":-402}", PK_KAKAO_REFUSED, NULL},
    {"403 -5", 403, "{\"msg\":\"no permission\",\"code\":-5}", PK_KAKAO_REFUSED,
     "HTTP 403 code=-5 (no permission) msg=\"no permission\""},
    {"400 unknown code", 400, "{\"msg\":\"x\",\"code\":-999}", PK_KAKAO_UNAVAILABLE, NULL},
    {"404 -1 (wrong api url)", 404, "{\"msg\":\"not found\",\"code\":-1}", PK_KAKAO_UNAVAILABLE,
     "HTTP 404 code=-1 msg=\"not found\""},
    {"403 code as string", 403, "{\"msg\":\"x\",\"code\":\"-5\"}", PK_KAKAO_UNAVAILABLE,
     "HTTP 403 msg=\"x\""},
    {"429 -10", 429, "{\"msg\":\"API limit has been exceeded.\",\"code\":-10}",
     PK_KAKAO_UNAVAILABLE,
     "HTTP 429 code=-10 (quota exceeded) msg=\"API limit has been exceeded.\""},
    {"429 no body", 429, "", PK_KAKAO_UNAVAILABLE, "HTTP 429"},
    {"400 -10", 400, "{\"code\":-10}", PK_KAKAO_UNAVAILABLE, "HTTP 400 code=-10 (quota exceeded)"},
    {"400 -7", 400, "{\"msg\":\"service maintenance\",\"code\":-7}", PK_KAKAO_UNAVAILABLE,
     "HTTP 400 code=-7 (service maintenance) msg=\"service maintenance\""},
    {"401 -7", 401, "{\"code\":-7}", PK_KAKAO_UNAVAILABLE, NULL},
    {"503 -9798", 503, "{\"msg\":\"service maintenance\",\"code\":-9798}", PK_KAKAO_UNAVAILABLE,
     NULL},
    {"200 -9798", 200, "{\"code\":-9798}", PK_KAKAO_UNAVAILABLE, NULL},
    {"500 html", 500, "<html><body><h1>500 Internal Server Error</h1></body></html>",
     PK_KAKAO_UNAVAILABLE, "HTTP 500"},
    {"502 empty", 502, "", PK_KAKAO_UNAVAILABLE, "HTTP 502"},
    {"500 -401", 500, "{\"code\":-401}", PK_KAKAO_UNAVAILABLE, NULL},
    {"302", 302, "", PK_KAKAO_UNAVAILABLE, "redirect (HTTP 302) not followed"},
    {"301 with json body", 301, "{\"id\":3095134389,\"expires_in\":21599,\"app_id\":1234567}",
     PK_KAKAO_UNAVAILABLE, "redirect (HTTP 301) not followed"},
    {"204", 204, "", PK_KAKAO_UNAVAILABLE, "HTTP 204"},
    {"201 with valid body", 201, "{\"id\":3095134389,\"expires_in\":21599,\"app_id\":1234567}",
     PK_KAKAO_UNAVAILABLE, "HTTP 201"},
    {"msg quotes and control bytes", 401, "{\"msg\":\"a\\\"b\\\\c\\n\\u00e9\",\"code\":-401}",
     PK_KAKAO_INVALID_TOKEN, "HTTP 401 code=-401 msg=\"a\\x22b\\x5cc\\x0a\\xc3\\xa9\""},
};

/* Fails naming the case, so a table failure says which row broke.
 * want_id < 0: any positive kakao_id will do on PK_OK. */
static void check_result(const char *name, enum pk_outcome got, const struct pk_result *res,
                         enum pk_outcome want, const char *detail, int64_t want_id)
{
    if (memchr(res->detail, '\0', sizeof(res->detail)) == NULL)
        fail_msg("%s: detail not NUL-terminated", name);
    if (got != want || res->outcome != want)
        fail_msg("%s: outcome %d (detail \"%s\"), want %d", name, (int)got, res->detail, (int)want);
    if (res->kind != PK_KIND_KAKAO)
        fail_msg("%s: kind %d", name, (int)res->kind);
    if (detail != NULL && strcmp(res->detail, detail) != 0)
        fail_msg("%s: detail \"%s\", want \"%s\"", name, res->detail, detail);
    if (got == PK_OK && want_id < 0 ? res->kakao_id <= 0
                                    : res->kakao_id != (got == PK_OK ? want_id : 0))
        fail_msg("%s: kakao_id %lld", name, (long long)res->kakao_id);
}

static void test_token_info_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(info_cases) / sizeof(info_cases[0]); i++) {
        const struct info_case *c = &info_cases[i];
        struct pk_result res;
        enum pk_outcome got;

        memset(&res, 0x5a, sizeof(res));
        got = pk_kakao_parse_token_info(c->body, strlen(c->body), c->status, APP, &res);
        check_result(c->name, got, &res, c->want, c->detail, -1);
    }
}

static void test_token_info_ok_sets_id(void **state)
{
    const char *body = "{\"id\":3095134389,\"expires_in\":21599,\"app_id\":1234567}";
    struct pk_result res;

    (void)state;
    memset(&res, 0, sizeof(res));
    assert_int_equal(pk_kakao_parse_token_info(body, strlen(body), 200, APP, &res), PK_OK);
    assert_true(res.kakao_id == ALICE);
    assert_int_equal(res.kind, PK_KIND_KAKAO);

    body = "{\"id\":9223372036854775807,\"expires_in\":5,\"app_id\":1234567}";
    assert_int_equal(pk_kakao_parse_token_info(body, strlen(body), 200, APP, &res), PK_OK);
    assert_true(res.kakao_id == INT64_MAX);

    /* Only the configured app is accepted, whatever the id. */
    assert_int_equal(pk_kakao_parse_token_info(body, strlen(body), 200, 7654321, &res),
                     PK_KAKAO_WRONG_APP);
    assert_string_equal(res.detail, "app_id=1234567 expected=7654321");
    assert_int_equal(res.kakao_id, 0);
}

/* The length argument, not the NUL, bounds the parse. */
static void test_token_info_length_bounds(void **state)
{
    const char *body = "{\"id\":1,\"expires_in\":1,\"app_id\":1234567}GARBAGE";
    size_t json_len = strlen(body) - strlen("GARBAGE");
    struct pk_result res;

    (void)state;
    assert_int_equal(pk_kakao_parse_token_info(body, json_len, 200, APP, &res), PK_OK);
    assert_int_equal(pk_kakao_parse_token_info(body, json_len - 1, 200, APP, &res),
                     PK_KAKAO_UNAVAILABLE);
    assert_int_equal(pk_kakao_parse_token_info(NULL, 0, 200, APP, &res), PK_KAKAO_UNAVAILABLE);
    assert_string_equal(res.detail, "empty response");
    /* An embedded NUL is not JSON. */
    assert_int_equal(pk_kakao_parse_token_info("{\"id\":1\0}", 9, 200, APP, &res),
                     PK_KAKAO_UNAVAILABLE);
}

/* Kakao's msg is cut to 80 characters, marked with "...". */
static void test_long_msg_truncated(void **state)
{
    char body[512];
    char want[256];
    char msg[201];
    struct pk_result res;

    (void)state;
    memset(msg, 'm', 200);
    msg[200] = '\0';
    snprintf(body, sizeof(body), "{\"msg\":\"%s\",\"code\":-401}", msg);
    assert_int_equal(pk_kakao_parse_token_info(body, strlen(body), 401, APP, &res),
                     PK_KAKAO_INVALID_TOKEN);
    snprintf(want, sizeof(want), "HTTP 401 code=-401 msg=\"%.77s...\"", msg);
    assert_string_equal(res.detail, want);
}

/* An escape that does not fit before the cut is dropped whole, never halved. */
static void test_long_msg_cut_between_escapes(void **state)
{
    char body[512];
    char want[256];
    char msg[80];
    struct pk_result res;

    (void)state;
    /* 76 'm' and a quote: 80 characters escaped, fits exactly */
    memset(msg, 'm', 76);
    (void)snprintf(msg + 76, sizeof(msg) - 76, "\\\"");
    (void)snprintf(body, sizeof(body), "{\"msg\":\"%s\",\"code\":-401}", msg);
    assert_int_equal(pk_kakao_parse_token_info(body, strlen(body), 401, APP, &res),
                     PK_KAKAO_INVALID_TOKEN);
    (void)snprintf(want, sizeof(want), "HTTP 401 code=-401 msg=\"%.76s\\x22\"", msg);
    assert_string_equal(res.detail, want);
    /* 75 'm' and two quotes: 83 escaped; the first \x22 would end past 77 */
    memset(msg, 'm', 75);
    (void)snprintf(msg + 75, sizeof(msg) - 75, "\\\"\\\"");
    (void)snprintf(body, sizeof(body), "{\"msg\":\"%s\",\"code\":-401}", msg);
    assert_int_equal(pk_kakao_parse_token_info(body, strlen(body), 401, APP, &res),
                     PK_KAKAO_INVALID_TOKEN);
    (void)snprintf(want, sizeof(want), "HTTP 401 code=-401 msg=\"%.75s...\"", msg);
    assert_string_equal(res.detail, want);
}

/* The body never reaches the detail, even when it is all there is. */
static void test_body_not_in_detail(void **state)
{
    const char *bodies[] = {
        "<html>SECRETBODY</html>",
        "{\"SECRETBODY\":1",
        "{\"id\":1,\"id\":2,\"SECRETBODY\":3}",
        "\"SECRETBODY\"",
    };
    const long statuses[] = {200, 401, 500, 302, 403};

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        for (size_t s = 0; s < sizeof(statuses) / sizeof(statuses[0]); s++) {
            struct pk_result res;

            pk_kakao_parse_token_info(bodies[i], strlen(bodies[i]), statuses[s], APP, &res);
            assert_null(strstr(res.detail, "SECRETBODY"));
            pk_kakao_parse_user_me(bodies[i], strlen(bodies[i]), statuses[s], PK_EMAIL_VERIFIED,
                                   &res);
            assert_null(strstr(res.detail, "SECRETBODY"));
        }
    }
}

struct me_case {
    const char *name;
    enum pk_email_rule rule;
    long status;
    const char *body;
    enum pk_outcome want;
    const char *detail;
};

#define ME_ID "\"id\":3095134389"
#define ACCT(fields) "{" ME_ID ",\"kakao_account\":{" fields "}}"
#define GOOD_EMAIL "\"email\":\"alice@example.com\""

static const struct me_case me_cases[] = {
    {"no rule, id only", PK_EMAIL_NO, 200, "{" ME_ID "}", PK_OK, NULL},
    {"no rule ignores account", PK_EMAIL_NO, 200, "{" ME_ID ",\"kakao_account\":7}", PK_OK, NULL},
    {"yes, email", PK_EMAIL_YES, 200, ACCT(GOOD_EMAIL), PK_OK, NULL},
    {"yes, email unverified is fine", PK_EMAIL_YES, 200,
     ACCT(GOOD_EMAIL ",\"is_email_valid\":false,\"is_email_verified\":false"), PK_OK, NULL},
    {"yes, no email, needs agreement", PK_EMAIL_YES, 200, ACCT("\"email_needs_agreement\":true"),
     PK_KAKAO_NO_EMAIL, "email needs the user's agreement"},
    {"yes, no email", PK_EMAIL_YES, 200, ACCT("\"has_email\":false"), PK_KAKAO_NO_EMAIL,
     "no email"},
    {"yes, email null", PK_EMAIL_YES, 200, ACCT("\"email\":null"), PK_KAKAO_NO_EMAIL, "no email"},
    {"yes, email empty", PK_EMAIL_YES, 200, ACCT("\"email\":\"\""), PK_KAKAO_NO_EMAIL,
     "email is empty"},
    {"yes, email number", PK_EMAIL_YES, 200, ACCT("\"email\":1"), PK_KAKAO_NO_EMAIL,
     "email is not a string"},
    {"yes, email true", PK_EMAIL_YES, 200, ACCT("\"email\":true"), PK_KAKAO_NO_EMAIL,
     "email is not a string"},
    {"yes, no kakao_account", PK_EMAIL_YES, 200, "{" ME_ID "}", PK_KAKAO_NO_EMAIL,
     "no kakao_account"},
    {"yes, kakao_account not an object", PK_EMAIL_YES, 200, "{" ME_ID ",\"kakao_account\":[]}",
     PK_KAKAO_UNAVAILABLE, "kakao_account is not an object"},
    {"yes, email at top level does not count", PK_EMAIL_YES, 200,
     "{" ME_ID "," GOOD_EMAIL ",\"kakao_account\":{}}", PK_KAKAO_NO_EMAIL, "no email"},
    {"verified, both true", PK_EMAIL_VERIFIED, 200,
     ACCT(GOOD_EMAIL ",\"is_email_valid\":true,\"is_email_verified\":true"), PK_OK, "email ok"},
    {"verified, not verified", PK_EMAIL_VERIFIED, 200,
     ACCT(GOOD_EMAIL ",\"is_email_valid\":true,\"is_email_verified\":false"),
     PK_KAKAO_EMAIL_UNVERIFIED, "is_email_verified=false"},
    {"verified, not valid", PK_EMAIL_VERIFIED, 200,
     ACCT(GOOD_EMAIL ",\"is_email_valid\":false,\"is_email_verified\":true"),
     PK_KAKAO_EMAIL_UNVERIFIED, "is_email_valid=false"},
    {"verified, strings \"true\"", PK_EMAIL_VERIFIED, 200,
     ACCT(GOOD_EMAIL ",\"is_email_valid\":\"true\",\"is_email_verified\":\"true\""),
     PK_KAKAO_EMAIL_UNVERIFIED, "is_email_valid is not a boolean"},
    {"verified, verified as string", PK_EMAIL_VERIFIED, 200,
     ACCT(GOOD_EMAIL ",\"is_email_valid\":true,\"is_email_verified\":\"true\""),
     PK_KAKAO_EMAIL_UNVERIFIED, "is_email_verified is not a boolean"},
    {"verified, numbers 1", PK_EMAIL_VERIFIED, 200,
     ACCT(GOOD_EMAIL ",\"is_email_valid\":1,\"is_email_verified\":1"), PK_KAKAO_EMAIL_UNVERIFIED,
     "is_email_valid is not a boolean"},
    {"verified, flags missing", PK_EMAIL_VERIFIED, 200, ACCT(GOOD_EMAIL), PK_KAKAO_EMAIL_UNVERIFIED,
     "is_email_valid missing"},
    {"verified, verified missing", PK_EMAIL_VERIFIED, 200,
     ACCT(GOOD_EMAIL ",\"is_email_valid\":true"), PK_KAKAO_EMAIL_UNVERIFIED,
     "is_email_verified missing"},
    {"verified, null", PK_EMAIL_VERIFIED, 200,
     ACCT(GOOD_EMAIL ",\"is_email_valid\":true,\"is_email_verified\":null"),
     PK_KAKAO_EMAIL_UNVERIFIED, "is_email_verified is not a boolean"},
    {"verified, no email first", PK_EMAIL_VERIFIED, 200,
     ACCT("\"is_email_valid\":true,\"is_email_verified\":true"), PK_KAKAO_NO_EMAIL, "no email"},
    {"verified, duplicate flag", PK_EMAIL_VERIFIED, 200,
     ACCT(GOOD_EMAIL ",\"is_email_valid\":true,\"is_email_verified\":false,"
                     "\"is_email_verified\":true"),
     PK_KAKAO_UNAVAILABLE, "duplicate key in response"},
    {"id 0", PK_EMAIL_YES, 200, "{\"id\":0,\"kakao_account\":{" GOOD_EMAIL "}}", PK_KAKAO_BAD_ID,
     "id=0"},
    {"id negative", PK_EMAIL_NO, 200, "{\"id\":-1}", PK_KAKAO_BAD_ID, "id=-1"},
    {"id string", PK_EMAIL_YES, 200, "{\"id\":\"3095134389\",\"kakao_account\":{" GOOD_EMAIL "}}",
     PK_KAKAO_UNAVAILABLE, "id is not an integer"},
    {"id float", PK_EMAIL_YES, 200, "{\"id\":1.0,\"kakao_account\":{" GOOD_EMAIL "}}",
     PK_KAKAO_UNAVAILABLE, "id is not an integer"},
    {"id missing", PK_EMAIL_YES, 200, "{\"kakao_account\":{" GOOD_EMAIL "}}", PK_KAKAO_UNAVAILABLE,
     "missing id"},
    {"not an object", PK_EMAIL_YES, 200, "[]", PK_KAKAO_UNAVAILABLE,
     "response is not a JSON object"},
    {"empty", PK_EMAIL_YES, 200, "", PK_KAKAO_UNAVAILABLE, "empty response"},
    {"401 -401", PK_EMAIL_YES, 401, "{\"msg\":\"this access token does not exist\",\"code\":-401}",
     PK_KAKAO_INVALID_TOKEN, "HTTP 401 code=-401 msg=\"this access token does not exist\""},
    {"403 -5", PK_EMAIL_YES, 403, "{\"msg\":\"no permission\",\"code\":-5}", PK_KAKAO_REFUSED,
     NULL},
    {"400 -402 scope", PK_EMAIL_YES, 400, "{\"msg\":\"scope\",\"code\":-402}", PK_KAKAO_REFUSED,
     "HTTP 400 code=-402 (scope not agreed) msg=\"scope\""},
    {"429 -10", PK_EMAIL_YES, 429, "{\"code\":-10}", PK_KAKAO_UNAVAILABLE, NULL},
    {"503 -9798", PK_EMAIL_YES, 503, "{\"code\":-9798}", PK_KAKAO_UNAVAILABLE, NULL},
    {"500", PK_EMAIL_VERIFIED, 500, "oops", PK_KAKAO_UNAVAILABLE, "HTTP 500"},
    {"302", PK_EMAIL_YES, 302, "", PK_KAKAO_UNAVAILABLE, "redirect (HTTP 302) not followed"},
};

static void test_user_me_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(me_cases) / sizeof(me_cases[0]); i++) {
        const struct me_case *c = &me_cases[i];
        struct pk_result res;
        enum pk_outcome got;

        memset(&res, 0x5a, sizeof(res));
        got = pk_kakao_parse_user_me(c->body, strlen(c->body), c->status, c->rule, &res);
        check_result(c->name, got, &res, c->want, c->detail, ALICE);
    }
}

/* The email address is personal data: never in the detail. */
static void test_email_not_in_detail(void **state)
{
    const char *body = ACCT(GOOD_EMAIL ",\"is_email_valid\":true,\"is_email_verified\":false");
    struct pk_result res;

    (void)state;
    assert_int_equal(pk_kakao_parse_user_me(body, strlen(body), 200, PK_EMAIL_VERIFIED, &res),
                     PK_KAKAO_EMAIL_UNVERIFIED);
    assert_null(strstr(res.detail, "alice"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_info_table),
        cmocka_unit_test(test_token_info_ok_sets_id),
        cmocka_unit_test(test_token_info_length_bounds),
        cmocka_unit_test(test_long_msg_truncated),
        cmocka_unit_test(test_long_msg_cut_between_escapes),
        cmocka_unit_test(test_body_not_in_detail),
        cmocka_unit_test(test_user_me_table),
        cmocka_unit_test(test_email_not_in_detail),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
