/* The relay kind's network half: open a session at the relay and redeem the
 * 6-digit code for an assertion, through the one HTTPS exchange (src/http.c)
 * so every transport rule holds. All relay calls of one login share one
 * budget of `timeout` seconds of network time (pam_kakao(8)). */
#ifndef PK_RELAY_CLIENT_H
#define PK_RELAY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "verdict.h"

/* Answers from the relay are small: anything bigger is an outage. */
#define PK_RELAY_BODY_MAX (16 * 1024)
#define PK_RELAY_CODE_LEN 6

/* One login's relay calls: the network time used so far. */
struct pk_relay_budget {
    long used_ms;
};

struct pk_relay_session {
    char *session; /* S: the host's secret; wiped and freed by pk_relay_session_free */
    char *url;     /* what the user opens (printable ASCII, no space) */
    long expires_in;
};

/* Whether answer is a relay code: exactly 6 digits once spaces and '-' are
 * taken out ("481 205", "481-205"); code gets them NUL-terminated. */
bool pk_relay_code_parse(const char *answer, char code[PK_RELAY_CODE_LEN + 1]);

/* POST {relay_url}/v1/sessions {user, service, host, rhost}: PK_OK with s
 * filled, PK_RELAY_UNAVAILABLE (detail says why) or PK_NO_MEMORY. */
enum pk_outcome pk_relay_open(const struct pk_config *cfg, struct pk_relay_budget *budget,
                              const char *user, const char *service, const char *host,
                              const char *rhost, struct pk_relay_session *s, struct pk_result *res);

/* POST {relay_url}/v1/sessions/S/redeem {code}: PK_OK with *assertion (the
 * caller wipes and frees it); PK_RELAY_WRONG_CODE with *attempts_left;
 * PK_RELAY_NOT_APPROVED, PK_RELAY_EXPIRED, PK_RELAY_USED,
 * PK_RELAY_UNKNOWN; PK_RELAY_UNAVAILABLE; PK_NO_MEMORY. */
enum pk_outcome pk_relay_redeem(const struct pk_config *cfg, struct pk_relay_budget *budget,
                                const struct pk_relay_session *s, const char *code,
                                char **assertion, long *attempts_left, struct pk_result *res);

/* The relay's answers, read apart from the HTTP exchange (one place, also
 * fuzzed): status and body (len bytes, no NUL needed) of the session
 * request and of a redeem, with the outcomes of pk_relay_open and
 * pk_relay_redeem above (no network ones but PK_RELAY_UNAVAILABLE). */
enum pk_outcome pk_relay_read_session(long status, const char *body, size_t len,
                                      struct pk_relay_session *s, struct pk_result *res);
enum pk_outcome pk_relay_read_redeem(long status, const char *body, size_t len, char **assertion,
                                     long *attempts_left, struct pk_result *res);

void pk_relay_session_free(struct pk_relay_session *s);

/* relay_prompt with %u replaced by url and %% by %: a new string, or NULL
 * when out of memory. */
char *pk_relay_prompt_text(const char *tmpl, const char *url);

#endif
