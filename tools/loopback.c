/* The loopback listener of `kakao-pam login` (loopback.h): one poll loop
 * over a non-blocking listening socket and a few connections, each read
 * until its request head is complete. */
#include "loopback.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "login.h"
#include "src/secure.h"

/* Browsers open spare connections; each may idle this long. */
#define PK_LOOPBACK_CONNS 16
#define PK_LOOPBACK_CONN_MS 10000LL

struct pk_conn {
    int fd;
    size_t len;
    long long deadline_ms;
    char req[PK_LOOPBACK_HEAD_MAX + 1];
};

struct pk_loopback {
    int listen_fd;
    struct pk_conn conns[PK_LOOPBACK_CONNS];
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

static void pk_conn_close(struct pk_conn *c)
{
    if (c->fd >= 0)
        (void)close(c->fd);
    pk_wipe(c->req, c->len);
    c->fd = -1;
    c->len = 0;
}

/* A small answer on a fresh connection: it fits the socket buffer; a
 * client that does not read it loses it. */
static void pk_send_page(int fd, int status, const char *reason, const char *heading,
                         const char *text)
{
    char body[1024], msg[1536];
    size_t off = 0;
    int blen, mlen;

    blen = snprintf(body, sizeof(body),
                    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                    "<title>kakao-pam login</title></head>\n<body><h1>%s</h1>\n<p>%s</p>"
                    "</body></html>\n",
                    heading, text);
    if (blen < 0 || (size_t)blen >= sizeof(body))
        return;
    mlen = snprintf(msg, sizeof(msg),
                    "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
                    "Content-Length: %d\r\nCache-Control: no-store\r\n"
                    "Referrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\n"
                    "Connection: close\r\n\r\n%s",
                    status, reason, blen, body);
    if (mlen < 0 || (size_t)mlen >= sizeof(msg))
        return;
    while (off < (size_t)mlen) {
        ssize_t n = send(fd, msg + off, (size_t)mlen - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        off += (size_t)n;
    }
    (void)shutdown(fd, SHUT_WR);
}

static bool pk_head_complete(const struct pk_conn *c)
{
    return strstr(c->req, "\r\n\r\n") != NULL || strstr(c->req, "\n\n") != NULL;
}

/* The request line of c's complete head: "METHOD TARGET HTTP/1.x". A
 * well-formed one moves, with its connection, into req (true); anything
 * else is answered 400 here. */
static bool pk_take_request(struct pk_conn *c, struct pk_loopback_req *req)
{
    char *sp1, *sp2, *eol;

    eol = strpbrk(c->req, "\r\n");
    if (eol != NULL)
        *eol = '\0';
    sp1 = strchr(c->req, ' ');
    sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
    if (sp1 == NULL || sp2 == NULL || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
        pk_send_page(c->fd, 400, "Bad Request", "Bad request", "");
        pk_conn_close(c);
        return false;
    }
    *sp1 = '\0';
    *sp2 = '\0';
    memcpy(req->head, c->req, c->len + 1);
    req->len = c->len;
    req->method = req->head;
    req->target = req->head + (sp1 + 1 - c->req);
    req->fd = c->fd;
    c->fd = -1;
    pk_conn_close(c);
    return true;
}

/* Reads what c has sent; true when its head is complete and now in req. */
static bool pk_conn_read(struct pk_conn *c, struct pk_loopback_req *req)
{
    ssize_t n = recv(c->fd, c->req + c->len, PK_LOOPBACK_HEAD_MAX - c->len, 0);

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return false;
    if (n <= 0) {
        pk_conn_close(c);
        return false;
    }
    if (memchr(c->req + c->len, '\0', (size_t)n) != NULL) {
        pk_send_page(c->fd, 400, "Bad Request", "Bad request", "");
        pk_conn_close(c);
        return false;
    }
    c->len += (size_t)n;
    c->req[c->len] = '\0';
    if (!pk_head_complete(c)) {
        if (c->len == PK_LOOPBACK_HEAD_MAX) {
            pk_send_page(c->fd, 431, "Request Header Fields Too Large", "Request too large", "");
            pk_conn_close(c);
        }
        return false;
    }
    return pk_take_request(c, req);
}

static void pk_accept(struct pk_loopback *lb, long long now)
{
    for (;;) {
        struct pk_conn *slot = NULL;
        int fd = accept4(lb->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (fd < 0)
            return; /* EAGAIN, or a connection that went away */
        for (int i = 0; i < PK_LOOPBACK_CONNS; i++) {
            if (lb->conns[i].fd < 0) {
                slot = &lb->conns[i];
                break;
            }
            if (slot == NULL || lb->conns[i].deadline_ms < slot->deadline_ms)
                slot = &lb->conns[i];
        }
        /* All busy: the oldest idle connection makes room. */
        if (slot->fd >= 0)
            pk_conn_close(slot);
        slot->fd = fd;
        slot->len = 0;
        slot->deadline_ms = now + PK_LOOPBACK_CONN_MS;
    }
}

struct pk_loopback *pk_loopback_start(unsigned short port)
{
    struct pk_loopback *lb = calloc(1, sizeof(*lb));

    if (lb == NULL) {
        pk_login_err("out of memory");
        return NULL;
    }
    for (int i = 0; i < PK_LOOPBACK_CONNS; i++)
        lb->conns[i].fd = -1;
    lb->listen_fd = pk_listen(port);
    if (lb->listen_fd < 0) {
        free(lb);
        return NULL;
    }
    return lb;
}

enum pk_loopback_wait pk_loopback_wait(struct pk_loopback *lb, long long deadline_ms,
                                       struct pk_loopback_req *req)
{
    struct pollfd pfd[PK_LOOPBACK_CONNS + 1];

    req->fd = -1;
    req->len = 0;
    for (;;) {
        long long now = pk_now_ms(), wait = deadline_ms - now;
        int map[PK_LOOPBACK_CONNS + 1];
        nfds_t n = 1;
        int rc;

        if (wait <= 0)
            return PK_LOOPBACK_TIMEOUT;
        pfd[0].fd = lb->listen_fd;
        pfd[0].events = POLLIN;
        for (int i = 0; i < PK_LOOPBACK_CONNS; i++) {
            struct pk_conn *c = &lb->conns[i];
            if (c->fd < 0)
                continue;
            if (c->deadline_ms <= now) {
                pk_conn_close(c);
                continue;
            }
            if (c->deadline_ms - now < wait)
                wait = c->deadline_ms - now;
            pfd[n].fd = c->fd;
            pfd[n].events = POLLIN;
            map[n] = i;
            n++;
        }
        rc = poll(pfd, n, (int)wait);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0) {
            pk_login_err("poll: %s", strerror(errno));
            return PK_LOOPBACK_ERROR;
        }
        for (nfds_t i = 1; i < n; i++) {
            if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
                continue;
            if (pk_conn_read(&lb->conns[map[i]], req))
                return PK_LOOPBACK_REQUEST;
        }
        if ((pfd[0].revents & POLLIN) != 0)
            pk_accept(lb, pk_now_ms());
    }
}

void pk_loopback_answer(struct pk_loopback_req *req, int status, const char *reason,
                        const char *heading, const char *text)
{
    if (req->fd >= 0)
        pk_send_page(req->fd, status, reason, heading, text);
    pk_loopback_drop(req);
}

void pk_loopback_drop(struct pk_loopback_req *req)
{
    if (req->fd >= 0)
        (void)close(req->fd);
    pk_wipe(req->head, req->len);
    req->fd = -1;
    req->len = 0;
    req->method = NULL;
    req->target = NULL;
}

void pk_loopback_stop(struct pk_loopback *lb)
{
    if (lb == NULL)
        return;
    for (int i = 0; i < PK_LOOPBACK_CONNS; i++)
        pk_conn_close(&lb->conns[i]);
    if (lb->listen_fd >= 0)
        (void)close(lb->listen_fd);
    free(lb);
}
