/* `kakao-pam check`'s side of the kinds table: kept apart so that
 * pam_kakao.so does not carry it (docs/DESIGN.md §3.4, §4.5). */
#include "kinds_check.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "jwks.h"
#include "keys.h"
#include "relay_kind.h"
#include "secure.h"

/* One line to check's problem or ok callback. */
static void pk_kind_say(void (*sink)(void *ctx, const char *msg), void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void pk_kind_say(void (*sink)(void *ctx, const char *msg), void *ctx, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        msg[0] = '\0';
    va_end(ap);
    sink(ctx, msg);
}

/* Reads path with check's reader (past a broken trust rule, which is
 * reported): PK_ST_OK with *data, *len and *clean (no rule broken);
 * PK_ST_NOMEM; anything else is a problem reported already. */
static enum pk_status pk_check_file(const struct pk_kind_check *check, const char *path,
                                    enum pk_file_kind kind, uid_t uid, char **data, size_t *len,
                                    bool *clean)
{
    char problem[512], trust[512];
    enum pk_status st =
        check->read(path, kind, uid, data, len, trust, sizeof(trust), problem, sizeof(problem));

    if (st != PK_ST_OK) {
        if (st != PK_ST_NOMEM)
            pk_kind_say(check->problem, check->ctx, "%s", problem);
        return st;
    }
    *clean = trust[0] == '\0';
    if (!*clean)
        pk_kind_say(check->problem, check->ctx, "%s", trust);
    return PK_ST_OK;
}

/* ---- kakao ---- */

static void pk_kakao_summary(const struct pk_config *cfg, char *buf, size_t len)
{
    (void)snprintf(buf, len, "kakao_app_id=%lld, %s", (long long)cfg->kakao_app_id,
                   cfg->kakao_api_url);
}

/* ---- jwt ---- */

/* The key file, read past a broken trust rule; without jwt_alg (a config
 * problem already) only the file itself can be judged. */
static enum pk_outcome pk_app_jwt_check_key(const struct pk_config *cfg, uid_t uid,
                                            const struct pk_kind_check *check,
                                            struct pk_result *res)
{
    char problem[512];
    struct pk_jwt_key key;
    char *data;
    size_t len;
    bool clean;
    enum pk_status st;

    if (cfg->jwt_key == NULL)
        return PK_OK;
    st = pk_check_file(check, cfg->jwt_key, PK_FILE_KEY, uid, &data, &len, &clean);
    if (st == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "loading jwt_key");
    if (st != PK_ST_OK)
        return PK_OK;
    if (cfg->jwt_alg == PK_ALG_NONE) {
        pk_free_secret(data, len);
        return PK_OK;
    }
    memset(&key, 0, sizeof(key));
    st = pk_jwt_key_parse(cfg->jwt_key, data, len, cfg->jwt_alg, &key, problem, sizeof(problem));
    if (st == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "loading jwt_key");
    if (st != PK_ST_OK) {
        pk_kind_say(check->problem, check->ctx, "%s", problem);
        return PK_OK;
    }
    pk_jwt_key_free(&key);
    if (clean)
        pk_kind_say(check->ok, check->ctx, "jwt_key %s (%s)", cfg->jwt_key,
                    pk_alg_name(cfg->jwt_alg));
    return PK_OK;
}

/* ---- id_token ---- */

/* A JWKS problem the parser logs (a skipped key, an ambiguous kid). */
static void pk_id_token_check_emit(void *ctx, int priority, const char *msg)
{
    const struct pk_kind_check *check = ctx;

    if (priority <= LOG_WARNING)
        check->problem(check->ctx, msg);
}

/* jwks_file trusted like a config file, then read by the module's JWKS
 * parser: every key it would skip is a problem. A jwks_url is never fetched
 * here. */
static enum pk_outcome pk_id_token_check_file(const struct pk_config *cfg, uid_t uid,
                                              const struct pk_kind_check *check,
                                              struct pk_result *res)
{
    const char *path = cfg->jwks_file;
    struct pk_logger log = {pk_id_token_check_emit, (void *)check, false};
    struct pk_jwks set;
    char problem[512];
    char *data;
    size_t len;
    bool clean;
    enum pk_status st;

    if (path == NULL)
        return PK_OK;
    st = pk_check_file(check, path, PK_FILE_CONFIG, uid, &data, &len, &clean);
    if (st == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "loading the JWKS");
    if (st != PK_ST_OK)
        return PK_OK;
    memset(&set, 0, sizeof(set));
    st = pk_jwks_parse(data, len, path, &log, &set, problem, sizeof(problem));
    pk_free_secret(data, len);
    if (st == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "loading the JWKS");
    if (st != PK_ST_OK)
        pk_kind_say(check->problem, check->ctx, "%s: %s", path, problem);
    else if (set.count == 0)
        pk_kind_say(check->problem, check->ctx, "%s: no usable key (RSA, at least 2048 bits)",
                    path);
    else if (clean)
        pk_kind_say(check->ok, check->ctx, "jwks_file %s (%zu usable key%s)", path, set.count,
                    set.count == 1 ? "" : "s");
    pk_jwks_free(&set);
    return PK_OK;
}

/* ---- relay ---- */

/* relay_key read past a broken trust rule (config-file rules: it may be
 * world-readable), parsed as the module parses it: EC P-256 public key. */
static enum pk_outcome pk_relay_check_key(const struct pk_config *cfg, uid_t uid,
                                          const struct pk_kind_check *check, struct pk_result *res)
{
    char problem[256];
    EVP_PKEY *key = NULL;
    char *data;
    size_t len;
    bool clean;
    enum pk_status st;

    if (cfg->relay_key == NULL)
        return PK_OK;
    st = pk_check_file(check, cfg->relay_key, PK_FILE_CONFIG, uid, &data, &len, &clean);
    if (st == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "loading relay_key");
    if (st != PK_ST_OK)
        return PK_OK;
    st = pk_relay_key_parse(data, len, &key, problem, sizeof(problem));
    pk_free_secret(data, len + 1);
    if (st == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "loading relay_key");
    if (st != PK_ST_OK) {
        pk_kind_say(check->problem, check->ctx, "relay_key %s %s", cfg->relay_key, problem);
        return PK_OK;
    }
    pk_relay_key_free(key);
    if (clean)
        pk_kind_say(check->ok, check->ctx, "relay_key %s (EC P-256)", cfg->relay_key);
    return PK_OK;
}

static void pk_relay_summary(const struct pk_config *cfg, char *buf, size_t len)
{
    (void)snprintf(buf, len, "%s", cfg->relay_url != NULL ? cfg->relay_url : "");
}

/* ---- the table ---- */

const struct pk_kind_check_ops pk_kind_checks[] = {
    {.bit = PK_KIND_KAKAO, .summary = pk_kakao_summary},
    {.bit = PK_KIND_JWT, .files = pk_app_jwt_check_key},
    {.bit = PK_KIND_ID_TOKEN, .files = pk_id_token_check_file},
    {.bit = PK_KIND_RELAY, .files = pk_relay_check_key, .summary = pk_relay_summary},
};

const size_t pk_kind_check_count = sizeof(pk_kind_checks) / sizeof(pk_kind_checks[0]);

/* The CA bundle under the module's rules (PK_FILE_CA), read past a broken
 * trust rule, and its certificates counted. */
static enum pk_outcome pk_check_ca_file(const struct pk_config *cfg, uid_t uid,
                                        const struct pk_kind_check *check, struct pk_result *res)
{
    const char *path = cfg->ca_file;
    char problem[512], trust[512];
    unsigned long certs = 0;
    enum pk_status st;
    X509 *x;
    FILE *fp;
    int fd;

    st = check->open(path, PK_FILE_CA, uid, &fd, trust, sizeof(trust), problem, sizeof(problem));
    if (st == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "checking ca_file");
    if (st != PK_ST_OK) {
        pk_kind_say(check->problem, check->ctx, "%s", problem);
        return PK_OK;
    }
    if (trust[0] != '\0')
        pk_kind_say(check->problem, check->ctx, "%s", trust);
    fp = fdopen(fd, "re");
    if (fp == NULL) {
        pk_kind_say(check->problem, check->ctx, "%s: fdopen: %s", path, strerror(errno));
        (void)close(fd);
        return PK_OK;
    }
    while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
        certs++;
        X509_free(x);
    }
    ERR_clear_error();
    (void)fclose(fp);
    if (certs == 0)
        pk_kind_say(check->problem, check->ctx, "%s: no PEM certificate in the CA bundle", path);
    else if (trust[0] == '\0')
        pk_kind_say(check->ok, check->ctx, "ca_file %s (%lu certificate%s)", path, certs,
                    certs == 1 ? "" : "s");
    return PK_OK;
}

enum pk_outcome pk_kinds_check(const struct pk_config *cfg, uid_t uid,
                               const struct pk_kind_check *check, struct pk_result *res)
{
    enum pk_outcome out;

    if (cfg->ca_file != NULL) {
        out = pk_check_ca_file(cfg, uid, check, res);
        if (out != PK_OK)
            return out;
    }
    for (size_t i = 0; i < pk_kind_check_count; i++) {
        if (pk_kind_checks[i].files == NULL)
            continue;
        out = pk_kind_checks[i].files(cfg, uid, check, res);
        if (out != PK_OK)
            return out;
    }
    return PK_OK;
}

bool pk_kind_summary(enum pk_kind bit, const struct pk_config *cfg, char *buf, size_t len)
{
    for (size_t i = 0; i < pk_kind_check_count; i++) {
        if (pk_kind_checks[i].bit != bit || pk_kind_checks[i].summary == NULL)
            continue;
        pk_kind_checks[i].summary(cfg, buf, len);
        return true;
    }
    return false;
}
