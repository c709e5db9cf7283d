/* The form POST for the OAuth token endpoint (`kakao-pam login`): the same
 * exchange, and so the same transport rules, as the module's GETs. CLI only:
 * the Makefile leaves it out of pam_kakao.so. The body holds secrets (code,
 * code_verifier, client secret): libcurl is handed the caller's buffer, not a
 * copy, so the caller's wipe covers it. */
#include <string.h>

#include "http.h"
#include "http_exchange.h"

enum pk_status pk_http_post_form(const struct pk_http_form_request *req,
                                 struct pk_http_response *resp, char *err, size_t err_len)
{
    return pk_http_post_form_pooled(NULL, req, resp, err, err_len);
}

enum pk_status pk_http_post_form_pooled(struct pk_http_pool *pool,
                                        const struct pk_http_form_request *req,
                                        struct pk_http_response *resp, char *err, size_t err_len)
{
    static const char *const form_headers[] = {
        "Content-Type: application/x-www-form-urlencoded;charset=utf-8",
        "Accept: application/json",
        /* No "Expect: 100-continue" round trip. */
        "Expect:",
    };
    struct pk_http_exchange x;

    if (req == NULL)
        return pk_http_exchange(NULL, resp, err, err_len);
    memset(&x, 0, sizeof(x));
    x.method = PK_HTTP_POST_FORM;
    x.url = req->url;
    x.form = req->body;
    x.form_len = req->body_len;
    x.headers = form_headers;
    x.n_headers = sizeof(form_headers) / sizeof(form_headers[0]);
    x.ca_file = req->ca_file;
    x.proxy = req->proxy;
    x.timeout_ms = req->timeout_ms;
    x.max_body = req->max_body;
    x.pool = pool;
    return pk_http_exchange(&x, resp, err, err_len);
}
