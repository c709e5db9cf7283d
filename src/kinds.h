/* The token kinds, one row each: name, bit, when it is configured, which
 * tokens it takes, what it loads before the prompt, how it validates, what
 * `kakao-pam check` says of it. The module, the config parser, the router
 * and `kakao-pam check` loop over this table and name no kind themselves
 * (docs/DESIGN.md §4.5, §4.6). */
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
};

/* `kakao-pam check`: every problem is reported and files that break a
 * trust rule are still read; `ok` names what loaded cleanly. */
struct pk_kind_check {
    void (*problem)(void *ctx, const char *msg);
    void (*ok)(void *ctx, const char *msg);
    void *ctx;
    /* check's own file readers (pk_check_open, pk_check_read: they read past
     * a broken trust rule, so the module never links them; docs/DESIGN.md
     * §3.4). */
    enum pk_status (*open)(const char *path, enum pk_file_kind kind, uid_t uid, int *fd_out,
                           char *trust, size_t trust_len, char *problem, size_t problem_len);
    enum pk_status (*read)(const char *path, enum pk_file_kind kind, uid_t uid, char **data,
                           size_t *len, char *trust, size_t trust_len, char *problem,
                           size_t problem_len);
};

/* What a loader may use. check is NULL in the module. */
struct pk_kind_env {
    const struct pk_config *cfg;
    uid_t uid;
    time_t now;
    const struct pk_logger *log;
    const struct pk_kind_check *check;
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
    /* Loads keys before the prompt (NULL = none). In the module: PK_OK or the
     * final outcome with a detail. With env->check: every problem reported,
     * PK_OK unless out of memory; nothing named is nothing to check. */
    enum pk_outcome (*load)(const struct pk_kind_env *env, struct pk_kind_state *st,
                            struct pk_result *res);
    /* Sets res->kind, fills res->kakao_id on PK_OK. */
    enum pk_outcome (*validate)(const struct pk_validator *v, const struct pk_token *tok,
                                struct pk_result *res);
    /* `kakao-pam check`: what to add to "ok accept" (NULL = nothing). */
    void (*summary)(const struct pk_config *cfg, char *buf, size_t len);
    void (*free)(struct pk_kind_state *st);
};

extern const struct pk_kind_ops pk_kinds[];
extern const size_t pk_kind_count;

/* The row named name[0..len), or NULL. */
const struct pk_kind_ops *pk_kind_by_name(const char *name, size_t len);

/* Kinds whose keys are all set (enum pk_kind bits). */
unsigned pk_kinds_configured(const struct pk_config *cfg);

/* Before the prompt: ca_file under the trust rules when an accepted kind
 * makes HTTPS requests, then each accepted kind's keys. The module passes
 * pk_config_kinds; `kakao-pam check` passes every bit with env->check set
 * and gets every file the config names checked (a JWKS URL is never
 * fetched there). Anything but PK_OK is the final outcome. */
enum pk_outcome pk_kinds_load(const struct pk_kind_env *env, unsigned kinds,
                              struct pk_kind_state *st, struct pk_result *res);

void pk_kinds_free(struct pk_kind_state *st);

#endif
