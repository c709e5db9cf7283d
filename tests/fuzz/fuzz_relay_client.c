/* The relay's answers as the module reads them: pk_relay_read_session and
 * pk_relay_read_redeem (src/relay_client.c). Byte 0: bit 0 picks the
 * parser (set: redeem), bits 1-4 the HTTP status; the rest is the body, in
 * a buffer of exactly its size (no NUL) so that any read past it is caught.
 *
 * Invariants: the returned outcome is the recorded one; kind relay; details
 * printable; the decision line's user= field cannot be forged. A session is
 * accepted only from a 201 whose session is base64url (1-256 characters),
 * whose url is https:// and visible ASCII (at most 1024), and whose
 * expires_in is a positive integer, and holds exactly those values; an
 * assertion only from a 200, non-empty, at most 8192 bytes, no NUL, exactly
 * the body's; each refusal only from its status and error word (403
 * wrong_code with attempts_left >= 0, 409 not_approved, 410 expired or
 * used, 404 unknown), by an independent reading of the body; nothing is
 * handed out with a refusal. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "relay_client.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static bool b64url(const char *s)
{
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    return n > 0 && n <= 256 && s[n] == '\0';
}

static bool shown_url(const char *s)
{
    size_t n = strlen(s);

    if (n <= 8 || n > 1024 || strncmp(s, "https://", 8) != 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

static void check_session(long status, json_t *root, enum pk_outcome out,
                          const struct pk_relay_session *s)
{
    json_t *js = json_object_get(root, "session"), *ju = json_object_get(root, "url"),
           *je = json_object_get(root, "expires_in");

    PK_FUZZ_CHECK(out == PK_OK || out == PK_RELAY_UNAVAILABLE || out == PK_NO_MEMORY,
                  "a session answer gave an outcome of another step");
    if (out != PK_OK) {
        PK_FUZZ_CHECK(s->session == NULL && s->url == NULL, "a refused session left values");
        return;
    }
    PK_FUZZ_CHECK(status == 201, "accepted a session answer other than 201");
    PK_FUZZ_CHECK(json_is_string(js) && strlen(json_string_value(js)) == json_string_length(js) &&
                      b64url(json_string_value(js)) &&
                      strcmp(s->session, json_string_value(js)) == 0,
                  "session id not the body's base64url text");
    PK_FUZZ_CHECK(json_is_string(ju) && strlen(json_string_value(ju)) == json_string_length(ju) &&
                      shown_url(json_string_value(ju)) &&
                      strcmp(s->url, json_string_value(ju)) == 0,
                  "url not the body's https:// visible text");
    PK_FUZZ_CHECK(json_is_integer(je) && json_integer_value(je) > 0 &&
                      s->expires_in == json_integer_value(je),
                  "expires_in not the body's positive integer");
}

static void check_redeem(long status, json_t *root, enum pk_outcome out, const char *assertion,
                         long left)
{
    json_t *e = json_object_get(root, "error"), *a = json_object_get(root, "assertion");
    const char *word = json_is_string(e) ? json_string_value(e) : "";

    PK_FUZZ_CHECK(out == PK_OK || assertion == NULL, "a refusal handed out an assertion");
    switch (out) {
    case PK_OK:
        PK_FUZZ_CHECK(status == 200, "accepted a redeem answer other than 200");
        PK_FUZZ_CHECK(json_is_string(a) && json_string_length(a) > 0 &&
                          json_string_length(a) <= 8192 &&
                          strlen(json_string_value(a)) == json_string_length(a) &&
                          strcmp(assertion, json_string_value(a)) == 0,
                      "assertion not the body's text");
        break;
    case PK_RELAY_WRONG_CODE:
        PK_FUZZ_CHECK(status == 403 && strcmp(word, "wrong_code") == 0 &&
                          json_is_integer(json_object_get(root, "attempts_left")) &&
                          json_integer_value(json_object_get(root, "attempts_left")) == left &&
                          left >= 0,
                      "wrong code without 403 wrong_code and attempts_left");
        break;
    case PK_RELAY_NOT_APPROVED:
        PK_FUZZ_CHECK(status == 409 && strcmp(word, "not_approved") == 0,
                      "not approved without 409 not_approved");
        break;
    case PK_RELAY_EXPIRED:
        PK_FUZZ_CHECK(status == 410 && strcmp(word, "expired") == 0, "expired without 410 expired");
        break;
    case PK_RELAY_USED:
        PK_FUZZ_CHECK(status == 410 && strcmp(word, "used") == 0, "used without 410 used");
        break;
    case PK_RELAY_UNKNOWN:
        PK_FUZZ_CHECK(status == 404 && strcmp(word, "unknown") == 0, "unknown without 404 unknown");
        break;
    case PK_RELAY_UNAVAILABLE:
    case PK_NO_MEMORY:
        break;
    default:
        pk_fuzz_fail(__FILE__, __LINE__, "a redeem answer gave an outcome of another step");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[16] = {201, 201, 200, 200, 403, 403, 409, 410,
                                      410, 404, 500, 503, 302, 0,   204, 400};
    struct pk_relay_session s;
    struct pk_result res;
    enum pk_outcome out;
    bool redeem;
    long status, left = -1;
    char *body, *assertion = NULL, user[25];
    size_t len;
    json_t *root;

    if (size == 0)
        return 0;
    redeem = (data[0] & 1) != 0;
    status = statuses[(data[0] >> 1) & 15];
    len = size - 1;
    body = malloc(len != 0 ? len : 1);
    if (body == NULL)
        return 0;
    memcpy(body, data + 1, len);
    memset(&res, 0, sizeof(res));
    memset(&s, 0, sizeof(s));
    out = redeem ? pk_relay_read_redeem(status, body, len, &assertion, &left, &res)
                 : pk_relay_read_session(status, body, len, &s, &res);
    pk_fuzz_trace(out, res.detail);
    PK_FUZZ_CHECK(out == res.outcome, "returned outcome differs from the recorded one");
    PK_FUZZ_CHECK(res.kind == PK_KIND_RELAY, "kind not relay");
    PK_FUZZ_CHECK(pk_fuzz_printable(res.detail), "detail not printable");
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (redeem)
        check_redeem(status, root, out, assertion, left);
    else
        check_session(status, root, out, &s);
    json_decref(root);
    pk_fuzz_user(data, size, user);
    pk_fuzz_check_decision(&res, user);
    pk_relay_session_free(&s);
    free(assertion);
    free(body);
    return 0;
}
