#include "kakao_cache.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cache_dir.h"
#include "token.h"

#define PK_KAKAO_ENTRY_FORMAT "pam_kakao kakao check 1"
#define PK_KAKAO_ENTRY_PREFIX "kakao-"

size_t pk_kakao_entry_format(const struct pk_kakao_entry *e, char *buf, size_t len)
{
    const char *email = pk_email_rule_name(e->email);
    int n;

    if (email == NULL)
        return 0;
    n = snprintf(buf, len,
                 PK_KAKAO_ENTRY_FORMAT "\n"
                                       "kakao_id=%" PRId64 "\n"
                                       "app_id=%" PRId64 "\n"
                                       "api=%s\n"
                                       "require_email=%s\n"
                                       "created=%" PRId64 "\n"
                                       "expires=%" PRId64 "\n",
                 e->kakao_id, e->app_id, e->api, email, e->created, e->expires);
    return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

/* "name=" and a positive number up to the newline, spelt as a kakao_id
 * (as in the user map, pam_kakao.conf(5): 1-19 digits, no sign, no leading zero, within int64). */
static bool pk_entry_number(const char **p, const char *end, const char *name, int64_t *out)
{
    size_t nlen = strlen(name);
    const char *s = *p;
    const char *nl;

    if ((size_t)(end - s) < nlen + 2 || memcmp(s, name, nlen) != 0 || s[nlen] != '=')
        return false;
    s += nlen + 1;
    nl = memchr(s, '\n', (size_t)(end - s));
    if (nl == NULL || !pk_valid_kakao_id_text(s, (size_t)(nl - s), out))
        return false;
    *p = nl + 1;
    return true;
}

/* "name=" and the rest of the line (no newline inside) into out. */
static bool pk_entry_word(const char **p, const char *end, const char *name, char *out,
                          size_t out_len)
{
    size_t nlen = strlen(name);
    const char *s = *p;
    const char *nl;

    if ((size_t)(end - s) < nlen + 2 || memcmp(s, name, nlen) != 0 || s[nlen] != '=')
        return false;
    s += nlen + 1;
    nl = memchr(s, '\n', (size_t)(end - s));
    if (nl == NULL || nl == s || (size_t)(nl - s) >= out_len)
        return false;
    memcpy(out, s, (size_t)(nl - s));
    out[nl - s] = '\0';
    *p = nl + 1;
    return true;
}

bool pk_kakao_entry_parse(const char *text, size_t len, struct pk_kakao_entry *e)
{
    static const char head[] = PK_KAKAO_ENTRY_FORMAT "\n";
    const char *p = text, *end = text + len;
    char email[16];
    char again[PK_KAKAO_ENTRY_MAX];

    memset(e, 0, sizeof(*e));
    if (len > PK_KAKAO_ENTRY_MAX || len < sizeof(head) - 1 ||
        memcmp(p, head, sizeof(head) - 1) != 0)
        return false;
    p += sizeof(head) - 1;
    if (!pk_entry_number(&p, end, "kakao_id", &e->kakao_id) ||
        !pk_entry_number(&p, end, "app_id", &e->app_id) ||
        !pk_entry_word(&p, end, "api", e->api, sizeof(e->api)) ||
        !pk_entry_word(&p, end, "require_email", email, sizeof(email)) ||
        !pk_entry_number(&p, end, "created", &e->created) ||
        !pk_entry_number(&p, end, "expires", &e->expires) || p != end)
        return false;
    if (!pk_email_rule_from_name(email, &e->email) || strlen(e->api) != 32 ||
        strspn(e->api, "0123456789abcdef") != 32 || e->expires <= e->created)
        return false;
    /* Read back exactly as written, byte for byte, or not at all. */
    return pk_kakao_entry_format(e, again, sizeof(again)) == len && memcmp(again, text, len) == 0;
}

bool pk_kakao_cache_api_id(const struct pk_config *cfg, char out[33])
{
    const char *url = cfg->kakao_api_url != NULL ? cfg->kakao_api_url : PK_DEFAULT_API_URL;
    char digest[65];

    if (!pk_sha256_hex(url, strlen(url), digest))
        return false;
    memcpy(out, digest, 32);
    out[32] = '\0';
    return true;
}

void pk_kakao_cache_open(struct pk_kakao_cache *c, const struct pk_config *cfg, uid_t uid,
                         const char *token, size_t token_len, const struct pk_logger *log)
{
    char digest[65];
    char why[160];

    memset(c, 0, sizeof(*c));
    c->dirfd = -1;
    c->cfg = cfg;
    c->log = log;
    c->uid = uid;
    if (cfg->cache_ttl <= 0 || cfg->cache_dir == NULL)
        return;
    if (!pk_sha256_hex(token, token_len, digest))
        return;
    (void)snprintf(c->name, sizeof(c->name), PK_KAKAO_ENTRY_PREFIX "%s", digest);
    memcpy(c->tag, digest, 8);
    c->tag[8] = '\0';
    c->dirfd = pk_cache_dir_open(cfg->cache_dir, uid, why, sizeof(why));
    if (c->dirfd < 0)
        pk_debug(log, "cache_dir %s: %s; Kakao token checks are not cached", cfg->cache_dir, why);
}

/* Drops the token's entry, saying why. */
static bool pk_cache_drop(struct pk_kakao_cache *c, int priority, const char *why)
{
    const char *done = pk_cache_file_remove(c->dirfd, c->name) ? "removed" : "ignored";

    if (priority == LOG_DEBUG)
        pk_debug(c->log, "kakao check cache: entry for token %s: %s; %s", c->tag, why, done);
    else
        pk_log(c->log, priority, "cache_dir %s: check cache entry for token %s: %s; %s",
               c->cfg->cache_dir, c->tag, why, done);
    return false;
}

bool pk_kakao_cache_get(struct pk_kakao_cache *c, time_t now, int64_t *kakao_id)
{
    struct pk_kakao_entry e;
    char api[33];
    const char *why = NULL;
    size_t len = 0;
    char *text = NULL;
    enum pk_status st;
    bool ok;
    int64_t until;

    if (c->dirfd < 0)
        return false;
    st = pk_cache_file_read(c->dirfd, c->name, c->uid, 077, PK_KAKAO_ENTRY_MAX, &text, &len, &why);
    if (st == PK_ST_REFUSED || st == PK_ST_UNAVAILABLE)
        return pk_cache_drop(c, LOG_NOTICE, why);
    if (st != PK_ST_OK) {
        if (st == PK_ST_MISSING)
            pk_debug(c->log, "kakao check cache: no entry for token %s", c->tag);
        return false;
    }
    ok = pk_kakao_entry_parse(text, len, &e);
    free(text);
    if (!ok)
        return pk_cache_drop(c, LOG_NOTICE, "not in the entry format");
    if (e.created > (int64_t)now)
        return pk_cache_drop(c, LOG_DEBUG, "made in the future (the clock moved back)");
    if ((int64_t)now >= e.expires)
        return pk_cache_drop(c, LOG_DEBUG, "expired");
    /* Entries of other configs sharing cache_dir are left to them. */
    if (!c->cfg->has_app_id || e.app_id != c->cfg->kakao_app_id ||
        !pk_kakao_cache_api_id(c->cfg, api) || strcmp(api, e.api) != 0) {
        pk_debug(c->log,
                 "kakao check cache: entry for token %s is for app_id=%" PRId64
                 " or another kakao_api_url; checking online",
                 c->tag, e.app_id);
        return false;
    }
    until = e.created + c->cfg->cache_ttl;
    if (until > e.expires)
        until = e.expires;
    if ((int64_t)now >= until) {
        pk_debug(c->log,
                 "kakao check cache: entry for token %s is older than cache_ttl; "
                 "checking online",
                 c->tag);
        return false;
    }
    if (e.email < c->cfg->require_email) {
        pk_debug(c->log,
                 "kakao check cache: entry for token %s was checked with "
                 "require_email=%s; checking online",
                 c->tag, pk_email_rule_name(e.email));
        return false;
    }
    pk_debug(c->log,
             "kakao check cache: hit (cached) for token %s: kakao_id=%" PRId64 ", checked %" PRId64
             " s ago, valid %" PRId64 " s more",
             c->tag, e.kakao_id, (int64_t)now - e.created, until - (int64_t)now);
    *kakao_id = e.kakao_id;
    return true;
}

void pk_kakao_cache_put(struct pk_kakao_cache *c, time_t now, int64_t kakao_id, int64_t valid_for)
{
    struct pk_kakao_entry e;
    char text[PK_KAKAO_ENTRY_MAX];
    size_t len;
    unsigned pruned;
    char why[128];

    if (c->dirfd < 0 || kakao_id <= 0 || valid_for <= 0 || !c->cfg->has_app_id)
        return;
    memset(&e, 0, sizeof(e));
    e.kakao_id = kakao_id;
    e.app_id = c->cfg->kakao_app_id;
    e.email = c->cfg->require_email;
    e.created = (int64_t)now;
    e.expires = e.created + (valid_for < c->cfg->cache_ttl ? valid_for : c->cfg->cache_ttl);
    if (!pk_kakao_cache_api_id(c->cfg, e.api))
        return;
    len = pk_kakao_entry_format(&e, text, sizeof(text));
    if (len == 0)
        return;
    if (pk_cache_file_write(c->dirfd, c->name, text, len, c->log, why, sizeof(why)) != PK_ST_OK) {
        pk_debug(c->log, "cache_dir %s: cannot write the check cache: %s", c->cfg->cache_dir, why);
        return;
    }
    /* Each token makes its own file: the dead ones go here. An entry older
     * than cache_ttl is of no use to this config. */
    pruned = pk_cache_prune(c->dirfd, PK_KAKAO_ENTRY_PREFIX, now - c->cfg->cache_ttl);
    pk_debug(c->log,
             "kakao check cache: stored for token %s: kakao_id=%" PRId64 " for %" PRId64
             " s (%u old entries removed)",
             c->tag, kakao_id, e.expires - e.created, pruned);
}

void pk_kakao_cache_close(struct pk_kakao_cache *c)
{
    if (c->dirfd >= 0)
        (void)close(c->dirfd);
    c->dirfd = -1;
}
