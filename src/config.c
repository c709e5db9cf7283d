#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "redis.h"
#include "safe_file.h"
#include "secure.h"
#include "kinds.h"

enum pk_value_type {
    PK_T_PATH,   /* absolute path */
    PK_T_TEXT,   /* printable text, may be empty only when quoted */
    PK_T_URL,    /* https:// URL */
    PK_T_PROXY,  /* http:// or https:// URL */
    PK_T_LONG,   /* integer within [min, max] */
    PK_T_APP_ID, /* positive int64 */
    PK_T_BOOL,
    PK_T_EMAIL,
    PK_T_ALG,
    PK_T_ACCEPT,
    PK_T_CLAIM,
    PK_T_BASE_URL, /* https:// URL without a trailing slash */
    PK_T_PROMPT,   /* text whose % is only %u or %% */
    PK_T_STORE,    /* "local", redis://HOST:PORT[/DB] or unix:PATH */
};

struct pk_key_def {
    const char *name;
    enum pk_value_type type;
    size_t offset;
    long min;
    long max;
    const char *dflt; /* the default, as it would be written; NULL = unset */
};

#define PK_FIELD(f) offsetof(struct pk_config, f)

static const struct pk_key_def pk_keys[] = {
    {"user_map", PK_T_PATH, PK_FIELD(user_map), 0, 0, PK_DEFAULT_USER_MAP},
    {"accept", PK_T_ACCEPT, PK_FIELD(accept), 0, 0, NULL},
    {"prompt", PK_T_TEXT, PK_FIELD(prompt), 0, 0, PK_DEFAULT_PROMPT},
    {"kakao_app_id", PK_T_APP_ID, PK_FIELD(kakao_app_id), 0, 0, NULL},
    {"kakao_api_url", PK_T_URL, PK_FIELD(kakao_api_url), 0, 0, PK_DEFAULT_API_URL},
    {"ca_file", PK_T_PATH, PK_FIELD(ca_file), 0, 0, NULL},
    {"timeout", PK_T_LONG, PK_FIELD(timeout), PK_TIMEOUT_MIN, PK_TIMEOUT_MAX, "5"},
    {"require_email", PK_T_EMAIL, PK_FIELD(require_email), 0, 0, NULL},
    {"jwt_key", PK_T_PATH, PK_FIELD(jwt_key), 0, 0, NULL},
    {"jwt_alg", PK_T_ALG, PK_FIELD(jwt_alg), 0, 0, NULL},
    {"jwt_issuer", PK_T_TEXT, PK_FIELD(jwt_issuer), 0, 0, NULL},
    {"jwt_audience", PK_T_TEXT, PK_FIELD(jwt_audience), 0, 0, NULL},
    {"jwt_id_claim", PK_T_CLAIM, PK_FIELD(jwt_id_claim), 0, 0, PK_DEFAULT_ID_CLAIM},
    {"leeway", PK_T_LONG, PK_FIELD(leeway), 0, 600, "60"},
    {"max_token_age", PK_T_LONG, PK_FIELD(max_token_age), 0, 31536000, NULL},
    {"debug", PK_T_BOOL, PK_FIELD(debug), 0, 0, NULL},
    {"proxy", PK_T_PROXY, PK_FIELD(proxy), 0, 0, NULL},
    {"kakao_rest_api_key", PK_T_TEXT, PK_FIELD(kakao_rest_api_key), 0, 0, NULL},
    {"id_token_issuer", PK_T_TEXT, PK_FIELD(id_token_issuer), 0, 0, PK_DEFAULT_ID_ISSUER},
    {"jwks_file", PK_T_PATH, PK_FIELD(jwks_file), 0, 0, NULL},
    {"jwks_url", PK_T_URL, PK_FIELD(jwks_url), 0, 0, NULL},
    {"jwks_max_age", PK_T_LONG, PK_FIELD(jwks_max_age), 60, 2592000, "86400"},
    {"cache_ttl", PK_T_LONG, PK_FIELD(cache_ttl), 0, 86400, NULL},
    {"cache_dir", PK_T_PATH, PK_FIELD(cache_dir), 0, 0, PK_DEFAULT_CACHE_DIR},
    {"prompt_unmapped", PK_T_BOOL, PK_FIELD(prompt_unmapped), 0, 0, NULL},
    {"relay_url", PK_T_BASE_URL, PK_FIELD(relay_url), 0, 0, NULL},
    {"relay_key", PK_T_PATH, PK_FIELD(relay_key), 0, 0, NULL},
    {"relay_prompt", PK_T_PROMPT, PK_FIELD(relay_prompt), 0, 0, PK_DEFAULT_RELAY_PROMPT},
    {"relay_qr", PK_T_BOOL, PK_FIELD(relay_qr), 0, 0, NULL},
    {"one_time", PK_T_BOOL, PK_FIELD(one_time), 0, 0, NULL},
    {"store", PK_T_STORE, PK_FIELD(store), 0, 0, PK_STORE_LOCAL},
    {"redis_password_file", PK_T_PATH, PK_FIELD(redis_password_file), 0, 0, NULL},
};

#define PK_KEY_COUNT (sizeof(pk_keys) / sizeof(pk_keys[0]))

#define PK_TEXT_MAX 1024

struct pk_parse {
    struct pk_config *cfg;
    bool set_by_arg[PK_KEY_COUNT];
    bool set_in_file[PK_KEY_COUNT];
    bool keep_going;
    bool check; /* kakao-pam check: see pk_config_load_check */
    bool failed;
    pk_config_report report;
    void *ctx;
};

/* A parsed value before it is stored: strings are owned here. */
struct pk_value {
    char *str;
    long num;
    int64_t i64;
    unsigned bits;
    int choice;
    char why[128]; /* a problem text built from a table */
};

static const char *const pk_email_names[] = {
    [PK_EMAIL_NO] = "no",
    [PK_EMAIL_YES] = "yes",
    [PK_EMAIL_VERIFIED] = "verified",
};

const char *pk_email_rule_name(enum pk_email_rule rule)
{
    if ((unsigned)rule >= sizeof(pk_email_names) / sizeof(pk_email_names[0]))
        return NULL;
    return pk_email_names[rule];
}

bool pk_email_rule_from_name(const char *name, enum pk_email_rule *rule)
{
    for (size_t i = 0; i < sizeof(pk_email_names) / sizeof(pk_email_names[0]); i++) {
        if (strcmp(name, pk_email_names[i]) == 0) {
            *rule = (enum pk_email_rule)i;
            return true;
        }
    }
    return false;
}

static void pk_problem(struct pk_parse *p, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void pk_config_vreport(pk_config_report report, void *ctx, const char *where, const char *fmt,
                       va_list ap)
{
    char msg[512];

    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        msg[0] = '\0';
    if (report != NULL)
        report(ctx, where, msg);
}

static void pk_problem(struct pk_parse *p, const char *where, const char *fmt, ...)
{
    va_list ap;

    p->failed = true;
    va_start(ap, fmt);
    pk_config_vreport(p->report, p->ctx, where, fmt, ap);
    va_end(ap);
}

bool pk_config_printable(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

const char *pk_config_text_problem(const char *text, bool may_be_empty)
{
    if (!pk_config_printable(text))
        return "control or non-ASCII bytes";
    if (strlen(text) > PK_TEXT_MAX)
        return "too long";
    if (text[0] == '\0' && !may_be_empty)
        return "empty value";
    return NULL;
}

bool pk_config_parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (*s == '\0' || !isdigit((unsigned char)*s))
        return false;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool pk_parse_app_id(const char *s, int64_t *out)
{
    char *end;
    long long v;

    if (*s == '\0' || *s == '0' || strlen(s) > 19)
        return false;
    for (const char *c = s; *c != '\0'; c++)
        if (!isdigit((unsigned char)*c))
            return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v <= 0)
        return false;
    *out = (int64_t)v;
    return true;
}

static bool pk_parse_accept(const char *s, unsigned *bits)
{
    const char *p = s;

    *bits = 0;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        const struct pk_kind_ops *kind;
        unsigned bit;

        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        kind = pk_kind_by_name(p, n);
        if (kind == NULL)
            return false;
        bit = (unsigned)kind->bit;
        if ((*bits & bit) != 0)
            return false;
        *bits |= bit;
        if (comma == NULL)
            return true;
        p = comma + 1;
    }
}

/* "must be a comma list of kakao, jwt, id_token", from the kinds table. */
static const char *pk_accept_words(char *buf, size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "must be a comma list of");

    for (size_t i = 0; i < pk_kind_count && used < len; i++)
        used +=
            (size_t)snprintf(buf + used, len - used, "%s %s", i > 0 ? "," : "", pk_kinds[i].name);
    return buf;
}

bool pk_config_url_ok(const char *s, const char *scheme, const char *refused)
{
    size_t n = strlen(scheme);

    return strncmp(s, scheme, n) == 0 && s[n] != '\0' && s[n] != '/' && strpbrk(s, refused) == NULL;
}

/* The module's URLs: no space. */
static bool pk_url_has_scheme(const char *s, const char *scheme)
{
    return pk_config_url_ok(s, scheme, " ");
}

/* A prompt with %u (the URL) and %% only: anything else after a percent
 * sign is a mistake in the config, not something to guess at. */
static bool pk_prompt_ok(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s != '%')
            continue;
        if (s[1] != 'u' && s[1] != '%')
            return false;
        s++;
    }
    return true;
}

/* Checks and converts text for key def; *why says what is wrong. */
static enum pk_status pk_convert(const struct pk_key_def *def, const char *text, bool quoted,
                                 struct pk_value *val, const char **why)
{
    memset(val, 0, sizeof(*val));
    *why = pk_config_text_problem(text, quoted && def->type == PK_T_TEXT);
    if (*why != NULL)
        return PK_ST_REFUSED;
    switch (def->type) {
    case PK_T_PATH:
        if (text[0] != '/') {
            *why = "must be an absolute path";
            return PK_ST_REFUSED;
        }
        break;
    case PK_T_TEXT:
        break;
    case PK_T_PROMPT:
        if (!pk_prompt_ok(text)) {
            *why = "a percent sign must be followed by u (the URL) or % (a percent sign)";
            return PK_ST_REFUSED;
        }
        break;
    case PK_T_BASE_URL:
        if (!pk_url_has_scheme(text, "https://") || text[strlen(text) - 1] == '/') {
            *why = "must be an https:// URL without a trailing slash";
            return PK_ST_REFUSED;
        }
        break;
    case PK_T_URL:
        if (!pk_url_has_scheme(text, "https://")) {
            *why = "must be an https:// URL";
            return PK_ST_REFUSED;
        }
        break;
    case PK_T_PROXY:
        if (!pk_url_has_scheme(text, "http://") && !pk_url_has_scheme(text, "https://")) {
            *why = "must be an http:// or https:// proxy URL";
            return PK_ST_REFUSED;
        }
        break;
    case PK_T_LONG:
        if (!pk_config_parse_long(text, def->min, def->max, &val->num)) {
            *why = "not a whole number in range";
            return PK_ST_REFUSED;
        }
        return PK_ST_OK;
    case PK_T_APP_ID:
        if (!pk_parse_app_id(text, &val->i64)) {
            *why = "not a positive decimal number";
            return PK_ST_REFUSED;
        }
        return PK_ST_OK;
    case PK_T_BOOL:
        if (strcmp(text, "yes") == 0 || strcmp(text, "true") == 0)
            val->choice = 1;
        else if (strcmp(text, "no") == 0 || strcmp(text, "false") == 0)
            val->choice = 0;
        else {
            *why = "must be yes or no";
            return PK_ST_REFUSED;
        }
        return PK_ST_OK;
    case PK_T_EMAIL: {
        enum pk_email_rule rule;
        if (!pk_email_rule_from_name(text, &rule)) {
            *why = "must be no, yes or verified";
            return PK_ST_REFUSED;
        }
        val->choice = (int)rule;
        return PK_ST_OK;
    }
    case PK_T_ALG:
        val->choice = (int)pk_alg_from_name(text);
        if (val->choice == PK_ALG_NONE) {
            *why = "must be one of HS256 HS384 HS512 RS256 RS384 RS512 ES256 ES384 ES512";
            return PK_ST_REFUSED;
        }
        return PK_ST_OK;
    case PK_T_ACCEPT:
        if (!pk_parse_accept(text, &val->bits)) {
            *why = pk_accept_words(val->why, sizeof(val->why));
            return PK_ST_REFUSED;
        }
        return PK_ST_OK;
    case PK_T_CLAIM:
        if (strlen(text) > 64) {
            *why = "claim name too long";
            return PK_ST_REFUSED;
        }
        break;
    case PK_T_STORE:
        if (strcmp(text, PK_STORE_LOCAL) != 0) {
            struct pk_redis_target target;
            char problem[96];

            if (pk_redis_target_parse(text, &target, problem, sizeof(problem)) != PK_ST_OK) {
                (void)snprintf(val->why, sizeof(val->why), "must be local, or %s", problem);
                *why = val->why;
                return PK_ST_REFUSED;
            }
        }
        break;
    }
    val->str = strdup(text);
    if (val->str == NULL)
        return PK_ST_NOMEM;
    return PK_ST_OK;
}

/* Whether a value of this type is a string the config owns. */
static bool pk_type_is_string(enum pk_value_type type)
{
    return type == PK_T_PATH || type == PK_T_TEXT || type == PK_T_URL || type == PK_T_PROXY ||
           type == PK_T_CLAIM || type == PK_T_BASE_URL || type == PK_T_PROMPT || type == PK_T_STORE;
}

static void pk_store(struct pk_config *cfg, const struct pk_key_def *def, struct pk_value *val)
{
    void *slot = (char *)cfg + def->offset;

    switch (def->type) {
    case PK_T_PATH:
    case PK_T_TEXT:
    case PK_T_URL:
    case PK_T_PROXY:
    case PK_T_CLAIM:
    case PK_T_BASE_URL:
    case PK_T_PROMPT:
    case PK_T_STORE:
        free(*(char **)slot);
        *(char **)slot = val->str;
        val->str = NULL;
        break;
    case PK_T_LONG:
        *(long *)slot = val->num;
        break;
    case PK_T_APP_ID:
        *(int64_t *)slot = val->i64;
        cfg->has_app_id = true;
        break;
    case PK_T_BOOL:
        *(bool *)slot = val->choice != 0;
        break;
    case PK_T_EMAIL:
        *(enum pk_email_rule *)slot = (enum pk_email_rule)val->choice;
        break;
    case PK_T_ALG:
        *(enum pk_alg *)slot = (enum pk_alg)val->choice;
        break;
    case PK_T_ACCEPT:
        *(unsigned *)slot = val->bits;
        break;
    }
}

static const struct pk_key_def *pk_find_key(const char *name, size_t len, size_t *index)
{
    for (size_t i = 0; i < PK_KEY_COUNT; i++) {
        if (strlen(pk_keys[i].name) == len && strncmp(pk_keys[i].name, name, len) == 0) {
            *index = i;
            return &pk_keys[i];
        }
    }
    return NULL;
}

/* Strips one pair of double quotes; a quote anywhere else is refused. */
static enum pk_status pk_unquote(char *value, bool *quoted)
{
    size_t n = strlen(value);

    *quoted = false;
    if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
        memmove(value, value + 1, n - 2);
        value[n - 2] = '\0';
        *quoted = true;
    }
    return strchr(value, '"') == NULL ? PK_ST_OK : PK_ST_REFUSED;
}

/* Applies key = value from `where`; from_file decides duplicate and override
 * rules. A bad value is reported, not returned: PK_ST_NOMEM or PK_ST_OK. */
static enum pk_status pk_apply(struct pk_parse *p, const char *where, const char *key,
                               size_t key_len, char *value, bool from_file)
{
    char shown[80];
    size_t idx;
    const struct pk_key_def *def;
    struct pk_value val;
    const char *why;
    bool quoted;
    enum pk_status st;

    {
        char tmp[64];
        size_t n = key_len < sizeof(tmp) - 1 ? key_len : sizeof(tmp) - 1;
        memcpy(tmp, key, n);
        tmp[n] = '\0';
        pk_log_field(shown, sizeof(shown), tmp);
    }
    def = pk_find_key(key, key_len, &idx);
    if (def == NULL) {
        pk_problem(p, where, "unknown key \"%s\"", shown);
        return PK_ST_OK;
    }
    if (from_file ? p->set_in_file[idx] : p->set_by_arg[idx]) {
        pk_problem(p, where, "key \"%s\" given twice", def->name);
        return PK_ST_OK;
    }
    if (from_file)
        p->set_in_file[idx] = true;
    else
        p->set_by_arg[idx] = true;
    if (pk_unquote(value, &quoted) != PK_ST_OK) {
        pk_problem(p, where, "bad value for \"%s\": stray double quote", def->name);
        return PK_ST_OK;
    }
    st = pk_convert(def, value, quoted, &val, &why);
    if (st == PK_ST_NOMEM)
        return PK_ST_NOMEM;
    if (st != PK_ST_OK) {
        pk_problem(p, where, "bad value for \"%s\": %s", def->name, why);
        /* A file named by a bad value is unknown: check must not go on to
         * the default instead. */
        if (p->check && def->type == PK_T_PATH && !(from_file && p->set_by_arg[idx])) {
            char **slot = (char **)(void *)((char *)p->cfg + def->offset);
            free(*slot);
            *slot = NULL;
        }
        return PK_ST_OK;
    }
    /* Arguments override the file: a file value is checked, then dropped. */
    if (from_file && p->set_by_arg[idx])
        free(val.str);
    else
        pk_store(p->cfg, def, &val);
    return PK_ST_OK;
}

static enum pk_status pk_parse_args(struct pk_parse *p, int argc, const char **argv)
{
    bool seen_config = false, seen_debug_flag = false, seen_use = false, seen_try = false;
    bool seen_nodelay = false;

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        char *value;

        /* Without keep_going, the first problem is the only one reported. */
        if (p->failed && !p->keep_going)
            return PK_ST_OK;
        if (strcmp(arg, "use_first_pass") == 0 || strcmp(arg, "try_first_pass") == 0) {
            bool *seen = arg[0] == 'u' ? &seen_use : &seen_try;
            if (*seen)
                pk_problem(p, "argument", "option \"%s\" given twice", arg);
            *seen = true;
            continue;
        }
        if (strcmp(arg, "nodelay") == 0) {
            if (seen_nodelay)
                pk_problem(p, "argument", "option \"nodelay\" given twice");
            seen_nodelay = true;
            p->cfg->nodelay = true;
            continue;
        }
        if (strcmp(arg, "debug") == 0) {
            size_t idx = 0;
            (void)pk_find_key("debug", 5, &idx);
            if (seen_debug_flag || p->set_by_arg[idx])
                pk_problem(p, "argument", "option \"debug\" given twice");
            seen_debug_flag = true;
            p->set_by_arg[idx] = true;
            p->cfg->debug = true;
            continue;
        }
        if (eq == NULL) {
            char shown[80];
            pk_log_field(shown, sizeof(shown), arg);
            pk_problem(p, "argument", "unknown option \"%s\"", shown);
            continue;
        }
        if ((size_t)(eq - arg) == 6 && strncmp(arg, "config", 6) == 0) {
            char *path;
            if (seen_config) {
                pk_problem(p, "argument", "option \"config\" given twice");
                continue;
            }
            seen_config = true;
            if (eq[1] != '/' || !pk_config_printable(eq + 1)) {
                pk_problem(p, "argument", "bad value for \"config\": must be an absolute path");
                continue;
            }
            path = strdup(eq + 1);
            if (path == NULL)
                return PK_ST_NOMEM;
            free(p->cfg->config_path);
            p->cfg->config_path = path;
            p->cfg->config_explicit = true;
            continue;
        }
        if (strncmp(arg, "debug=", 6) == 0 && seen_debug_flag) {
            pk_problem(p, "argument", "option \"debug\" given twice");
            continue;
        }
        value = strdup(eq + 1);
        if (value == NULL)
            return PK_ST_NOMEM;
        if (pk_apply(p, "argument", arg, (size_t)(eq - arg), value, false) != PK_ST_OK) {
            free(value);
            return PK_ST_NOMEM;
        }
        free(value);
    }
    if (p->failed && !p->keep_going)
        return PK_ST_OK;
    if (seen_use && seen_try)
        pk_problem(p, "argument", "use_first_pass and try_first_pass are exclusive");
    else if (seen_use)
        p->cfg->authtok = PK_AUTHTOK_USE_FIRST;
    else if (seen_try)
        p->cfg->authtok = PK_AUTHTOK_TRY_FIRST;
    return PK_ST_OK;
}

bool pk_config_args_nodelay(int argc, const char **argv)
{
    for (int i = 0; i < argc; i++)
        if (argv[i] != NULL && strcmp(argv[i], "nodelay") == 0)
            return true;
    return false;
}

static char *pk_trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* Calls fn for each key = value line of data (NUL-terminated, changed in
 * place), key and value trimmed; value is NULL for a line without '='.
 * fn returns PK_ST_OK to go on, PK_ST_REFUSED to stop (its problem already
 * reported), PK_ST_NOMEM to give up; so does pk_each_line, except that a
 * stop is PK_ST_OK (the caller keeps its own account of problems). */
typedef enum pk_status (*pk_line_fn)(void *ctx, const char *where, char *key, char *value);

static enum pk_status pk_each_line(char *data, const char *path, pk_line_fn fn, void *ctx)
{
    char *line = data;
    unsigned lineno = 0;

    while (line != NULL && *line != '\0') {
        char *next = strchr(line, '\n');
        char where[PATH_MAX + 32];
        char *s, *eq;
        enum pk_status st;

        if (next != NULL)
            *next++ = '\0';
        lineno++;
        (void)snprintf(where, sizeof(where), "%s:%u", path, lineno);
        s = pk_trim(line);
        line = next;
        if (*s == '\0' || *s == '#')
            continue;
        eq = strchr(s, '=');
        if (eq == NULL) {
            st = fn(ctx, where, s, NULL);
        } else {
            *eq = '\0';
            st = fn(ctx, where, pk_trim(s), pk_trim(eq + 1));
        }
        if (st == PK_ST_NOMEM)
            return st;
        if (st != PK_ST_OK)
            break;
    }
    return PK_ST_OK;
}

static enum pk_status pk_parse_line(void *ctx, const char *where, char *key, char *value)
{
    struct pk_parse *p = ctx;

    if (value == NULL)
        pk_problem(p, where, "expected key = value");
    else if (pk_apply(p, where, key, strlen(key), value, true) != PK_ST_OK)
        return PK_ST_NOMEM;
    return p->failed && !p->keep_going ? PK_ST_REFUSED : PK_ST_OK;
}

static enum pk_status pk_parse_file(struct pk_parse *p, uid_t uid)
{
    char problem[512], trust[512];
    char *data;
    size_t len;
    const char *path = p->cfg->config_path;
    enum pk_status st =
        p->check ? pk_check_read(path, PK_FILE_CONFIG, uid, &data, &len, trust, sizeof(trust),
                                 problem, sizeof(problem))
                 : pk_safe_read(path, PK_FILE_CONFIG, uid, &data, &len, problem, sizeof(problem));

    if (st == PK_ST_NOMEM)
        return PK_ST_NOMEM;
    if (st == PK_ST_MISSING && !p->cfg->config_explicit)
        return PK_ST_OK;
    if (st != PK_ST_OK) {
        pk_problem(p, "config", "%s", problem);
        return PK_ST_OK;
    }
    if (p->check && trust[0] != '\0')
        pk_problem(p, "config", "%s", trust);
    if (memchr(data, '\0', len) != NULL) {
        pk_problem(p, "config", "%s: contains a NUL byte", path);
        pk_free_secret(data, len);
        return PK_ST_OK;
    }
    st = pk_each_line(data, path, pk_parse_line, p);
    pk_free_secret(data, len);
    return st;
}

/* What pk_config_read_file hands to pk_each_line. */
struct pk_foreign {
    pk_config_line_fn fn;
    void *ctx;
    pk_config_report report;
    void *rctx;
};

static enum pk_status pk_foreign_line(void *ctx, const char *where, char *key, char *value)
{
    struct pk_foreign *f = ctx;
    bool quoted;

    if (value == NULL) {
        f->report(f->rctx, where, "expected key = value");
        return PK_ST_OK;
    }
    if (pk_unquote(value, &quoted) != 0) {
        char shown[80], msg[160];
        pk_log_field(shown, sizeof(shown), key);
        (void)snprintf(msg, sizeof(msg), "bad value for \"%s\": stray double quote", shown);
        f->report(f->rctx, where, msg);
        return PK_ST_OK;
    }
    return f->fn(f->ctx, where, key, value, quoted) == PK_ST_NOMEM ? PK_ST_NOMEM : PK_ST_OK;
}

enum pk_status pk_config_read_file(const char *path, uid_t uid, pk_config_line_fn fn, void *ctx,
                                   pk_config_report report, void *rctx)
{
    char problem[512];
    char *data;
    size_t len;
    struct pk_foreign f = {fn, ctx, report, rctx};
    enum pk_status st =
        pk_safe_read(path, PK_FILE_CONFIG, uid, &data, &len, problem, sizeof(problem));

    if (st == PK_ST_NOMEM)
        return st;
    if (st != PK_ST_OK) {
        report(rctx, "config", problem);
        return PK_ST_REFUSED;
    }
    if (memchr(data, '\0', len) != NULL) {
        (void)snprintf(problem, sizeof(problem), "%s: contains a NUL byte", path);
        report(rctx, "config", problem);
        pk_free_secret(data, len);
        return PK_ST_REFUSED;
    }
    st = pk_each_line(data, path, pk_foreign_line, &f);
    pk_free_secret(data, len);
    return st;
}

unsigned pk_config_kinds(const struct pk_config *cfg)
{
    unsigned configured = pk_kinds_configured(cfg);
    return cfg->accept != 0 ? cfg->accept & configured : configured;
}

/* Rules that involve more than one key. */
static void pk_cross_check(struct pk_parse *p)
{
    struct pk_config *cfg = p->cfg;
    unsigned configured = pk_kinds_configured(cfg);
    unsigned kinds;

    if ((cfg->jwt_key != NULL) != (cfg->jwt_alg != PK_ALG_NONE))
        pk_problem(p, "config", "jwt_key and jwt_alg must be given together");
    for (size_t i = 0; i < pk_kind_count; i++) {
        unsigned bit = (unsigned)pk_kinds[i].bit;
        if ((cfg->accept & bit) != 0 && (configured & bit) == 0)
            pk_problem(p, "config", "accept names %s, which needs %s", pk_kinds[i].name,
                       pk_kinds[i].needs);
    }
    kinds = pk_config_kinds(cfg);
    if (kinds == 0 && !p->failed)
        pk_problem(p, "config",
                   "no token kind configured (set kakao_app_id, or jwt_key and jwt_alg)");
    if ((cfg->relay_url != NULL) != (cfg->relay_key != NULL))
        pk_problem(p, "config", "relay_url and relay_key must be given together");
    if (cfg->require_email != PK_EMAIL_NO && (kinds & PK_KIND_KAKAO) == 0)
        pk_problem(p, "config",
                   "require_email applies to kakao access tokens, but kakao is not accepted");
    if (cfg->redis_password_file != NULL && !pk_config_store_is_redis(cfg))
        pk_problem(p, "config", "redis_password_file is set, but store is not a Redis server");
}

bool pk_config_store_is_redis(const struct pk_config *cfg)
{
    return cfg->store != NULL && strcmp(cfg->store, PK_STORE_LOCAL) != 0;
}

/* The defaults of pk_keys[], converted and stored as if they were written
 * in the file. PK_ST_NOMEM when out of memory (a default that does not
 * convert is a bug: test_config.c checks each one). */
static enum pk_status pk_set_defaults(struct pk_config *cfg, const char *default_path)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->config_path = strdup(default_path != NULL ? default_path : PK_DEFAULT_CONFIG);
    if (cfg->config_path == NULL)
        return PK_ST_NOMEM;
    for (size_t i = 0; i < PK_KEY_COUNT; i++) {
        struct pk_value val;
        const char *why;

        if (pk_keys[i].dflt == NULL)
            continue;
        if (pk_convert(&pk_keys[i], pk_keys[i].dflt, false, &val, &why) != PK_ST_OK)
            return PK_ST_NOMEM;
        pk_store(cfg, &pk_keys[i], &val);
    }
    return PK_ST_OK;
}

static enum pk_status pk_config_load_mode(struct pk_config *cfg, int argc, const char **argv,
                                          const char *default_path, uid_t uid, bool keep_going,
                                          bool check, pk_config_report report, void *ctx)
{
    struct pk_parse p;

    memset(&p, 0, sizeof(p));
    p.cfg = cfg;
    p.keep_going = keep_going || check;
    p.check = check;
    p.report = report;
    p.ctx = ctx;
    if (pk_set_defaults(cfg, default_path) != PK_ST_OK || pk_parse_args(&p, argc, argv) != PK_ST_OK)
        goto nomem;
    if (!p.failed || p.keep_going)
        if (pk_parse_file(&p, uid) != PK_ST_OK)
            goto nomem;
    if (!p.failed || p.keep_going)
        pk_cross_check(&p);
    if (p.failed && check)
        return PK_ST_REFUSED;
    if (p.failed) {
        pk_config_free(cfg);
        return PK_ST_REFUSED;
    }
    return PK_ST_OK;
nomem:
    pk_config_free(cfg);
    return PK_ST_NOMEM;
}

enum pk_status pk_config_load(struct pk_config *cfg, int argc, const char **argv,
                              const char *default_path, uid_t uid, bool keep_going,
                              pk_config_report report, void *ctx)
{
    return pk_config_load_mode(cfg, argc, argv, default_path, uid, keep_going, false, report, ctx);
}

enum pk_status pk_config_load_check(struct pk_config *cfg, int argc, const char **argv, uid_t uid,
                                    pk_config_report report, void *ctx)
{
    return pk_config_load_mode(cfg, argc, argv, NULL, uid, true, true, report, ctx);
}

bool pk_config_key_is_path(const char *key, size_t len)
{
    size_t idx;
    const struct pk_key_def *def = pk_find_key(key, len, &idx);

    return (len == 6 && strncmp(key, "config", 6) == 0) || (def != NULL && def->type == PK_T_PATH);
}

void pk_config_free(struct pk_config *cfg)
{
    free(cfg->config_path);
    for (size_t i = 0; i < PK_KEY_COUNT; i++)
        if (pk_type_is_string(pk_keys[i].type))
            free(*(char **)(void *)((char *)cfg + pk_keys[i].offset));
    memset(cfg, 0, sizeof(*cfg));
}
