/* One authentication attempt without PAM: config, user map, key, token,
 * mapping. The module glue and `kakao-pam verify` both drive this. */
#ifndef PK_AUTH_H
#define PK_AUTH_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "kinds.h"
#include "log.h"
#include "relay_client.h"
#include "user_map.h"
#include "verdict.h"

struct pk_auth {
    struct pk_config cfg;
    bool cfg_loaded;
    struct pk_kind_state keys; /* what the accepted kinds loaded */
    struct pk_id_list ids;
    const struct pk_logger *log;
    uid_t uid;
    struct pk_relay_budget relay_budget; /* network time of this login's relay calls */
    char host[256];                      /* the host name sent to the relay: the assertion's aud */
    char *redis_password; /* one_time with a Redis store: redis_password_file's content */
    /* `kakao-pam verify`: judge a one-time token without using up its mark */
    bool keep_marks;
};

/* Loads config (args over file), finds the user's map lines and loads the
 * accepted kinds' keys (pk_kinds_load; the JWKS is fetched when jwks_url
 * needs it).
 * PK_OK means: ask for a token. Anything else is the final outcome. */
enum pk_outcome pk_auth_prepare(struct pk_auth *a, int argc, const char **argv,
                                const char *default_config, const char *user,
                                const struct pk_logger *log, struct pk_result *res);

/* Config and the accepted kinds' keys only, for `kakao-pam enroll`: the
 * user map is not read, so pk_auth_decide and pk_auth_relay_redeem map
 * nobody (fail closed); pk_auth_identify and pk_auth_relay_identify tell
 * whose token or approval it is. */
enum pk_outcome pk_auth_prepare_unmapped(struct pk_auth *a, int argc, const char **argv,
                                         const struct pk_logger *log, struct pk_result *res);

/* Validates raw (NUL-terminated, as typed) and checks the mapping. */
enum pk_outcome pk_auth_decide(struct pk_auth *a, const char *raw, time_t now,
                               struct pk_result *res);

/* Validates raw as pk_auth_decide does, without the mapping: on PK_OK
 * res->kakao_id is whose token it is. */
enum pk_outcome pk_auth_identify(struct pk_auth *a, const char *raw, time_t now,
                                 struct pk_result *res);

/* Judges a PAM_AUTHTOK that another module set: only as a JWT, offline
 * (app JWT or ID token, no JWKS refetch), then the mapping. It may be that
 * module's password, so nothing about it is sent anywhere. */
enum pk_outcome pk_auth_decide_first_pass(struct pk_auth *a, const char *authtok, time_t now,
                                          struct pk_result *res);

/* Opens this login's session at the relay (relay accepted), sending user,
 * service, gethostname() and rhost ("" when unknown). PK_OK with s filled;
 * PK_RELAY_UNAVAILABLE; PK_NO_MEMORY. Used for unmapped users too (with
 * prompt_unmapped), so the prompt looks the same. */
enum pk_outcome pk_auth_relay_open(struct pk_auth *a, const char *user, const char *service,
                                   const char *rhost, struct pk_relay_session *s,
                                   struct pk_result *res);

/* Redeems code (6 digits) for s, checks the assertion offline against
 * relay_key (nonce = S, aud = the host sent) and the user map.
 * PK_RELAY_WRONG_CODE sets *attempts_left. */
enum pk_outcome pk_auth_relay_redeem(struct pk_auth *a, const struct pk_relay_session *s,
                                     const char *code, time_t now, long *attempts_left,
                                     struct pk_result *res);

/* pk_auth_relay_redeem without the user map: on PK_OK res->kakao_id is
 * the Kakao user who approved. */
enum pk_outcome pk_auth_relay_identify(struct pk_auth *a, const struct pk_relay_session *s,
                                       const char *code, time_t now, long *attempts_left,
                                       struct pk_result *res);

void pk_auth_free(struct pk_auth *a);

#endif
