/* The one HTTPS exchange behind pk_http_get, pk_http_get_public,
 * pk_http_post_json (http.c) and pk_http_post_form (http_post.c). Not for other callers: they use
 * the functions of http.h. */
#ifndef PK_HTTP_EXCHANGE_H
#define PK_HTTP_EXCHANGE_H

#include <stddef.h>

#include "http.h"

enum pk_http_method {
    PK_HTTP_GET_BEARER, /* GET with Authorization: Bearer */
    PK_HTTP_GET_PUBLIC, /* GET without any Authorization header */
    PK_HTTP_POST_FORM,  /* POST of an application/x-www-form-urlencoded body */
    PK_HTTP_POST_JSON,  /* POST of an application/json body (the relay) */
};

struct pk_http_exchange {
    enum pk_http_method method;
    const char *url;
    const char *bearer; /* PK_HTTP_GET_BEARER only */
    size_t bearer_len;
    const char *form; /* PK_HTTP_POST_FORM/JSON only; not copied: the caller wipes it */
    size_t form_len;
    const char *const *headers; /* fixed extra request headers */
    size_t n_headers;
    const char *ca_file; /* NULL = the system store's hashed directory */
    const char *proxy;   /* NULL = none, whatever the environment says */
    long timeout_ms;     /* milliseconds, whole exchange */
    size_t max_body;
    struct pk_http_pool *pool; /* NULL: a fresh handle, closed after (the module) */
};

/* Checks the request, refuses an unsafe environment (pk_http_env_safe),
 * performs it and maps the result; err as for pk_http_get. */
enum pk_status pk_http_exchange(const struct pk_http_exchange *x, struct pk_http_response *resp,
                                char *err, size_t err_len);

/* A POST of req->body (method PK_HTTP_POST_FORM or PK_HTTP_POST_JSON, which
 * sets the Content-Type) through pk_http_exchange; pool may be NULL. */
enum pk_status pk_http_post(enum pk_http_method method, struct pk_http_pool *pool,
                            const struct pk_http_form_request *req, struct pk_http_response *resp,
                            char *err, size_t err_len);

#endif
