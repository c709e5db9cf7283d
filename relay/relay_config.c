#include "relay/relay_config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "src/jwt_sign.h"
#include "src/log.h"
#include "src/safe_file.h"
#include "src/secure.h"

enum pk_relay_type {
    PK_R_PATH,  /* absolute path */
    PK_R_TEXT,  /* printable text, not empty */
    PK_R_LIST,  /* printable text, may be empty */
    PK_R_HTTPS, /* https:// URL without a trailing slash */
    PK_R_PROXY, /* http:// or https:// URL */
    PK_R_LONG,  /* integer within [min, max] */
};

struct pk_relay_key {
    const char *name;
    enum pk_relay_type type;
    size_t offset;
    long min, max;
    const char *dflt;
};

#define PK_RF(f) offsetof(struct pk_relay_config, f)

static const struct pk_relay_key pk_relay_keys[] = {
    {"listen", PK_R_TEXT, PK_RF(listen), 0, 0, "127.0.0.1:8470"},
    {"tls_cert", PK_R_PATH, PK_RF(tls_cert), 0, 0, NULL},
    {"tls_key", PK_R_PATH, PK_RF(tls_key), 0, 0, NULL},
    {"public_url", PK_R_HTTPS, PK_RF(public_url), 0, 0, NULL},
    {"kakao_rest_api_key", PK_R_TEXT, PK_RF(kakao_rest_api_key), 0, 0, NULL},
    {"kakao_client_secret_file", PK_R_PATH, PK_RF(kakao_client_secret_file), 0, 0, NULL},
    {"kakao_auth_url", PK_R_HTTPS, PK_RF(kakao_auth_url), 0, 0, PK_DEFAULT_ID_ISSUER},
    {"kakao_api_url", PK_R_HTTPS, PK_RF(kakao_api_url), 0, 0, PK_DEFAULT_API_URL},
    {"ca_file", PK_R_PATH, PK_RF(ca_file), 0, 0, NULL},
    {"proxy", PK_R_PROXY, PK_RF(proxy), 0, 0, NULL},
    {"timeout", PK_R_LONG, PK_RF(timeout), PK_TIMEOUT_MIN, PK_TIMEOUT_MAX, "5"},
    {"signing_key", PK_R_PATH, PK_RF(signing_key), 0, 0, NULL},
    {"session_ttl", PK_R_LONG, PK_RF(session_ttl), 30, 600, "120"},
    {"code_attempts", PK_R_LONG, PK_RF(code_attempts), 1, 10, "3"},
    {"max_sessions", PK_R_LONG, PK_RF(max_sessions), 1, 1000000, "10000"},
    {"rate_limit", PK_R_LONG, PK_RF(rate_limit), 1, 100000, "30"},
    {"prompt_login_services", PK_R_LIST, PK_RF(prompt_login_services), 0, 0, "sudo"},
    {"store", PK_R_TEXT, PK_RF(store), 0, 0, "memory"},
    {"trusted_proxies", PK_R_LIST, PK_RF(trusted_proxies), 0, 0, ""},
    {"redis_password_file", PK_R_PATH, PK_RF(redis_password_file), 0, 0, NULL},
};

#define PK_RELAY_KEY_COUNT (sizeof(pk_relay_keys) / sizeof(pk_relay_keys[0]))

struct pk_relay_parse {
    struct pk_relay_config *cfg;
    bool seen[PK_RELAY_KEY_COUNT];
    bool failed;
    pk_config_report report;
    void *ctx;
};

static void pk_rproblem(struct pk_relay_parse *p, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void pk_rproblem(struct pk_relay_parse *p, const char *where, const char *fmt, ...)
{
    va_list ap;

    p->failed = true;
    va_start(ap, fmt);
    pk_config_vreport(p->report, p->ctx, where, fmt, ap);
    va_end(ap);
}

/* The config parser's report: a problem of the file itself or its syntax. */
static void pk_relay_file_problem(void *ctx, const char *where, const char *problem)
{
    pk_rproblem(ctx, where, "%s", problem);
}

/* The relay's URLs: no space, query, fragment, quote, angle bracket or
 * backslash. */
static bool pk_url_ok(const char *s, const char *scheme)
{
    return pk_config_url_ok(s, scheme, " ?#\"<>\\");
}

/* Converts and stores one value; on PK_ST_REFUSED *why says what is wrong. */
static enum pk_status pk_relay_convert(struct pk_relay_config *cfg, const struct pk_relay_key *k,
                                       const char *text, const char **why)
{
    void *slot = (char *)cfg + k->offset;
    char **dst;

    *why = pk_config_text_problem(text, k->type == PK_R_LIST);
    if (*why != NULL)
        return PK_ST_REFUSED;
    switch (k->type) {
    case PK_R_LONG:
        if (!pk_config_parse_long(text, k->min, k->max, (long *)slot)) {
            *why = "not a whole number in range";
            return PK_ST_REFUSED;
        }
        return PK_ST_OK;
    case PK_R_PATH:
        if (text[0] != '/') {
            *why = "must be an absolute path";
            return PK_ST_REFUSED;
        }
        break;
    case PK_R_HTTPS:
        if (!pk_url_ok(text, "https://")) {
            *why = "must be an https:// URL";
            return PK_ST_REFUSED;
        }
        if (text[strlen(text) - 1] == '/') {
            *why = "must not end in a slash";
            return PK_ST_REFUSED;
        }
        break;
    case PK_R_PROXY:
        if (!pk_url_ok(text, "http://") && !pk_url_ok(text, "https://")) {
            *why = "must be an http:// or https:// proxy URL";
            return PK_ST_REFUSED;
        }
        break;
    case PK_R_TEXT:
    case PK_R_LIST:
        break;
    }
    dst = slot;
    free(*dst);
    *dst = strdup(text);
    return *dst == NULL ? PK_ST_NOMEM : PK_ST_OK;
}

static enum pk_status pk_relay_line(void *ctx, const char *where, const char *key,
                                    const char *value, bool quoted)
{
    struct pk_relay_parse *p = ctx;
    const char *why;
    enum pk_status st;

    (void)quoted;
    for (size_t i = 0; i < PK_RELAY_KEY_COUNT; i++) {
        if (strcmp(pk_relay_keys[i].name, key) != 0)
            continue;
        if (p->seen[i]) {
            pk_rproblem(p, where, "key \"%s\" given twice", key);
            return PK_ST_OK;
        }
        p->seen[i] = true;
        st = pk_relay_convert(p->cfg, &pk_relay_keys[i], value, &why);
        if (st == PK_ST_NOMEM)
            return st;
        if (st != PK_ST_OK)
            pk_rproblem(p, where, "bad value for \"%s\": %s", key, why);
        return PK_ST_OK;
    }
    {
        char shown[80];
        pk_log_field(shown, sizeof(shown), key);
        pk_rproblem(p, where, "unknown key \"%s\"", shown);
    }
    return PK_ST_OK;
}

static bool pk_is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)ss;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)ss;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

/* An IPv4 or IPv6 address (no port) into ss. */
static bool pk_parse_ip(const char *s, size_t n, struct sockaddr_storage *ss)
{
    char buf[INET6_ADDRSTRLEN + 1];

    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, buf, &((struct sockaddr_in *)(void *)ss)->sin_addr) == 1) {
        ss->ss_family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, buf, &((struct sockaddr_in6 *)(void *)ss)->sin6_addr) == 1) {
        ss->ss_family = AF_INET6;
        return true;
    }
    return false;
}

/* "127.0.0.1:8470" or "[::1]:8470"; port 0 asks the kernel for a free one. */
static bool pk_parse_listen(struct pk_relay_config *cfg)
{
    const char *s = cfg->listen;
    const char *colon = strrchr(s, ':');
    const char *host = s;
    size_t host_len;
    long port;

    if (colon == NULL || !pk_config_parse_long(colon + 1, 0, 65535, &port))
        return false;
    host_len = (size_t)(colon - s);
    if (host_len >= 2 && s[0] == '[' && colon[-1] == ']') {
        host++;
        host_len -= 2;
        if (strchr(s + 1, '[') != NULL)
            return false;
    } else if (memchr(s, ':', host_len) != NULL) {
        return false;
    }
    if (!pk_parse_ip(host, host_len, &cfg->listen_addr))
        return false;
    if (cfg->listen_addr.ss_family == AF_INET) {
        ((struct sockaddr_in *)(void *)&cfg->listen_addr)->sin_port = htons((uint16_t)port);
        cfg->listen_len = sizeof(struct sockaddr_in);
    } else {
        ((struct sockaddr_in6 *)(void *)&cfg->listen_addr)->sin6_port = htons((uint16_t)port);
        cfg->listen_len = sizeof(struct sockaddr_in6);
    }
    cfg->listen_loopback = pk_is_loopback(&cfg->listen_addr);
    return true;
}

/* Splits a comma list in place into items (blanks around each trimmed). */
static bool pk_split_list(char *buf, char **items, size_t max, size_t *count)
{
    char *p = buf;

    *count = 0;
    while (*p == ' ')
        p++;
    if (*p == '\0')
        return true;
    for (;;) {
        char *comma = strchr(p, ',');
        char *end = comma != NULL ? comma : p + strlen(p);
        while (*p == ' ')
            p++;
        while (end > p && end[-1] == ' ')
            end--;
        if (end == p || *count == max)
            return false;
        *end = '\0';
        items[(*count)++] = p;
        if (comma == NULL)
            return true;
        p = comma + 1;
    }
}

/* Reads a file under the key-file or config-file rules; *out NULL on failure,
 * which is reported (PK_ST_REFUSED) unless it is PK_ST_NOMEM. */
static enum pk_status pk_relay_read(struct pk_relay_parse *p, const char *key, const char *path,
                                    enum pk_file_kind kind, uid_t uid, char **out)
{
    char problem[512];
    size_t len;
    enum pk_status st = pk_safe_read(path, kind, uid, out, &len, problem, sizeof(problem));

    if (st == PK_ST_NOMEM)
        return st;
    if (st != PK_ST_OK) {
        *out = NULL;
        pk_rproblem(p, "config", "%s: %s", key, problem);
        return PK_ST_REFUSED;
    }
    return PK_ST_OK;
}

/* The signing key must be an EC P-256 private key. */
static bool pk_is_p256_private(const char *pem)
{
    char err[128];
    EVP_PKEY *pkey =
        pk_private_key_from_pem((const unsigned char *)pem, strlen(pem), err, sizeof(err));
    char group[64];
    size_t glen = 0;
    bool ok = false;

    if (pkey == NULL)
        return false;
    if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC &&
        EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) == 1)
        ok = strcmp(group, "prime256v1") == 0;
    EVP_PKEY_free(pkey);
    return ok;
}

/* A secret of one line (key-file trust rules; one trailing newline is not
 * part of it): reported unless printable and, when !spaces, without spaces. */
static enum pk_status pk_relay_read_line(struct pk_relay_parse *p, const char *key,
                                         const char *path, bool spaces, uid_t uid, char **out)
{
    enum pk_status st = pk_relay_read(p, key, path, PK_FILE_KEY, uid, out);
    size_t n;

    if (st != PK_ST_OK)
        return st;
    n = strlen(*out);
    if (n > 0 && (*out)[n - 1] == '\n')
        (*out)[--n] = '\0';
    if (n == 0 || !pk_config_printable(*out) || (!spaces && strchr(*out, ' ') != NULL))
        pk_rproblem(p, "config", "%s: %s: not one line of text", key, path);
    return PK_ST_OK;
}

/* The rules that involve more than one key, and the files the keys name:
 * each problem is reported (p->failed); PK_ST_NOMEM stops the check. */
static enum pk_status pk_relay_check(struct pk_relay_parse *p, uid_t uid)
{
    struct pk_relay_config *cfg = p->cfg;
    enum pk_status st;

    if (!pk_parse_listen(cfg))
        pk_rproblem(p, "config",
                    "bad value for \"listen\": must be ADDRESS:PORT or [ADDRESS]:PORT");
    if (cfg->public_url == NULL)
        pk_rproblem(p, "config", "public_url is required");
    if (cfg->kakao_rest_api_key == NULL)
        pk_rproblem(p, "config", "kakao_rest_api_key is required");
    if (cfg->signing_key == NULL)
        pk_rproblem(p, "config", "signing_key is required");
    if (strcmp(cfg->store, "memory") != 0) {
        char why[256] = "";
        if (strncmp(cfg->store, "redis://", 8) != 0 && strncmp(cfg->store, "unix:", 5) != 0)
            pk_rproblem(p, "config",
                        "bad value for \"store\": must be memory, redis://HOST:PORT[/DB] "
                        "or unix:PATH");
        else if (pk_redis_target_parse(cfg->store, &cfg->redis_target, why, sizeof(why)) !=
                 PK_ST_OK)
            pk_rproblem(p, "config", "bad value for \"store\": %s", why);
        else
            cfg->store_redis = true;
    } else if (cfg->redis_password_file != NULL) {
        pk_rproblem(p, "config", "redis_password_file needs a Redis store");
    }
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
        pk_rproblem(p, "config", "tls_cert and tls_key must be given together");
    else if (cfg->tls_cert == NULL && cfg->listen_len != 0 && !cfg->listen_loopback)
        pk_rproblem(p, "config",
                    "plain HTTP only on a loopback listen address: set tls_cert and tls_key");
    cfg->services_buf = strdup(cfg->prompt_login_services);
    if (cfg->services_buf == NULL)
        return PK_ST_NOMEM;
    if (!pk_split_list(cfg->services_buf, cfg->services, PK_RELAY_MAX_SERVICES,
                       &cfg->service_count))
        pk_rproblem(p, "config",
                    "bad value for \"prompt_login_services\": a comma list of "
                    "at most 32 service names");
    {
        char *items[PK_RELAY_MAX_PROXIES];
        char *buf = strdup(cfg->trusted_proxies);
        size_t n = 0;
        bool ok;
        if (buf == NULL)
            return PK_ST_NOMEM;
        ok = pk_split_list(buf, items, PK_RELAY_MAX_PROXIES, &n);
        for (size_t i = 0; ok && i < n; i++)
            ok = pk_parse_ip(items[i], strlen(items[i]), &cfg->proxies[i]);
        cfg->proxy_count = ok ? n : 0;
        free(buf);
        if (!ok)
            pk_rproblem(p, "config",
                        "bad value for \"trusted_proxies\": a comma list of at "
                        "most 16 IP addresses");
    }
    if (cfg->public_url != NULL) {
        size_t n = strlen(cfg->public_url) + sizeof("/callback");
        cfg->redirect_uri = malloc(n);
        if (cfg->redirect_uri == NULL)
            return PK_ST_NOMEM;
        (void)snprintf(cfg->redirect_uri, n, "%s/callback", cfg->public_url);
    }
    if (p->failed)
        return PK_ST_OK;
    st = pk_relay_read(p, "signing_key", cfg->signing_key, PK_FILE_KEY, uid, &cfg->signing_key_pem);
    if (st == PK_ST_NOMEM)
        return PK_ST_NOMEM;
    if (st == PK_ST_OK && !pk_is_p256_private(cfg->signing_key_pem))
        pk_rproblem(p, "config", "signing_key: %s: not a PEM EC P-256 private key",
                    cfg->signing_key);
    if (cfg->kakao_client_secret_file != NULL &&
        pk_relay_read_line(p, "kakao_client_secret_file", cfg->kakao_client_secret_file, false, uid,
                           &cfg->client_secret) == PK_ST_NOMEM)
        return PK_ST_NOMEM;
    if (cfg->redis_password_file != NULL &&
        pk_relay_read_line(p, "redis_password_file", cfg->redis_password_file, true, uid,
                           &cfg->redis_password) == PK_ST_NOMEM)
        return PK_ST_NOMEM;
    if (cfg->tls_cert != NULL) {
        st = pk_relay_read(p, "tls_cert", cfg->tls_cert, PK_FILE_CONFIG, uid, &cfg->tls_cert_pem);
        if (st == PK_ST_NOMEM)
            return PK_ST_NOMEM;
        st = pk_relay_read(p, "tls_key", cfg->tls_key, PK_FILE_KEY, uid, &cfg->tls_key_pem);
        if (st == PK_ST_NOMEM)
            return PK_ST_NOMEM;
    }
    return PK_ST_OK;
}

enum pk_status pk_relay_config_load(struct pk_relay_config *cfg, const char *path, uid_t uid,
                                    pk_config_report report, void *ctx)
{
    struct pk_relay_parse p;
    enum pk_status st;

    memset(cfg, 0, sizeof(*cfg));
    memset(&p, 0, sizeof(p));
    p.cfg = cfg;
    p.report = report;
    p.ctx = ctx;
    for (size_t i = 0; i < PK_RELAY_KEY_COUNT; i++) {
        const char *why;
        if (pk_relay_keys[i].dflt != NULL &&
            pk_relay_convert(cfg, &pk_relay_keys[i], pk_relay_keys[i].dflt, &why) != PK_ST_OK)
            goto nomem; /* the defaults are valid: only strdup can fail */
    }
    st = pk_config_read_file(path, uid, pk_relay_line, &p, pk_relay_file_problem, &p);
    if (st == PK_ST_NOMEM)
        goto nomem;
    if (st == PK_ST_OK && !p.failed && pk_relay_check(&p, uid) == PK_ST_NOMEM)
        goto nomem;
    if (st != PK_ST_OK || p.failed) {
        pk_relay_config_free(cfg);
        return PK_ST_REFUSED;
    }
    return PK_ST_OK;
nomem:
    pk_relay_config_free(cfg);
    return PK_ST_NOMEM;
}

bool pk_relay_config_prompt_login(const struct pk_relay_config *cfg, const char *service)
{
    for (size_t i = 0; i < cfg->service_count; i++)
        if (strcmp(cfg->services[i], service) == 0)
            return true;
    return false;
}

bool pk_relay_config_trusted_proxy(const struct pk_relay_config *cfg, const struct sockaddr *addr)
{
    for (size_t i = 0; i < cfg->proxy_count; i++) {
        const struct sockaddr_storage *t = &cfg->proxies[i];
        if (t->ss_family != addr->sa_family)
            continue;
        if (t->ss_family == AF_INET &&
            memcmp(&((const struct sockaddr_in *)(const void *)t)->sin_addr,
                   &((const struct sockaddr_in *)(const void *)addr)->sin_addr,
                   sizeof(struct in_addr)) == 0)
            return true;
        if (t->ss_family == AF_INET6 &&
            memcmp(&((const struct sockaddr_in6 *)(const void *)t)->sin6_addr,
                   &((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr,
                   sizeof(struct in6_addr)) == 0)
            return true;
    }
    return false;
}

void pk_relay_config_free(struct pk_relay_config *cfg)
{
    for (size_t i = 0; i < PK_RELAY_KEY_COUNT; i++)
        if (pk_relay_keys[i].type != PK_R_LONG)
            free(*(char **)(void *)((char *)cfg + pk_relay_keys[i].offset));
    pk_free_secret_str(cfg->signing_key_pem);
    pk_free_secret_str(cfg->client_secret);
    pk_free_secret_str(cfg->redis_password);
    pk_free_secret_str(cfg->tls_key_pem);
    free(cfg->tls_cert_pem);
    free(cfg->redirect_uri);
    free(cfg->services_buf);
    memset(cfg, 0, sizeof(*cfg));
}
