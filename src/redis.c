/* The Redis client of the project (src/redis.h; docs/DESIGN.md §7.7). */
#include "redis.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dl.h"
#include "log.h"
#include "secure.h"

/* The reply and reader structures are read from this header while the
 * library is dlopen()ed by its soname (PK_LIBHIREDIS_PATH, .so.0.14): the two
 * must be the same version, or fields would be misread. (defined(): the
 * static analysers read this file without the system headers.) */
#if defined(HIREDIS_MAJOR) && (HIREDIS_MAJOR != 0 || HIREDIS_MINOR != 14)
#error "src/redis.c needs hiredis 0.14: header and dlopen()ed soname must match"
#endif

#ifndef PK_LIBHIREDIS_PATH
#define PK_LIBHIREDIS_PATH "/usr/lib/x86_64-linux-gnu/libhiredis.so.0.14"
#endif

/* Far above what the one-time store or the relay's sessions need. */
#define PK_REDIS_REPLY_MAX (1024u * 1024u)
#define PK_REDIS_READ_CHUNK 4096u
#define PK_REDIS_DB_MAX 65535u
#define PK_REDIS_LABEL_LEN 300u

/* The hiredis functions we use: its protocol half only. */
struct pk_hiredis_api {
    void *dl;
    redisReader *(*reader_create)(void);
    void (*reader_free)(redisReader *);
    int (*reader_feed)(redisReader *, const char *, size_t);
    int (*reader_get_reply)(redisReader *, void **);
    void (*free_reply)(void *);
    int (*format_argv)(char **, int, const char **, const size_t *);
    void (*free_command)(char *);
};

struct pk_redis {
    struct pk_hiredis_api api;
    int fd;
    bool broken; /* after an I/O, protocol or timeout failure */
    bool sent;   /* the last command handed at least one byte to the socket */
    redisReader *reader;
    char label[PK_REDIS_LABEL_LEN];
};

long long pk_redis_now_ms(void)
{
    struct timespec t = {0, 0};

    (void)clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000LL + (long long)(t.tv_nsec / 1000000L);
}

/* ---- the target ---- */

static bool pk_redis_number(const char *s, size_t n, unsigned max, unsigned *out)
{
    unsigned long v = 0;

    if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10u + (unsigned long)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

static enum pk_status pk_redis_parse_unix(const char *path, struct pk_redis_target *out,
                                          char *problem, size_t problem_len)
{
    size_t n = strlen(path);

    if (path[0] != '/') {
        pk_problem_printf(problem, problem_len, "unix: needs an absolute path");
        return PK_ST_REFUSED;
    }
    if (n >= sizeof(out->path)) {
        pk_problem_printf(problem, problem_len, "unix: path longer than %zu bytes",
                          sizeof(out->path) - 1);
        return PK_ST_REFUSED;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];

        if (c < 0x21 || c > 0x7e) {
            pk_problem_printf(problem, problem_len,
                              "unix: path holds a space or a non-printable byte");
            return PK_ST_REFUSED;
        }
    }
    out->is_unix = true;
    memcpy(out->path, path, n + 1);
    return PK_ST_OK;
}

static bool pk_redis_numeric_host(const char *host, bool bracketed)
{
    unsigned char addr[sizeof(struct in6_addr)];

    if (bracketed)
        return inet_pton(AF_INET6, host, addr) == 1;
    return inet_pton(AF_INET, host, addr) == 1;
}

static enum pk_status pk_redis_parse_tcp(const char *rest, struct pk_redis_target *out,
                                         char *problem, size_t problem_len)
{
    const char *host = rest;
    const char *host_end;
    const char *port;
    const char *slash;
    bool bracketed = rest[0] == '[';
    size_t host_len;

    if (bracketed) {
        host = rest + 1;
        host_end = strchr(host, ']');
        if (host_end == NULL || host_end[1] != ':') {
            pk_problem_printf(problem, problem_len, "redis:// needs [IPV6]:PORT");
            return PK_ST_REFUSED;
        }
        port = host_end + 2;
    } else {
        host_end = strchr(host, ':');
        if (host_end == NULL) {
            pk_problem_printf(problem, problem_len, "redis:// needs HOST:PORT");
            return PK_ST_REFUSED;
        }
        port = host_end + 1;
    }
    host_len = (size_t)(host_end - host);
    if (host_len == 0 || host_len >= sizeof(out->host)) {
        pk_problem_printf(problem, problem_len, "redis:// host is empty or too long");
        return PK_ST_REFUSED;
    }
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    if (!pk_redis_numeric_host(out->host, bracketed)) {
        pk_problem_printf(
            problem, problem_len,
            "redis:// host must be numeric (IPv4, or [IPv6]): names are not looked up");
        return PK_ST_REFUSED;
    }
    slash = strchr(port, '/');
    if (!pk_redis_number(port, slash != NULL ? (size_t)(slash - port) : strlen(port), 65535u,
                         &out->port) ||
        out->port == 0) {
        pk_problem_printf(problem, problem_len, "redis:// port must be 1-65535");
        return PK_ST_REFUSED;
    }
    if (slash != NULL &&
        !pk_redis_number(slash + 1, strlen(slash + 1), PK_REDIS_DB_MAX, &out->db)) {
        pk_problem_printf(problem, problem_len, "redis:// database must be 0-%u", PK_REDIS_DB_MAX);
        return PK_ST_REFUSED;
    }
    return PK_ST_OK;
}

enum pk_status pk_redis_target_parse(const char *url, struct pk_redis_target *out, char *problem,
                                     size_t problem_len)
{
    static const char redis_scheme[] = "redis://";
    static const char unix_scheme[] = "unix:";
    enum pk_status st;

    if (problem != NULL && problem_len > 0)
        problem[0] = '\0';
    if (out == NULL)
        return PK_ST_REFUSED;
    memset(out, 0, sizeof(*out));
    if (url == NULL) {
        pk_problem_printf(problem, problem_len, "no redis URL");
        return PK_ST_REFUSED;
    }
    if (strncmp(url, unix_scheme, sizeof(unix_scheme) - 1) == 0)
        st = pk_redis_parse_unix(url + sizeof(unix_scheme) - 1, out, problem, problem_len);
    else if (strncmp(url, redis_scheme, sizeof(redis_scheme) - 1) == 0)
        st = pk_redis_parse_tcp(url + sizeof(redis_scheme) - 1, out, problem, problem_len);
    else {
        pk_problem_printf(problem, problem_len, "not redis://HOST:PORT[/DB] or unix:PATH");
        st = PK_ST_REFUSED;
    }
    if (st != PK_ST_OK)
        memset(out, 0, sizeof(*out));
    return st;
}

void pk_redis_target_describe(const struct pk_redis_target *t, char *buf, size_t len)
{
    char field[PK_REDIS_LABEL_LEN];

    if (buf == NULL || len == 0)
        return;
    if (t == NULL) {
        buf[0] = '\0';
        return;
    }
    pk_log_field(field, sizeof(field), t->is_unix ? t->path : t->host);
    if (t->is_unix)
        (void)snprintf(buf, len, "unix:%s", field);
    else if (strchr(t->host, ':') != NULL)
        (void)snprintf(buf, len, "[%s]:%u", field, t->port);
    else
        (void)snprintf(buf, len, "%s:%u", field, t->port);
    if (!t->is_unix && t->db != 0) {
        size_t n = strlen(buf);

        (void)snprintf(buf + n, len - n, "/%u", t->db);
    }
}

/* ---- loading hiredis ---- */

static enum pk_status pk_hiredis_load(struct pk_hiredis_api *api, char *problem, size_t problem_len)
{
    const struct pk_dl_sym syms[] = {
        {"redisReaderCreate", &api->reader_create}, {"redisReaderFree", &api->reader_free},
        {"redisReaderFeed", &api->reader_feed},     {"redisReaderGetReply", &api->reader_get_reply},
        {"freeReplyObject", &api->free_reply},      {"redisFormatCommandArgv", &api->format_argv},
        {"redisFreeCommand", &api->free_command},
    };
    bool missing = false;

    memset(api, 0, sizeof(*api));
    api->dl = pk_dl_load(PK_LIBHIREDIS_PATH, syms, sizeof(syms) / sizeof(syms[0]), &missing);
    if (api->dl == NULL) {
        pk_problem_printf(problem, problem_len,
                          missing ? PK_LIBHIREDIS_PATH " lacks a needed function"
                                  : "cannot load " PK_LIBHIREDIS_PATH);
        return PK_ST_UNAVAILABLE;
    }
    return PK_ST_OK;
}

/* ---- the socket ---- */

/* What is left of the deadline for poll(): > 0, or 0 when it has passed. */
static int pk_redis_wait_ms(long long deadline_ms)
{
    long long left = deadline_ms - pk_redis_now_ms();

    if (left <= 0)
        return 0;
    return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Waits for events on fd until the deadline. 1: ready; 0: timed out; -1: error. */
static int pk_redis_poll(int fd, short events, long long deadline_ms)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events, .revents = 0};
        int ms = pk_redis_wait_ms(deadline_ms);
        int n;

        if (ms == 0)
            return 0;
        n = poll(&p, 1, ms);
        if (n > 0)
            return 1;
        if (n == 0)
            continue; /* re-check the clock: poll may wake a little early */
        if (errno != EINTR)
            return -1;
    }
}

static enum pk_status pk_redis_open_socket(const struct pk_redis_target *t, const char *label,
                                           long long deadline_ms, int *fd_out, char *problem,
                                           size_t problem_len)
{
    struct sockaddr_storage ss;
    socklen_t ss_len;
    int family;
    int fd;
    int rc;

    memset(&ss, 0, sizeof(ss));
    if (t->is_unix) {
        struct sockaddr_un *un = (struct sockaddr_un *)&ss;

        family = AF_UNIX;
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, t->path, strlen(t->path) + 1);
        ss_len = (socklen_t)sizeof(*un);
    } else if (strchr(t->host, ':') != NULL) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        family = AF_INET6;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)t->port);
        if (inet_pton(AF_INET6, t->host, &in6->sin6_addr) != 1)
            return PK_ST_REFUSED;
        ss_len = (socklen_t)sizeof(*in6);
    } else {
        struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;

        family = AF_INET;
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)t->port);
        if (inet_pton(AF_INET, t->host, &in4->sin_addr) != 1)
            return PK_ST_REFUSED;
        ss_len = (socklen_t)sizeof(*in4);
    }
    fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        pk_problem_printf(problem, problem_len, "redis %s: socket: %s", label, strerror(errno));
        return errno == ENOMEM || errno == ENOBUFS ? PK_ST_NOMEM : PK_ST_UNAVAILABLE;
    }
    do
        rc = connect(fd, (struct sockaddr *)&ss, ss_len);
    while (rc != 0 && errno == EINTR);
    if (rc != 0 && errno == EINPROGRESS) {
        int err = 0;
        socklen_t err_len = (socklen_t)sizeof(err);
        int ready = pk_redis_poll(fd, POLLOUT, deadline_ms);

        if (ready == 0) {
            pk_problem_printf(problem, problem_len, "redis %s: connect timed out", label);
            (void)close(fd);
            return PK_ST_UNAVAILABLE;
        }
        if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0)
            err = errno;
        errno = err;
        rc = err == 0 ? 0 : -1;
    }
    if (rc != 0) {
        pk_problem_printf(problem, problem_len, "redis %s: connect: %s", label, strerror(errno));
        (void)close(fd);
        return PK_ST_UNAVAILABLE;
    }
    *fd_out = fd;
    return PK_ST_OK;
}

static enum pk_status pk_redis_fail(struct pk_redis *r, enum pk_status st)
{
    if (st == PK_ST_UNAVAILABLE)
        r->broken = true;
    return st;
}

static enum pk_status pk_redis_send(struct pk_redis *r, const char *buf, size_t len,
                                    long long deadline_ms, char *problem, size_t problem_len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t n = send(r->fd, buf + off, len - off, MSG_NOSIGNAL);

        if (n > 0) {
            off += (size_t)n;
            r->sent = true;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int ready = pk_redis_poll(r->fd, POLLOUT, deadline_ms);

            if (ready > 0)
                continue;
            if (ready == 0) {
                pk_problem_printf(problem, problem_len, "redis %s: timeout sending", r->label);
                return pk_redis_fail(r, PK_ST_UNAVAILABLE);
            }
        }
        pk_problem_printf(problem, problem_len, "redis %s: send: %s", r->label, strerror(errno));
        return pk_redis_fail(r, PK_ST_UNAVAILABLE);
    }
    return PK_ST_OK;
}

/* Reads until the reader holds one whole reply (a hiredis redisReply). */
static enum pk_status pk_redis_receive(struct pk_redis *r, long long deadline_ms, void **reply,
                                       char *problem, size_t problem_len)
{
    char buf[PK_REDIS_READ_CHUNK];
    size_t total = 0;
    enum pk_status st = PK_ST_OK;

    *reply = NULL;
    for (;;) {
        ssize_t n;

        if (r->api.reader_get_reply(r->reader, reply) != REDIS_OK) {
            bool oom = r->reader->err == REDIS_ERR_OOM;

            pk_problem_printf(problem, problem_len, "redis %s: %s", r->label,
                              oom ? "out of memory" : "protocol error in the reply");
            st = pk_redis_fail(r, oom ? PK_ST_NOMEM : PK_ST_UNAVAILABLE);
            r->broken = true;
            break;
        }
        if (*reply != NULL)
            break;
        if (total >= PK_REDIS_REPLY_MAX) {
            pk_problem_printf(problem, problem_len, "redis %s: reply longer than %u bytes",
                              r->label, PK_REDIS_REPLY_MAX);
            st = pk_redis_fail(r, PK_ST_UNAVAILABLE);
            break;
        }
        n = recv(r->fd, buf, sizeof(buf), 0);
        if (n > 0) {
            total += (size_t)n;
            if (r->api.reader_feed(r->reader, buf, (size_t)n) != REDIS_OK) {
                pk_problem_printf(problem, problem_len, "redis %s: out of memory", r->label);
                r->broken = true;
                st = PK_ST_NOMEM;
                break;
            }
            continue;
        }
        if (n == 0) {
            pk_problem_printf(problem, problem_len, "redis %s: connection closed by the server",
                              r->label);
            st = pk_redis_fail(r, PK_ST_UNAVAILABLE);
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int ready = pk_redis_poll(r->fd, POLLIN, deadline_ms);

            if (ready > 0)
                continue;
            if (ready == 0) {
                pk_problem_printf(problem, problem_len, "redis %s: no answer before the deadline",
                                  r->label);
                st = pk_redis_fail(r, PK_ST_UNAVAILABLE);
                break;
            }
        }
        pk_problem_printf(problem, problem_len, "redis %s: recv: %s", r->label, strerror(errno));
        st = pk_redis_fail(r, PK_ST_UNAVAILABLE);
        break;
    }
    pk_wipe(buf, sizeof(buf));
    return st;
}

/* ---- replies ---- */

static enum pk_status pk_redis_copy_reply(const redisReply *in, struct pk_redis_reply *out)
{
    memset(out, 0, sizeof(*out));
    switch (in->type) {
    case REDIS_REPLY_NIL:
        out->type = PK_REDIS_NIL;
        return PK_ST_OK;
    case REDIS_REPLY_INTEGER:
        out->type = PK_REDIS_INT;
        out->integer = in->integer;
        return PK_ST_OK;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        out->type = in->type == REDIS_REPLY_STRING   ? PK_REDIS_STR
                    : in->type == REDIS_REPLY_STATUS ? PK_REDIS_STATUS
                                                     : PK_REDIS_ERROR;
        out->len = (size_t)in->len;
        out->str = malloc(out->len + 1);
        if (out->str == NULL)
            return PK_ST_NOMEM;
        if (out->len > 0)
            memcpy(out->str, in->str, out->len);
        out->str[out->len] = '\0';
        return PK_ST_OK;
    case REDIS_REPLY_ARRAY:
        out->type = PK_REDIS_ARRAY;
        if (in->elements == 0)
            return PK_ST_OK;
        out->element = calloc(in->elements, sizeof(*out->element));
        if (out->element == NULL)
            return PK_ST_NOMEM;
        out->elements = in->elements;
        for (size_t i = 0; i < in->elements; i++) {
            /* The reader nests at most 9 deep: the recursion is bounded. */
            enum pk_status st = pk_redis_copy_reply(in->element[i], &out->element[i]);

            if (st != PK_ST_OK)
                return st;
        }
        return PK_ST_OK;
    default:
        return PK_ST_UNAVAILABLE;
    }
}

static void pk_redis_reply_clear(struct pk_redis_reply *reply)
{
    if (reply->str != NULL)
        pk_free_secret(reply->str, reply->len + 1);
    for (size_t i = 0; i < reply->elements; i++)
        pk_redis_reply_clear(&reply->element[i]);
    free(reply->element);
    memset(reply, 0, sizeof(*reply));
}

void pk_redis_reply_free(struct pk_redis_reply *reply)
{
    if (reply == NULL)
        return;
    pk_redis_reply_clear(reply);
    free(reply);
}

/* ---- commands ---- */

enum pk_status pk_redis_command(struct pk_redis *r, long long deadline_ms, int argc,
                                const char *const *argv, const size_t *argvlen,
                                struct pk_redis_reply **out, char *problem, size_t problem_len)
{
    char *cmd = NULL;
    int cmd_len;
    void *raw = NULL;
    struct pk_redis_reply *reply;
    enum pk_status st;

    if (problem != NULL && problem_len > 0)
        problem[0] = '\0';
    if (out == NULL)
        return PK_ST_REFUSED;
    *out = NULL;
    if (r != NULL)
        r->sent = false;
    if (r == NULL || r->broken) {
        pk_problem_printf(problem, problem_len, "redis %s: not connected",
                          r != NULL ? r->label : "-");
        return PK_ST_UNAVAILABLE;
    }
    if (argc <= 0 || argv == NULL || argvlen == NULL) {
        pk_problem_printf(problem, problem_len, "redis: empty command");
        return PK_ST_REFUSED;
    }
    /* Nothing is sent without time for the answer: the connection stays usable. */
    if (pk_redis_wait_ms(deadline_ms) == 0) {
        pk_problem_printf(problem, problem_len, "redis %s: no time left before the deadline",
                          r->label);
        return PK_ST_UNAVAILABLE;
    }
    /* hiredis takes const char **; it does not write through it. */
    cmd_len = r->api.format_argv(&cmd, argc, (const char **)(uintptr_t)argv, argvlen);
    if (cmd_len < 0 || cmd == NULL) {
        pk_problem_printf(problem, problem_len, "redis %s: out of memory", r->label);
        return PK_ST_NOMEM;
    }
    st = pk_redis_send(r, cmd, (size_t)cmd_len, deadline_ms, problem, problem_len);
    /* The command may hold a password (AUTH) or a secret value. */
    pk_wipe(cmd, (size_t)cmd_len);
    r->api.free_command(cmd);
    if (st == PK_ST_OK)
        st = pk_redis_receive(r, deadline_ms, &raw, problem, problem_len);
    if (st != PK_ST_OK)
        return st;
    reply = calloc(1, sizeof(*reply));
    if (reply == NULL) {
        r->api.free_reply(raw);
        pk_problem_printf(problem, problem_len, "redis %s: out of memory", r->label);
        return PK_ST_NOMEM;
    }
    st = pk_redis_copy_reply(raw, reply);
    r->api.free_reply(raw);
    if (st != PK_ST_OK) {
        pk_redis_reply_free(reply);
        pk_problem_printf(problem, problem_len, "redis %s: %s", r->label,
                          st == PK_ST_NOMEM ? "out of memory" : "unexpected reply type");
        return pk_redis_fail(r, st);
    }
    *out = reply;
    return PK_ST_OK;
}

bool pk_redis_command_sent(const struct pk_redis *r)
{
    return r != NULL && r->sent;
}

bool pk_redis_idle_usable(struct pk_redis *r)
{
    char byte;
    ssize_t n;

    if (r == NULL || r->broken)
        return false;
    /* Bytes the reader holds past the last reply answer no command either. */
    if (r->reader != NULL && r->reader->pos < r->reader->len) {
        r->broken = true;
        return false;
    }
    do
        n = recv(r->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return true;
    /* 0: the server closed it (a restart, its timeout); > 0: bytes nobody
     * asked for; < 0: a socket error. */
    r->broken = true;
    return false;
}

/* AUTH or SELECT during connect: anything but +OK is the server saying no.
 * Its error text (never the password) is quoted, escaped. */
static enum pk_status pk_redis_expect_ok(struct pk_redis *r, long long deadline_ms,
                                         const char *what, int argc, const char *const *argv,
                                         const size_t *argvlen, char *problem, size_t problem_len)
{
    struct pk_redis_reply *reply = NULL;
    enum pk_status st =
        pk_redis_command(r, deadline_ms, argc, argv, argvlen, &reply, problem, problem_len);

    if (st != PK_ST_OK)
        return st;
    if (reply->type != PK_REDIS_STATUS || strcmp(reply->str, "OK") != 0) {
        char msg[160];

        pk_log_text(msg, sizeof(msg), reply->type == PK_REDIS_ERROR ? reply->str : "not OK");
        pk_problem_printf(problem, problem_len, "redis %s refused %s: \"%s\"", r->label, what, msg);
        st = PK_ST_UNAVAILABLE;
    }
    pk_redis_reply_free(reply);
    return st;
}

static enum pk_status pk_redis_handshake(struct pk_redis *r, const struct pk_redis_target *t,
                                         const char *password, long long deadline_ms, char *problem,
                                         size_t problem_len)
{
    enum pk_status st = PK_ST_OK;

    if (password != NULL) {
        const char *argv[2] = {"AUTH", password};
        size_t argvlen[2] = {4, strlen(password)};

        st = pk_redis_expect_ok(r, deadline_ms, "AUTH", 2, argv, argvlen, problem, problem_len);
    }
    if (st == PK_ST_OK && t->db != 0) {
        char db[16];
        const char *argv[2] = {"SELECT", db};
        size_t argvlen[2] = {6, 0};

        (void)snprintf(db, sizeof(db), "%u", t->db);
        argvlen[1] = strlen(db);
        st = pk_redis_expect_ok(r, deadline_ms, "SELECT", 2, argv, argvlen, problem, problem_len);
    }
    return st;
}

enum pk_status pk_redis_connect(const struct pk_redis_target *t, const char *password,
                                long long deadline_ms, struct pk_redis **out, char *problem,
                                size_t problem_len)
{
    struct pk_redis *r;
    enum pk_status st;

    if (problem != NULL && problem_len > 0)
        problem[0] = '\0';
    if (out == NULL)
        return PK_ST_REFUSED;
    *out = NULL;
    if (t == NULL ||
        (t->is_unix ? t->path[0] != '/' || memchr(t->path, '\0', sizeof(t->path)) == NULL
                    : t->port == 0 || t->port > 65535u ||
                          memchr(t->host, '\0', sizeof(t->host)) == NULL)) {
        pk_problem_printf(problem, problem_len, "redis: no usable target");
        return PK_ST_REFUSED;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        pk_problem_printf(problem, problem_len, "out of memory");
        return PK_ST_NOMEM;
    }
    r->fd = -1;
    pk_redis_target_describe(t, r->label, sizeof(r->label));
    st = pk_hiredis_load(&r->api, problem, problem_len);
    if (st == PK_ST_OK) {
        r->reader = r->api.reader_create();
        if (r->reader == NULL) {
            pk_problem_printf(problem, problem_len, "out of memory");
            st = PK_ST_NOMEM;
        }
    }
    if (st == PK_ST_OK && pk_redis_wait_ms(deadline_ms) == 0) {
        pk_problem_printf(problem, problem_len, "redis %s: no time left before the deadline",
                          r->label);
        st = PK_ST_UNAVAILABLE;
    }
    if (st == PK_ST_OK)
        st = pk_redis_open_socket(t, r->label, deadline_ms, &r->fd, problem, problem_len);
    if (st == PK_ST_OK)
        st = pk_redis_handshake(r, t, password, deadline_ms, problem, problem_len);
    if (st != PK_ST_OK) {
        pk_redis_close(r);
        return st;
    }
    *out = r;
    return PK_ST_OK;
}

void pk_redis_close(struct pk_redis *r)
{
    if (r == NULL)
        return;
    if (r->fd >= 0)
        (void)close(r->fd);
    if (r->reader != NULL) {
        /* The reader's buffer may still hold reply bytes. */
        if (r->reader->buf != NULL)
            pk_wipe(r->reader->buf, r->reader->len);
        r->api.reader_free(r->reader);
    }
    if (r->api.dl != NULL)
        (void)dlclose(r->api.dl);
    free(r);
}
