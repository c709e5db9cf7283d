#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
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

/* Whether c is written as itself; everything else becomes \xNN. */
static bool pk_escape_keeps(unsigned char c, bool text)
{
    if (c == '"' || c == '\\')
        return false;
    return (c > 0x20 && c < 0x7f) || (text && c == 0x20);
}

static void pk_escape(char *buf, size_t len, const char *s, bool text)
{
    static const char hex[] = "0123456789abcdef";
    static const char mark[] = "...";
    size_t room;
    size_t need = 0;
    size_t o = 0;
    bool cut;

    if (buf == NULL || len == 0)
        return;
    if (s == NULL)
        s = "";
    room = len - 1;
    for (const char *p = s; *p != '\0' && need <= room; p++)
        need += pk_escape_keeps((unsigned char)*p, text) ? 1 : 4;
    cut = need > room;
    if (cut)
        room = room > sizeof(mark) - 1 ? room - (sizeof(mark) - 1) : 0;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        bool keep = pk_escape_keeps(c, text);
        if (o + (keep ? 1 : 4) > room)
            break;
        if (keep) {
            buf[o++] = (char)c;
        } else {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 0xf];
        }
    }
    for (size_t i = 0; cut && i < sizeof(mark) - 1 && o < len - 1; i++)
        buf[o++] = mark[i];
    buf[o] = '\0';
}

void pk_log_field(char *buf, size_t len, const char *s)
{
    pk_escape(buf, len, s, false);
}

void pk_log_text(char *buf, size_t len, const char *s)
{
    pk_escape(buf, len, s, true);
}

void pk_problem_printf(char *problem, size_t problem_len, const char *fmt, ...)
{
    va_list ap;

    if (problem == NULL || problem_len == 0)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(problem, problem_len, fmt, ap);
    va_end(ap);
}
