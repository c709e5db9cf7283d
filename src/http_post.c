/* The form POST for the OAuth token endpoint (`kakao-pam login`): the same
 * exchange, and so the same transport rules, as the module's GETs. CLI only:
 * the Makefile leaves it out of pam_kakao.so. The body holds secrets (code,
 * code_verifier, client secret): libcurl is handed the caller's buffer, not a
 * copy, so the caller's wipe covers it. */
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
    return pk_http_post(PK_HTTP_POST_FORM, pool, req, resp, err, err_len);
}
