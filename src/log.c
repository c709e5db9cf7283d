#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

static void pk_vlog(const struct pk_logger *log, int priority, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void pk_vlog(const struct pk_logger *log, int priority, const char *fmt, va_list ap)
{
    char msg[1024];

    if (log == NULL || log->emit == NULL)
        return;
    if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
        return;
    log->emit(log->ctx, priority, msg);
}

void pk_log(const struct pk_logger *log, int priority, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    pk_vlog(log, priority, fmt, ap);
    va_end(ap);
}

void pk_debug(const struct pk_logger *log, const char *fmt, ...)
{
    va_list ap;

    if (log == NULL || !log->debug)
        return;
    va_start(ap, fmt);
    pk_vlog(log, LOG_DEBUG, fmt, ap);
    va_end(ap);
}

void pk_log_escape(char *buf, size_t len, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (len == 0)
        return;
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            if (o + 1 >= len)
                break;
            buf[o++] = (char)c;
        } else {
            if (o + 4 >= len)
                break;
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 0xf];
        }
    }
    buf[o] = '\0';
}
