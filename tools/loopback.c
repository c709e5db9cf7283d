/* The loopback listener of `kakao-pam login` (loopback.h) on libmicrohttpd.
 *
 * The daemon has no thread of its own: it runs (MHD_run) only inside the
 * calls below, from the flow's single thread, polled through its epoll
 * descriptor. Each request is taken at its first call to the handler, when
 * its head is complete: the handler suspends its connection and queues it;
 * pk_loopback_wait hands the flow the oldest queued one. Answering resumes
 * the connection: the handler is called again and queues the flow's page,
 * or returns MHD_NO to close it (a drop). Our record of a request lives from
 * libmicrohttpd's URI callback (which sees the target as sent, query
 * included) to its completion callback. */
#include "loopback.h"

#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "login.h"
#include "src/secure.h"

/* Browsers open spare connections; each may idle this long (seconds), and
 * no more than this many are open at once: more are closed at once by our
 * accept policy. (libmicrohttpd's own connection limit is not used: run
 * from our poll, 0.9.75 served nothing more once it had been reached, not
 * even the idle connections' timeouts; test_loopback.sh checks this.) */
#define PK_LOOPBACK_CONNS 16U
#define PK_LOOPBACK_IDLE_S 10U
/* libmicrohttpd's memory per connection: room for a head of
 * PK_LOOPBACK_HEAD_MAX, which the handler enforces itself (431); a larger one
 * fills the pool and libmicrohttpd refuses it on its own (431 too). */
#define PK_LOOPBACK_POOL (3U * PK_LOOPBACK_HEAD_MAX)
/* How long an answer (or a drop) may take to leave: a small page on a fresh
 * connection goes out at once unless the client stopped reading. */
#define PK_LOOPBACK_SEND_MS 1000LL

enum pk_held_state {
    PK_HELD_NEW,    /* URI seen, head not yet complete */
    PK_HELD_QUEUED, /* suspended, waiting for pk_loopback_wait */
    PK_HELD_TAKEN,  /* handed to the flow: the flow's until answered */
    PK_HELD_ANSWER, /* resumed with resp to send */
    PK_HELD_SENT,   /* resp queued: the rest of the request is discarded */
    PK_HELD_DROP,   /* resumed to be closed without an answer */
};

struct pk_loopback_held {
    struct pk_loopback_held *next; /* in the queue */
    struct MHD_Connection *conn;
    struct MHD_Response *resp;
    bool *done; /* set when the request completes (an answer in flight) */
    enum pk_held_state state;
    unsigned int status;
    bool oversized;
    size_t len;
    char head[PK_LOOPBACK_HEAD_MAX + 1]; /* "METHOD\0TARGET\0"; the target first */
};

struct pk_loopback {
    struct MHD_Daemon *daemon;
    int epoll_fd;
    struct pk_loopback_held *queue, *queue_tail;
    struct pk_loopback_held *taken; /* the one request the flow holds */
    bool stopped;                   /* pk_loopback_stop came while one was held */
    bool closing;                   /* no request is queued any more */
    unsigned int conns;             /* open connections */
};

static int pk_listen(unsigned short port)
{
    struct sockaddr_in sa;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (fd < 0) {
        pk_login_err("socket: %s", strerror(errno));
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0) {
        int e = errno;
        if (e == EADDRINUSE)
            pk_login_err("127.0.0.1 port %u is in use: cannot receive the redirect", port);
        else
            pk_login_err("cannot listen on 127.0.0.1 port %u: %s", port, strerror(e));
        (void)close(fd);
        return -1;
    }
    return fd;
}

/* A small HTML page; NULL when out of memory. */
static struct MHD_Response *pk_page(const char *heading, const char *text)
{
    static const char *const hdrs[][2] = {
        {MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8"},
        {MHD_HTTP_HEADER_CACHE_CONTROL, "no-store"},
        {"Referrer-Policy", "no-referrer"},
        {"X-Content-Type-Options", "nosniff"},
        {MHD_HTTP_HEADER_CONNECTION, "close"},
    };
    char body[1024];
    struct MHD_Response *resp;
    int blen;

    blen = snprintf(body, sizeof(body),
                    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                    "<title>kakao-pam login</title></head>\n<body><h1>%s</h1>\n<p>%s</p>"
                    "</body></html>\n",
                    heading, text);
    if (blen < 0 || (size_t)blen >= sizeof(body))
        return NULL;
    resp = MHD_create_response_from_buffer((size_t)blen, body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
        if (MHD_add_response_header(resp, hdrs[i][0], hdrs[i][1]) != MHD_YES) {
            MHD_destroy_response(resp);
            return NULL;
        }
    }
    return resp;
}

static void pk_held_free(struct pk_loopback_held *h)
{
    if (h->resp != NULL)
        MHD_destroy_response(h->resp);
    pk_wipe(h->head, sizeof(h->head));
    free(h);
}

static void pk_queue_remove(struct pk_loopback *lb, struct pk_loopback_held *h)
{
    struct pk_loopback_held **pp = &lb->queue, *prev = NULL;

    while (*pp != NULL && *pp != h) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (*pp == NULL)
        return;
    *pp = h->next;
    if (lb->queue_tail == h)
        lb->queue_tail = prev;
    h->next = NULL;
}

/* libmicrohttpd's URI callback: the request line's target exactly as sent
 * (the handler later sees it decoded and without its query). */
static void *pk_on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct pk_loopback_held *h = calloc(1, sizeof(*h));
    size_t n = strlen(uri);

    (void)cls;
    if (h == NULL)
        return NULL;
    h->conn = conn;
    h->state = PK_HELD_NEW;
    if (n > PK_LOOPBACK_HEAD_MAX) {
        h->oversized = true;
        return h;
    }
    memcpy(h->head, uri, n + 1);
    h->len = n + 1;
    return h;
}

/* Adds a header's size, as sent, to *cls (a size_t). */
static enum MHD_Result pk_head_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                     size_t key_size, const char *value, size_t value_size)
{
    size_t *size = cls;

    (void)kind;
    (void)key;
    (void)value;
    *size += key_size + 2 + value_size + 2;
    return MHD_YES;
}

/* Answers h at once with a page of ours: a request the flow never sees. */
static enum MHD_Result pk_refuse(struct pk_loopback_held *h, unsigned int status,
                                 const char *heading)
{
    enum MHD_Result ret;
    struct MHD_Response *resp = pk_page(heading, "");

    if (resp == NULL)
        return MHD_NO;
    h->state = PK_HELD_SENT;
    ret = MHD_queue_response(h->conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* The head is complete: too large a one is answered 431 here; any other
 * becomes "METHOD\0TARGET\0" and waits, suspended, for the flow. */
static enum MHD_Result pk_take(struct pk_loopback *lb, struct pk_loopback_held *h,
                               const char *method, const char *version)
{
    size_t mlen = strlen(method);
    size_t size = mlen + 1 + h->len + strlen(version) + 4;

    /* Past the flow's end, and libmicrohttpd must not be stopped with a
     * connection suspended. */
    if (lb->closing)
        return MHD_NO;

    (void)MHD_get_connection_values_n(h->conn, MHD_HEADER_KIND, pk_head_field, &size);
    if (h->oversized || size > PK_LOOPBACK_HEAD_MAX)
        return pk_refuse(h, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, "Request too large");
    /* Method first: the target moves up (size bounds both together). */
    memmove(h->head + mlen + 1, h->head, h->len);
    memcpy(h->head, method, mlen + 1);
    h->len += mlen + 1;
    h->state = PK_HELD_QUEUED;
    if (lb->queue_tail != NULL)
        lb->queue_tail->next = h;
    else
        lb->queue = h;
    lb->queue_tail = h;
    MHD_suspend_connection(h->conn);
    return MHD_YES;
}

static enum MHD_Result pk_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                     const char *method, const char *version,
                                     const char *upload_data, size_t *upload_data_size,
                                     void **req_cls)
{
    struct pk_loopback *lb = cls;
    struct pk_loopback_held *h = *req_cls;
    enum MHD_Result ret;

    (void)conn;
    (void)url;
    (void)upload_data;
    if (h == NULL)
        return MHD_NO; /* out of memory at its start */
    switch (h->state) {
    case PK_HELD_NEW:
        return pk_take(lb, h, method, version);
    case PK_HELD_ANSWER:
        h->state = PK_HELD_SENT;
        ret = MHD_queue_response(h->conn, h->status, h->resp);
        MHD_destroy_response(h->resp);
        h->resp = NULL;
        return ret;
    case PK_HELD_SENT:
        *upload_data_size = 0; /* a body nobody reads */
        return MHD_YES;
    case PK_HELD_QUEUED:
    case PK_HELD_TAKEN:
    case PK_HELD_DROP:
        break;
    }
    return MHD_NO;
}

static void pk_on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                            enum MHD_RequestTerminationCode toe)
{
    struct pk_loopback *lb = cls;
    struct pk_loopback_held *h = *req_cls;

    (void)conn;
    (void)toe;
    *req_cls = NULL;
    if (h == NULL)
        return;
    if (h->done != NULL)
        *h->done = true;
    if (lb->taken == h) {
        /* The flow still holds it (a suspended connection does not time
         * out, and the daemon is not stopped under it): it is freed when
         * the flow answers or drops it. */
        h->conn = NULL;
        return;
    }
    pk_queue_remove(lb, h);
    pk_held_free(h);
}

/* libmicrohttpd's accept policy: room for one more connection? */
static enum MHD_Result pk_on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    const struct pk_loopback *lb = cls;

    (void)addr;
    (void)addrlen;
    return lb->conns < PK_LOOPBACK_CONNS ? MHD_YES : MHD_NO;
}

static void pk_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                             enum MHD_ConnectionNotificationCode toe)
{
    struct pk_loopback *lb = cls;

    (void)conn;
    (void)socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        lb->conns++;
    else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && lb->conns > 0)
        lb->conns--;
}

/* What pk_run waits for. */
enum pk_until {
    PK_UNTIL_REQUEST, /* a request in the queue */
    PK_UNTIL_DONE,    /* *done set: the request answered (or dropped) has completed */
    PK_UNTIL_NO_QUEUE /* the queue empty: every dropped request closed */
};

static bool pk_holds(const struct pk_loopback *lb, enum pk_until until, const bool *done)
{
    switch (until) {
    case PK_UNTIL_REQUEST:
        return lb->queue != NULL;
    case PK_UNTIL_DONE:
        return *done;
    case PK_UNTIL_NO_QUEUE:
        return lb->queue == NULL;
    }
    return true;
}

/* Runs the daemon until what until says holds or deadline_ms passes. 1 when
 * it holds, 0 at the deadline, -1 on an error (told on stderr). The daemon
 * runs once before the first poll: a connection just resumed has no event
 * of its own to wake the poll. */
static int pk_run(struct pk_loopback *lb, long long deadline_ms, enum pk_until until,
                  const bool *done)
{
    for (;;) {
        struct pollfd pfd = {.fd = lb->epoll_fd, .events = POLLIN};
        MHD_UNSIGNED_LONG_LONG mhd_ms;
        long long wait;

        if (MHD_run(lb->daemon) != MHD_YES) {
            pk_login_err("the loopback listener failed");
            return -1;
        }
        if (pk_holds(lb, until, done))
            return 1;
        wait = deadline_ms - pk_now_ms();
        if (wait <= 0)
            return 0;
        if (MHD_get_timeout(lb->daemon, &mhd_ms) == MHD_YES && mhd_ms < (unsigned long long)wait)
            wait = (long long)mhd_ms;
        if (poll(&pfd, 1, (int)wait) < 0 && errno != EINTR) {
            pk_login_err("poll: %s", strerror(errno));
            return -1;
        }
    }
}

/* Resumes every queued request to be closed unanswered. */
static void pk_drop_queued(struct pk_loopback *lb)
{
    for (struct pk_loopback_held *h = lb->queue; h != NULL; h = h->next) {
        if (h->state == PK_HELD_QUEUED) {
            h->state = PK_HELD_DROP;
            MHD_resume_connection(h->conn);
        }
    }
}

/* Listens no more (the listening socket closed), queues no more requests,
 * and closes the queued ones unanswered. */
static void pk_close_listener(struct pk_loopback *lb)
{
    if (!lb->closing) {
        int fd = MHD_quiesce_daemon(lb->daemon);
        if (fd >= 0)
            (void)close(fd);
        lb->closing = true;
    }
    pk_drop_queued(lb);
}

static void pk_free(struct pk_loopback *lb)
{
    /* MHD_stop_daemon aborts the process if a connection is still
     * suspended: none is queued from now on, and every queued one is
     * resumed (to be closed by the handler) before the daemon stops. */
    pk_close_listener(lb);
    (void)pk_run(lb, pk_now_ms() + PK_LOOPBACK_SEND_MS, PK_UNTIL_NO_QUEUE, NULL);
    pk_drop_queued(lb);
    MHD_stop_daemon(lb->daemon);
    free(lb);
}

struct pk_loopback *pk_loopback_start(unsigned short port)
{
    const union MHD_DaemonInfo *info;
    struct pk_loopback *lb = calloc(1, sizeof(*lb));
    int fd;

    if (lb == NULL) {
        pk_login_err("out of memory");
        return NULL;
    }
    fd = pk_listen(port);
    if (fd < 0) {
        free(lb);
        return NULL;
    }
    /* No thread, no log of its own (our messages say what matters); the
     * listening socket is ours, so that a port in use is named as such. */
    lb->daemon = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, pk_on_accept, lb, pk_on_request, lb,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_CONNECTION, pk_on_connection, lb,
        MHD_OPTION_CONNECTION_TIMEOUT, PK_LOOPBACK_IDLE_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)PK_LOOPBACK_POOL, MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_URI_LOG_CALLBACK,
        pk_on_uri, lb, MHD_OPTION_NOTIFY_COMPLETED, pk_on_completed, lb, MHD_OPTION_END);
    if (lb->daemon == NULL) {
        pk_login_err("cannot start the loopback listener on 127.0.0.1 port %u", port);
        (void)close(fd);
        free(lb);
        return NULL;
    }
    info = MHD_get_daemon_info(lb->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    if (info == NULL) {
        pk_login_err("cannot start the loopback listener on 127.0.0.1 port %u", port);
        MHD_stop_daemon(lb->daemon);
        free(lb);
        return NULL;
    }
    lb->epoll_fd = info->epoll_fd;
    return lb;
}

enum pk_loopback_wait pk_loopback_wait(struct pk_loopback *lb, long long deadline_ms,
                                       struct pk_loopback_req *req)
{
    struct pk_loopback_held *h;
    size_t mlen;

    memset(req, 0, offsetof(struct pk_loopback_req, head));
    switch (pk_run(lb, deadline_ms, PK_UNTIL_REQUEST, NULL)) {
    case 0:
        return PK_LOOPBACK_TIMEOUT;
    case 1:
        break;
    default:
        return PK_LOOPBACK_ERROR;
    }
    h = lb->queue;
    pk_queue_remove(lb, h);
    h->state = PK_HELD_TAKEN;
    lb->taken = h;
    memcpy(req->head, h->head, h->len);
    pk_wipe(h->head, h->len);
    mlen = strlen(req->head);
    req->len = h->len;
    req->method = req->head;
    req->target = req->head + mlen + 1;
    req->held = h;
    req->lb = lb;
    return PK_LOOPBACK_REQUEST;
}

/* Resumes req's connection as h->state says and runs the daemon until that
 * request has completed (bounded); frees the listener if it was stopped. */
static void pk_release(struct pk_loopback_req *req)
{
    struct pk_loopback *lb = req->lb;
    struct pk_loopback_held *h = req->held;
    bool done = false;

    lb->taken = NULL;
    if (h->conn == NULL) {
        pk_held_free(h);
    } else {
        h->done = &done;
        MHD_resume_connection(h->conn);
        (void)pk_run(lb, pk_now_ms() + PK_LOOPBACK_SEND_MS, PK_UNTIL_DONE, &done);
        if (!done)
            h->done = NULL; /* still libmicrohttpd's: freed when it completes */
    }
    pk_wipe(req->head, req->len);
    memset(req, 0, offsetof(struct pk_loopback_req, head));
    if (lb->stopped)
        pk_free(lb);
}

void pk_loopback_answer(struct pk_loopback_req *req, unsigned int status, const char *heading,
                        const char *text)
{
    if (req->lb == NULL)
        return;
    req->held->resp = pk_page(heading, text);
    req->held->status = status;
    req->held->state = req->held->resp != NULL ? PK_HELD_ANSWER : PK_HELD_DROP;
    pk_release(req);
}

void pk_loopback_drop(struct pk_loopback_req *req)
{
    if (req->lb == NULL)
        return;
    req->held->state = PK_HELD_DROP;
    pk_release(req);
}

void pk_loopback_stop(struct pk_loopback *lb)
{
    if (lb == NULL)
        return;
    if (lb->taken == NULL) {
        pk_free(lb);
        return;
    }
    /* The flow holds a request: no new connection from now on; the rest of
     * the listener goes with that request (pk_release). */
    pk_close_listener(lb);
    lb->stopped = true;
}
