/* One bounded HTTPS GET with a bearer token: https only, peer and host
 * verified, no redirects, capped body, one total deadline, no signals, no
 * proxy unless configured. */
#ifndef PK_HTTP_H
#define PK_HTTP_H

#include <stddef.h>

struct pk_http_request {
    const char *url;
    const char *bearer; /* sent only in the Authorization header */
    size_t bearer_len;
    const char *ca_file; /* NULL = system store */
    const char *proxy;   /* NULL = none, whatever the environment says */
    long timeout_ms;     /* milliseconds, whole exchange */
    size_t max_body;
};

struct pk_http_response {
    long status;
    char *body; /* NUL-terminated; wiped and freed by pk_http_response_free */
    size_t len;
};

enum pk_http_status {
    PK_HTTP_OK = 0,   /* a response arrived (any status) */
    PK_HTTP_TIMEOUT,  /* deadline passed */
    PK_HTTP_CONNECT,  /* DNS or connection failure */
    PK_HTTP_TLS,      /* certificate or handshake failure */
    PK_HTTP_TOO_BIG,  /* body over max_body */
    PK_HTTP_ERROR,    /* anything else; err says what */
    PK_HTTP_NOMEM,
};

enum pk_http_status pk_http_get(const struct pk_http_request *req, struct pk_http_response *resp,
                                char *err, size_t err_len);

void pk_http_response_free(struct pk_http_response *resp);

#endif
