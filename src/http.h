/* Bounded HTTPS requests (a GET with a bearer token, a public GET, a form
 * POST), all through one exchange: https only, peer and host verified, no
 * redirects, capped body, one total deadline, no signals, no proxy unless
 * configured, nothing taken from the caller's environment (docs/DESIGN.md §7). */
#ifndef PK_HTTP_H
#define PK_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

struct pk_http_request {
    const char *url;
    const char *bearer; /* sent only in the Authorization header */
    size_t bearer_len;
    const char *ca_file; /* NULL = the system store's hashed directory */
    const char *proxy;   /* NULL = none, whatever the environment says */
    long timeout_ms;     /* milliseconds, whole exchange */
    size_t max_body;
};

/* Why a request got no response, for the wording (pk_http_failure_text). */
enum pk_http_failure {
    PK_HTTP_NO_FAILURE = 0,
    PK_HTTP_TIMEOUT, /* deadline passed */
    PK_HTTP_CONNECT, /* DNS or connection failure */
    PK_HTTP_TLS,     /* certificate or handshake failure */
    PK_HTTP_TOO_BIG, /* body over max_body */
    PK_HTTP_ERROR,   /* anything else; err says what */
    /* refused before any network call (pk_http_env_safe); err says why */
    PK_HTTP_UNSAFE_ENV,
};

struct pk_http_response {
    long status;
    char *body; /* NUL-terminated; wiped and freed by pk_http_response_free */
    size_t len;
    enum pk_http_failure failure; /* set when the request returned no response */
};

/* The request functions below return PK_ST_OK when a response arrived (any
 * HTTP status), PK_ST_UNAVAILABLE when none did (resp->failure says why),
 * PK_ST_REFUSED when no request was made because this process may not make
 * one (PK_HTTP_UNSAFE_ENV), PK_ST_NOMEM. */

/* The detail of PK_HTTP_UNSAFE_ENV when SSLKEYLOGFILE is the reason. */
#define PK_HTTP_KEYLOG_REFUSAL "unsafe environment: SSLKEYLOGFILE is set in a setuid process"

/* Whether a process may make HTTPS calls in its environment. libcurl opens
 * the file SSLKEYLOGFILE names (creating it, mode 0666 less the umask) on
 * its first TLS use, and no option stops it: in a process started setuid or
 * setgid (secure: getauxval(AT_SECURE) != 0) that would let the caller make
 * root create or append to any file. keylog is the variable's value, NULL
 * when unset; any value counts, even "". A process that is not secure runs
 * with its own user's environment: its choice. False sets err to
 * PK_HTTP_KEYLOG_REFUSAL. Every request function below calls it first. */
bool pk_http_env_safe(bool secure, const char *keylog, char *err, size_t err_len);

/* err says what failed, escaped as quoted text (pk_log_text): show it
 * inside double quotes. */
enum pk_status pk_http_get(const struct pk_http_request *req, struct pk_http_response *resp,
                           char *err, size_t err_len);

/* The same GET without any Authorization header, for public documents such
 * as a JWKS: req->bearer must be NULL. */
enum pk_status pk_http_get_public(const struct pk_http_request *req, struct pk_http_response *resp,
                                  char *err, size_t err_len);

void pk_http_response_free(struct pk_http_response *resp);

/* The one wording of a failed request, for logs and details: st, the
 * failure and the err a request function set, timeout_s the configured
 * timeout and max_body the cap, named by PK_HTTP_TIMEOUT and PK_HTTP_TOO_BIG.
 * Never used for PK_ST_OK: an HTTP status is the caller's to word. */
void pk_http_failure_text(enum pk_status st, enum pk_http_failure failure, const char *err,
                          long timeout_s, size_t max_body, char *out, size_t out_len);

/* A form POST (application/x-www-form-urlencoded) under the same rules:
 * https only, verified, no redirects, no proxy unless given, capped answer,
 * one deadline. For the OAuth token endpoint (`kakao-pam login`): in
 * http_post.c, which the module does not link. */
#define PK_HTTP_FORM_MAX (64 * 1024)

struct pk_http_form_request {
    const char *url;
    const char *body; /* already form-encoded; not copied: the caller wipes it */
    size_t body_len;
    const char *ca_file; /* NULL = the system store's hashed directory */
    const char *proxy;   /* NULL = none */
    long timeout_ms;
    size_t max_body;
};

enum pk_status pk_http_post_form(const struct pk_http_form_request *req,
                                 struct pk_http_response *resp, char *err, size_t err_len);

/* A JSON POST (application/json) under the same rules, for the relay's
 * session and redeem calls (the module's relay kind). req->body is the JSON
 * text, not copied: the caller wipes it. In http.c, so the module has it. */
enum pk_status pk_http_post_json(const struct pk_http_form_request *req,
                                 struct pk_http_response *resp, char *err, size_t err_len);

/* Kept handles for a long-running, multi-threaded process (kakao-pam-relay),
 * never used by the module or the CLI: each request borrows a handle that no
 * other thread is using, so the connections it opened (TLS included) and its
 * DNS answers serve the next request to the same server without a new
 * handshake. Every option is set anew for each request (curl_easy_reset
 * first), so the rules above hold per request. When every handle is busy, a
 * request takes a fresh one, as without a pool. Created only where
 * pk_http_env_safe allows HTTPS; NULL with err set otherwise or when out of
 * memory. libcurl's shared connection cache (CURLSH) is not used: libcurl
 * 7.88 does not support sharing connections between concurrent threads. */
struct pk_http_pool;
struct pk_http_pool *pk_http_pool_new(size_t handles, char *err, size_t err_len);
void pk_http_pool_free(struct pk_http_pool *pool);

/* pk_http_post_form through a pool's handles (pool NULL: exactly pk_http_post_form). */
enum pk_status pk_http_post_form_pooled(struct pk_http_pool *pool,
                                        const struct pk_http_form_request *req,
                                        struct pk_http_response *resp, char *err, size_t err_len);

#endif
