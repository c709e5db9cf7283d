/* The relay's Kakao Login client (kakao-pam-relay(8), "The Kakao leg"):
 * authorization code with PKCE S256, state and nonce; the code exchanged at
 * {auth_url}/oauth/token through the project's one HTTPS exchange (src/http.c:
 * https only, verified, no redirects, capped answer, one deadline, nothing
 * from the environment); the ID token judged by the module's own ID-token
 * check (src/id_token.c) with the nonce added, against a JWKS kept in memory
 * (src/jwks_cache.c, pk_jwks_store_init_memory) under one mutex.
 *
 * Nothing secret leaves this file in a reason: no code, verifier, client
 * secret, token or response body; Kakao's error and error_code are short
 * identifiers, escaped as log fields. */
#include "kakao_leg.h"

#include <jansson.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "config.h"
#include "http.h"
#include "id_token.h"
#include "jwks_cache.h"
#include "log.h"
#include "secure.h"
#include "text_buf.h"
#include "token.h"
#include "verdict.h"

/* The token endpoint's answer: access, refresh and ID token and a few numbers. */
#define PK_RELAY_TOKEN_MAX_BODY (64 * 1024)
/* Kakao's codes are about 90 characters; anything near this is not one. */
#define PK_RELAY_CODE_MAX 1024
/* After a failed JWKS fetch, the next login tries again only this much later:
 * logins arriving together wait for one fetch, not one each. */
#define PK_RELAY_JWKS_RETRY 10
#define PK_RELAY_LEEWAY 60
#define PK_RELAY_JWKS_MAX_AGE 86400
/* Kept handles for the token endpoint: one per request in flight at once;
 * beyond that a request takes a fresh handle. */
#define PK_RELAY_HTTP_HANDLES 8

struct pk_relay_kakao {
    pthread_mutex_t lock; /* guards jwks */
    /* What the ID-token check and the JWKS fetch read: issuer, audience,
     * jwks_url, ca_file, proxy, timeout, leeway, jwks_max_age. */
    struct pk_config cfg;
    struct pk_jwks_store jwks;
    struct pk_logger log;      /* discards: every refusal is worded in the reason */
    struct pk_http_pool *http; /* kept connections to the token endpoint */
    char *auth_url;
    char *token_url;
    char *redirect_uri;
    char *client_secret; /* wiped on free */
};

static void pk_set_text(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pk_set_text(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (buf == NULL || len == 0)
        return;
    va_start(ap, fmt);
    if (vsnprintf(buf, len, fmt, ap) < 0)
        buf[0] = '\0';
    va_end(ap);
}

/* ---- setup ---- */

static bool pk_printable(const char *s, size_t max)
{
    size_t n = 0;

    if (s == NULL || s[0] == '\0')
        return false;
    for (; s[n] != '\0'; n++) {
        if (n >= max || (unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e)
            return false;
    }
    return true;
}

static char *pk_join(const char *a, const char *b)
{
    size_t len = strlen(a) + strlen(b) + 1;
    char *s = malloc(len);

    if (s != NULL && snprintf(s, len, "%s%s", a, b) < 0) {
        free(s);
        s = NULL;
    }
    return s;
}

void pk_relay_kakao_free(struct pk_relay_kakao *k)
{
    if (k == NULL)
        return;
    pk_jwks_store_free(&k->jwks);
    pk_http_pool_free(k->http);
    (void)pthread_mutex_destroy(&k->lock);
    free(k->cfg.id_token_issuer);
    free(k->cfg.kakao_rest_api_key);
    free(k->cfg.jwks_url);
    free(k->cfg.ca_file);
    free(k->cfg.proxy);
    free(k->auth_url);
    free(k->token_url);
    free(k->redirect_uri);
    pk_free_secret_str(k->client_secret);
    free(k);
}

/* NULL stays NULL; false only when out of memory. */
static bool pk_dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL)
        return true;
    *out = strdup(s);
    return *out != NULL;
}

struct pk_relay_kakao *pk_relay_kakao_new(const struct pk_relay_kakao_conf *conf, char *err,
                                          size_t err_len)
{
    struct pk_relay_kakao *k;
    char why[160];
    size_t n;
    bool ok;

    pk_set_text(err, err_len, "%s", "");
    if (conf == NULL || conf->auth_url == NULL || strncmp(conf->auth_url, "https://", 8) != 0 ||
        !pk_printable(conf->auth_url, 512)) {
        pk_set_text(err, err_len, "kakao_auth_url: not an https:// URL");
        return NULL;
    }
    n = strlen(conf->auth_url);
    if (conf->auth_url[n - 1] == '/' || strpbrk(conf->auth_url, "?#") != NULL) {
        pk_set_text(err, err_len, "kakao_auth_url: must not end with '/' or hold '?' or '#'");
        return NULL;
    }
    if (!pk_printable(conf->rest_api_key, 128)) {
        pk_set_text(err, err_len, "kakao_rest_api_key: missing or not printable");
        return NULL;
    }
    if (!pk_printable(conf->redirect_uri, 1024)) {
        pk_set_text(err, err_len, "redirect URI: missing or not printable");
        return NULL;
    }
    if (conf->client_secret != NULL && !pk_printable(conf->client_secret, 1024)) {
        pk_set_text(err, err_len, "client secret: empty or not printable");
        return NULL;
    }
    if (conf->timeout < PK_TIMEOUT_MIN || conf->timeout > PK_TIMEOUT_MAX) {
        pk_set_text(err, err_len, "timeout: %ld is not %d-%d s", conf->timeout, PK_TIMEOUT_MIN,
                    PK_TIMEOUT_MAX);
        return NULL;
    }
    k = calloc(1, sizeof(*k));
    if (k == NULL) {
        pk_set_text(err, err_len, "out of memory");
        return NULL;
    }
    if (pthread_mutex_init(&k->lock, NULL) != 0) {
        free(k);
        pk_set_text(err, err_len, "cannot create a mutex");
        return NULL;
    }
    k->cfg.timeout = conf->timeout;
    k->cfg.leeway = PK_RELAY_LEEWAY;
    k->cfg.max_token_age = 0;
    k->cfg.jwks_max_age = PK_RELAY_JWKS_MAX_AGE;
    ok = pk_dup_opt(conf->auth_url, &k->auth_url) &&
         pk_dup_opt(conf->auth_url, &k->cfg.id_token_issuer) &&
         pk_dup_opt(conf->rest_api_key, &k->cfg.kakao_rest_api_key) &&
         pk_dup_opt(conf->redirect_uri, &k->redirect_uri) &&
         pk_dup_opt(conf->client_secret, &k->client_secret) &&
         pk_dup_opt(conf->ca_file, &k->cfg.ca_file) && pk_dup_opt(conf->proxy, &k->cfg.proxy);
    if (ok) {
        k->token_url = pk_join(conf->auth_url, "/oauth/token");
        k->cfg.jwks_url = pk_join(conf->auth_url, "/.well-known/jwks.json");
        ok = k->token_url != NULL && k->cfg.jwks_url != NULL;
    }
    /* The store keeps &k->cfg and &k->log: both live as long as k. */
    pk_jwks_store_init_memory(&k->jwks, &k->cfg, &k->log, NULL, NULL);
    if (!ok) {
        pk_relay_kakao_free(k);
        pk_set_text(err, err_len, "out of memory");
        return NULL;
    }
    k->http = pk_http_pool_new(PK_RELAY_HTTP_HANDLES, why, sizeof(why));
    if (k->http == NULL) {
        pk_relay_kakao_free(k);
        pk_set_text(err, err_len, "HTTPS client: %s", why);
        return NULL;
    }
    return k;
}

/* ---- per-session secrets and the authorize URL ---- */

bool pk_relay_pkce_new(struct pk_relay_pkce *out)
{
    if (out == NULL)
        return false;
    /* 256 bits each: 43 characters of [A-Za-z0-9_-], within RFC 7636's
     * 43-128 for the verifier. */
    if (pk_random_b64url(out->state, sizeof(out->state), 32) &&
        pk_random_b64url(out->nonce, sizeof(out->nonce), 32) &&
        pk_random_b64url(out->verifier, sizeof(out->verifier), 32))
        return true;
    pk_wipe(out, sizeof(*out));
    return false;
}

/* base64url(SHA-256(verifier)), 43 characters; false when out of memory. */
static bool pk_challenge(const char *verifier, char out[44])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    char *enc;
    bool ok;

    if (SHA256((const unsigned char *)verifier, strlen(verifier), digest) == NULL)
        return false;
    enc = pk_b64url_encode(digest, sizeof(digest));
    pk_wipe(digest, sizeof(digest));
    ok = enc != NULL && strlen(enc) == 43;
    if (ok)
        memcpy(out, enc, 44);
    free(enc);
    return ok;
}

static bool pk_pkce_ok(const struct pk_relay_pkce *p)
{
    return p != NULL && memchr(p->state, '\0', sizeof(p->state)) != NULL &&
           memchr(p->nonce, '\0', sizeof(p->nonce)) != NULL &&
           memchr(p->verifier, '\0', sizeof(p->verifier)) != NULL && p->state[0] != '\0' &&
           p->nonce[0] != '\0' && strlen(p->verifier) >= 43;
}

char *pk_relay_kakao_authorize_url(const struct pk_relay_kakao *k, const struct pk_relay_pkce *p,
                                   bool prompt_login)
{
    struct pk_text_buf u = {0};
    char challenge[44];

    if (k == NULL || !pk_pkce_ok(p) || !pk_challenge(p->verifier, challenge))
        return NULL;
    pk_text_buf_add(&u, k->auth_url);
    pk_text_buf_add(&u, "/oauth/authorize?response_type=code&client_id=");
    pk_text_buf_add_enc(&u, k->cfg.kakao_rest_api_key);
    pk_text_buf_add(&u, "&redirect_uri=");
    pk_text_buf_add_enc(&u, k->redirect_uri);
    pk_text_buf_add(&u, "&state=");
    pk_text_buf_add_enc(&u, p->state);
    pk_text_buf_add(&u, "&code_challenge=");
    pk_text_buf_add_enc(&u, challenge);
    pk_text_buf_add(&u, "&code_challenge_method=S256&nonce=");
    pk_text_buf_add_enc(&u, p->nonce);
    pk_text_buf_add(&u, "&scope=openid");
    if (prompt_login)
        pk_text_buf_add(&u, "&prompt=login");
    if (u.oom) {
        pk_text_buf_free(&u);
        return NULL;
    }
    return u.buf;
}

/* ---- the code exchange ---- */

/* jansson keeps its own copies of the strings it parsed; the tokens in them
 * are wiped before the document goes. */
static void pk_json_wipe_str(json_t *doc, const char *key)
{
    json_t *v = json_object_get(doc, key);

    if (json_is_string(v))
        pk_wipe((char *)(uintptr_t)json_string_value(v), json_string_length(v));
}

static void pk_token_doc_free(json_t *doc)
{
    if (doc == NULL)
        return;
    pk_json_wipe_str(doc, "access_token");
    pk_json_wipe_str(doc, "refresh_token");
    pk_json_wipe_str(doc, "id_token");
    json_decref(doc);
}

/* Kakao's error answer {"error", "error_description", "error_code"}: only the
 * two identifiers are named (the description may quote the code). */
static enum pk_status pk_token_refused(long status, json_t *doc, char *reason, size_t reason_len)
{
    json_t *e = json_object_get(doc, "error");
    json_t *c = json_object_get(doc, "error_code");
    char error[64], code[32];

    if (!json_is_string(e)) {
        pk_set_text(reason, reason_len, "Kakao token endpoint answered HTTP %ld", status);
        return PK_ST_REFUSED;
    }
    pk_log_field(error, sizeof(error), json_string_value(e));
    pk_log_field(code, sizeof(code), json_is_string(c) ? json_string_value(c) : "");
    pk_set_text(reason, reason_len, "Kakao refused the code: %s%s%s (HTTP %ld)", error,
                code[0] != '\0' ? " " : "", code, status);
    return PK_ST_REFUSED;
}

/* POSTs the form; on PK_ST_OK *doc is the 200 answer's JSON object. */
static enum pk_status pk_exchange(const struct pk_relay_kakao *k, const char *code,
                                  const struct pk_relay_pkce *p, json_t **doc, char *reason,
                                  size_t reason_len)
{
    struct pk_text_buf form = {0};
    struct pk_http_form_request req;
    struct pk_http_response resp;
    enum pk_status rc;
    enum pk_status st;
    json_error_t jerr;
    char why[256], text[320];

    *doc = NULL;
    pk_text_buf_add(&form, "grant_type=authorization_code&client_id=");
    pk_text_buf_add_enc(&form, k->cfg.kakao_rest_api_key);
    pk_text_buf_add(&form, "&redirect_uri=");
    pk_text_buf_add_enc(&form, k->redirect_uri);
    pk_text_buf_add(&form, "&code=");
    pk_text_buf_add_enc(&form, code);
    pk_text_buf_add(&form, "&code_verifier=");
    pk_text_buf_add_enc(&form, p->verifier);
    if (k->client_secret != NULL) {
        pk_text_buf_add(&form, "&client_secret=");
        pk_text_buf_add_enc(&form, k->client_secret);
    }
    if (form.oom) {
        pk_text_buf_free(&form);
        pk_set_text(reason, reason_len, "out of memory");
        return PK_ST_NOMEM;
    }
    memset(&req, 0, sizeof(req));
    req.url = k->token_url;
    req.body = form.buf;
    req.body_len = form.len;
    req.ca_file = k->cfg.ca_file;
    req.proxy = k->cfg.proxy;
    req.timeout_ms = k->cfg.timeout * 1000;
    req.max_body = PK_RELAY_TOKEN_MAX_BODY;
    st = pk_http_post_form_pooled(k->http, &req, &resp, why, sizeof(why));
    pk_text_buf_free(&form);
    if (st != PK_ST_OK) {
        pk_http_failure_text(st, resp.failure, why, k->cfg.timeout, PK_RELAY_TOKEN_MAX_BODY, text,
                             sizeof(text));
        pk_set_text(reason, reason_len, "Kakao token endpoint: %s", text);
        return st == PK_ST_NOMEM ? PK_ST_NOMEM : PK_ST_UNAVAILABLE;
    }
    *doc = json_loadb(resp.body, resp.len, JSON_REJECT_DUPLICATES, &jerr);
    if (*doc != NULL && !json_is_object(*doc)) {
        pk_token_doc_free(*doc);
        *doc = NULL;
    }
    if (resp.status == 200 && *doc != NULL) {
        rc = PK_ST_OK;
    } else if (resp.status == 200) {
        pk_set_text(reason, reason_len, "Kakao token endpoint: the answer is not a JSON object");
        rc = json_error_code(&jerr) == json_error_out_of_memory ? PK_ST_NOMEM : PK_ST_UNAVAILABLE;
    } else if (resp.status >= 400 && resp.status < 500 && resp.status != 429) {
        rc = pk_token_refused(resp.status, *doc, reason, reason_len);
    } else {
        /* 5xx, 429 (Kakao's rate limit), a redirect, anything odd: Kakao
         * could not answer now; the code may still be good. */
        pk_set_text(reason, reason_len, "Kakao token endpoint answered HTTP %ld", resp.status);
        rc = PK_ST_UNAVAILABLE;
    }
    pk_http_response_free(&resp);
    if (rc != PK_ST_OK) {
        pk_token_doc_free(*doc);
        *doc = NULL;
    }
    return rc;
}

/* The ID token of the answer, judged under the lock that guards the JWKS. */
static enum pk_status pk_judge_id_token(struct pk_relay_kakao *k, const char *jwt,
                                        const struct pk_relay_pkce *p, struct pk_relay_identity *id,
                                        char *reason, size_t reason_len)
{
    struct pk_result res;
    struct pk_token tok;
    enum pk_outcome out;
    long long auth_time = 0;
    time_t now;

    memset(&res, 0, sizeof(res));
    if (pk_token_parse(jwt, &tok, &res) != PK_OK || tok.shape != PK_SHAPE_JWT) {
        pk_set_text(reason, reason_len, "ID token refused: not a JWT");
        return PK_ST_REFUSED;
    }
    if (pthread_mutex_lock(&k->lock) != 0) {
        pk_set_text(reason, reason_len, "cannot take the JWKS lock");
        return PK_ST_UNAVAILABLE;
    }
    now = time(NULL);
    if (pk_jwks_store_refresh(&k->jwks, now, PK_RELAY_JWKS_RETRY) == PK_ST_NOMEM)
        out = pk_result_set(&res, PK_NO_MEMORY, NULL);
    else
        out = pk_id_token_validate_login(&k->cfg, &k->jwks, &tok, now, p->nonce, &auth_time, &res);
    (void)pthread_mutex_unlock(&k->lock);

    switch (out) {
    case PK_OK:
        break;
    case PK_NO_MEMORY:
        pk_set_text(reason, reason_len, "out of memory");
        return PK_ST_NOMEM;
    case PK_JWKS_UNAVAILABLE:
        pk_set_text(reason, reason_len, "Kakao's JWKS unavailable: %s", res.detail);
        return PK_ST_UNAVAILABLE;
    default:
        pk_set_text(reason, reason_len, "ID token refused: %s%s%s%s", pk_outcome_reason(out),
                    res.detail[0] != '\0' ? " (" : "", res.detail,
                    res.detail[0] != '\0' ? ")" : "");
        return PK_ST_REFUSED;
    }
    pk_set_text(id->kakao_id, sizeof(id->kakao_id), "%lld", (long long)res.kakao_id);
    if (!pk_valid_kakao_id_text(id->kakao_id, strlen(id->kakao_id), NULL)) {
        memset(id, 0, sizeof(*id));
        pk_set_text(reason, reason_len, "ID token refused: sub is not a kakao_id");
        return PK_ST_REFUSED;
    }
    id->auth_time = auth_time;
    return PK_ST_OK;
}

enum pk_status pk_relay_kakao_finish(struct pk_relay_kakao *k, const char *code,
                                     const struct pk_relay_pkce *p, struct pk_relay_identity *id,
                                     char *reason, size_t reason_len)
{
    enum pk_status rc;
    json_t *doc = NULL;
    json_t *jwt;

    pk_set_text(reason, reason_len, "%s", "");
    if (id != NULL)
        memset(id, 0, sizeof(*id));
    if (k == NULL || id == NULL || !pk_pkce_ok(p)) {
        pk_set_text(reason, reason_len, "no session secrets");
        return PK_ST_REFUSED;
    }
    if (!pk_printable(code, PK_RELAY_CODE_MAX)) {
        pk_set_text(reason, reason_len, "the authorization code is missing or malformed");
        return PK_ST_REFUSED;
    }
    rc = pk_exchange(k, code, p, &doc, reason, reason_len);
    if (rc != PK_ST_OK)
        return rc;
    jwt = json_object_get(doc, "id_token");
    if (!json_is_string(jwt) || json_string_length(jwt) != strlen(json_string_value(jwt))) {
        pk_token_doc_free(doc);
        pk_set_text(reason, reason_len,
                    "no id_token in Kakao's answer (is OpenID Connect on for the app?)");
        return PK_ST_REFUSED;
    }
    rc = pk_judge_id_token(k, json_string_value(jwt), p, id, reason, reason_len);
    pk_token_doc_free(doc);
    return rc;
}
