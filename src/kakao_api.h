/* Kakao access-token validation (docs/DESIGN.md §4.4): online, against the REST API. */
#ifndef PK_KAKAO_API_H
#define PK_KAKAO_API_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "log.h"
#include "verdict.h"

#define PK_KAKAO_BODY_MAX (64 * 1024)

/* Asks {kakao_api_url}/v1/user/access_token_info (and /v2/user/me when
 * require_email is set) about token; fills res->kakao_id on PK_OK, and
 * *valid_for (NULL: not wanted) with Kakao's expires_in: the seconds the
 * token stays valid, counted from the answer; 0 unless PK_OK. */
enum pk_outcome pk_kakao_check(const struct pk_config *cfg, const char *token, size_t token_len,
                               const struct pk_logger *log, struct pk_result *res,
                               int64_t *valid_for);

/* Parsers for the response bodies, separate so they can be fuzzed. */
enum pk_outcome pk_kakao_parse_token_info(const char *body, size_t len, long http_status,
                                          int64_t app_id, struct pk_result *res);
enum pk_outcome pk_kakao_parse_user_me(const char *body, size_t len, long http_status,
                                       enum pk_email_rule rule, struct pk_result *res);

#endif
