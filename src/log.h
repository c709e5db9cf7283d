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

/* printf into a problem buffer a caller supplied (docs/DESIGN.md §11);
 * nothing when problem is NULL or problem_len is 0. */
void pk_problem_printf(char *problem, size_t problem_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The only two ways a value from outside (a user name, a JWT header field,
 * a server's message, a config value echoed back) enters a log line or a
 * pk_result detail, so that no input can forge a field or a second decision.
 * Escaped bytes are written as \xNN (lower-case hex). A value that does not
 * fit ends in "..." and is never cut inside an escape; buf is always
 * NUL-terminated (len > 0). s may be NULL (written as nothing). */

/* For an unquoted field (user=, alg=, kid=) or an identifier: every byte
 * outside 0x21-0x7e, '"' and '\' is escaped, so the value holds no space. */
void pk_log_field(char *buf, size_t len, const char *s);

/* For free text shown inside double quotes (msg="..."): the same, except
 * that spaces (0x20) stay as they are. */
void pk_log_text(char *buf, size_t len, const char *s);

#endif
