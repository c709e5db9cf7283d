/* Opening files that decide who may log in: no symlinks, regular files,
 * owned by root or the running uid, not writable by group/others (key files:
 * not readable by others either), size-capped (docs/DESIGN.md §6). */
#ifndef PK_SAFE_FILE_H
#define PK_SAFE_FILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "status.h"

#define PK_CONFIG_MAX (64 * 1024)
#define PK_KEY_MAX (64 * 1024)

enum pk_file_kind {
    PK_FILE_CONFIG,   /* config, JWKS file */
    PK_FILE_USER_MAP, /* config rules, no size cap (streamed) */
    PK_FILE_KEY,      /* also not readable by others */
    PK_FILE_CA,       /* a CA bundle (ca_file): public, so world-readable is fine;
                         no size cap (system bundles are large; libcurl reads it) */
};

/* The functions below return PK_ST_MISSING when the file does not exist
 * (ENOENT), PK_ST_REFUSED when a trust rule is broken, PK_ST_UNAVAILABLE
 * when it cannot be opened or read, PK_ST_NOMEM; problem says which. */

/* Opens path for reading after checking the rules; problem (always set when
 * the status is not OK) names the rule. */
enum pk_status pk_safe_open(const char *path, enum pk_file_kind kind, uid_t uid, int *fd_out,
                            char *problem, size_t problem_len);

/* Reads the whole file (NUL-terminated, len excludes the NUL). The caller
 * wipes and frees *data. */
enum pk_status pk_safe_read(const char *path, enum pk_file_kind kind, uid_t uid, char **data,
                            size_t *len, char *problem, size_t problem_len);

/* For `kakao-pam check` only, never the module: check grants nothing, so a
 * file that breaks the owner, mode or no-symlink rule is still opened (and
 * read) to have its syntax checked too. Each broken rule is written to trust
 * as "PATH: rule[; rule]" (empty when none; meaningful with PK_ST_OK
 * only); the status and problem are as for pk_safe_open otherwise (a file
 * that is not regular, or too large, is still refused). pk_check_open is
 * in src/safe_file_check.c, outside the module. */
enum pk_status pk_check_open(const char *path, enum pk_file_kind kind, uid_t uid, int *fd_out,
                             char *trust, size_t trust_len, char *problem, size_t problem_len);
enum pk_status pk_check_read(const char *path, enum pk_file_kind kind, uid_t uid, char **data,
                             size_t *len, char *trust, size_t trust_len, char *problem,
                             size_t problem_len);

#endif
