/* The token kinds, one row each: name, bit, when it is configured, which
 * tokens it takes, what it loads before the prompt, how it validates. The
 * module, the config parser, the router and `kakao-pam check` loop over this
 * table and name no kind themselves; what check alone needs of a kind is its
 * row in src/kinds_check.c, outside the module (docs/DESIGN.md §4.5, §4.6). */
#ifndef PK_KINDS_H
#define PK_KINDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "jwks_cache.h"
#include "keys.h"
#include "log.h"
#include "safe_file.h"
#include "token.h"
#include "verdict.h"

/* What each kind loads before the prompt: one member per kind that has
 * keys. Owned by struct pk_auth; released with pk_kinds_free. */
struct pk_kind_state {
    struct pk_jwt_key jwt_key; /* jwt */
    bool have_jwt_key;
    struct pk_jwks_store jwks; /* id_token */
    bool have_jwks;
    struct evp_pkey_st *relay_key; /* relay; NULL until loaded */
};

/* What a loader may use. */
struct pk_kind_env {
    const struct pk_config *cfg;
    uid_t uid;
    time_t now;
    const struct pk_logger *log;
};

/* Everything a validator gets. */
struct pk_validator {
    const struct pk_config *cfg;
    struct pk_kind_state *keys; /* loaded by pk_kinds_load; a JWKS may refetch */
    const struct pk_logger *log;
    time_t now;
    uid_t uid;       /* who must own cache_dir (the Kakao check cache) */
    bool first_pass; /* raw is PAM_AUTHTOK from another module: JWTs only, offline */
};

/* How strongly a kind claims a token: a specific match beats a fallback. */
enum pk_kind_claim { PK_CLAIM_NO = 0, PK_CLAIM_FALLBACK, PK_CLAIM_YES };

struct pk_kind_ops {
    const char *name; /* the word in `accept` and in log lines */
    enum pk_kind bit;
    const char *needs; /* the keys that configure it, for "accept names X, which needs ..." */
    const char *not_accepted; /* detail of PK_KIND_NOT_ACCEPTED */
    bool (*configured)(const struct pk_config *cfg);
    /* Whether it makes HTTPS requests (then ca_file is checked before the
     * prompt); NULL = never. */
    bool (*uses_https)(const struct pk_config *cfg);
    /* Whether tok (shape known, bytes checked) is this kind's; only picks
     * the rules, never accepts. */
    enum pk_kind_claim (*claims)(const struct pk_config *cfg, const struct pk_token *tok);
    /* Loads keys before the prompt (NULL = none): PK_OK or the final
     * outcome with a detail. */
    enum pk_outcome (*load)(const struct pk_kind_env *env, struct pk_kind_state *st,
                            struct pk_result *res);
    /* Sets res->kind, fills res->kakao_id on PK_OK. */
    enum pk_outcome (*validate)(const struct pk_validator *v, const struct pk_token *tok,
                                struct pk_result *res);
    void (*free)(struct pk_kind_state *st);
};

extern const struct pk_kind_ops pk_kinds[];
extern const size_t pk_kind_count;

/* The row named name[0..len), or NULL. */
const struct pk_kind_ops *pk_kind_by_name(const char *name, size_t len);

/* Kinds whose keys are all set (enum pk_kind bits). */
unsigned pk_kinds_configured(const struct pk_config *cfg);

/* Before the prompt: ca_file under the trust rules when an accepted kind
 * makes HTTPS requests, then each accepted kind's keys (the module passes
 * pk_config_kinds). Anything but PK_OK is the final outcome, the first
 * problem found. `kakao-pam check` uses pk_kinds_check (kinds_check.h). */
enum pk_outcome pk_kinds_load(const struct pk_kind_env *env, unsigned kinds,
                              struct pk_kind_state *st, struct pk_result *res);

void pk_kinds_free(struct pk_kind_state *st);

#endif
