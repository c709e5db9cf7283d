/* Kakao API response bodies: pk_kakao_parse_token_info and
 * pk_kakao_parse_user_me. The first byte chooses the parser (bit 0), the
 * email rule for user/me (bits 1-2) and the HTTP status (bits 3-6); the
 * rest is the body, handed over in a buffer of exactly its size (no NUL)
 * so that any read past the body is caught.
 *
 * Invariants: PK_OK only for HTTP 200 with a positive id, and (token info)
 * an app_id equal to ours or (user/me, verified) an email that is valid
 * and verified, as an independent reading of the JSON says; the returned
 * outcome is the recorded one; details are printable; Kakao's msg stays inside
 * its quotes; the decision line's user= field cannot be forged. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "kakao_api.h"
#include "verdict.h"

#define APP_ID 1234567

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void oracle(bool info, enum pk_email_rule rule, const char *body, size_t len, int64_t id)
{
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *v;

    PK_FUZZ_CHECK(json_is_object(root), "accepted a body that is not a JSON object");
    PK_FUZZ_CHECK(json_object_get(root, "code") == NULL, "accepted an error body");
    v = json_object_get(root, "id");
    PK_FUZZ_CHECK(json_is_integer(v) && json_integer_value(v) == id && id > 0,
                  "accepted id differs from the body");
    if (info) {
        v = json_object_get(root, "app_id");
        PK_FUZZ_CHECK(json_is_integer(v) && json_integer_value(v) == APP_ID,
                      "accepted a token of another app");
        v = json_object_get(root, "expires_in");
        PK_FUZZ_CHECK(json_is_integer(v) && json_integer_value(v) > 0, "accepted a dead token");
    } else if (rule != PK_EMAIL_NO) {
        json_t *acct = json_object_get(root, "kakao_account");
        json_t *email = json_object_get(acct, "email");
        PK_FUZZ_CHECK(json_is_string(email) && json_string_length(email) > 0,
                      "accepted without an email");
        if (rule == PK_EMAIL_VERIFIED)
            PK_FUZZ_CHECK(json_is_true(json_object_get(acct, "is_email_valid")) &&
                              json_is_true(json_object_get(acct, "is_email_verified")),
                          "accepted an unverified email");
    }
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[16] = {200, 200, 200, 200, 200, 401, 400, 403,
                                      404, 429, 500, 503, 302, 0,   204, 418};
    struct pk_result res;
    enum pk_email_rule rule;
    enum pk_outcome out;
    bool info;
    long status;
    char *body;
    size_t len;

    if (size == 0)
        return 0;
    info = (data[0] & 1) != 0;
    rule = (enum pk_email_rule)((data[0] >> 1) & 3);
    if (rule > PK_EMAIL_VERIFIED)
        rule = PK_EMAIL_VERIFIED;
    status = statuses[(data[0] >> 3) & 15];
    len = size - 1;
    body = malloc(len != 0 ? len : 1);
    if (body == NULL)
        return 0;
    memcpy(body, data + 1, len);
    memset(&res, 0, sizeof(res));
    out = info ? pk_kakao_parse_token_info(body, len, status, APP_ID, &res)
               : pk_kakao_parse_user_me(body, len, status, rule, &res);
    pk_fuzz_trace(out, res.detail);
    PK_FUZZ_CHECK(out == res.outcome, "returned outcome differs from the recorded one");
    PK_FUZZ_CHECK(res.kind == PK_KIND_KAKAO, "kind not kakao");
    PK_FUZZ_CHECK(pk_fuzz_printable(res.detail), "detail not printable");
    PK_FUZZ_CHECK(out == PK_OK || res.kakao_id == 0, "refused but an id is set");
    {
        /* Kakao's msg is the last part of a detail and stays inside its quotes. */
        const char *msg = strstr(res.detail, " msg=\"");
        char user[25];
        if (msg != NULL) {
            const char *close = strchr(msg + 6, '"');
            PK_FUZZ_CHECK(close != NULL && close[1] == '\0', "msg=\"...\" not closed at the end");
        }
        pk_fuzz_user(data, size, user);
        pk_fuzz_check_decision(&res, user);
    }
    if (out == PK_OK) {
        PK_FUZZ_CHECK(status == 200, "accepted a non-200 answer");
        oracle(info, rule, body, len, res.kakao_id);
    }
    free(body);
    return 0;
}
