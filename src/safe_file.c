#include "safe_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safe_file_rules.h"
#include "secure.h"

static size_t pk_file_cap(enum pk_file_kind kind)
{
    switch (kind) {
    case PK_FILE_CONFIG: /* NOLINT(bugprone-branch-clone): equal caps today, separate limits */
        return PK_CONFIG_MAX;
    case PK_FILE_KEY:
        return PK_KEY_MAX;
    case PK_FILE_USER_MAP:
    case PK_FILE_CA:
        break;
    }
    return 0;
}

static enum pk_status pk_refuse(char *problem, size_t len, enum pk_status st, const char *path,
                                const char *rule)
{
    (void)snprintf(problem, len, "%s: %s", path, rule);
    return st;
}

/* Appends one broken trust rule to trust ("PATH: rule; rule"). */
static void pk_note_trust(char *trust, size_t len, const char *path, const char *rule)
{
    size_t used = strlen(trust);

    if (used == 0)
        (void)snprintf(trust, len, "%s: %s", path, rule);
    else if (used < len)
        (void)snprintf(trust + used, len - used, "; %s", rule);
}

/* A broken owner or mode rule: the module (trust == NULL) closes fd and
 * refuses the file with the rule as the problem; `kakao-pam check` notes it
 * in trust and reads on. */
static enum pk_status pk_rule_broken(int fd, const char *path, const char *rule, char *trust,
                                     size_t trust_len, char *problem, size_t problem_len)
{
    if (trust != NULL) {
        pk_note_trust(trust, trust_len, path, rule);
        return PK_ST_OK;
    }
    (void)close(fd);
    return pk_refuse(problem, problem_len, PK_ST_REFUSED, path, rule);
}

/* The rules of pk_safe_open. With trust == NULL (the module) the first
 * broken rule refuses the file. With trust set (`kakao-pam check`, which
 * grants nothing) a broken owner, mode or no-symlink rule is noted there and
 * the file is opened anyway so its syntax can be checked as well; a file that
 * is not regular, or over the size cap, is still refused: reading it could
 * hang or be unbounded. */
enum pk_status pk_open_rules(const char *path, enum pk_file_kind kind, uid_t uid, int *fd_out,
                             char *trust, size_t trust_len, char *problem, size_t problem_len)
{
    struct stat st;
    size_t cap = pk_file_cap(kind);
    char rule[128];
    int fd;

    *fd_out = -1;
    problem[0] = '\0';
    if (trust != NULL && trust_len > 0)
        trust[0] = '\0';
    if (path == NULL || path[0] != '/')
        return pk_refuse(problem, problem_len, PK_ST_REFUSED, path ? path : "(null)",
                         "path must be absolute");
    /* O_NONBLOCK: a FIFO planted at the path must not hang the login. */
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0 && errno == ELOOP && trust != NULL) {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd >= 0)
            pk_note_trust(trust, trust_len, path, "is a symbolic link (not followed)");
        else
            errno = ELOOP;
    }
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            return pk_refuse(problem, problem_len, PK_ST_MISSING, path, "does not exist");
        if (e == ELOOP)
            return pk_refuse(problem, problem_len, PK_ST_REFUSED, path,
                             "is a symbolic link (not followed)");
        (void)snprintf(problem, problem_len, "%s: cannot open: %s", path, strerror(e));
        return PK_ST_UNAVAILABLE;
    }
    if (fstat(fd, &st) != 0) {
        (void)snprintf(problem, problem_len, "%s: cannot stat: %s", path, strerror(errno));
        (void)close(fd);
        return PK_ST_UNAVAILABLE;
    }
    if (!S_ISREG(st.st_mode)) {
        (void)close(fd);
        return pk_refuse(problem, problem_len, PK_ST_REFUSED, path, "not a regular file");
    }
    if (st.st_uid != 0 && st.st_uid != uid) {
        (void)snprintf(rule, sizeof(rule), "owned by uid %u, not root or uid %u",
                       (unsigned)st.st_uid, (unsigned)uid);
        if (pk_rule_broken(fd, path, rule, trust, trust_len, problem, problem_len) != PK_ST_OK)
            return PK_ST_REFUSED;
    }
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        (void)snprintf(rule, sizeof(rule), "writable by group or others (mode %04o)",
                       (unsigned)st.st_mode & 07777u);
        if (pk_rule_broken(fd, path, rule, trust, trust_len, problem, problem_len) != PK_ST_OK)
            return PK_ST_REFUSED;
    }
    if (kind == PK_FILE_KEY && (st.st_mode & S_IROTH) != 0) {
        (void)snprintf(rule, sizeof(rule), "key file readable by others (mode %04o)",
                       (unsigned)st.st_mode & 07777u);
        if (pk_rule_broken(fd, path, rule, trust, trust_len, problem, problem_len) != PK_ST_OK)
            return PK_ST_REFUSED;
    }
    if (cap != 0 && (unsigned long long)st.st_size > cap) {
        (void)close(fd);
        (void)snprintf(problem, problem_len, "%s: larger than %zu bytes", path, cap);
        return PK_ST_REFUSED;
    }
    /* Reads are blocking from here on: it is a regular file. */
    if (fcntl(fd, F_SETFL, 0) != 0) {
        (void)snprintf(problem, problem_len, "%s: fcntl: %s", path, strerror(errno));
        (void)close(fd);
        return PK_ST_UNAVAILABLE;
    }
    *fd_out = fd;
    return PK_ST_OK;
}

enum pk_status pk_safe_open(const char *path, enum pk_file_kind kind, uid_t uid, int *fd_out,
                            char *problem, size_t problem_len)
{
    return pk_open_rules(path, kind, uid, fd_out, NULL, 0, problem, problem_len);
}

static enum pk_status pk_read_rules(const char *path, enum pk_file_kind kind, uid_t uid,
                                    char **data, size_t *len, char *trust, size_t trust_len,
                                    char *problem, size_t problem_len)
{
    size_t cap = pk_file_cap(kind);
    char *buf;
    size_t used = 0;
    int fd;
    enum pk_status st;

    *data = NULL;
    *len = 0;
    if (cap == 0)
        cap = PK_CONFIG_MAX;
    st = pk_open_rules(path, kind, uid, &fd, trust, trust_len, problem, problem_len);
    if (st != PK_ST_OK)
        return st;
    buf = malloc(cap + 1);
    if (buf == NULL) {
        (void)close(fd);
        (void)snprintf(problem, problem_len, "%s: out of memory", path);
        return PK_ST_NOMEM;
    }
    /* Read one byte past the cap to notice a file that grew after fstat. */
    for (;;) {
        ssize_t n = read(fd, buf + used, cap + 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            (void)snprintf(problem, problem_len, "%s: read: %s", path, strerror(errno));
            pk_free_secret(buf, cap + 1);
            (void)close(fd);
            return PK_ST_UNAVAILABLE;
        }
        if (n == 0)
            break;
        used += (size_t)n;
        if (used > cap) {
            pk_free_secret(buf, cap + 1);
            (void)close(fd);
            (void)snprintf(problem, problem_len, "%s: larger than %zu bytes", path, cap);
            return PK_ST_REFUSED;
        }
    }
    (void)close(fd);
    buf[used] = '\0';
    *data = buf;
    *len = used;
    return PK_ST_OK;
}

enum pk_status pk_safe_read(const char *path, enum pk_file_kind kind, uid_t uid, char **data,
                            size_t *len, char *problem, size_t problem_len)
{
    return pk_read_rules(path, kind, uid, data, len, NULL, 0, problem, problem_len);
}

/* In the module too: pk_config_load_check (config.c) reads the config with
 * it. It never reads past a broken rule unless asked for trust. */
enum pk_status pk_check_read(const char *path, enum pk_file_kind kind, uid_t uid, char **data,
                             size_t *len, char *trust, size_t trust_len, char *problem,
                             size_t problem_len)
{
    return pk_read_rules(path, kind, uid, data, len, trust, trust_len, problem, problem_len);
}
