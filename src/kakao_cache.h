/* The Kakao access-token check cache (docs/DESIGN.md §8.2; cache_ttl and cache_dir in
 * pam_kakao.conf(5)).
 *
 * A successful online check may be reused for cache_ttl seconds, never past
 * the token's expires_in. One file per token in cache_dir, named
 * "kakao-" + SHA-256(token) in hex; the token itself is never stored. The
 * entry holds what the check established (kakao_id, app_id, the API it
 * asked, the require_email rule it satisfied) and when it ends. Refusals
 * and outages are never cached. On read an entry must be a regular file of
 * ours (0600), small, in the exact format, not expired, for this app and
 * API, and at least as strict about email as the config; anything else is
 * a miss, and an entry that is broken or dead is removed. A cache_dir that
 * cannot be used (an unprivileged pamtester) only turns the cache off. */
#ifndef PK_KAKAO_CACHE_H
#define PK_KAKAO_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "log.h"

#define PK_KAKAO_ENTRY_MAX 512

struct pk_kakao_entry {
    int64_t kakao_id;
    int64_t app_id;
    char api[33];             /* first 16 bytes of SHA-256(kakao_api_url), hex */
    enum pk_email_rule email; /* the require_email rule the check satisfied */
    int64_t created;
    int64_t expires; /* first second the entry is no longer valid */
};

struct pk_kakao_cache {
    int dirfd;     /* -1: not caching */
    char name[72]; /* "kakao-" and 64 hex digits */
    char tag[9];   /* first 8 hex digits: how logs name the token */
    const struct pk_config *cfg;
    const struct pk_logger *log;
    uid_t uid;
};

/* Prepares the cache for token. With cache_ttl 0 it stays off silently;
 * an unusable cache_dir turns it off with a debug line. */
void pk_kakao_cache_open(struct pk_kakao_cache *c, const struct pk_config *cfg, uid_t uid,
                         const char *token, size_t token_len, const struct pk_logger *log);

/* True, with *kakao_id, when the token's entry holds a check that this
 * config accepts at now. */
bool pk_kakao_cache_get(struct pk_kakao_cache *c, time_t now, int64_t *kakao_id);

/* Records a successful check finished at (or after) now; valid_for is
 * Kakao's expires_in. */
void pk_kakao_cache_put(struct pk_kakao_cache *c, time_t now, int64_t kakao_id, int64_t valid_for);

void pk_kakao_cache_close(struct pk_kakao_cache *c);

/* The entry's text (for tests): returns its length, or 0 when it does not
 * fit. */
size_t pk_kakao_entry_format(const struct pk_kakao_entry *e, char *buf, size_t len);
/* Exact format only; false for anything else. */
bool pk_kakao_entry_parse(const char *text, size_t len, struct pk_kakao_entry *e);

/* The api field of an entry for cfg (hex of the API base's digest). */
bool pk_kakao_cache_api_id(const struct pk_config *cfg, char out[33]);

#endif
