#include "user_map.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "safe_file.h"
#include "token.h"
#include "user_map_read.h"

/* Longer lines cannot be valid: 19 digits, blanks, a 32-byte name, a comment. */
#define PK_MAP_LINE_MAX 1024
/* Malformed lines logged per lookup; the rest are counted. */
#define PK_MAP_LOG_MAX 10

/* Character classes for the map's syntax, one table lookup per byte: the
 * map may have a million lines. */
enum {
    PK_CH_BLANK = 1,     /* ' ' '\t' '\r' '\n': separates fields */
    PK_CH_HASH = 2,      /* '#': starts a comment */
    PK_CH_NAME = 4,      /* [A-Za-z0-9._-] */
    PK_CH_NAME_FIRST = 8 /* [A-Za-z0-9._] */
};
#define PK_CH(c)                                                                                   \
    ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n' ? PK_CH_BLANK                         \
     : (c) == '#'                                            ? PK_CH_HASH                          \
     : ((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z') || ((c) >= '0' && (c) <= '9') ||   \
             (c) == '.' || (c) == '_'                                                              \
         ? PK_CH_NAME | PK_CH_NAME_FIRST                                                           \
     : (c) == '-' ? PK_CH_NAME                                                                     \
                  : 0)
#define PK_CH4(c) PK_CH(c), PK_CH((c) + 1), PK_CH((c) + 2), PK_CH((c) + 3)
#define PK_CH16(c) PK_CH4(c), PK_CH4((c) + 4), PK_CH4((c) + 8), PK_CH4((c) + 12)
#define PK_CH64(c) PK_CH16(c), PK_CH16((c) + 16), PK_CH16((c) + 32), PK_CH16((c) + 48)
static const unsigned char pk_ch[256] = {PK_CH64(0), PK_CH64(64), PK_CH64(128), PK_CH64(192)};

static inline unsigned pk_class(char c)
{
    return pk_ch[(unsigned char)c];
}

/* A local user name: a portable name of at most 32 bytes, [A-Za-z0-9._]
 * then [A-Za-z0-9._-], the last byte may be '$'. The one statement of the
 * rule. */
static inline bool pk_user_text(const char *s, size_t len)
{
    size_t n = len;

    if (len == 0 || len > 32)
        return false;
    if (s[len - 1] == '$')
        n--;
    if (n == 0 || (pk_class(s[0]) & PK_CH_NAME_FIRST) == 0)
        return false;
    for (size_t i = 1; i < n; i++)
        if ((pk_class(s[i]) & PK_CH_NAME) == 0)
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

/* Splits "id user [# comment]" (len bytes, no newline, no NUL); returns a
 * reason when malformed, "" for a blank or comment line. A '#' anywhere
 * ends the line. The fields are found with the class table, then checked
 * with the rules of pk_valid_kakao_id_text (token.c) and pk_user_text. */
const char *pk_map_parse_line(const char *line, size_t len, const char **id, size_t *id_len,
                              const char **name, size_t *name_len)
{
    const unsigned stop = PK_CH_BLANK | PK_CH_HASH;
    const char *p = line, *end = line + len;

    while (p < end && (pk_class(*p) & PK_CH_BLANK) != 0)
        p++;
    if (p == end || *p == '#')
        return "";
    *id = p;
    while (p < end && (pk_class(*p) & stop) == 0)
        p++;
    *id_len = (size_t)(p - *id);
    while (p < end && (pk_class(*p) & PK_CH_BLANK) != 0)
        p++;
    if (p == end || *p == '#')
        return "missing local user";
    *name = p;
    while (p < end && (pk_class(*p) & stop) == 0)
        p++;
    *name_len = (size_t)(p - *name);
    while (p < end && (pk_class(*p) & PK_CH_BLANK) != 0)
        p++;
    if (p != end && *p != '#')
        return "more than two fields";
    if (!pk_valid_kakao_id_text(*id, *id_len, NULL))
        return "bad kakao_id";
    if (!pk_user_text(*name, *name_len))
        return "bad local user name";
    return NULL;
}

static bool pk_map_fill(struct pk_map_reader *r)
{
    ssize_t n;

    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->end - r->pos);
        r->end -= r->pos;
        r->pos = 0;
    }
    do
        n = read(r->fd, r->buf + r->end, PK_MAP_BLOCK - r->end);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        r->error = true;
    if (n <= 0)
        return false;
    r->end += (size_t)n;
    return true;
}

/* The next line, without its newline, in *line and *len; false at end of file.
 * Unlike fgets, a NUL byte neither hides the rest of its line nor lets the
 * next line be skipped or the tail of a last line be dropped: *why names
 * the problem ("line too long" beyond PK_MAP_LINE_MAX - 2 bytes). */
bool pk_map_next_line(struct pk_map_reader *r, const char **line, size_t *len, const char **why)
{
    bool too_long = false;

    *why = NULL;
    for (;;) {
        const char *start = r->buf + r->pos;
        const char *nl = memchr(start, '\n', r->end - r->pos);

        if (nl != NULL) {
            *line = start;
            *len = (size_t)(nl - start);
            r->pos += *len + 1;
            break;
        }
        if (r->end - r->pos >= PK_MAP_LINE_MAX - 1) {
            /* Cannot be valid: drop what we have and find its end. */
            too_long = true;
            r->pos = r->end;
        }
        if (!pk_map_fill(r)) {
            if (r->pos == r->end && !too_long)
                return false;
            *line = r->buf + r->pos;
            *len = r->end - r->pos;
            r->pos = r->end;
            break;
        }
    }
    if (too_long || *len > PK_MAP_LINE_MAX - 2)
        *why = "line too long";
    else if (memchr(*line, '\0', *len) != NULL)
        *why = "NUL byte";
    return true;
}

enum pk_status pk_map_start(struct pk_map_reader *r, enum pk_status opened, int fd)
{
    memset(r, 0, sizeof(*r));
    if (opened == PK_ST_NOMEM)
        return PK_ST_NOMEM;
    if (opened != PK_ST_OK)
        return PK_ST_REFUSED;
    r->fd = fd;
    /* Zeroed: a recycled block may still hold another library's secrets
     * (libcurl's buffer, a token), which must not pass through ours. */
    r->buf = calloc(1, PK_MAP_BLOCK);
    if (r->buf == NULL) {
        (void)close(r->fd);
        return PK_ST_NOMEM;
    }
    return PK_ST_OK;
}

void pk_map_close(struct pk_map_reader *r)
{
    free(r->buf);
    (void)close(r->fd);
    memset(r, 0, sizeof(*r));
}

static enum pk_status pk_id_list_add(struct pk_id_list *list, size_t *cap, int64_t id)
{
    if (pk_id_list_contains(list, id))
        return PK_ST_OK;
    if (list->count == *cap) {
        size_t ncap = *cap == 0 ? 4 : *cap * 2;
        int64_t *n = realloc(list->ids, ncap * sizeof(*n));
        if (n == NULL)
            return PK_ST_NOMEM;
        list->ids = n;
        *cap = ncap;
    }
    list->ids[list->count++] = id;
    return PK_ST_OK;
}

enum pk_status pk_user_map_lookup(const char *path, uid_t uid, const char *user,
                                  const struct pk_logger *log, struct pk_id_list *out,
                                  char *problem, size_t problem_len)
{
    struct pk_map_reader r;
    const char *line;
    size_t len;
    unsigned long lineno = 0, malformed = 0, dropped = 0;
    size_t cap = 0, user_len = strlen(user);
    const char *why;
    int fd = -1;
    enum pk_status opened;
    enum pk_status st;

    out->ids = NULL;
    out->count = 0;
    opened = pk_safe_open(path, PK_FILE_USER_MAP, uid, &fd, problem, problem_len);
    st = pk_map_start(&r, opened, fd);
    if (st != PK_ST_OK)
        return st;
    while (pk_map_next_line(&r, &line, &len, &why)) {
        const char *id = NULL, *name = NULL;
        size_t id_len = 0, name_len = 0;
        int64_t value = 0;

        lineno++;
        if (why == NULL)
            why = pk_map_parse_line(line, len, &id, &id_len, &name, &name_len);
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
        if (pk_id_list_add(out, &cap, value) != PK_ST_OK) {
            pk_map_close(&r);
            pk_id_list_free(out);
            return PK_ST_NOMEM;
        }
    }
    if (r.error) {
        (void)snprintf(problem, problem_len, "%s: read error", path);
        pk_map_close(&r);
        pk_id_list_free(out);
        return PK_ST_REFUSED;
    }
    pk_map_close(&r);
    if (malformed > PK_MAP_LOG_MAX)
        pk_log(log, LOG_WARNING, "%s: %lu more malformed lines ignored", path,
               malformed - PK_MAP_LOG_MAX);
    if (dropped > 0)
        pk_log(log, LOG_WARNING, "%s: user has more than %d kakao ids; %lu lines ignored", path,
               PK_MAP_MAX_IDS, dropped);
    return PK_ST_OK;
}
