/* The relay's HTTP side on libmicrohttpd: one handler per endpoint, one
 * helper per kind of answer (JSON, page, redirect). Thread per connection
 * with a connection limit, so a slow client or a slow Kakao exchange holds
 * one thread, never the others; a reaper thread drops clients whose request
 * has not arrived whole within PK_RELAY_REQUEST_SECONDS. */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "relay/assertion.h"
#include "relay/pages.h"
#include "relay/relay.h"
#include "relay/request.h"
#include "src/log.h"
#include "src/secure.h"

/* Upper bounds of the request duration histogram, in seconds. */
static const double pk_buckets[PK_RELAY_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                    0.5,   1,    2.5,   5,    10};

static const char *const pk_redeem_names[PK_RR_COUNT] = {
    "ok", "wrong_code", "not_approved", "expired", "used", "unknown",
};

/* One request: its body (capped) and its start, for the histogram. */
struct pk_req {
    double started;
    size_t len;
    bool too_big;
    bool answered; /* a response was queued early (413) */
    char body[PK_RELAY_BODY_MAX + 1];
};

double pk_relay_monotonic(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Every X-Forwarded-For line of a request, joined in arrival order with
 * ", " (RFC 9110 5.3: one list); too long: the walk gets none. A proxy such
 * as HAProxy adds a line of its own after the client's, so reading only the
 * first line would let the client name its own address. */
struct pk_xff {
    char text[1024];
    size_t len;
    bool too_long;
};

static enum MHD_Result pk_xff_line(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct pk_xff *x = cls;
    size_t n = value != NULL ? strlen(value) : 0;

    (void)kind;
    if (key == NULL || strcasecmp(key, "X-Forwarded-For") != 0)
        return MHD_YES;
    if (x->len + (x->len > 0 ? 2 : 0) + n >= sizeof(x->text)) {
        x->too_long = true;
        return MHD_NO;
    }
    if (x->len > 0) {
        memcpy(x->text + x->len, ", ", 2);
        x->len += 2;
    }
    if (n > 0)
        memcpy(x->text + x->len, value, n);
    x->len += n;
    x->text[x->len] = '\0';
    return MHD_YES;
}

/* The client address (for rate_limit and the log) of this request. */
static void pk_client(struct pk_relay *r, struct MHD_Connection *c, char *buf, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct pk_xff x = {.len = 0};
    int lines = MHD_get_connection_values(c, MHD_HEADER_KIND, pk_xff_line, &x);

    pk_relay_client_address(&r->cfg, ci != NULL ? ci->client_addr : NULL,
                            lines >= 0 && x.len > 0 && !x.too_long ? x.text : NULL, buf, len);
}

static enum MHD_Result pk_send(struct MHD_Connection *c, unsigned status, const char *type,
                               const char *body, const struct pk_relay_header *hdrs, size_t nh)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    bool has_type = false;

    if (resp == NULL)
        return MHD_NO;
    for (size_t i = 0; i < nh; i++) {
        if (strcasecmp(hdrs[i].name, MHD_HTTP_HEADER_CONTENT_TYPE) == 0)
            has_type = true;
        if (MHD_add_response_header(resp, hdrs[i].name, hdrs[i].value) != MHD_YES) {
            MHD_destroy_response(resp);
            return MHD_NO;
        }
    }
    if (type != NULL && !has_type &&
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES) {
        MHD_destroy_response(resp);
        return MHD_NO;
    }
    ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static const struct pk_relay_header pk_json_headers[] = {
    {"Cache-Control", "no-store"},
};

static enum MHD_Result pk_json(struct MHD_Connection *c, unsigned status, const char *body)
{
    return pk_send(c, status, "application/json", body, pk_json_headers, 1);
}

static enum MHD_Result pk_json_error(struct MHD_Connection *c, unsigned status, const char *error)
{
    char body[128];

    (void)snprintf(body, sizeof(body), "{\"error\":\"%s\"}", error);
    return pk_json(c, status, body);
}

static enum MHD_Result pk_bad_request(struct pk_relay *r, struct MHD_Connection *c,
                                      const char *client, const char *reason)
{
    char body[256];

    pk_log(&r->log, LOG_NOTICE, "bad request from client=%s: %s", client, reason);
    (void)snprintf(body, sizeof(body), "{\"error\":\"bad_request\",\"reason\":\"%s\"}", reason);
    return pk_json(c, MHD_HTTP_BAD_REQUEST, body);
}

/* A page with the security headers every page carries. */
static enum MHD_Result pk_page(struct pk_relay *r, struct MHD_Connection *c, unsigned status,
                               char *html, const char *location)
{
    char csp[512];
    struct pk_relay_header hdrs[12];
    size_t n = pk_relay_page_headers(r->cfg.kakao_auth_url, csp, sizeof(csp), hdrs, 11);
    enum MHD_Result ret;

    if (n > 11)
        n = 11;
    if (location != NULL)
        hdrs[n++] = (struct pk_relay_header){MHD_HTTP_HEADER_LOCATION, location};
    if (html == NULL)
        return pk_send(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n", hdrs, n);
    ret = pk_send(c, status, "text/html; charset=utf-8", html, hdrs, n);
    free(html);
    return ret;
}

static enum MHD_Result pk_message(struct pk_relay *r, struct MHD_Connection *c, unsigned status,
                                  const char *heading, const char *text)
{
    return pk_page(r, c, status, pk_relay_page_message(heading, text), NULL);
}

static enum MHD_Result pk_create(struct pk_relay *r, struct MHD_Connection *c,
                                 const struct pk_req *q, const char *client)
{
    const char *why = NULL;
    struct pk_relay_create_req req;
    struct pk_relay_session_in in;
    char s[PK_RELAY_S_LEN + 1], short_id[PK_RELAY_SHORT_LEN + 1], tag[9];
    char body[1024], u[140], h[1024], sv[260], rh[1024];
    enum pk_relay_store_rc rc;
    time_t now = time(NULL);
    enum MHD_Result ret;

    if (!pk_relay_parse_create(q->body, q->len, &req, &why))
        return pk_bad_request(r, c, client, why);
    in = (struct pk_relay_session_in){req.user, req.service, req.host, req.rhost};
    rc = pk_relay_store_rate(r->store, client, now);
    if (rc == PK_RS_OK)
        rc = pk_relay_store_create(r->store, &in, now, s, short_id, tag);
    pk_log_field(u, sizeof(u), in.user);
    pk_log_field(h, sizeof(h), in.host);
    pk_log_field(sv, sizeof(sv), in.service);
    pk_log_field(rh, sizeof(rh), in.rhost);
    pk_relay_create_req_free(&req);
    switch (rc) {
    case PK_RS_OK:
        break;
    case PK_RS_RATE:
        pk_log(&r->log, LOG_WARNING, "session refused for client=%s: rate_limit (%ld a minute)",
               client, r->cfg.rate_limit);
        return pk_json_error(c, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited");
    case PK_RS_FULL:
        pk_log(&r->log, LOG_WARNING, "session refused for client=%s: max_sessions (%ld) held",
               client, r->cfg.max_sessions);
        return pk_json_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "busy");
    case PK_RS_UNAVAILABLE: /* the store logged why */
        atomic_fetch_add(&r->metrics.store_errors, 1);
        return pk_json_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable");
    default:
        atomic_fetch_add(&r->metrics.store_errors, 1);
        pk_log(&r->log, LOG_ERR, "session not created for client=%s: %s", client,
               rc == PK_RS_RANDOM ? "no random bytes" : "out of memory");
        return pk_json_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal");
    }
    atomic_fetch_add(&r->metrics.sessions_created, 1);
    pk_log(&r->log, LOG_INFO,
           "session created tag=%s user=%s host=%s service=%s rhost=%s client=%s", tag, u, h, sv,
           rh[0] != '\0' ? rh : "-", client);
    (void)snprintf(body, sizeof(body),
                   "{\"session\":\"%s\",\"url\":\"%s/a/%s\",\"expires_in\":%ld}", s,
                   r->cfg.public_url, short_id, r->cfg.session_ttl);
    pk_wipe(s, sizeof(s));
    ret = pk_json(c, MHD_HTTP_CREATED, body);
    pk_wipe(body, sizeof(body));
    return ret;
}

static bool pk_is_b64url(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
            return false;
    return true;
}

static enum MHD_Result pk_redeem(struct pk_relay *r, struct MHD_Connection *c,
                                 const struct pk_req *q, const char *s, const char *client)
{
    const char *why = NULL;
    struct pk_relay_session_out out = {0};
    enum pk_relay_store_rc rc;
    enum pk_relay_redeem_result rr;
    time_t now = time(NULL);
    char tag[9], body[128];
    char code_text[7];

    if (!pk_relay_parse_redeem(q->body, q->len, code_text, &why))
        return pk_bad_request(r, c, client, why);
    pk_relay_tag(s, tag);
    rc = pk_is_b64url(s, PK_RELAY_S_LEN) ? pk_relay_store_redeem(r->store, s, code_text, now, &out)
                                         : PK_RS_UNKNOWN;
    pk_wipe(code_text, sizeof(code_text));
    switch (rc) {
    case PK_RS_OK: {
        char err[256], u[140], h[1024];
        struct pk_relay_claims cl = {r->cfg.public_url, out.host,       s,
                                     out.kakao_id,      (long long)now, out.auth_time};
        char *a = pk_relay_assertion(&cl, r->cfg.signing_key_pem, err, sizeof(err));
        char *resp;
        enum MHD_Result ret;
        size_t n;

        atomic_fetch_add(&r->metrics.redeems[PK_RR_OK], 1);
        pk_log_field(u, sizeof(u), out.user);
        pk_log_field(h, sizeof(h), out.host);
        if (a == NULL) {
            pk_log(&r->log, LOG_ERR, "redeem tag=%s: assertion not signed: %s", tag, err);
            return pk_json_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal");
        }
        pk_log(&r->log, LOG_INFO, "redeemed tag=%s kakao_id=%s user=%s host=%s client=%s", tag,
               out.kakao_id, u, h, client);
        n = strlen(a) + 32;
        resp = malloc(n);
        if (resp == NULL) {
            pk_free_secret_str(a);
            return pk_json_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal");
        }
        (void)snprintf(resp, n, "{\"assertion\":\"%s\"}", a);
        pk_free_secret_str(a);
        ret = pk_json(c, MHD_HTTP_OK, resp);
        pk_free_secret_str(resp);
        return ret;
    }
    case PK_RS_WRONG_CODE:
        rr = PK_RR_WRONG_CODE;
        pk_log(&r->log, LOG_NOTICE, "redeem refused tag=%s: wrong_code (attempts_left=%d)", tag,
               out.attempts_left);
        (void)snprintf(body, sizeof(body), "{\"error\":\"wrong_code\",\"attempts_left\":%d}",
                       out.attempts_left);
        atomic_fetch_add(&r->metrics.redeems[rr], 1);
        return pk_json(c, MHD_HTTP_FORBIDDEN, body);
    case PK_RS_NOT_APPROVED:
        rr = PK_RR_NOT_APPROVED;
        break;
    case PK_RS_EXPIRED:
        rr = PK_RR_EXPIRED;
        break;
    case PK_RS_USED:
        rr = PK_RR_USED;
        break;
    case PK_RS_UNAVAILABLE: /* the store logged why; no attempt was counted */
        atomic_fetch_add(&r->metrics.store_errors, 1);
        return pk_json_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable");
    default:
        rr = PK_RR_UNKNOWN;
        break;
    }
    atomic_fetch_add(&r->metrics.redeems[rr], 1);
    pk_log(&r->log, LOG_NOTICE, "redeem refused tag=%s: %s", tag, pk_redeem_names[rr]);
    return pk_json_error(c,
                         rr == PK_RR_NOT_APPROVED ? MHD_HTTP_CONFLICT
                         : rr == PK_RR_UNKNOWN    ? MHD_HTTP_NOT_FOUND
                                                  : MHD_HTTP_GONE,
                         pk_redeem_names[rr]);
}

/* The page for a session that is past its approval step. */
static enum MHD_Result pk_done_page(struct pk_relay *r, struct MHD_Connection *c,
                                    enum pk_relay_store_rc rc)
{
    switch (rc) {
    case PK_RS_EXPIRED:
        return pk_message(r, c, MHD_HTTP_GONE, "This login has expired",
                          "Start the login again at your terminal.");
    case PK_RS_APPROVED:
    case PK_RS_USED:
        return pk_message(r, c, MHD_HTTP_GONE, "This login was already approved",
                          "Its code was shown once, to the browser that approved it. If that "
                          "was not you, do not type any code: start a new login.");
    case PK_RS_UNAVAILABLE: /* the store logged why */
        atomic_fetch_add(&r->metrics.store_errors, 1);
        return pk_message(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, "Try again in a moment",
                          "The login service cannot reach its session store right now.");
    default:
        return pk_message(r, c, MHD_HTTP_NOT_FOUND, "Unknown login link",
                          "Check the link shown at your terminal, or start the login again.");
    }
}

static enum MHD_Result pk_approve_page(struct pk_relay *r, struct MHD_Connection *c,
                                       const char *short_id)
{
    struct pk_relay_session_out out = {0};
    enum pk_relay_store_rc rc = pk_relay_store_view(r->store, short_id, time(NULL), &out);
    struct pk_relay_view v;

    if (rc != PK_RS_OK)
        return pk_done_page(r, c, rc);
    v = (struct pk_relay_view){out.user,  out.host,         out.service,
                               out.rhost, out.seconds_left, out.short_id};
    return pk_page(r, c, MHD_HTTP_OK, pk_relay_page_approve(&v), NULL);
}

static enum MHD_Result pk_start_login(struct pk_relay *r, struct MHD_Connection *c,
                                      const char *short_id, const char *client)
{
    struct pk_relay_pkce pkce;
    struct pk_relay_session_out out = {0};
    enum pk_relay_store_rc rc;
    char *url;
    bool prompt_login;
    enum MHD_Result ret;

    if (!pk_relay_pkce_new(&pkce)) {
        pk_log(&r->log, LOG_ERR, "login not started: no random bytes");
        return pk_message(r, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Something went wrong",
                          "Try again in a moment.");
    }
    rc = pk_relay_store_begin(r->store, short_id, time(NULL), &pkce, &out);
    if (rc != PK_RS_OK) {
        pk_wipe(&pkce, sizeof(pkce));
        return pk_done_page(r, c, rc);
    }
    prompt_login = pk_relay_config_prompt_login(&r->cfg, out.service);
    url = pk_relay_kakao_authorize_url(r->kakao, &pkce, prompt_login);
    pk_wipe(&pkce, sizeof(pkce));
    if (url == NULL)
        return pk_message(r, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Something went wrong",
                          "Try again in a moment.");
    pk_log(&r->log, LOG_INFO, "kakao login started tag=%s prompt_login=%s client=%s", out.s_tag,
           prompt_login ? "yes" : "no", client);
    ret = pk_page(r, c, MHD_HTTP_SEE_OTHER, strdup(""), url);
    free(url);
    return ret;
}

/* The query argument name, exactly once; NULL when absent, *dup when twice. */
struct pk_arg_count {
    const char *name;
    const char *value;
    unsigned count;
};

static enum MHD_Result pk_count_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    struct pk_arg_count *a = cls;

    (void)kind;
    if (key != NULL && strcmp(key, a->name) == 0) {
        a->count++;
        a->value = value;
    }
    return MHD_YES;
}

/* The query argument name: *value NULL when absent; PK_ST_REFUSED when it
 * is given more than once. */
static enum pk_status pk_arg(struct MHD_Connection *c, const char *name, const char **value)
{
    struct pk_arg_count a = {name, NULL, 0};

    (void)MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, pk_count_arg, &a);
    *value = a.count == 1 ? (a.value != NULL ? a.value : "") : NULL;
    return a.count > 1 ? PK_ST_REFUSED : PK_ST_OK;
}

static enum MHD_Result pk_callback(struct pk_relay *r, struct MHD_Connection *c, const char *client)
{
    const char *code, *state, *error;
    struct pk_relay_pkce pkce;
    struct pk_relay_session_out out = {0};
    struct pk_relay_identity id;
    enum pk_relay_store_rc rc;
    enum pk_status kr;
    char reason[256], shown[300], code_digits[7];
    enum pk_status code_st = pk_arg(c, "code", &code);
    enum pk_status state_st = pk_arg(c, "state", &state);
    enum pk_status error_st = pk_arg(c, "error", &error);

    if (code_st != PK_ST_OK || state_st != PK_ST_OK || error_st != PK_ST_OK || state == NULL ||
        state[0] == '\0' || strlen(state) > 128 ||
        (error == NULL && (code == NULL || code[0] == '\0' || strlen(code) > 1024))) {
        pk_log(&r->log, LOG_NOTICE, "bad request from client=%s: malformed callback query", client);
        return pk_message(r, c, MHD_HTTP_BAD_REQUEST, "Bad login link",
                          "This address is not a Kakao login answer. Start the login again.");
    }
    rc = pk_relay_store_take_state(r->store, state, time(NULL), &pkce, &out);
    if (rc == PK_RS_UNKNOWN) {
        pk_log(&r->log, LOG_NOTICE, "callback refused from client=%s: unknown state", client);
        return pk_message(r, c, MHD_HTTP_BAD_REQUEST, "Unknown or used login answer",
                          "This login answer is not (or no longer) valid. Start the login "
                          "again at your terminal.");
    }
    if (rc != PK_RS_OK) {
        pk_wipe(&pkce, sizeof(pkce));
        return pk_done_page(r, c, rc);
    }
    if (error != NULL) {
        pk_log_field(shown, sizeof(shown), error);
        pk_wipe(&pkce, sizeof(pkce));
        pk_log(&r->log, LOG_NOTICE, "login denied at kakao tag=%s: error=%s", out.s_tag, shown);
        return pk_message(r, c, MHD_HTTP_FORBIDDEN, "Login not approved",
                          "Kakao did not approve this login. Nothing was approved; start the "
                          "login again at your terminal if you want to.");
    }
    reason[0] = '\0';
    kr = pk_relay_kakao_finish(r->kakao, code, &pkce, &id, reason, sizeof(reason));
    pk_wipe(&pkce, sizeof(pkce));
    pk_log_text(shown, sizeof(shown), reason);
    if (kr == PK_ST_REFUSED) {
        pk_log(&r->log, LOG_NOTICE, "login refused by kakao tag=%s: \"%s\"", out.s_tag, shown);
        return pk_message(r, c, MHD_HTTP_FORBIDDEN, "Login not approved", reason);
    }
    if (kr != PK_ST_OK) {
        pk_log(&r->log, LOG_ERR, "kakao unavailable tag=%s: \"%s\"", out.s_tag,
               kr == PK_ST_NOMEM ? "out of memory" : shown);
        return pk_message(r, c, MHD_HTTP_BAD_GATEWAY, "Kakao could not be reached",
                          "Try again in a moment.");
    }
    rc = pk_relay_store_approve(r->store, out.short_id, time(NULL), id.kakao_id, id.auth_time,
                                code_digits, &out);
    if (rc != PK_RS_OK) {
        if (rc == PK_RS_RANDOM)
            return pk_message(r, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Something went wrong",
                              "Start the login again at your terminal.");
        return pk_done_page(r, c, rc);
    }
    atomic_fetch_add(&r->metrics.approvals, 1);
    pk_log(&r->log, LOG_INFO, "approved tag=%s kakao_id=%s client=%s", out.s_tag, id.kakao_id,
           client);
    {
        char *html = pk_relay_page_code(code_digits, out.seconds_left);
        pk_wipe(code_digits, sizeof(code_digits));
        return pk_page(r, c, MHD_HTTP_OK, html, NULL);
    }
}

static enum MHD_Result pk_metrics(struct pk_relay *r, struct MHD_Connection *c)
{
    const struct pk_relay_metrics *m = &r->metrics;
    char body[4096];
    size_t o = 0;
    unsigned long cum = 0;

#define PK_OUT(...)                                                                                \
    do {                                                                                           \
        int k_ = snprintf(body + o, sizeof(body) - o, __VA_ARGS__);                                \
        if (k_ > 0 && (size_t)k_ < sizeof(body) - o)                                               \
            o += (size_t)k_;                                                                       \
    } while (0)
    PK_OUT("# TYPE kakao_pam_relay_sessions_created_total counter\n"
           "kakao_pam_relay_sessions_created_total %lu\n",
           atomic_load(&m->sessions_created));
    PK_OUT("# TYPE kakao_pam_relay_approvals_total counter\n"
           "kakao_pam_relay_approvals_total %lu\n",
           atomic_load(&m->approvals));
    PK_OUT("# TYPE kakao_pam_relay_redeems_total counter\n");
    for (int i = 0; i < PK_RR_COUNT; i++)
        PK_OUT("kakao_pam_relay_redeems_total{result=\"%s\"} %lu\n", pk_redeem_names[i],
               atomic_load(&m->redeems[i]));
    PK_OUT("# TYPE kakao_pam_relay_store_errors_total counter\n"
           "kakao_pam_relay_store_errors_total %lu\n",
           atomic_load(&m->store_errors));
    PK_OUT("# TYPE kakao_pam_relay_request_duration_seconds histogram\n");
    for (int i = 0; i < PK_RELAY_BUCKETS; i++) {
        cum += atomic_load(&m->duration_bucket[i]);
        PK_OUT("kakao_pam_relay_request_duration_seconds_bucket{le=\"%g\"} %lu\n", pk_buckets[i],
               cum);
    }
    PK_OUT("kakao_pam_relay_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n"
           "kakao_pam_relay_request_duration_seconds_sum %.6f\n"
           "kakao_pam_relay_request_duration_seconds_count %lu\n",
           atomic_load(&m->duration_count), (double)atomic_load(&m->duration_sum_us) / 1e6,
           atomic_load(&m->duration_count));
#undef PK_OUT
    return pk_send(c, MHD_HTTP_OK, "text/plain; version=0.0.4", body, pk_json_headers, 1);
}

static struct pk_relay_conn *pk_conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
}

static enum MHD_Result pk_route(struct pk_relay *r, struct MHD_Connection *c, const char *url,
                                const char *method, struct pk_req *q, const char *client)
{
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    size_t n = strlen(url);

    if (strcmp(url, "/v1/sessions") == 0)
        return post ? pk_create(r, c, q, client)
                    : pk_json_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed");
    if (strncmp(url, "/v1/sessions/", 13) == 0 && n > 20 && strcmp(url + n - 7, "/redeem") == 0) {
        char s[PK_RELAY_S_LEN + 2];
        size_t sl = n - 20;
        if (!post)
            return pk_json_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed");
        if (sl > PK_RELAY_S_LEN)
            sl = PK_RELAY_S_LEN + 1;
        memcpy(s, url + 13, sl);
        s[sl] = '\0';
        return pk_redeem(r, c, q, s, client);
    }
    if (strncmp(url, "/a/", 3) == 0 && n > 3 && n <= 3 + PK_RELAY_SHORT_LEN &&
        strchr(url + 3, '/') == NULL) {
        if (get)
            return pk_approve_page(r, c, url + 3);
        if (post)
            return pk_start_login(r, c, url + 3, client);
        return pk_json_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed");
    }
    if (strncmp(url, "/a/", 3) == 0)
        return pk_done_page(r, c, PK_RS_UNKNOWN);
    if (strcmp(url, "/callback") == 0 && get)
        return pk_callback(r, c, client);
    if (strcmp(url, "/healthz") == 0 && get) {
        if (pk_relay_store_ping(r->store) == PK_RS_OK)
            return pk_send(c, MHD_HTTP_OK, "text/plain", "ok\n", pk_json_headers, 1);
        atomic_fetch_add(&r->metrics.store_errors, 1);
        return pk_send(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", "unavailable\n",
                       pk_json_headers, 1);
    }
    if (strcmp(url, "/metrics") == 0 && get)
        return pk_metrics(r, c);
    return pk_json_error(c, MHD_HTTP_NOT_FOUND, "not_found");
}

static enum MHD_Result pk_handle(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    struct pk_relay *r = cls;
    struct pk_req *q = *con_cls;
    char client[64];

    (void)version;
    if (q == NULL) {
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        q = malloc(sizeof(*q));
        if (q == NULL)
            return MHD_NO;
        q->started = pk_relay_monotonic();
        q->len = 0;
        q->too_big = false;
        q->answered = false;
        *con_cls = q;
        (void)pthread_mutex_lock(&r->lock);
        r->in_flight++;
        (void)pthread_mutex_unlock(&r->lock);
        if (cl != NULL && (strlen(cl) > 9 || strtoul(cl, NULL, 10) > PK_RELAY_BODY_MAX)) {
            pk_client(r, c, client, sizeof(client));
            pk_log(&r->log, LOG_NOTICE, "request too large from client=%s", client);
            q->answered = true;
            return pk_json_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large");
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!q->too_big && q->len + *upload_size <= PK_RELAY_BODY_MAX) {
            memcpy(q->body + q->len, upload, *upload_size);
            q->len += *upload_size;
        } else if (!q->too_big) {
            q->too_big = true;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (q->answered)
        return MHD_YES;
    {
        struct pk_relay_conn *conn = pk_conn_of(c);
        if (conn != NULL) {
            (void)pthread_mutex_lock(&r->lock);
            conn->complete = true;
            (void)pthread_mutex_unlock(&r->lock);
        }
    }
    q->body[q->len] = '\0';
    pk_client(r, c, client, sizeof(client));
    if (q->too_big) {
        pk_log(&r->log, LOG_NOTICE, "request too large from client=%s", client);
        return pk_json_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "too_large");
    }
    return pk_route(r, c, url, method, q, client);
}

static void pk_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct pk_relay *r = cls;
    struct pk_req *q = *con_cls;
    struct pk_relay_conn *conn = pk_conn_of(c);
    double d;

    (void)toe;
    if (q == NULL)
        return;
    d = pk_relay_monotonic() - q->started;
    for (int i = 0; i < PK_RELAY_BUCKETS; i++) {
        if (d <= pk_buckets[i]) {
            atomic_fetch_add(&r->metrics.duration_bucket[i], 1);
            break;
        }
    }
    atomic_fetch_add(&r->metrics.duration_count, 1);
    atomic_fetch_add(&r->metrics.duration_sum_us, (unsigned long long)(d * 1e6));
    pk_free_secret(q, sizeof(*q));
    *con_cls = NULL;
    (void)pthread_mutex_lock(&r->lock);
    if (conn != NULL) {
        /* A kept-alive connection's next request gets its own 10 s. */
        conn->started = pk_relay_monotonic();
        conn->complete = false;
        conn->served = true;
    }
    if (r->in_flight > 0)
        r->in_flight--;
    if (r->in_flight == 0)
        (void)pthread_cond_broadcast(&r->cond);
    (void)pthread_mutex_unlock(&r->lock);
}

static void pk_notify_conn(void *cls, struct MHD_Connection *c, void **socket_context,
                           enum MHD_ConnectionNotificationCode toe)
{
    struct pk_relay *r = cls;
    struct pk_relay_conn *conn = *socket_context;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (fd == NULL)
            return; /* the idle timeout still bounds it */
        conn = calloc(1, sizeof(*conn));
        if (conn == NULL)
            return;
        conn->fd = fd->connect_fd;
        conn->started = pk_relay_monotonic();
        pk_relay_addr_text(ci != NULL ? ci->client_addr : NULL, conn->client, sizeof(conn->client));
        (void)pthread_mutex_lock(&r->lock);
        conn->next = r->conns;
        if (r->conns != NULL)
            r->conns->prev = conn;
        r->conns = conn;
        (void)pthread_mutex_unlock(&r->lock);
        *socket_context = conn;
        return;
    }
    if (conn == NULL)
        return;
    (void)pthread_mutex_lock(&r->lock);
    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else
        r->conns = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    (void)pthread_mutex_unlock(&r->lock);
    free(conn);
    *socket_context = NULL;
}

/* Once a second: drops clients that have not sent a whole request within
 * PK_RELAY_REQUEST_SECONDS (shutdown() wakes the connection's thread, which
 * then closes it) and sweeps expired sessions. */
static void *pk_reaper(void *arg)
{
    struct pk_relay *r = arg;

    (void)pthread_mutex_lock(&r->lock);
    while (!r->stopping) {
        struct timespec until;
        double now = pk_relay_monotonic();

        for (struct pk_relay_conn *conn = r->conns; conn != NULL; conn = conn->next) {
            if (conn->complete || conn->dropped || now - conn->started < PK_RELAY_REQUEST_SECONDS)
                continue;
            conn->dropped = true;
            (void)shutdown(conn->fd, SHUT_RDWR);
            if (!conn->served)
                pk_log(&r->log, LOG_NOTICE,
                       "slow client dropped: client=%s (no whole request within %d s)",
                       conn->client, PK_RELAY_REQUEST_SECONDS);
        }
        (void)pthread_mutex_unlock(&r->lock);
        (void)pk_relay_store_sweep(r->store, time(NULL));
        (void)pthread_mutex_lock(&r->lock);
        (void)clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (!r->stopping)
            (void)pthread_cond_timedwait(&r->cond, &r->lock, &until);
    }
    (void)pthread_mutex_unlock(&r->lock);
    return NULL;
}

static void pk_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* libmicrohttpd's own error messages, as one escaped log line each. */
static void pk_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct pk_relay *r = cls;
    char msg[512], shown[512];
    size_t n;

    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        return;
    n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    pk_log_text(shown, sizeof(shown), msg);
    pk_log(&r->log, LOG_NOTICE, "libmicrohttpd: %s", shown);
}

enum pk_status pk_relay_server_start(struct pk_relay *r)
{
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    bool tls = r->cfg.tls_cert_pem != NULL;
    const union MHD_DaemonInfo *info;
    char addr[64];

    if (r->cfg.listen_addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (tls)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, r->cfg.tls_cert_pem},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, r->cfg.tls_key_pem},
        {MHD_OPTION_END, 0, NULL},
    };

    if (!tls)
        tls_opts[0].option = MHD_OPTION_END;
    r->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, pk_handle, r, MHD_OPTION_EXTERNAL_LOGGER, pk_mhd_log, r,
        MHD_OPTION_SOCK_ADDR, &r->cfg.listen_addr, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)PK_RELAY_REQUEST_SECONDS, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)PK_RELAY_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512 * 1024), MHD_OPTION_NOTIFY_COMPLETED,
        pk_completed, r, MHD_OPTION_NOTIFY_CONNECTION, pk_notify_conn, r, MHD_OPTION_ARRAY,
        tls_opts, MHD_OPTION_END);
    if (r->daemon == NULL) {
        pk_log(&r->log, LOG_ERR, "cannot listen on %s (address in use, or TLS files unusable)",
               r->cfg.listen);
        return PK_ST_UNAVAILABLE;
    }
    if (pthread_create(&r->reaper, NULL, pk_reaper, r) != 0) {
        pk_log(&r->log, LOG_ERR, "cannot start the reaper thread");
        MHD_stop_daemon(r->daemon);
        r->daemon = NULL;
        return PK_ST_UNAVAILABLE;
    }
    r->reaper_started = true;
    info = MHD_get_daemon_info(r->daemon, MHD_DAEMON_INFO_BIND_PORT);
    pk_relay_addr_text((const struct sockaddr *)&r->cfg.listen_addr, addr, sizeof(addr));
    pk_log(&r->log, LOG_INFO, "listening on %s%s%s:%u (%s) public_url=%s",
           r->cfg.listen_addr.ss_family == AF_INET6 ? "[" : "", addr,
           r->cfg.listen_addr.ss_family == AF_INET6 ? "]" : "",
           info != NULL ? (unsigned)info->port : 0U, tls ? "https" : "http", r->cfg.public_url);
    return PK_ST_OK;
}

void pk_relay_server_stop(struct pk_relay *r, const char *why)
{
    struct timespec until;
    MHD_socket fd;
    int rc = 0;

    if (r->daemon == NULL)
        return;
    /* shutdown() first: libmicrohttpd's polling thread may still hold the
     * listening socket in a poll() it has not yet woken from, and a socket
     * merely closed would keep accepting until then. */
    fd = MHD_quiesce_daemon(r->daemon);
    if (fd != MHD_INVALID_SOCKET) {
        (void)shutdown(fd, SHUT_RDWR);
        (void)close(fd);
    }
    (void)clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += PK_RELAY_DRAIN_SECONDS;
    (void)pthread_mutex_lock(&r->lock);
    pk_log(&r->log, LOG_INFO, "stopping on %s: no new connections, finishing %u requests", why,
           r->in_flight);
    while (r->in_flight > 0 && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&r->cond, &r->lock, &until);
    if (r->in_flight > 0)
        pk_log(&r->log, LOG_WARNING, "stopping with %u requests unfinished after %d s",
               r->in_flight, PK_RELAY_DRAIN_SECONDS);
    r->stopping = true;
    (void)pthread_cond_broadcast(&r->cond);
    (void)pthread_mutex_unlock(&r->lock);
    if (r->reaper_started)
        (void)pthread_join(r->reaper, NULL);
    r->reaper_started = false;
    MHD_stop_daemon(r->daemon);
    r->daemon = NULL;
}
