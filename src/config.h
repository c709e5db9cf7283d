/* Module arguments and the key = value config file, parsed into one struct.
 * Arguments override the file; every error names the key (and file:line). */
#ifndef PK_CONFIG_H
#define PK_CONFIG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "alg.h"
#include "status.h"

#define PK_DEFAULT_CONFIG "/etc/security/pam_kakao.conf"
#define PK_DEFAULT_USER_MAP "/etc/security/pam_kakao.users"
#define PK_DEFAULT_PROMPT "Kakao token: "
#define PK_DEFAULT_API_URL "https://kapi.kakao.com"
#define PK_DEFAULT_ID_ISSUER "https://kauth.kakao.com"
#define PK_DEFAULT_ID_CLAIM "kakao_id"
#define PK_DEFAULT_CACHE_DIR "/run/pam_kakao"
#define PK_DEFAULT_RELAY_PROMPT "Approve this login at %u with Kakao, then enter the code: "

enum pk_email_rule { PK_EMAIL_NO = 0, PK_EMAIL_YES, PK_EMAIL_VERIFIED };

/* The words of require_email ("no", "yes", "verified"), in the config and
 * in the Kakao check cache: NULL for a value out of range. */
const char *pk_email_rule_name(enum pk_email_rule rule);
/* The rule spelt exactly; false for any other word. */
bool pk_email_rule_from_name(const char *name, enum pk_email_rule *rule);

/* The range of `timeout`, in seconds: one Kakao check or JWKS fetch. */
#define PK_TIMEOUT_MIN 1
#define PK_TIMEOUT_MAX 60

enum pk_authtok_mode { PK_AUTHTOK_PROMPT = 0, PK_AUTHTOK_USE_FIRST, PK_AUTHTOK_TRY_FIRST };

struct pk_config {
    /* Pointers and 64-bit values first, then the 4-byte enums, then the
     * flags: the order clang-analyzer's padding check asks for. */
    char *config_path;
    char *user_map;
    char *prompt;
    int64_t kakao_app_id;
    char *kakao_api_url;
    char *ca_file;
    long timeout;
    char *jwt_key;
    char *jwt_issuer;
    char *jwt_audience;
    char *jwt_id_claim;
    long leeway;
    long max_token_age;
    char *proxy;
    char *kakao_rest_api_key;
    char *id_token_issuer;
    char *jwks_file;
    char *jwks_url;
    long jwks_max_age;
    long cache_ttl;
    char *cache_dir;
    char *relay_url;           /* https:// base, no trailing slash: also the assertions' iss */
    char *relay_key;           /* PEM EC P-256 public key of the relay */
    char *relay_prompt;        /* %u the session's URL, %% a percent sign */
    char *store;               /* one-time marks: "local", redis://HOST:PORT[/DB] or unix:PATH */
    char *redis_password_file; /* AUTH password for a Redis store (key-file trust rules) */

    enum pk_authtok_mode authtok;
    unsigned accept; /* enum pk_kind bits; 0 = every configured kind */
    enum pk_email_rule require_email;
    enum pk_alg jwt_alg;

    bool config_explicit;
    bool nodelay; /* module argument only: see pk_config_args_nodelay */
    bool has_app_id;
    bool debug;
    bool prompt_unmapped;
    bool relay_qr;
    bool one_time; /* app JWTs and ID tokens are accepted once (docs/DESIGN.md §8.6) */
};

#define PK_STORE_LOCAL "local"

/* Whether store names Redis (anything but "local"). */
bool pk_config_store_is_redis(const struct pk_config *cfg);

/* Reports one problem: where is "file:line", "argument" or "config". */
typedef void (*pk_config_report)(void *ctx, const char *where, const char *problem);

/* Parses module arguments and the config file they name (or the default),
 * trusted as owned by root or uid (docs/DESIGN.md §6). With keep_going,
 * every problem is reported (for `kakao-pam check`); otherwise parsing
 * stops at the first. PK_ST_OK; PK_ST_REFUSED on any problem (each one
 * reported; cfg is then freed); PK_ST_NOMEM. */
enum pk_status pk_config_load(struct pk_config *cfg, int argc, const char **argv,
                              const char *default_path, uid_t uid, bool keep_going,
                              pk_config_report report, void *ctx);

/* For `kakao-pam check` only, never the module: every problem is reported
 * as with keep_going, a config file that breaks a trust rule is still read
 * (the broken rule is one of the problems), and cfg keeps what parsed even
 * when PK_ST_REFUSED is returned, so the files it names can be checked too;
 * a path key whose value was bad is NULL (its file is unknown). The caller
 * frees cfg unless PK_ST_NOMEM is returned. */
enum pk_status pk_config_load_check(struct pk_config *cfg, int argc, const char **argv, uid_t uid,
                                    pk_config_report report, void *ctx);

/* Whether the value of KEY (key[0..len)) is a file path: config and every
 * path key of the table. The CLI resolves relative ones; the module never
 * does. */
bool pk_config_key_is_path(const char *key, size_t len);

/* Whether the module arguments ask for no failure delay. The glue asks
 * libpam for the delay before the config is read, so that every failure,
 * a broken config included, is delayed: `nodelay` is an argument, never a
 * config file key. */
bool pk_config_args_nodelay(int argc, const char **argv);

/* One key = value line for a caller with its own key table (the relay):
 * key and value trimmed, one pair of double quotes stripped (quoted says
 * so). PK_ST_NOMEM stops the reading; anything else goes on (fn reports
 * its own problems). */
typedef enum pk_status (*pk_config_line_fn)(void *ctx, const char *where, const char *key,
                                            const char *value, bool quoted);

/* Reads path with the syntax and the trust rules of the module's config
 * file (owned by root or uid) and hands each line to fn; problems of the
 * file and of its syntax go to report (the keys are fn's business).
 * PK_ST_OK when the file was read, PK_ST_REFUSED when it was refused or
 * unreadable (reported), PK_ST_NOMEM. */
enum pk_status pk_config_read_file(const char *path, uid_t uid, pk_config_line_fn fn, void *ctx,
                                   pk_config_report report, void *rctx);

/* The value rules a caller with its own key table (the relay) shares with
 * the module's config file. */

/* printf into a problem for report (nothing when report is NULL); the text
 * is cut at 511 bytes. */
void pk_config_vreport(pk_config_report report, void *ctx, const char *where, const char *fmt,
                       va_list ap) __attribute__((format(printf, 4, 0)));

/* Every byte printable ASCII (0x20-0x7e). */
bool pk_config_printable(const char *s);

/* What is wrong with a value as text, whatever its key: "control or
 * non-ASCII bytes", "too long" (over 1024 bytes) or, unless may_be_empty,
 * "empty value"; NULL when nothing is. */
const char *pk_config_text_problem(const char *text, bool may_be_empty);

/* A decimal number (digits only, no sign) within [min, max] into *out. */
bool pk_config_parse_long(const char *s, long min, long max, long *out);

/* s starts with scheme ("https://") followed by a host (not empty, not a
 * slash) and holds none of the bytes in refused. */
bool pk_config_url_ok(const char *s, const char *scheme, const char *refused);

/* Kinds that are both configured and accepted (enum pk_kind bits). */
unsigned pk_config_kinds(const struct pk_config *cfg);

void pk_config_free(struct pk_config *cfg);

#endif
