/* The one-time store (src/one_time.h, docs/DESIGN.md §8.6). */
#include "one_time.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache_dir.h"
#include "log.h"
#include "redis.h"
#include "safe_file.h"
#include "secure.h"

/* Seconds a mark outlives its end: clocks of hosts sharing a Redis store may
 * lag the one that set it, and the local prune must never meet a mark that
 * another login has just created and not yet dated (its mtime is now). */
#define PK_ONE_TIME_GRACE 300
/* The local store is pruned at most once a minute per host, and a prune
 * looks at no more than this many entries: the work of one login is bounded. */
#define PK_ONE_TIME_PRUNE_EVERY 60
#define PK_ONE_TIME_PRUNE_SCAN 4096u
#define PK_ONE_TIME_PRUNE_STAMP "once.prune"
#define PK_ONE_TIME_NAME_MAX 80

static void pk_mark_hex(const unsigned char digest[32], char hex[65])
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < 32; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 0x0f];
    }
    hex[64] = '\0';
}

enum pk_status pk_one_time_password(const struct pk_config *cfg, uid_t uid, char **password,
                                    char *problem, size_t problem_len)
{
    char *data = NULL;
    size_t len = 0;
    enum pk_status st;

    *password = NULL;
    if (cfg->redis_password_file == NULL)
        return PK_ST_OK;
    st =
        pk_safe_read(cfg->redis_password_file, PK_FILE_KEY, uid, &data, &len, problem, problem_len);
    if (st != PK_ST_OK)
        return st;
    if (len > 0 && data[len - 1] == '\n')
        data[--len] = '\0';
    if (len == 0 || memchr(data, '\0', len) != NULL) {
        pk_problem_printf(problem, problem_len, "%s: %s", cfg->redis_password_file,
                          len == 0 ? "empty password" : "password holds a NUL byte");
        pk_free_secret(data, len + 1);
        return PK_ST_REFUSED;
    }
    *password = data;
    return PK_ST_OK;
}

/* ---- store = local ---- */

/* Prunes expired marks when the last prune is a minute old (or never
 * happened): the stamp's mtime says when. A failure costs only the prune. */
static void pk_one_time_prune(int dirfd, long long now)
{
    struct stat st;
    int fd;

    if (fstatat(dirfd, PK_ONE_TIME_PRUNE_STAMP, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode) && (long long)st.st_mtime > now - PK_ONE_TIME_PRUNE_EVERY)
        return;
    fd = openat(dirfd, PK_ONE_TIME_PRUNE_STAMP, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    /* Stamped first, so concurrent logins leave this prune to us. */
    (void)futimens(fd, NULL);
    (void)close(fd);
    /* A mark's mtime is its end (pk_one_time_local); a mark another login
     * has just created and not dated yet has an mtime of about now, so the
     * prune keeps what ended less than PK_ONE_TIME_GRACE ago. */
    (void)pk_cache_prune_max(dirfd, PK_ONE_TIME_FILE_PREFIX, (time_t)(now - PK_ONE_TIME_GRACE),
                             PK_ONE_TIME_PRUNE_SCAN);
}

/* One file per mark, created with O_EXCL: of any number of processes
 * racing for the same mark, exactly one creates it. Its mtime is set to
 * the mark's end, which is what the prune reads. */
static enum pk_status pk_one_time_local(const struct pk_config *cfg, uid_t uid,
                                        const struct pk_mark *mark, long long now, char *problem,
                                        size_t problem_len)
{
    char why[128];
    char hex[65];
    char name[PK_ONE_TIME_NAME_MAX];
    struct timespec times[2];
    enum pk_status st = PK_ST_OK;
    int dirfd;
    int fd;

    dirfd = pk_cache_dir_open(cfg->cache_dir, uid, why, sizeof(why));
    if (dirfd < 0) {
        pk_problem_printf(problem, problem_len, "cache_dir %s: %s", cfg->cache_dir, why);
        return PK_ST_UNAVAILABLE;
    }
    pk_one_time_prune(dirfd, now);
    pk_mark_hex(mark->digest, hex);
    (void)snprintf(name, sizeof(name), PK_ONE_TIME_FILE_PREFIX "%s", hex);
    fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) {
        /* Set already; an expired one too (its token cannot pass any more,
         * so only a reused jti meets it, and that is refused). */
        (void)close(dirfd);
        return PK_ST_REFUSED;
    }
    if (fd < 0) {
        pk_problem_printf(problem, problem_len, "cache_dir %s: cannot create a mark: %s",
                          cfg->cache_dir, strerror(errno));
        (void)close(dirfd);
        return PK_ST_UNAVAILABLE;
    }
    times[0].tv_sec = (time_t)mark->until;
    times[0].tv_nsec = 0;
    times[1] = times[0];
    if (futimens(fd, times) != 0) {
        /* A mark without its end would be pruned at once: not kept, so
         * this use does not pass either. */
        pk_problem_printf(problem, problem_len, "cache_dir %s: cannot date a mark: %s",
                          cfg->cache_dir, strerror(errno));
        (void)unlinkat(dirfd, name, 0);
        st = PK_ST_UNAVAILABLE;
    }
    (void)close(fd);
    (void)close(dirfd);
    return st;
}

/* ---- store = redis://... or unix:... ---- */

static enum pk_status pk_one_time_redis_set(struct pk_redis *r, const char *label,
                                            const unsigned char digest[32], long long ttl_ms,
                                            long long deadline_ms, char *problem,
                                            size_t problem_len)
{
    char hex[65];
    char key[sizeof(PK_ONE_TIME_KEY_PREFIX) + 64];
    char px[24];
    const char *argv[6] = {"SET", key, "1", "NX", "PX", px};
    size_t argvlen[6];
    struct pk_redis_reply *reply = NULL;
    enum pk_status st;

    pk_mark_hex(digest, hex);
    (void)snprintf(key, sizeof(key), PK_ONE_TIME_KEY_PREFIX "%s", hex);
    (void)snprintf(px, sizeof(px), "%lld", ttl_ms);
    for (size_t i = 0; i < 6; i++)
        argvlen[i] = strlen(argv[i]);
    st = pk_redis_command(r, deadline_ms, 6, argv, argvlen, &reply, problem, problem_len);
    if (st != PK_ST_OK)
        return st;
    if (reply->type == PK_REDIS_STATUS && strcmp(reply->str, "OK") == 0)
        st = PK_ST_OK;
    else if (reply->type == PK_REDIS_NIL)
        st = PK_ST_REFUSED;
    else {
        char msg[160];

        /* NOAUTH, NOPERM (an ACL), READONLY (a replica), OOM: no answer. */
        pk_log_text(msg, sizeof(msg), reply->type == PK_REDIS_ERROR ? reply->str : "unexpected");
        pk_problem_printf(problem, problem_len, "redis %s refused SET: \"%s\"", label, msg);
        st = PK_ST_UNAVAILABLE;
    }
    pk_redis_reply_free(reply);
    return st;
}

static enum pk_status pk_one_time_redis(const struct pk_config *cfg, const char *password,
                                        const unsigned char digest[32], long long ttl_ms,
                                        long long deadline_ms, char *problem, size_t problem_len)
{
    struct pk_redis_target target;
    struct pk_redis *r = NULL;
    char label[300];
    enum pk_status st;

    st = pk_redis_target_parse(cfg->store, &target, problem, problem_len);
    if (st != PK_ST_OK) /* the config parser checked it: a bug, fail closed */
        return PK_ST_UNAVAILABLE;
    pk_redis_target_describe(&target, label, sizeof(label));
    st = pk_redis_connect(&target, password, deadline_ms, &r, problem, problem_len);
    if (st == PK_ST_OK)
        st = pk_one_time_redis_set(r, label, digest, ttl_ms, deadline_ms, problem, problem_len);
    pk_redis_close(r);
    /* REFUSED from connect would be a target that does not parse. */
    return st == PK_ST_REFUSED && r == NULL ? PK_ST_UNAVAILABLE : st;
}

enum pk_status pk_one_time_use(const struct pk_config *cfg, uid_t uid, const char *password,
                               const struct pk_mark *mark, long long now, long long deadline_ms,
                               char *problem, size_t problem_len)
{
    long long left_s;

    if (problem != NULL && problem_len > 0)
        problem[0] = '\0';
    if (mark == NULL || !mark->set) {
        pk_problem_printf(problem, problem_len, "no mark");
        return PK_ST_UNAVAILABLE;
    }
    if (!pk_config_store_is_redis(cfg))
        return pk_one_time_local(cfg, uid, mark, now, problem, problem_len);
    /* Kept PK_ONE_TIME_GRACE past its end, for hosts whose clocks are
     * behind the one that set it, and never past what PX takes. */
    left_s = mark->until - now + PK_ONE_TIME_GRACE;
    if (left_s < 1)
        left_s = 1;
    if (left_s > 100LL * 365 * 86400)
        left_s = 100LL * 365 * 86400;
    return pk_one_time_redis(cfg, password, mark->digest, left_s * 1000, deadline_ms, problem,
                             problem_len);
}

enum pk_status pk_one_time_probe(const struct pk_config *cfg, uid_t uid, const char *password,
                                 long long deadline_ms, char *problem, size_t problem_len)
{
    static const unsigned char zero[32];
    char why[128];
    enum pk_status st;
    int dirfd;

    if (problem != NULL && problem_len > 0)
        problem[0] = '\0';
    if (!pk_config_store_is_redis(cfg)) {
        dirfd = pk_cache_dir_open(cfg->cache_dir, uid, why, sizeof(why));
        if (dirfd < 0) {
            pk_problem_printf(problem, problem_len, "cache_dir %s: %s", cfg->cache_dir, why);
            return PK_ST_UNAVAILABLE;
        }
        (void)close(dirfd);
        return PK_ST_OK;
    }
    st = pk_one_time_redis(cfg, password, zero, 1000, deadline_ms, problem, problem_len);
    /* Set already (a probe a moment ago) is an answer too. */
    return st == PK_ST_REFUSED ? PK_ST_OK : st;
}
