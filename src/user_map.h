/* The user map (pam_kakao.conf(5), USER MAP; docs/DESIGN.md §9.2): "kakao_id local_user" lines,
 * read as a stream so memory does not grow with the file. */
#ifndef PK_USER_MAP_H
#define PK_USER_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "log.h"
#include "status.h"

/* A user with more map lines than this gets the first ones only. */
#define PK_MAP_MAX_IDS 1024

struct pk_id_list {
    int64_t *ids;
    size_t count;
};

/* Collects every kakao_id mapped to user. Malformed lines are logged with
 * file:line and ignored. On PK_ST_REFUSED problem names file and rule. */
enum pk_status pk_user_map_lookup(const char *path, uid_t uid, const char *user,
                                  const struct pk_logger *log, struct pk_id_list *out,
                                  char *problem, size_t problem_len);

/* Reports every malformed line (no cap, unlike the lookup's log) and counts
 * the well-formed entries: for `kakao-pam check` only (src/user_map_scan.c,
 * not in the module). A file that breaks the
 * owner, mode or no-symlink rule is still read: the broken rules come first,
 * as one report with line 0 and problem "PATH: rule[; rule]". */
typedef void (*pk_map_report)(void *ctx, const char *path, unsigned long line, const char *problem);
enum pk_status pk_user_map_scan(const char *path, uid_t uid, pk_map_report report, void *ctx,
                                unsigned long *entries, char *problem, size_t problem_len);

bool pk_id_list_contains(const struct pk_id_list *list, int64_t id);
void pk_id_list_free(struct pk_id_list *list);

/* A kakao_id's spelling is pk_valid_kakao_id_text in token.h. */

#endif
