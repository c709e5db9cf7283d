#include "auth.h"

#include <openssl/err.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "one_time.h"
#include "redis.h"
#include "relay_kind.h"
#include "secure.h"
#include "token.h"
#include "validate.h"

struct pk_report_ctx {
    struct pk_result *res;
    bool seen;
};

/* The first config problem becomes the decision's detail. */
static void pk_auth_config_report(void *ctx, const char *where, const char *problem)
{
    struct pk_report_ctx *rc = ctx;

    if (rc->seen)
        return;
    rc->seen = true;
    if (strcmp(where, "config") == 0)
        (void)pk_result_set(rc->res, PK_CONFIG_ERROR, "%s", problem);
    else
        (void)pk_result_set(rc->res, PK_CONFIG_ERROR, "%s: %s", where, problem);
}

/* Keys (and the one-time store's password) are loaded before any prompt: a
 * broken key must not cost the user a token. */
static enum pk_outcome pk_auth_load_keys(struct pk_auth *a, struct pk_result *res)
{
    struct pk_kind_env env = {&a->cfg, a->uid, time(NULL), a->log};

    if (a->cfg.one_time && pk_config_store_is_redis(&a->cfg)) {
        char problem[512];
        enum pk_status st =
            pk_one_time_password(&a->cfg, a->uid, &a->redis_password, problem, sizeof(problem));
        if (st == PK_ST_NOMEM)
            return pk_result_set(res, PK_NO_MEMORY, "reading redis_password_file");
        if (st != PK_ST_OK)
            return pk_result_set(res, PK_FILE_ERROR, "redis_password_file: %s", problem);
    }
    return pk_kinds_load(&env, pk_config_kinds(&a->cfg), &a->keys, res);
}

/* user NULL: the user map is not read (pk_auth_prepare_unmapped). */
static enum pk_outcome pk_auth_load(struct pk_auth *a, int argc, const char **argv,
                                    const char *default_config, const char *user,
                                    const struct pk_logger *log, struct pk_result *res)
{
    struct pk_report_ctx rc = {res, false};
    char problem[512];
    enum pk_status st;

    memset(a, 0, sizeof(*a));
    memset(res, 0, sizeof(*res));
    a->log = log;
    a->uid = geteuid();
    st = pk_config_load(&a->cfg, argc, argv, default_config, a->uid, false, pk_auth_config_report,
                        &rc);
    if (st == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "loading config");
    if (st != PK_ST_OK) {
        if (!rc.seen)
            (void)pk_result_set(res, PK_CONFIG_ERROR, "invalid configuration");
        return res->outcome;
    }
    a->cfg_loaded = true;
    if (user == NULL)
        return pk_auth_load_keys(a, res);

    st = pk_user_map_lookup(a->cfg.user_map, a->uid, user, log, &a->ids, problem, sizeof(problem));
    if (st == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "reading user map");
    if (st != PK_ST_OK)
        return pk_result_set(res, PK_FILE_ERROR, "%s", problem);
    if (a->ids.count == 0)
        return pk_result_set(res, PK_USER_UNKNOWN, NULL);
    return pk_auth_load_keys(a, res);
}

/* OpenSSL's error queue is per thread and belongs to the host (sshd, sudo):
 * what OpenSSL, libjwt or libcurl queue while we work is dropped, and
 * whatever the host had queued is left as it was. */
enum pk_outcome pk_auth_prepare(struct pk_auth *a, int argc, const char **argv,
                                const char *default_config, const char *user,
                                const struct pk_logger *log, struct pk_result *res)
{
    enum pk_outcome out;

    (void)ERR_set_mark();
    out = pk_auth_load(a, argc, argv, default_config, user, log, res);
    (void)ERR_pop_to_mark();
    return out;
}

enum pk_outcome pk_auth_prepare_unmapped(struct pk_auth *a, int argc, const char **argv,
                                         const struct pk_logger *log, struct pk_result *res)
{
    return pk_auth_prepare(a, argc, argv, NULL, NULL, log, res);
}

/* Tells the user (and the log) when the token was probably cut short. */
static void pk_auth_add_hint(const char *raw, struct pk_result *res)
{
    struct pk_token tok;
    struct pk_result scratch;
    const char *hint;
    size_t used;

    if (res->outcome == PK_JWT_SIG_LENGTH) {
        res->user_hint = "The token's signature has the wrong length: it was probably cut off "
                         "by the client.";
        return;
    }
    memset(&scratch, 0, sizeof(scratch));
    (void)pk_token_parse(raw, &tok, &scratch);
    hint = pk_token_cut_hint(tok.len);
    if (hint == NULL)
        return;
    res->user_hint = pk_token_cut_user_hint(tok.len);
    if (strstr(res->detail, hint) != NULL)
        return;
    used = strlen(res->detail);
    (void)snprintf(res->detail + used, sizeof(res->detail) - used, "%s%s", used ? "; " : "", hint);
}

/* Uses up the mark of a one-time token that passed every other check
 * (docs/DESIGN.md §8.6): the store's commands share one deadline, timeout. */
static enum pk_outcome pk_auth_use_mark(struct pk_auth *a, time_t now, struct pk_result *res)
{
    char problem[PK_DETAIL_MAX];
    char hex[9];
    long long deadline_ms = pk_redis_now_ms() + a->cfg.timeout * 1000LL;
    enum pk_status st = pk_one_time_use(&a->cfg, a->uid, a->redis_password, &res->mark,
                                        (long long)now, deadline_ms, problem, sizeof(problem));

    switch (st) {
    case PK_ST_OK:
        return PK_OK;
    case PK_ST_REFUSED:
        for (size_t i = 0; i < 4; i++)
            (void)snprintf(hex + 2 * i, 3, "%02x", res->mark.digest[i]);
        return pk_result_set(res, PK_TOKEN_USED, "mark=%s", hex);
    case PK_ST_NOMEM:
        return pk_result_set(res, PK_NO_MEMORY, "one-time store");
    case PK_ST_MISSING:
    case PK_ST_UNAVAILABLE:
        break;
    }
    return pk_result_set(res, PK_STORE_UNAVAILABLE, "%s", problem);
}

/* The token alone: who it names, not whether the map lets them in. */
static enum pk_outcome pk_auth_validate(struct pk_auth *a, const char *raw, time_t now,
                                        bool first_pass, struct pk_result *res)
{
    struct pk_validator v = {
        .cfg = &a->cfg,
        .keys = &a->keys,
        .log = a->log,
        .now = now,
        .uid = a->uid,
        .first_pass = first_pass,
    };
    enum pk_outcome out;

    memset(res, 0, sizeof(*res));
    (void)ERR_set_mark(); /* see pk_auth_prepare */
    out = pk_validate_token(&v, raw, res);
    (void)ERR_pop_to_mark();
    if (pk_outcome_cut_hint(out))
        pk_auth_add_hint(raw, res);
    return out;
}

static enum pk_outcome pk_auth_judge(struct pk_auth *a, const char *raw, time_t now,
                                     bool first_pass, struct pk_result *res)
{
    enum pk_outcome out = pk_auth_validate(a, raw, now, first_pass, res);

    if (out == PK_OK && !pk_id_list_contains(&a->ids, res->kakao_id))
        out = pk_result_set(res, PK_NOT_MAPPED, "kakao_id=%lld", (long long)res->kakao_id);
    /* Last: only a login that would otherwise succeed uses the mark up. */
    if (out == PK_OK && a->cfg.one_time && (res->kind & (PK_KIND_JWT | PK_KIND_ID_TOKEN)) != 0) {
        if (!res->mark.set) /* every JWT kind sets it with one_time: fail closed */
            out = pk_result_set(res, PK_CONFIG_ERROR, "one-time token without a mark");
        else if (!a->keep_marks)
            out = pk_auth_use_mark(a, now, res);
    }
    return out;
}

enum pk_outcome pk_auth_decide(struct pk_auth *a, const char *raw, time_t now,
                               struct pk_result *res)
{
    return pk_auth_judge(a, raw, now, false, res);
}

enum pk_outcome pk_auth_identify(struct pk_auth *a, const char *raw, time_t now,
                                 struct pk_result *res)
{
    return pk_auth_validate(a, raw, now, false, res);
}

enum pk_outcome pk_auth_decide_first_pass(struct pk_auth *a, const char *authtok, time_t now,
                                          struct pk_result *res)
{
    return pk_auth_judge(a, authtok, now, true, res);
}

enum pk_outcome pk_auth_relay_open(struct pk_auth *a, const char *user, const char *service,
                                   const char *rhost, struct pk_relay_session *s,
                                   struct pk_result *res)
{
    enum pk_outcome out;

    memset(res, 0, sizeof(*res));
    res->kind = PK_KIND_RELAY;
    if (gethostname(a->host, sizeof(a->host)) != 0 || a->host[0] == '\0') {
        memset(s, 0, sizeof(*s));
        return pk_result_set(res, PK_RELAY_UNAVAILABLE, "cannot read the host name");
    }
    a->host[sizeof(a->host) - 1] = '\0';
    (void)ERR_set_mark(); /* see pk_auth_prepare */
    out = pk_relay_open(&a->cfg, &a->relay_budget, user, service, a->host,
                        rhost != NULL ? rhost : "", s, res);
    (void)ERR_pop_to_mark();
    return out;
}

enum pk_outcome pk_auth_relay_identify(struct pk_auth *a, const struct pk_relay_session *s,
                                       const char *code, time_t now, long *attempts_left,
                                       struct pk_result *res)
{
    struct pk_relay_expect want = {
        .issuer = a->cfg.relay_url,
        .host = a->host,
        .nonce = s->session,
        .nonce_len = strlen(s->session),
        .now = now,
        .leeway = a->cfg.leeway,
        .max_token_age = a->cfg.max_token_age,
    };
    char *assertion = NULL;
    enum pk_outcome out;

    memset(res, 0, sizeof(*res));
    (void)ERR_set_mark();
    out = pk_relay_redeem(&a->cfg, &a->relay_budget, s, code, &assertion, attempts_left, res);
    if (out == PK_OK)
        out = pk_relay_assertion_check(&want, a->keys.relay_key, assertion, res);
    (void)ERR_pop_to_mark();
    pk_free_secret_str(assertion);
    res->kind = PK_KIND_RELAY;
    return out;
}

enum pk_outcome pk_auth_relay_redeem(struct pk_auth *a, const struct pk_relay_session *s,
                                     const char *code, time_t now, long *attempts_left,
                                     struct pk_result *res)
{
    enum pk_outcome out = pk_auth_relay_identify(a, s, code, now, attempts_left, res);

    if (out == PK_OK && !pk_id_list_contains(&a->ids, res->kakao_id))
        out = pk_result_set(res, PK_NOT_MAPPED, "kakao_id=%lld", (long long)res->kakao_id);
    return out;
}

void pk_auth_free(struct pk_auth *a)
{
    pk_free_secret_str(a->redis_password);
    pk_kinds_free(&a->keys);
    pk_id_list_free(&a->ids);
    if (a->cfg_loaded)
        pk_config_free(&a->cfg);
    memset(a, 0, sizeof(*a));
}
