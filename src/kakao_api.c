/* Kakao access-token validation against the REST API (docs/DESIGN.md §4.4).
 *
 * Refusals about the token (401/-401, the 4xx codes about the token, a token
 * of another app, a bad id, a dead token) are PAM_AUTH_ERR outcomes; anything
 * that says "we could not get a trustworthy answer" is PK_KAKAO_UNAVAILABLE.
 * Details are built from numbers, field names and Kakao's escaped `msg`,
 * never from the token or the body itself. */
#include "kakao_api.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "http.h"
#include "json_load.h"
#include "log.h"

#define PK_KAKAO_TOKEN_INFO_PATH "/v1/user/access_token_info"
#define PK_KAKAO_USER_ME_PATH "/v2/user/me"
#define PK_KAKAO_MSG_MAX 80

/* What a Kakao error body says: {"msg": "...", "code": <negative int>}. */
struct pk_kakao_error {
    bool has_code;
    json_int_t code;
    bool has_msg;
    char msg[PK_KAKAO_MSG_MAX + 1]; /* pk_log_text: escaped, "..." marks a cut */
};

static void pk_read_error(json_t *root, struct pk_kakao_error *e)
{
    json_t *code;
    json_t *msg;

    memset(e, 0, sizeof(*e));
    if (!json_is_object(root))
        return;
    code = json_object_get(root, "code");
    msg = json_object_get(root, "msg");
    if (json_is_integer(code)) {
        e->has_code = true;
        e->code = json_integer_value(code);
    }
    if (json_is_string(msg)) {
        e->has_msg = true;
        pk_log_text(e->msg, sizeof(e->msg), json_string_value(msg));
    }
}

static const char *pk_code_label(json_int_t code)
{
    switch (code) {
    case -2:
        return "bad parameter";
    case -5:
        return "no permission";
    case -7:
    case -9798:
        return "service maintenance";
    case -10:
        return "quota exceeded";
    case -101:
        return "user not linked to app";
    case -402:
        return "scope not agreed";
    default:
        return NULL; /* -401 and others: the outcome's reason says enough */
    }
}

static bool pk_is_token_refusal_code(json_int_t code)
{
    return code == -2 || code == -5 || code == -101 || code == -402;
}

/* Maps a non-success answer (status, Kakao code) to its outcome. */
static enum pk_outcome pk_classify_error(long status, const struct pk_kakao_error *e,
                                         struct pk_result *res)
{
    bool maintenance = e->has_code && (e->code == -7 || e->code == -9798);
    bool quota = status == 429 || (e->has_code && e->code == -10);
    enum pk_outcome o = PK_KAKAO_UNAVAILABLE;
    const char *label = e->has_code ? pk_code_label(e->code) : NULL;
    char code_part[48] = "";
    char label_part[48] = "";
    char msg_part[PK_KAKAO_MSG_MAX + 8] = "";

    /* Maintenance, quota and server errors say nothing about the token,
     * whatever else the answer carries. */
    if (!maintenance && !quota && status < 500) {
        if (status == 401 || (e->has_code && e->code == -401))
            o = PK_KAKAO_INVALID_TOKEN;
        else if (status >= 400 && e->has_code && pk_is_token_refusal_code(e->code))
            o = PK_KAKAO_REFUSED;
    }

    if (e->has_code)
        (void)snprintf(code_part, sizeof(code_part), " code=%lld", (long long)e->code);
    if (label != NULL)
        (void)snprintf(label_part, sizeof(label_part), " (%s)", label);
    if (e->has_msg)
        (void)snprintf(msg_part, sizeof(msg_part), " msg=\"%s\"", e->msg);
    return pk_result_set(res, o, "HTTP %ld%s%s%s", status, code_part, label_part, msg_part);
}

/* Everything both endpoints share: redirects, error answers, JSON syntax.
 * Returns PK_OK with *root a JSON object (caller decrefs) for a success body;
 * otherwise the outcome, set in res, and *root NULL. */
static enum pk_outcome pk_parse_answer(const char *body, size_t len, long status, json_t **root,
                                       struct pk_result *res)
{
    json_error_t jerr;
    json_t *doc = NULL;

    *root = NULL;
    if (status >= 300 && status < 400)
        return pk_result_set(res, PK_KAKAO_UNAVAILABLE, "redirect (HTTP %ld) not followed", status);
    if (body != NULL && len > 0)
        doc = pk_json_loadb(body, len, &jerr);

    /* Kakao's success bodies never carry "code"; an error body might come
     * with any status, so "code" decides as much as the status does. */
    if (status != 200 || (json_is_object(doc) && json_object_get(doc, "code") != NULL)) {
        struct pk_kakao_error e;
        enum pk_outcome o;

        pk_read_error(doc, &e);
        o = pk_classify_error(status, &e, res);
        json_decref(doc);
        return o;
    }
    if (body == NULL || len == 0)
        return pk_result_set(res, PK_KAKAO_UNAVAILABLE, "empty response");
    /* jansson's error text quotes the body: report only where it failed. */
    if (doc == NULL) {
        if (json_error_code(&jerr) == json_error_duplicate_key)
            return pk_result_set(res, PK_KAKAO_UNAVAILABLE, "duplicate key in response");
        if (json_error_code(&jerr) == json_error_numeric_overflow)
            return pk_result_set(res, PK_KAKAO_UNAVAILABLE, "number out of range in response");
        return pk_result_set(res, PK_KAKAO_UNAVAILABLE,
                             "unparseable JSON response (line %d column %d)", jerr.line,
                             jerr.column);
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        return pk_result_set(res, PK_KAKAO_UNAVAILABLE, "response is not a JSON object");
    }
    *root = doc;
    return PK_OK;
}

/* A required JSON integer (not a real, not a string, not a boolean). */
static enum pk_outcome pk_read_int(json_t *obj, const char *name, json_int_t *out,
                                   struct pk_result *res)
{
    json_t *v = json_object_get(obj, name);

    if (v == NULL)
        return pk_result_set(res, PK_KAKAO_UNAVAILABLE, "missing %s", name);
    if (!json_is_integer(v))
        return pk_result_set(res, PK_KAKAO_UNAVAILABLE, "%s is not an integer", name);
    *out = json_integer_value(v);
    return PK_OK;
}

static enum pk_outcome pk_finish(struct pk_result *res, enum pk_outcome o, int64_t id)
{
    res->outcome = o;
    res->kind = PK_KIND_KAKAO;
    res->kakao_id = (o == PK_OK) ? id : 0;
    return o;
}

static enum pk_outcome pk_token_info(const char *body, size_t len, long http_status, int64_t app_id,
                                     int64_t *id, int64_t *expires_in, struct pk_result *res)
{
    json_int_t v_id = 0;
    json_int_t v_app = 0;
    json_int_t v_exp = 0;
    json_t *root;
    enum pk_outcome o;

    o = pk_parse_answer(body, len, http_status, &root, res);
    if (o != PK_OK)
        return o;
    o = pk_read_int(root, "id", &v_id, res);
    if (o == PK_OK)
        o = pk_read_int(root, "app_id", &v_app, res);
    if (o == PK_OK)
        o = pk_read_int(root, "expires_in", &v_exp, res);
    json_decref(root);
    if (o != PK_OK)
        return o;

    if (v_app != app_id)
        return pk_result_set(res, PK_KAKAO_WRONG_APP, "app_id=%lld expected=%" PRId64,
                             (long long)v_app, app_id);
    if (v_id <= 0)
        return pk_result_set(res, PK_KAKAO_BAD_ID, "id=%lld", (long long)v_id);
    if (v_exp <= 0)
        return pk_result_set(res, PK_KAKAO_INVALID_TOKEN, "expires_in=%lld", (long long)v_exp);
    *id = v_id;
    *expires_in = v_exp;
    return pk_result_set(res, PK_OK, "expires_in=%lld", (long long)v_exp);
}

enum pk_outcome pk_kakao_parse_token_info(const char *body, size_t len, long http_status,
                                          int64_t app_id, struct pk_result *res)
{
    int64_t id = 0;
    int64_t expires_in = 0;
    enum pk_outcome o = pk_token_info(body, len, http_status, app_id, &id, &expires_in, res);

    return pk_finish(res, o, id);
}

/* A boolean that must be JSON true; the string "true" does not count. */
static enum pk_outcome pk_require_true(json_t *acct, const char *name, struct pk_result *res)
{
    json_t *v = json_object_get(acct, name);

    if (json_is_true(v))
        return PK_OK;
    if (json_is_false(v))
        return pk_result_set(res, PK_KAKAO_EMAIL_UNVERIFIED, "%s=false", name);
    if (v == NULL)
        return pk_result_set(res, PK_KAKAO_EMAIL_UNVERIFIED, "%s missing", name);
    return pk_result_set(res, PK_KAKAO_EMAIL_UNVERIFIED, "%s is not a boolean", name);
}

static enum pk_outcome pk_check_email(json_t *root, enum pk_email_rule rule, struct pk_result *res)
{
    json_t *acct = json_object_get(root, "kakao_account");
    json_t *email;
    enum pk_outcome o;

    if (acct == NULL || json_is_null(acct))
        return pk_result_set(res, PK_KAKAO_NO_EMAIL, "no kakao_account");
    if (!json_is_object(acct))
        return pk_result_set(res, PK_KAKAO_UNAVAILABLE, "kakao_account is not an object");
    /* The address itself is personal data: it never goes into the detail. */
    email = json_object_get(acct, "email");
    if (email == NULL || json_is_null(email)) {
        if (json_is_true(json_object_get(acct, "email_needs_agreement")))
            return pk_result_set(res, PK_KAKAO_NO_EMAIL, "email needs the user's agreement");
        return pk_result_set(res, PK_KAKAO_NO_EMAIL, "no email");
    }
    if (!json_is_string(email))
        return pk_result_set(res, PK_KAKAO_NO_EMAIL, "email is not a string");
    if (json_string_length(email) == 0)
        return pk_result_set(res, PK_KAKAO_NO_EMAIL, "email is empty");
    if (rule != PK_EMAIL_VERIFIED)
        return PK_OK;
    o = pk_require_true(acct, "is_email_valid", res);
    if (o == PK_OK)
        o = pk_require_true(acct, "is_email_verified", res);
    return o;
}

static enum pk_outcome pk_user_me(const char *body, size_t len, long http_status,
                                  enum pk_email_rule rule, int64_t *id, struct pk_result *res)
{
    json_int_t v_id = 0;
    json_t *root;
    enum pk_outcome o;

    o = pk_parse_answer(body, len, http_status, &root, res);
    if (o != PK_OK)
        return o;
    o = pk_read_int(root, "id", &v_id, res);
    if (o == PK_OK && v_id <= 0)
        o = pk_result_set(res, PK_KAKAO_BAD_ID, "id=%lld", (long long)v_id);
    if (o == PK_OK && rule != PK_EMAIL_NO)
        o = pk_check_email(root, rule, res);
    json_decref(root);
    if (o != PK_OK)
        return o;
    *id = v_id;
    return pk_result_set(res, PK_OK, "%s", rule == PK_EMAIL_NO ? "" : "email ok");
}

enum pk_outcome pk_kakao_parse_user_me(const char *body, size_t len, long http_status,
                                       enum pk_email_rule rule, struct pk_result *res)
{
    int64_t id = 0;
    enum pk_outcome o = pk_user_me(body, len, http_status, rule, &id, res);

    return pk_finish(res, o, id);
}

static long pk_elapsed_ms(const struct timespec *t0)
{
    struct timespec t1;

    if (clock_gettime(CLOCK_MONOTONIC, &t1) != 0)
        return -1;
    return (long)(t1.tv_sec - t0->tv_sec) * 1000L + (t1.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* One GET of base+path. PK_OK means a response arrived (any status). */
static enum pk_outcome pk_call_api(const struct pk_config *cfg, const char *base, size_t base_len,
                                   const char *path, const char *token, size_t token_len,
                                   const struct pk_logger *log, const struct timespec *start,
                                   struct pk_http_response *resp, struct pk_result *res)
{
    size_t path_len = strlen(path);
    struct pk_http_request req;
    struct timespec t0;
    enum pk_status st;
    char err[160];
    char text[PK_DETAIL_MAX];
    long ms;
    char *url;

    resp->status = 0;
    resp->body = NULL;
    resp->len = 0;
    url = malloc(base_len + path_len + 1);
    if (url == NULL)
        return pk_result_set(res, PK_NO_MEMORY, "out of memory");
    memcpy(url, base, base_len);
    memcpy(url + base_len, path, path_len + 1);

    req.url = url;
    req.bearer = token;
    req.bearer_len = token_len;
    req.ca_file = cfg->ca_file;
    req.proxy = cfg->proxy;
    /* One deadline for every call of this check (docs/DESIGN.md §7.3: the whole
     * exchange is bounded by timeout). */
    req.timeout_ms = cfg->timeout * 1000L - pk_elapsed_ms(start);
    req.max_body = (size_t)PK_KAKAO_BODY_MAX;

    if (req.timeout_ms <= 0) {
        free(url);
        return pk_result_set(res, PK_KAKAO_UNAVAILABLE, "timeout after %ld s", cfg->timeout);
    }
    if (clock_gettime(CLOCK_MONOTONIC, &t0) != 0)
        memset(&t0, 0, sizeof(t0));
    st = pk_http_get(&req, resp, err, sizeof(err));
    ms = pk_elapsed_ms(&t0);
    free(url);

    if (st == PK_ST_OK) {
        if (log != NULL)
            pk_debug(log, "kakao api %s: HTTP %ld, %zu bytes in %ld ms", path, resp->status,
                     resp->len, ms);
        return PK_OK;
    }
    if (log != NULL)
        pk_debug(log, "kakao api %s: failed after %ld ms: \"%s\"", path, ms, err);
    pk_http_failure_text(st, resp->failure, err, cfg->timeout, (size_t)PK_KAKAO_BODY_MAX, text,
                         sizeof(text));
    pk_http_response_free(resp);
    return pk_result_set(res, st == PK_ST_NOMEM ? PK_NO_MEMORY : PK_KAKAO_UNAVAILABLE, "%s", text);
}

static bool pk_token_bytes_ok(const char *token, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)token[i];
        if (c < 0x21 || c > 0x7e)
            return false;
    }
    return true;
}

enum pk_outcome pk_kakao_check(const struct pk_config *cfg, const char *token, size_t token_len,
                               const struct pk_logger *log, struct pk_result *res,
                               int64_t *valid_for)
{
    struct pk_http_response resp;
    int64_t id = 0;
    int64_t me_id = 0;
    int64_t expires_in = 0;
    const char *base;
    size_t base_len;
    enum pk_outcome o;
    struct timespec start;

    if (valid_for != NULL)
        *valid_for = 0;
    if (clock_gettime(CLOCK_MONOTONIC, &start) != 0)
        return pk_finish(res, pk_result_set(res, PK_KAKAO_UNAVAILABLE, "no monotonic clock"), 0);
    if (cfg == NULL || !cfg->has_app_id)
        return pk_finish(res, pk_result_set(res, PK_CONFIG_ERROR, "kakao_app_id is not set"), 0);
    if (cfg->timeout < PK_TIMEOUT_MIN || cfg->timeout > PK_TIMEOUT_MAX)
        return pk_finish(res,
                         pk_result_set(res, PK_CONFIG_ERROR, "timeout=%ld is outside %d-%d",
                                       cfg->timeout, PK_TIMEOUT_MIN, PK_TIMEOUT_MAX),
                         0);
    base = (cfg->kakao_api_url != NULL) ? cfg->kakao_api_url : PK_DEFAULT_API_URL;
    if (strncasecmp(base, "https://", 8) != 0)
        return pk_finish(res, pk_result_set(res, PK_CONFIG_ERROR, "kakao_api_url is not https"), 0);
    if (token == NULL || token_len == 0)
        return pk_finish(res, pk_result_set(res, PK_TOKEN_EMPTY, "empty token"), 0);
    if (!pk_token_bytes_ok(token, token_len))
        return pk_finish(res, pk_result_set(res, PK_TOKEN_BAD_BYTES, "byte outside visible ASCII"),
                         0);

    base_len = strlen(base);
    if (base_len > 0 && base[base_len - 1] == '/')
        base_len--;

    o = pk_call_api(cfg, base, base_len, PK_KAKAO_TOKEN_INFO_PATH, token, token_len, log, &start,
                    &resp, res);
    if (o != PK_OK)
        return pk_finish(res, o, 0);
    o = pk_token_info(resp.body, resp.len, resp.status, cfg->kakao_app_id, &id, &expires_in, res);
    pk_http_response_free(&resp);
    if (o != PK_OK)
        return pk_finish(res, o, 0);
    if (cfg->require_email == PK_EMAIL_NO) {
        if (valid_for != NULL)
            *valid_for = expires_in;
        return pk_finish(res, o, id);
    }

    o = pk_call_api(cfg, base, base_len, PK_KAKAO_USER_ME_PATH, token, token_len, log, &start,
                    &resp, res);
    if (o != PK_OK)
        return pk_finish(res, o, 0);
    o = pk_user_me(resp.body, resp.len, resp.status, cfg->require_email, &me_id, res);
    pk_http_response_free(&resp);
    if (o != PK_OK)
        return pk_finish(res, o, 0);
    if (me_id != id)
        return pk_finish(res,
                         pk_result_set(res, PK_KAKAO_UNAVAILABLE,
                                       "inconsistent answer: user/me id=%" PRId64
                                       " token info id=%" PRId64,
                                       me_id, id),
                         0);
    if (valid_for != NULL)
        *valid_for = expires_in;
    return pk_finish(res, pk_result_set(res, PK_OK, "expires_in=%" PRId64, expires_in), id);
}
