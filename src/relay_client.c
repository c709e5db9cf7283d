#include "relay_client.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "json_load.h"
#include "log.h"
#include "secure.h"

#define PK_RELAY_SESSION_MAX 256
#define PK_RELAY_URL_MAX 1024
#define PK_RELAY_ASSERTION_MAX 8192

bool pk_relay_code_parse(const char *answer, char code[PK_RELAY_CODE_LEN + 1])
{
    size_t n = 0;

    for (const char *p = answer; *p != '\0'; p++) {
        if (*p == ' ' || *p == '-')
            continue;
        if (*p < '0' || *p > '9' || n == PK_RELAY_CODE_LEN) {
            explicit_bzero(code, PK_RELAY_CODE_LEN + 1);
            return false;
        }
        code[n++] = *p;
    }
    code[n] = '\0';
    if (n != PK_RELAY_CODE_LEN) {
        explicit_bzero(code, PK_RELAY_CODE_LEN + 1);
        return false;
    }
    return true;
}

static long pk_now_ms(void)
{
    struct timespec t;

    if (clock_gettime(CLOCK_MONOTONIC, &t) != 0)
        return 0;
    return (long)t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* One POST of a JSON body to relay_url + path, within what is left of the
 * budget. PK_OK when a response came (any status); else the outcome. */
static enum pk_outcome pk_relay_post(const struct pk_config *cfg, struct pk_relay_budget *budget,
                                     const char *url, const char *body,
                                     struct pk_http_response *resp, struct pk_result *res)
{
    struct pk_http_form_request req;
    char err[256], why[320];
    long left = cfg->timeout * 1000L - budget->used_ms;
    long t0;
    enum pk_status st;

    memset(resp, 0, sizeof(*resp));
    if (left <= 0)
        return pk_result_set(res, PK_RELAY_UNAVAILABLE, "timeout after %ld s", cfg->timeout);
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.body = body;
    req.body_len = strlen(body);
    req.ca_file = cfg->ca_file;
    req.proxy = cfg->proxy;
    req.timeout_ms = left;
    req.max_body = PK_RELAY_BODY_MAX;
    err[0] = '\0';
    t0 = pk_now_ms();
    st = pk_http_post_json(&req, resp, err, sizeof(err));
    budget->used_ms += pk_now_ms() - t0;
    if (st == PK_ST_OK)
        return PK_OK;
    pk_http_failure_text(st, resp->failure, err, cfg->timeout, PK_RELAY_BODY_MAX, why, sizeof(why));
    pk_http_response_free(resp);
    if (st == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "calling the relay");
    return pk_result_set(res, PK_RELAY_UNAVAILABLE, "%s", why);
}

static bool pk_b64url_text(const char *s, size_t len)
{
    if (len == 0 || len > PK_RELAY_SESSION_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* A URL we show at the prompt: https://, visible ASCII only, so the relay
 * cannot put a control sequence or a second line on the user's terminal. */
static bool pk_url_text(const char *s, size_t len)
{
    if (len <= 8 || len > PK_RELAY_URL_MAX || strncmp(s, "https://", 8) != 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

static bool pk_printable_text(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* The relay's answer as a JSON object in *j; PK_ST_REFUSED (*j NULL) when it
 * is not one, PK_ST_NOMEM when jansson ran out of memory reading it. */
static enum pk_status pk_relay_json(const char *body, size_t len, json_t **j)
{
    json_error_t jerr;

    *j = pk_json_loadb(body != NULL ? body : "", len, &jerr);
    if (*j == NULL)
        return json_error_code(&jerr) == json_error_out_of_memory ? PK_ST_NOMEM : PK_ST_REFUSED;
    if (!json_is_object(*j)) {
        json_decref(*j);
        *j = NULL;
        return PK_ST_REFUSED;
    }
    return PK_ST_OK;
}

enum pk_outcome pk_relay_open(const struct pk_config *cfg, struct pk_relay_budget *budget,
                              const char *user, const char *service, const char *host,
                              const char *rhost, struct pk_relay_session *s, struct pk_result *res)
{
    struct pk_http_response resp;
    json_t *req;
    char *body, *url = NULL;
    enum pk_outcome out;

    memset(s, 0, sizeof(*s));
    res->kind = PK_KIND_RELAY;
    /* The relay takes printable ASCII only (and json_pack needs UTF-8): an
     * odd PAM_RHOST is a refusal by the relay, never out of memory. */
    if (!pk_printable_text(user) || !pk_printable_text(service) || !pk_printable_text(host) ||
        !pk_printable_text(rhost))
        return pk_result_set(res, PK_RELAY_UNAVAILABLE,
                             "user, service, host or rhost is not printable ASCII");
    req = json_pack("{s:s, s:s, s:s, s:s}", "user", user, "service", service, "host", host, "rhost",
                    rhost);
    if (req == NULL)
        return pk_result_set(res, PK_NO_MEMORY, "building the session request");
    body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (body == NULL || asprintf(&url, "%s/v1/sessions", cfg->relay_url) < 0) {
        free(body);
        return pk_result_set(res, PK_NO_MEMORY, "building the session request");
    }
    out = pk_relay_post(cfg, budget, url, body, &resp, res);
    free(url);
    free(body);
    if (out != PK_OK)
        return out;
    out = pk_relay_read_session(resp.status, resp.body, resp.len, s, res);
    pk_http_response_free(&resp);
    return out;
}

enum pk_outcome pk_relay_read_session(long status, const char *body, size_t len,
                                      struct pk_relay_session *s, struct pk_result *res)
{
    json_t *ans = NULL, *js, *ju, *je;
    enum pk_outcome out;

    memset(s, 0, sizeof(*s));
    res->kind = PK_KIND_RELAY;
    if (status != 201)
        return pk_result_set(res, PK_RELAY_UNAVAILABLE, "session request answered HTTP %ld",
                             status);
    if (pk_relay_json(body, len, &ans) == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "reading the session");
    js = json_object_get(ans, "session");
    ju = json_object_get(ans, "url");
    je = json_object_get(ans, "expires_in");
    if (!json_is_string(js) || !pk_b64url_text(json_string_value(js), json_string_length(js)) ||
        !json_is_string(ju) || !pk_url_text(json_string_value(ju), json_string_length(ju)) ||
        !json_is_integer(je) || json_integer_value(je) <= 0) {
        out = pk_result_set(res, PK_RELAY_UNAVAILABLE, "malformed answer to the session request");
        goto done;
    }
    s->session = strdup(json_string_value(js));
    s->url = strdup(json_string_value(ju));
    s->expires_in = (long)json_integer_value(je);
    if (s->session == NULL || s->url == NULL) {
        pk_relay_session_free(s);
        out = pk_result_set(res, PK_NO_MEMORY, "reading the session");
        goto done;
    }
    out = pk_result_set(res, PK_OK, NULL);
done:
    json_decref(ans);
    return out;
}

/* 403/409/410/404 as the relay words them; anything else is an outage. */
static enum pk_outcome pk_redeem_refusal(long status, json_t *ans, long *attempts_left,
                                         struct pk_result *res)
{
    json_t *e = json_object_get(ans, "error");
    const char *err = json_is_string(e) ? json_string_value(e) : "";
    json_t *left = json_object_get(ans, "attempts_left");

    if (status == 403 && strcmp(err, "wrong_code") == 0 && json_is_integer(left) &&
        json_integer_value(left) >= 0) {
        *attempts_left = (long)json_integer_value(left);
        return pk_result_set(res, PK_RELAY_WRONG_CODE, "attempts_left=%ld", *attempts_left);
    }
    if (status == 409 && strcmp(err, "not_approved") == 0)
        return pk_result_set(res, PK_RELAY_NOT_APPROVED, NULL);
    if (status == 410 && strcmp(err, "expired") == 0)
        return pk_result_set(res, PK_RELAY_EXPIRED, NULL);
    if (status == 410 && strcmp(err, "used") == 0)
        return pk_result_set(res, PK_RELAY_USED, NULL);
    if (status == 404 && strcmp(err, "unknown") == 0)
        return pk_result_set(res, PK_RELAY_UNKNOWN, NULL);
    return pk_result_set(res, PK_RELAY_UNAVAILABLE, "redeem answered HTTP %ld", status);
}

enum pk_outcome pk_relay_redeem(const struct pk_config *cfg, struct pk_relay_budget *budget,
                                const struct pk_relay_session *s, const char *code,
                                char **assertion, long *attempts_left, struct pk_result *res)
{
    struct pk_http_response resp;
    char body[32];
    char *url = NULL;
    enum pk_outcome out;
    int n;

    *assertion = NULL;
    *attempts_left = 0;
    res->kind = PK_KIND_RELAY;
    n = snprintf(body, sizeof(body), "{\"code\":\"%s\"}", code);
    if (n < 0 || (size_t)n >= sizeof(body) ||
        asprintf(&url, "%s/v1/sessions/%s/redeem", cfg->relay_url, s->session) < 0) {
        explicit_bzero(body, sizeof(body));
        return pk_result_set(res, PK_NO_MEMORY, "building the redeem request");
    }
    out = pk_relay_post(cfg, budget, url, body, &resp, res);
    explicit_bzero(body, sizeof(body));
    pk_free_secret_str(url);
    if (out != PK_OK)
        return out;
    out = pk_relay_read_redeem(resp.status, resp.body, resp.len, assertion, attempts_left, res);
    pk_http_response_free(&resp);
    return out;
}

enum pk_outcome pk_relay_read_redeem(long status, const char *body, size_t len, char **assertion,
                                     long *attempts_left, struct pk_result *res)
{
    json_t *ans, *a;
    enum pk_outcome out;

    *assertion = NULL;
    *attempts_left = 0;
    res->kind = PK_KIND_RELAY;
    if (pk_relay_json(body, len, &ans) == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "reading the redeem answer");
    if (status != 200) {
        out = pk_redeem_refusal(status, ans, attempts_left, res);
        goto done;
    }
    a = json_object_get(ans, "assertion");
    if (!json_is_string(a) || json_string_length(a) == 0 ||
        json_string_length(a) > PK_RELAY_ASSERTION_MAX ||
        strlen(json_string_value(a)) != json_string_length(a)) {
        out = pk_result_set(res, PK_RELAY_UNAVAILABLE, "malformed answer to the redeem request");
        goto done;
    }
    *assertion = strdup(json_string_value(a));
    out = *assertion == NULL ? pk_result_set(res, PK_NO_MEMORY, "reading the assertion")
                             : pk_result_set(res, PK_OK, NULL);
done:
    json_decref(ans);
    return out;
}

void pk_relay_session_free(struct pk_relay_session *s)
{
    pk_free_secret_str(s->session);
    free(s->url);
    memset(s, 0, sizeof(*s));
}

char *pk_relay_prompt_text(const char *tmpl, const char *url)
{
    size_t n = 1, ulen = strlen(url);
    char *out, *w;

    for (const char *p = tmpl; *p != '\0'; p++) {
        if (p[0] == '%' && p[1] == 'u') {
            n += ulen;
            p++;
        } else {
            if (p[0] == '%' && p[1] == '%')
                p++;
            n++;
        }
    }
    out = malloc(n);
    if (out == NULL)
        return NULL;
    w = out;
    for (const char *p = tmpl; *p != '\0'; p++) {
        if (p[0] == '%' && p[1] == 'u') {
            memcpy(w, url, ulen);
            w += ulen;
            p++;
        } else {
            if (p[0] == '%' && p[1] == '%')
                p++;
            *w++ = *p;
        }
    }
    *w = '\0';
    return out;
}
