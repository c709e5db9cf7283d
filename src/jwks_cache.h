/* Where the ID-token keys come from: `jwks_file` (trusted like a config
 * file), or `jwks_url` fetched over HTTPS and kept in `cache_dir`.
 *
 * The fetched copy is one file per URL in cache_dir (root-only 0700, owned
 * by the running uid; created when missing and possible), named by the
 * SHA-256 of the URL and written atomically. It is refreshed after
 * jwks_max_age; after a failed fetch the stale copy is used, its age logged,
 * and the URL tried again after PK_JWKS_RETRY seconds. A token naming an
 * unknown kid makes one refetch, at most every PK_JWKS_RETRY seconds (the
 * time is kept in the cache file). When cache_dir cannot be used, every
 * attempt fetches once and nothing is written anywhere. */
#ifndef PK_JWKS_CACHE_H
#define PK_JWKS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "jwks.h"
#include "log.h"
#include "status.h"
#include "verdict.h"

#define PK_JWKS_RETRY 300

/* Fetches url. PK_ST_OK with *body (malloc'd, NUL-terminated, *len bytes);
 * PK_ST_UNAVAILABLE with err set; PK_ST_NOMEM; PK_ST_REFUSED with err set
 * when no request was made because this process may not make one (the
 * caller's environment, docs/DESIGN.md §7.4): that says nothing about the
 * URL, so it is not recorded as a failed fetch in the cache that every
 * process shares. */
typedef enum pk_status (*pk_jwks_fetch_fn)(void *ctx, const struct pk_config *cfg, const char *url,
                                           char **body, size_t *len, char *err, size_t err_len);

struct pk_jwks_store {
    struct pk_jwks set;
    bool have_set;       /* set holds a JWKS (possibly a stale copy) */
    bool from_url;       /* jwks_url, not jwks_file */
    bool fetched;        /* a fetch was tried during this attempt: no refetch */
    int dirfd;           /* cache_dir, or -1 when not caching */
    char cache_name[48]; /* "jwks-<sha256(url) prefix>.json" */
    char *body;          /* the JWKS text behind set (url only) */
    size_t body_len;
    time_t fetched_at, failed_at, kid_refetch_at; /* 0 = never */
    char unavailable[PK_DETAIL_MAX];              /* why there is no JWKS at all */
    const struct pk_config *cfg;
    const struct pk_logger *log;
    uid_t uid;
    pk_jwks_fetch_fn fetch;
    void *fetch_ctx;
};

/* Loads the JWKS for cfg before the prompt. jwks_file problems are
 * PK_ST_REFUSED (problem names the file and the rule). A URL that cannot
 * be fetched without a cached copy is not an error here: the store then has
 * no set and an ID token gets PK_JWKS_UNAVAILABLE. fetch NULL = HTTPS. */
enum pk_status pk_jwks_store_load(struct pk_jwks_store *s, const struct pk_config *cfg, uid_t uid,
                                  time_t now, const struct pk_logger *log, pk_jwks_fetch_fn fetch,
                                  void *fetch_ctx, char *problem, size_t problem_len);

/* The key for kid. A kid the set has no usable key for makes one refetch
 * when allowed, never without may_refetch (judging a PAM_AUTHTOK from
 * another module: no network call); then PK_JWT_UNKNOWN_KID. No set:
 * PK_JWKS_UNAVAILABLE. */
enum pk_outcome pk_jwks_store_key(struct pk_jwks_store *s, const char *kid, time_t now,
                                  bool may_refetch, const struct pk_jwk **key,
                                  struct pk_result *res);

void pk_jwks_store_free(struct pk_jwks_store *s);

/* A store kept in memory across validations by a long-running process (the
 * relay), for cfg->jwks_url: nothing is read from or written to cache_dir.
 * The caller serialises every use of one store (a mutex). fetch NULL = HTTPS. */
void pk_jwks_store_init_memory(struct pk_jwks_store *s, const struct pk_config *cfg,
                               const struct pk_logger *log, pk_jwks_fetch_fn fetch,
                               void *fetch_ctx);

/* Starts a validation on a memory store: the one-refetch rule of
 * pk_jwks_store_key starts anew, and the JWKS is fetched when the store has
 * none or it is older than jwks_max_age, but not within `retry` seconds of a
 * failed fetch. A failed fetch keeps the set already held (logged); with no
 * set, an ID token then gets PK_JWKS_UNAVAILABLE. PK_ST_NOMEM or PK_ST_OK. */
enum pk_status pk_jwks_store_refresh(struct pk_jwks_store *s, time_t now, long retry);

#endif
