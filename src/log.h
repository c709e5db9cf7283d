/* Where messages go: the module hands in a pam_syslog sink, the CLI a stderr
 * sink, tests a capture. Nothing here is global. */
#ifndef PK_LOG_H
#define PK_LOG_H

#include <stdbool.h>
#include <stddef.h>

struct pk_logger {
    void (*emit)(void *ctx, int priority, const char *msg);
    void *ctx;
    bool debug;
};

void pk_log(const struct pk_logger *log, int priority, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Only when log->debug is set. */
void pk_debug(const struct pk_logger *log, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Copies s into buf with bytes outside printable ASCII as \xNN, truncated. */
void pk_log_escape(char *buf, size_t len, const char *s);

#endif
