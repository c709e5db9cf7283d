#include "cache_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pk_cache_dir_open(const char *path, uid_t uid, char *why, size_t why_len)
{
    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    struct stat st;
    int fd = open(path, flags);

    /* Made when missing; the checks below apply to it like to any other. */
    if (fd < 0 && errno == ENOENT) {
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            (void)snprintf(why, why_len, "cannot create: %s", strerror(errno));
            return -1;
        }
        fd = open(path, flags);
    }
    if (fd < 0 && (errno == ENOTDIR || errno == ELOOP)) {
        (void)snprintf(why, why_len, "not a directory (symbolic links are not followed)");
        return -1;
    }
    if (fd < 0) {
        (void)snprintf(why, why_len, "cannot open: %s", strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        (void)snprintf(why, why_len, "cannot stat: %s", strerror(errno));
        (void)close(fd);
        return -1;
    }
    if (st.st_uid != uid) {
        (void)snprintf(why, why_len, "owned by uid %u, not uid %u", (unsigned)st.st_uid,
                       (unsigned)uid);
        (void)close(fd);
        return -1;
    }
    if ((st.st_mode & 077) != 0) {
        (void)snprintf(why, why_len, "mode %04o, not root-only (0700)",
                       (unsigned)(st.st_mode & 07777));
        (void)close(fd);
        return -1;
    }
    return fd;
}

enum pk_status pk_cache_file_read(int dirfd, const char *name, uid_t uid, mode_t forbid_mode,
                                  size_t max, char **data, size_t *len, const char **why)
{
    struct stat st;
    char *buf;
    size_t used = 0;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    *data = NULL;
    *why = NULL;
    if (fd < 0) {
        if (errno == ENOENT)
            return PK_ST_MISSING;
        *why = "cannot open";
        return PK_ST_UNAVAILABLE;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != uid ||
        (st.st_mode & forbid_mode) != 0 || st.st_size < 0 || (size_t)st.st_size > max) {
        (void)close(fd);
        *why = "not a regular file of ours, or too large";
        return PK_ST_REFUSED;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        (void)close(fd);
        *why = "out of memory";
        return PK_ST_NOMEM;
    }
    while (used < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + used, (size_t)st.st_size - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    (void)close(fd);
    buf[used] = '\0';
    *data = buf;
    *len = used;
    return PK_ST_OK;
}

static bool pk_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

/* A failed write: why gets the system's word for err. */
static enum pk_status pk_write_failed(int err, char *why, size_t why_len)
{
    (void)snprintf(why, why_len, "%s", strerror(err != 0 ? err : EIO));
    return PK_ST_UNAVAILABLE;
}

enum pk_status pk_cache_file_write(int dirfd, const char *name, const char *data, size_t len,
                                   const struct pk_logger *log, char *why, size_t why_len)
{
    char tmp[128];
    int fd, err;
    bool ok;

    /* pid and thread id keep concurrent writers off each other's file. */
    if (snprintf(tmp, sizeof(tmp), ".%s.%ld.%ld.tmp", name, (long)getpid(), (long)gettid()) >=
        (int)sizeof(tmp))
        return pk_write_failed(ENAMETOOLONG, why, why_len);
    fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST && unlinkat(dirfd, tmp, 0) == 0)
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return pk_write_failed(errno, why, why_len);
    ok = pk_write_all(fd, data, len) && fsync(fd) == 0;
    err = ok ? 0 : errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        err = errno;
    }
    if (ok && renameat(dirfd, tmp, dirfd, name) != 0) {
        ok = false;
        err = errno;
    }
    if (!ok) {
        (void)unlinkat(dirfd, tmp, 0);
        return pk_write_failed(err, why, why_len);
    }
    if (fsync(dirfd) != 0)
        pk_debug(log, "cache_dir: fsync: %s", strerror(errno));
    return PK_ST_OK;
}

bool pk_cache_file_remove(int dirfd, const char *name)
{
    return unlinkat(dirfd, name, 0) == 0;
}

unsigned pk_cache_prune(int dirfd, const char *prefix, time_t before)
{
    return pk_cache_prune_max(dirfd, prefix, before, UINT_MAX);
}

unsigned pk_cache_prune_max(int dirfd, const char *prefix, time_t before, unsigned max_scan)
{
    size_t plen = strlen(prefix);
    unsigned removed = 0;
    unsigned scanned = 0;
    struct dirent *e;
    DIR *d;
    /* A description of its own: a dup would share (and move) dirfd's offset. */
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return 0;
    d = fdopendir(fd);
    if (d == NULL) {
        (void)close(fd);
        return 0;
    }
    while (scanned++ < max_scan && (e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        struct stat st;

        if (n[0] == '.')
            n++;
        if (strncmp(n, prefix, plen) != 0)
            continue;
        if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR(st.st_mode) ||
            st.st_mtime >= before)
            continue;
        if (unlinkat(dirfd, e->d_name, 0) == 0)
            removed++;
    }
    (void)closedir(d);
    return removed;
}

bool pk_sha256_hex(const void *data, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
        return false;
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0xf];
    }
    out[64] = '\0';
    return true;
}
