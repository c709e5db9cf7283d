/* relay/kakao_leg.h — the Kakao Login client half of the relay (OAuth code + PKCE + OIDC).
 * Thread-safe: the server calls it from several threads at once. */
#ifndef PK_RELAY_KAKAO_LEG_H
#define PK_RELAY_KAKAO_LEG_H
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "src/status.h"
struct pk_relay_kakao_conf {
    const char *auth_url;      /* kakao_auth_url, no trailing slash: authorize, token, JWKS, iss */
    const char *rest_api_key;  /* client_id and the ID token's aud */
    const char *client_secret; /* NULL when not configured (already read under trust rules) */
    const char *redirect_uri;  /* {public_url}/callback */
    const char *ca_file;       /* NULL: system store */
    const char *proxy;         /* NULL: none */
    long timeout;              /* seconds, bounds each exchange */
};
struct pk_relay_kakao; /* long-lived: keeps JWKS cache, CA store and connections */
struct pk_relay_kakao *pk_relay_kakao_new(const struct pk_relay_kakao_conf *conf, char *err,
                                          size_t err_len);
void pk_relay_kakao_free(struct pk_relay_kakao *k);
/* Per-session secrets: state, nonce (each 256 random bits, base64url) and a PKCE verifier
 * (43+ chars). From the kernel CSPRNG; false only when it fails. */
struct pk_relay_pkce {
    char state[48];
    char nonce[48];
    char verifier[64];
};
bool pk_relay_pkce_new(struct pk_relay_pkce *out);
/* {auth_url}/oauth/authorize?response_type=code&client_id=..&redirect_uri=..&state=..
 * &code_challenge=..&code_challenge_method=S256&nonce=..&scope=openid[&prompt=login]
 * malloc'd; NULL: no memory. */
char *pk_relay_kakao_authorize_url(const struct pk_relay_kakao *k, const struct pk_relay_pkce *p,
                                   bool prompt_login);
struct pk_relay_identity {
    char kakao_id[21];   /* the ID token's sub, checked with pk_valid_kakao_id_text */
    long long auth_time; /* the ID token's auth_time (or iat when absent) */
};
/* Exchanges the code (code_verifier, client_secret when set) at {auth_url}/oauth/token,
 * verifies the ID token (JWKS {auth_url}/.well-known/jwks.json cached like the module caches
 * it; iss = auth_url, aud = rest_api_key, nonce = p->nonce, exp with 60 s leeway, alg
 * pinned to what the JWK says), fills *id. reason: one line for the log and the page (never
 * a token, code or body). PK_ST_OK; PK_ST_REFUSED when Kakao said no (KOE..., invalid_grant)
 * or the ID token failed; PK_ST_UNAVAILABLE on network, timeout, 5xx or JWKS unreachable;
 * PK_ST_NOMEM. */
enum pk_status pk_relay_kakao_finish(struct pk_relay_kakao *k, const char *code,
                                     const struct pk_relay_pkce *p, struct pk_relay_identity *id,
                                     char *reason, size_t reason_len);
#endif
