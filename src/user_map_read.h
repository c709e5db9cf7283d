/* The user map's reader and line parser, shared by the lookup (user_map.c,
 * in the module) and the scan (user_map_scan.c, `kakao-pam check` only).
 * Internal to those two files. */
#ifndef PK_USER_MAP_READ_H
#define PK_USER_MAP_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "safe_file.h"
#include "user_map.h"

/* The map is read with read(2) in large blocks and split with memchr: a
 * million lines take a few tens of milliseconds, and memory stays at one
 * block whatever the file's size. */
#define PK_MAP_BLOCK (64 * 1024)

struct pk_map_reader {
    int fd;
    char *buf; /* PK_MAP_BLOCK bytes */
    size_t pos, end;
    bool error;
};

/* Readies r for fd, the result of opening the map (opened is that open's
 * status; fd is used only when it is PK_ST_OK, and is then owned by r). */
enum pk_status pk_map_start(struct pk_map_reader *r, enum pk_status opened, int fd);
void pk_map_close(struct pk_map_reader *r);

/* The next line, without its newline, in *line and *len; false at end of
 * file (r->error tells a read error). *why names a line that cannot be
 * valid ("line too long", "NUL byte"), else NULL. */
bool pk_map_next_line(struct pk_map_reader *r, const char **line, size_t *len, const char **why);

/* Splits "id user [# comment]" (len bytes); NULL when well-formed, "" for a
 * blank or comment line, else the reason it is malformed. */
const char *pk_map_parse_line(const char *line, size_t len, const char **id, size_t *id_len,
                              const char **name, size_t *name_len);

#endif
