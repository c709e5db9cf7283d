/* The one-time store (docs/DESIGN.md §8.6): where the marks of used
 * one-time tokens live, `store = local` (one file per mark in cache_dir) or
 * a Redis server (src/redis.c), so that a token is accepted once per host
 * or once per fleet. */
#ifndef PK_ONE_TIME_H
#define PK_ONE_TIME_H

#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "status.h"
#include "verdict.h"

/* The Redis key prefix; the key is the prefix and the mark in hex. */
#define PK_ONE_TIME_KEY_PREFIX "pk:jti:"
/* The local store's file names: the prefix and the mark in hex. */
#define PK_ONE_TIME_FILE_PREFIX "once-"

/* Reads redis_password_file with the key-file trust rules (one trailing
 * newline stripped; empty, or a NUL inside, is refused). *password is NULL
 * when no file is configured; the caller frees it with pk_free_secret_str.
 * PK_ST_REFUSED / PK_ST_MISSING / PK_ST_UNAVAILABLE with problem;
 * PK_ST_NOMEM. */
enum pk_status pk_one_time_password(const struct pk_config *cfg, uid_t uid, char **password,
                                    char *problem, size_t problem_len);

/* Sets mark, kept until mark->until, unless it is set already: PK_ST_OK
 * (first use: the token may pass), PK_ST_REFUSED (already used),
 * PK_ST_UNAVAILABLE (the store cannot say: Redis unreachable, slow or
 * refusing, cache_dir unusable; problem says why), PK_ST_NOMEM. Every
 * Redis command shares one deadline, deadline_ms (pk_redis_now_ms clock).
 * password: NULL or from pk_one_time_password. */
enum pk_status pk_one_time_use(const struct pk_config *cfg, uid_t uid, const char *password,
                               const struct pk_mark *mark, long long now, long long deadline_ms,
                               char *problem, size_t problem_len);

/* Whether the store answers (`kakao-pam check --connect`): cache_dir
 * usable, or Redis reachable with AUTH and SELECT and willing to SET a key
 * under the prefix (a mark no token has: all zeros, kept one second). */
enum pk_status pk_one_time_probe(const struct pk_config *cfg, uid_t uid, const char *password,
                                 long long deadline_ms, char *problem, size_t problem_len);

#endif
