/* cache_dir (docs/DESIGN.md §8.1): the root-only directory that keeps the fetched JWKS
 * and the Kakao check cache. Shared by both so the directory and its files
 * are trusted, read and written one way only.
 *
 * The directory is used only while it is a real directory (never through a
 * symbolic link) owned by the running uid with no access for group or
 * others; it is created 0700 when missing and possible. Files are opened
 * relative to it without following links, must be regular files of ours,
 * and are replaced atomically (temp file, fsync, rename, fsync of the
 * directory). A cache that cannot be used costs only the cache. */
#ifndef PK_CACHE_DIR_H
#define PK_CACHE_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "log.h"
#include "status.h"

/* Opens (creating when missing) path if it is ours alone; -1 means "do not
 * cache", with why set ("mode 0755, not root-only (0700)", ...). */
int pk_cache_dir_open(const char *path, uid_t uid, char *why, size_t why_len);

/* Reads name (in the directory dirfd) into *data (malloc'd,
 * NUL-terminated, *len bytes): no symlink, a regular file owned by uid, no
 * mode bit of forbid_mode set, at most max bytes. PK_ST_MISSING when the
 * file does not exist; PK_ST_REFUSED (unusable) or PK_ST_UNAVAILABLE
 * (cannot open) with *why set; PK_ST_NOMEM. */
enum pk_status pk_cache_file_read(int dirfd, const char *name, uid_t uid, mode_t forbid_mode,
                                  size_t max, char **data, size_t *len, const char **why);

/* Replaces name with data atomically, mode 0600. PK_ST_OK, or
 * PK_ST_UNAVAILABLE with why set to the system's word for the failure; the
 * temp file never survives a failure. */
enum pk_status pk_cache_file_write(int dirfd, const char *name, const char *data, size_t len,
                                   const struct pk_logger *log, char *why, size_t why_len);

/* Removes name unless it is a directory (a link is removed, never
 * followed); false when it could not be removed. */
bool pk_cache_file_remove(int dirfd, const char *name);

/* Removes the files whose name starts with prefix (also ".prefix", our temp
 * files) and whose mtime is before `before`. Returns how many. */
unsigned pk_cache_prune(int dirfd, const char *prefix, time_t before);
/* The same, looking at no more than max_scan directory entries. */
unsigned pk_cache_prune_max(int dirfd, const char *prefix, time_t before, unsigned max_scan);

/* SHA-256 of data as 64 lowercase hex digits and a NUL; false only when
 * the digest fails. */
bool pk_sha256_hex(const void *data, size_t len, char out[65]);

#endif
