/* The loopback listener of `kakao-pam login` (RFC 8252): a small HTTP/1.x
 * server on 127.0.0.1 that hands the flow one request at a time. It knows
 * nothing of OAuth: the flow (login.c) decides what a request means and
 * which page answers it. Four calls: start, wait, answer, stop. */
#ifndef PK_LOOPBACK_H
#define PK_LOOPBACK_H

#include <stddef.h>

/* One request head from a browser; a callback URL is far shorter. */
#define PK_LOOPBACK_HEAD_MAX 8192

struct pk_loopback;

/* A request taken off the listener by pk_loopback_wait. It is the caller's
 * until answered (or dropped), and outlives pk_loopback_stop: the flow holds
 * the browser's callback while it exchanges the code. The head may carry a
 * secret (the code): it is wiped when the request is answered. */
struct pk_loopback_req {
    int fd;             /* -1: no request */
    const char *method; /* into head */
    const char *target; /* path[?query] as sent, into head */
    size_t len;
    char head[PK_LOOPBACK_HEAD_MAX + 1];
};

enum pk_loopback_wait {
    PK_LOOPBACK_REQUEST, /* *req holds a request: answer it */
    PK_LOOPBACK_TIMEOUT, /* deadline_ms came first */
    PK_LOOPBACK_ERROR,   /* told on stderr */
};

/* Listens on 127.0.0.1:port; NULL with the reason on stderr (a port in use
 * is named as such). */
struct pk_loopback *pk_loopback_start(unsigned short port);

/* Waits for the next complete request head until deadline_ms (pk_now_ms's
 * clock). Requests that are not HTTP/1.x, carry a NUL byte or are too large
 * are answered (400, 431) here and never returned; idle connections are
 * closed after a while, the oldest first when all slots are taken. */
enum pk_loopback_wait pk_loopback_wait(struct pk_loopback *lb, long long deadline_ms,
                                       struct pk_loopback_req *req);

/* Answers req with a small HTML page (heading, text: trusted text, not
 * escaped) and closes its connection. */
void pk_loopback_answer(struct pk_loopback_req *req, int status, const char *reason,
                        const char *heading, const char *text);

/* Closes req's connection without an answer (nothing when there is none). */
void pk_loopback_drop(struct pk_loopback_req *req);

/* Closes the listener and every connection not handed out; NULL is fine. */
void pk_loopback_stop(struct pk_loopback *lb);

#endif
