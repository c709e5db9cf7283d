/* `kakao-pam check`'s side of the kinds table (docs/DESIGN.md §4.5): every
 * file a kind names, checked with each problem reported, and what check says
 * of each kind. CLI only: src/kinds_check.c is not linked into pam_kakao.so,
 * which loads with pk_kinds_load alone (§3.4). */
#ifndef PK_KINDS_CHECK_H
#define PK_KINDS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "kinds.h"
#include "safe_file.h"
#include "status.h"
#include "verdict.h"

/* Where check's findings go, and its file readers (pk_check_open and
 * pk_check_read: they read past a broken trust rule, which is why the
 * module never links them). */
struct pk_kind_check {
    void (*problem)(void *ctx, const char *msg);
    void (*ok)(void *ctx, const char *msg);
    void *ctx;
    enum pk_status (*open)(const char *path, enum pk_file_kind kind, uid_t uid, int *fd_out,
                           char *trust, size_t trust_len, char *problem, size_t problem_len);
    enum pk_status (*read)(const char *path, enum pk_file_kind kind, uid_t uid, char **data,
                           size_t *len, char *trust, size_t trust_len, char *problem,
                           size_t problem_len);
};

/* One row per kind that has something to check or say; bit names its row
 * in pk_kinds[]. */
struct pk_kind_check_ops {
    enum pk_kind bit;
    /* Checks the files the kind names (none named: nothing to check),
     * reading on past a broken trust rule: every problem is reported and
     * `ok` names what loaded cleanly. PK_OK unless out of memory. NULL =
     * no files. */
    enum pk_outcome (*files)(const struct pk_config *cfg, uid_t uid,
                             const struct pk_kind_check *check, struct pk_result *res);
    /* What to add to "ok accept" (NULL = nothing). */
    void (*summary)(const struct pk_config *cfg, char *buf, size_t len);
};

extern const struct pk_kind_check_ops pk_kind_checks[];
extern const size_t pk_kind_check_count;

/* Every file the config names, whether or not its kind is accepted: the
 * CA bundle first, then each kind's. A jwks_url is never fetched. PK_OK
 * unless out of memory. */
enum pk_outcome pk_kinds_check(const struct pk_config *cfg, uid_t uid,
                               const struct pk_kind_check *check, struct pk_result *res);

/* What `check` adds to its "ok accept" line for the kind bit; false when
 * nothing. */
bool pk_kind_summary(enum pk_kind bit, const struct pk_config *cfg, char *buf, size_t len);

#endif
