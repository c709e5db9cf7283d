#include "user_map.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "safe_file.h"

/* Longer lines cannot be valid: 19 digits, blanks, a 32-byte name, a comment. */
#define PK_MAP_LINE_MAX 1024
/* Malformed lines logged per lookup; the rest are counted. */
#define PK_MAP_LOG_MAX 10

bool pk_valid_kakao_id_text(const char *s, size_t len, int64_t *out)
{
    static const char max[] = "9223372036854775807";
    int64_t v = 0;

    if (len == 0 || len > 19 || s[0] == '0')
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    if (len == 19 && memcmp(s, max, 19) > 0)
        return false;
    for (size_t i = 0; i < len; i++)
        v = v * 10 + (s[i] - '0');
    if (out != NULL)
        *out = v;
    return true;
}

static bool pk_name_char(char c, bool first)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '_')
        return true;
    return !first && c == '-';
}

bool pk_valid_local_user(const char *s, size_t len)
{
    size_t n = len;

    if (len == 0 || len > 32)
        return false;
    if (s[len - 1] == '$')
        n--;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!pk_name_char(s[i], i == 0))
            return false;
    return true;
}

bool pk_id_list_contains(const struct pk_id_list *list, int64_t id)
{
    for (size_t i = 0; i < list->count; i++)
        if (list->ids[i] == id)
            return true;
    return false;
}

void pk_id_list_free(struct pk_id_list *list)
{
    free(list->ids);
    list->ids = NULL;
    list->count = 0;
}

static bool pk_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Splits "id user [# comment]"; returns a reason when malformed. */
static const char *pk_map_parse_line(char *line, const char **id, size_t *id_len,
                                     const char **name, size_t *name_len)
{
    char *hash = strchr(line, '#');
    char *p = line;

    if (hash != NULL)
        *hash = '\0';
    while (pk_blank(*p))
        p++;
    if (*p == '\0')
        return "";
    *id = p;
    while (*p != '\0' && !pk_blank(*p))
        p++;
    *id_len = (size_t)(p - *id);
    while (pk_blank(*p))
        p++;
    if (*p == '\0')
        return "missing local user";
    *name = p;
    while (*p != '\0' && !pk_blank(*p))
        p++;
    *name_len = (size_t)(p - *name);
    while (pk_blank(*p))
        p++;
    if (*p != '\0')
        return "more than two fields";
    if (!pk_valid_kakao_id_text(*id, *id_len, NULL))
        return "bad kakao_id";
    if (!pk_valid_local_user(*name, *name_len))
        return "bad local user name";
    return NULL;
}

/* Reads one line, without its newline, into buf; false at end of file. Unlike
 * fgets, a NUL byte neither hides the rest of its line nor lets the next line
 * be skipped or the tail of a last line be dropped: *why names the problem. */
static bool pk_map_read_line(FILE *fp, char *buf, size_t size, const char **why)
{
    size_t n = 0;
    bool any = false, nul = false, too_long = false;
    int c;

    while ((c = getc(fp)) != EOF) {
        any = true;
        if (c == '\n')
            break;
        if (c == '\0')
            nul = true;
        /* Room for size - 2 bytes, as fgets left with the newline kept. */
        if (n + 2 < size)
            buf[n++] = (char)c;
        else
            too_long = true;
    }
    buf[n] = '\0';
    *why = too_long ? "line too long" : nul ? "NUL byte" : NULL;
    return any;
}

static int pk_id_list_add(struct pk_id_list *list, size_t *cap, int64_t id)
{
    if (pk_id_list_contains(list, id))
        return 0;
    if (list->count == *cap) {
        size_t ncap = *cap == 0 ? 4 : *cap * 2;
        int64_t *n = realloc(list->ids, ncap * sizeof(*n));
        if (n == NULL)
            return -1;
        list->ids = n;
        *cap = ncap;
    }
    list->ids[list->count++] = id;
    return 0;
}

enum pk_map_status pk_user_map_lookup(const char *path, uid_t uid, const char *user,
                                      const struct pk_logger *log, struct pk_id_list *out,
                                      char *problem, size_t problem_len)
{
    char line[PK_MAP_LINE_MAX];
    FILE *fp;
    unsigned long lineno = 0, malformed = 0, dropped = 0;
    size_t cap = 0, user_len = strlen(user);
    const char *why;
    enum pk_file_status st;

    out->ids = NULL;
    out->count = 0;
    st = pk_safe_fopen(path, PK_FILE_USER_MAP, uid, &fp, problem, problem_len);
    if (st == PK_FILE_NOMEM)
        return PK_MAP_NOMEM;
    if (st != PK_FILE_OK)
        return PK_MAP_FILE_ERROR;
    while (pk_map_read_line(fp, line, sizeof(line), &why)) {
        const char *id = NULL, *name = NULL;
        size_t id_len = 0, name_len = 0;
        int64_t value;

        lineno++;
        if (why == NULL)
            why = pk_map_parse_line(line, &id, &id_len, &name, &name_len);
        if (why != NULL && why[0] == '\0')
            continue;
        if (why != NULL) {
            if (malformed++ < PK_MAP_LOG_MAX)
                pk_log(log, LOG_WARNING, "%s:%lu: malformed line ignored: %s", path, lineno, why);
            continue;
        }
        if (name_len != user_len || memcmp(name, user, user_len) != 0)
            continue;
        if (out->count >= PK_MAP_MAX_IDS) {
            dropped++;
            continue;
        }
        (void)pk_valid_kakao_id_text(id, id_len, &value);
        if (pk_id_list_add(out, &cap, value) != 0) {
            (void)fclose(fp);
            pk_id_list_free(out);
            return PK_MAP_NOMEM;
        }
    }
    if (ferror(fp)) {
        (void)snprintf(problem, problem_len, "%s: read error", path);
        (void)fclose(fp);
        pk_id_list_free(out);
        return PK_MAP_FILE_ERROR;
    }
    (void)fclose(fp);
    if (malformed > PK_MAP_LOG_MAX)
        pk_log(log, LOG_WARNING, "%s: %lu more malformed lines ignored", path,
               malformed - PK_MAP_LOG_MAX);
    if (dropped > 0)
        pk_log(log, LOG_WARNING, "%s: user has more than %d kakao ids; %lu lines ignored", path,
               PK_MAP_MAX_IDS, dropped);
    return PK_MAP_OK;
}

enum pk_map_status pk_user_map_scan(const char *path, uid_t uid, pk_map_report report, void *ctx,
                                    unsigned long *entries, char *problem, size_t problem_len)
{
    char line[PK_MAP_LINE_MAX];
    FILE *fp;
    unsigned long lineno = 0;
    const char *why;
    enum pk_file_status st;

    *entries = 0;
    st = pk_safe_fopen(path, PK_FILE_USER_MAP, uid, &fp, problem, problem_len);
    if (st == PK_FILE_NOMEM)
        return PK_MAP_NOMEM;
    if (st != PK_FILE_OK)
        return PK_MAP_FILE_ERROR;
    while (pk_map_read_line(fp, line, sizeof(line), &why)) {
        const char *id = NULL, *name = NULL;
        size_t id_len = 0, name_len = 0;

        lineno++;
        if (why == NULL)
            why = pk_map_parse_line(line, &id, &id_len, &name, &name_len);
        if (why == NULL)
            (*entries)++;
        else if (why[0] != '\0')
            report(ctx, path, lineno, why);
    }
    if (ferror(fp)) {
        (void)snprintf(problem, problem_len, "%s: read error", path);
        (void)fclose(fp);
        return PK_MAP_FILE_ERROR;
    }
    (void)fclose(fp);
    return PK_MAP_OK;
}
