/* One Redis connection with one deadline: the shared layer under the
 * module's one-time store and the relay's Redis store (docs/DESIGN.md §7.7).
 *
 * hiredis is dlopen()ed from its absolute path (RTLD_NOW | RTLD_LOCAL |
 * RTLD_NODELETE) when a connection is opened, exactly as src/http.c loads
 * libcurl (docs/DESIGN.md §7.6): a process that never uses Redis never loads
 * it, and its functions live in the connection, nothing global. Only the
 * protocol half of hiredis is used (command formatting, reply parsing); the
 * socket is ours, non-blocking, and every wait is a poll() on what is left of
 * the caller's deadline, so a server that stops answering, or answers one
 * byte at a time, cannot hold a login past it.
 *
 * Problems never contain the password (nor any command argument). */
#ifndef PK_REDIS_H
#define PK_REDIS_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

/* Where the server is. TCP hosts are numeric (an IPv4 address, or an IPv6
 * address in brackets): a name lookup could not be bounded by the deadline. */
struct pk_redis_target {
    bool is_unix;
    char host[256]; /* numeric address, without brackets */
    unsigned port;
    unsigned db; /* SELECTed after connect when not 0; always 0 for unix: */
    char path[108];
};

/* url: redis://HOST:PORT[/DB] (DB 0-65535) or unix:PATH (absolute). */
enum pk_status pk_redis_target_parse(const char *url, struct pk_redis_target *out, char *problem,
                                     size_t problem_len);

/* "127.0.0.1:6379/2", "[::1]:6379" or "unix:/run/redis.sock", for messages. */
void pk_redis_target_describe(const struct pk_redis_target *t, char *buf, size_t len);

struct pk_redis; /* opaque */

/* deadline_ms: CLOCK_MONOTONIC milliseconds (absolute, see pk_redis_now_ms)
 * by which connect + AUTH + SELECT must be done. password: NULL or the AUTH
 * password (the caller reads redis_password_file with the key-file trust
 * rules). PK_ST_UNAVAILABLE: hiredis cannot be loaded, the server cannot be
 * reached in time, or refuses AUTH or SELECT; PK_ST_REFUSED: a target that
 * pk_redis_target_parse would not produce. *out is NULL unless PK_ST_OK. */
enum pk_status pk_redis_connect(const struct pk_redis_target *t, const char *password,
                                long long deadline_ms, struct pk_redis **out, char *problem,
                                size_t problem_len);

enum pk_redis_type {
    PK_REDIS_NIL,
    PK_REDIS_INT,
    PK_REDIS_STR,
    PK_REDIS_STATUS,
    PK_REDIS_ERROR,
    PK_REDIS_ARRAY,
};

struct pk_redis_reply {
    enum pk_redis_type type;
    long long integer;              /* PK_REDIS_INT */
    char *str;                      /* STR, STATUS, ERROR: len bytes and a NUL */
    size_t len;                     /* bytes of str */
    size_t elements;                /* PK_REDIS_ARRAY */
    struct pk_redis_reply *element; /* PK_REDIS_ARRAY: elements replies */
};

/* One command as argv (binary-safe; argvlen may not be NULL). The waits are
 * bounded by deadline_ms; a reply is at most 1 MiB. PK_ST_UNAVAILABLE: not
 * connected, I/O error, protocol error, timeout (the connection is then
 * unusable: every later command fails at once); a Redis error reply is
 * PK_ST_OK with type PK_REDIS_ERROR. *out is NULL unless PK_ST_OK. */
enum pk_status pk_redis_command(struct pk_redis *r, long long deadline_ms, int argc,
                                const char *const *argv, const size_t *argvlen,
                                struct pk_redis_reply **out, char *problem, size_t problem_len);

/* After pk_redis_command: whether it handed at least one byte of its
 * command to the socket. A command that failed with this false never
 * reached the server; with it true the server may have run it (a
 * connection dropped before the reply), so running it again is the
 * caller's choice to make, never this layer's. */
bool pk_redis_command_sent(const struct pk_redis *r);

/* Whether a connection left idle can carry the next command, checked
 * without waiting: false (and the connection is then unusable) when the
 * server closed it (a restart, its idle timeout), the socket failed, or
 * bytes arrived that no command asked for. A pool checks each connection
 * so before it reuses it, instead of sending and retrying. */
bool pk_redis_idle_usable(struct pk_redis *r);

/* Strings are wiped before they are freed; NULL is fine. */
void pk_redis_reply_free(struct pk_redis_reply *reply);
/* NULL is fine. */
void pk_redis_close(struct pk_redis *r);

/* CLOCK_MONOTONIC now, in milliseconds: the clock of every deadline_ms. */
long long pk_redis_now_ms(void);

#endif
