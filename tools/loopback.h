/* The loopback listener of `kakao-pam login` (RFC 8252): libmicrohttpd on
 * 127.0.0.1, run from the flow's own loop, handing the flow one request at a
 * time. It knows nothing of OAuth: the flow (login.c) decides what a request
 * means and which page answers it. Calls: start, wait, answer or drop, stop. */
#ifndef PK_LOOPBACK_H
#define PK_LOOPBACK_H

#include <stddef.h>

/* One request head from a browser; a callback URL is far shorter. */
#define PK_LOOPBACK_HEAD_MAX 8192

struct pk_loopback;
struct pk_loopback_held;

/* A request taken off the listener by pk_loopback_wait. It is the caller's
 * until answered (or dropped), and outlives pk_loopback_stop: the flow holds
 * the browser's callback while it exchanges the code. The target may carry a
 * secret (the code): it is wiped when the request is answered. All zero (as
 * after memset) is "no request". */
struct pk_loopback_req {
    struct pk_loopback *lb;              /* NULL: no request */
    struct pk_loopback_held *held;       /* the listener's side of it */
    const char *method;                  /* into head */
    const char *target;                  /* path[?query] as sent, into head */
    size_t len;                          /* of head in use */
    char head[PK_LOOPBACK_HEAD_MAX + 1]; /* "METHOD\0TARGET\0" */
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
 * clock). Requests that are not HTTP/1.x, are malformed or too large are
 * answered (400, 431, 505) here and never returned; idle connections are
 * closed after a while, and connections past a small limit at once. */
enum pk_loopback_wait pk_loopback_wait(struct pk_loopback *lb, long long deadline_ms,
                                       struct pk_loopback_req *req);

/* Answers req with a small HTML page (heading, text: trusted text, not
 * escaped; the reason phrase is libmicrohttpd's for status) and closes its
 * connection once sent (a client that does not read it within a second loses
 * it). Nothing when there is no request. */
void pk_loopback_answer(struct pk_loopback_req *req, unsigned int status, const char *heading,
                        const char *text);

/* Closes req's connection without an answer (nothing when there is none). */
void pk_loopback_drop(struct pk_loopback_req *req);

/* Stops listening at once and closes every connection not handed out; NULL
 * is fine. While a request is held, its connection (and what of the listener
 * it needs) lives on until it is answered or dropped. */
void pk_loopback_stop(struct pk_loopback *lb);

#endif
