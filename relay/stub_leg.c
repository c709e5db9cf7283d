/* TEMPORARY stand-ins for relay/kakao_leg.c and relay/pages.c, so the
 * server half builds and its tests run before the two halves meet. Not the
 * product: finish() approves only the code "ok" (as kakao_id 3095134389),
 * refuses "deny" and is unavailable for "down"; the pages are bare. The
 * Makefile links this file only while relay/kakao_leg.c does not exist. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay/kakao_leg.h"
#include "relay/pages.h"
#include "relay/store.h"
#include "src/b64url.h"

struct pk_relay_kakao {
    char auth_url[512];
    char client_id[256];
    char redirect_uri[512];
};

struct pk_relay_kakao *pk_relay_kakao_new(const struct pk_relay_kakao_conf *conf, char *err,
                                          size_t err_len)
{
    struct pk_relay_kakao *k = calloc(1, sizeof(*k));

    if (k == NULL) {
        (void)snprintf(err, err_len, "out of memory");
        return NULL;
    }
    (void)snprintf(k->auth_url, sizeof(k->auth_url), "%s", conf->auth_url);
    (void)snprintf(k->client_id, sizeof(k->client_id), "%s", conf->rest_api_key);
    (void)snprintf(k->redirect_uri, sizeof(k->redirect_uri), "%s", conf->redirect_uri);
    return k;
}

void pk_relay_kakao_free(struct pk_relay_kakao *k)
{
    free(k);
}

static bool pk_stub_b64(char *out, size_t out_len, size_t raw_len)
{
    unsigned char raw[48];
    char *enc;

    if (raw_len > sizeof(raw) || !pk_relay_random(raw, raw_len))
        return false;
    enc = pk_b64url_encode(raw, raw_len);
    if (enc == NULL || strlen(enc) >= out_len) {
        free(enc);
        return false;
    }
    memcpy(out, enc, strlen(enc) + 1);
    free(enc);
    return true;
}

bool pk_relay_pkce_new(struct pk_relay_pkce *out)
{
    return pk_stub_b64(out->state, sizeof(out->state), 32) &&
           pk_stub_b64(out->nonce, sizeof(out->nonce), 32) &&
           pk_stub_b64(out->verifier, sizeof(out->verifier), 32);
}

char *pk_relay_kakao_authorize_url(const struct pk_relay_kakao *k, const struct pk_relay_pkce *p,
                                   bool prompt_login)
{
    size_t n = 2048;
    char *url = malloc(n);

    if (url == NULL)
        return NULL;
    (void)snprintf(url, n,
                   "%s/oauth/authorize?response_type=code&client_id=%s&redirect_uri=%s"
                   "&state=%s&code_challenge=stub&code_challenge_method=S256&nonce=%s"
                   "&scope=openid%s",
                   k->auth_url, k->client_id, k->redirect_uri, p->state, p->nonce,
                   prompt_login ? "&prompt=login" : "");
    return url;
}

enum pk_relay_kakao_result pk_relay_kakao_finish(struct pk_relay_kakao *k, const char *code,
                                                 const struct pk_relay_pkce *p,
                                                 struct pk_relay_identity *id, char *reason,
                                                 size_t reason_len)
{
    (void)k;
    (void)p;
    if (strcmp(code, "ok") == 0) {
        (void)snprintf(id->kakao_id, sizeof(id->kakao_id), "3095134389");
        id->auth_time = (long long)time(NULL);
        return PK_RELAY_KAKAO_OK;
    }
    if (strcmp(code, "down") == 0) {
        (void)snprintf(reason, reason_len, "stub: token endpoint unavailable");
        return PK_RELAY_KAKAO_UNAVAILABLE;
    }
    (void)snprintf(reason, reason_len, "stub: code refused (invalid_grant)");
    return PK_RELAY_KAKAO_REFUSED;
}

char *pk_relay_page_approve(const struct pk_relay_view *v)
{
    size_t n = 4096;
    char *html = malloc(n);

    if (html == NULL)
        return NULL;
    /* The stub's fields are the store's, already printable ASCII; the real
     * pages escape them. */
    (void)snprintf(html, n,
                   "<!doctype html><p>Log in as %s on %s (%s, from %s)? %ld s left</p>"
                   "<form method=post action=\"/a/%s\"><button>Continue with Kakao</button>"
                   "</form>",
                   strchr(v->user, '<') ? "?" : v->user, strchr(v->host, '<') ? "?" : v->host,
                   strchr(v->service, '<') ? "?" : v->service,
                   strchr(v->rhost, '<') ? "?" : v->rhost, v->seconds_left, v->short_id);
    return html;
}

char *pk_relay_page_code(const char code[7], long seconds_left)
{
    size_t n = 512;
    char *html = malloc(n);

    if (html == NULL)
        return NULL;
    (void)snprintf(html, n, "<!doctype html><p id=code>%.3s %.3s</p><p>%ld s left</p>", code,
                   code + 3, seconds_left);
    return html;
}

char *pk_relay_page_message(const char *heading, const char *text)
{
    size_t n = strlen(heading) + strlen(text) + 64;
    char *html = malloc(n);

    if (html == NULL)
        return NULL;
    (void)snprintf(html, n, "<!doctype html><h1>%s</h1><p>%s</p>", heading, text);
    return html;
}

size_t pk_relay_page_headers(const char *kakao_auth_url, char *csp_buf, size_t csp_len,
                             struct pk_relay_header *out, size_t max)
{
    (void)snprintf(csp_buf, csp_len,
                   "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' %s",
                   kakao_auth_url);
    if (max < 4)
        return 0;
    out[0] = (struct pk_relay_header){"Content-Security-Policy", csp_buf};
    out[1] = (struct pk_relay_header){"X-Frame-Options", "DENY"};
    out[2] = (struct pk_relay_header){"Cache-Control", "no-store"};
    out[3] = (struct pk_relay_header){"Referrer-Policy", "no-referrer"};
    return 4;
}
