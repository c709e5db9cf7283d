/* pk_user_map_scan, for `kakao-pam check` only: kept apart from the lookup
 * so that pam_kakao.so does not carry it (docs/DESIGN.md §3.4). It reads
 * with the lookup's reader and line parser (user_map_read.h). */
#include "user_map.h"

#include <stdio.h>

#include "user_map_read.h"

enum pk_status pk_user_map_scan(const char *path, uid_t uid, pk_map_report report, void *ctx,
                                unsigned long *entries, char *problem, size_t problem_len)
{
    struct pk_map_reader r;
    const char *line;
    size_t len;
    unsigned long lineno = 0;
    const char *why;
    char trust[512];
    int fd = -1;
    enum pk_status opened;
    enum pk_status st;

    *entries = 0;
    opened =
        pk_check_open(path, PK_FILE_USER_MAP, uid, &fd, trust, sizeof(trust), problem, problem_len);
    st = pk_map_start(&r, opened, fd);
    if (st != PK_ST_OK)
        return st;
    if (trust[0] != '\0')
        report(ctx, path, 0, trust);
    while (pk_map_next_line(&r, &line, &len, &why)) {
        const char *id = NULL, *name = NULL;
        size_t id_len = 0, name_len = 0;

        lineno++;
        if (why == NULL)
            why = pk_map_parse_line(line, len, &id, &id_len, &name, &name_len);
        if (why == NULL)
            (*entries)++;
        else if (why[0] != '\0')
            report(ctx, path, lineno, why);
    }
    if (r.error) {
        (void)snprintf(problem, problem_len, "%s: read error", path);
        pk_map_close(&r);
        return PK_ST_REFUSED;
    }
    pk_map_close(&r);
    return PK_ST_OK;
}
