/* The relay's three HTML pages and their security headers (kakao-pam-relay(8)).
 *
 * Every page stands alone: inline style only, no script, no image, no font,
 * no external resource of any kind, so the Content-Security-Policy can be
 * "default-src 'none'". Every value that came from outside (the host's user,
 * host, service and rhost, the message texts, the code) goes through
 * pk_html_add, which escapes & < > " ' and replaces any byte outside
 * printable ASCII: the values are printable ASCII when the server checked
 * them, and the pages stay safe even when it did not. */
#include "pages.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing text; oom sticks, so callers check once at the end. */
struct pk_page {
    char *buf;
    size_t len;
    size_t cap;
    bool oom;
};

static void pk_page_put(struct pk_page *p, const char *s, size_t n)
{
    if (p->oom)
        return;
    if (n + 1 > p->cap - p->len || p->buf == NULL) {
        size_t cap = p->cap != 0 ? p->cap : 2048;
        char *nbuf;
        while (cap - p->len < n + 1) {
            if (cap > ((size_t)-1) / 2) {
                p->oom = true;
                return;
            }
            cap *= 2;
        }
        nbuf = realloc(p->buf, cap);
        if (nbuf == NULL) {
            p->oom = true;
            return;
        }
        p->buf = nbuf;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
}

/* Markup we wrote ourselves: never anything from outside. */
static void pk_page_raw(struct pk_page *p, const char *s)
{
    pk_page_put(p, s, strlen(s));
}

/* A value from outside, safe in element text and in quoted attributes. */
static void pk_html_add(struct pk_page *p, const char *s)
{
    if (s == NULL)
        return;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&':
            pk_page_raw(p, "&amp;");
            break;
        case '<':
            pk_page_raw(p, "&lt;");
            break;
        case '>':
            pk_page_raw(p, "&gt;");
            break;
        case '"':
            pk_page_raw(p, "&quot;");
            break;
        case '\'':
            pk_page_raw(p, "&#39;");
            break;
        default:
            if (c < 0x20 || c > 0x7e)
                pk_page_raw(p, "&#xFFFD;");
            else
                pk_page_put(p, s, 1);
            break;
        }
    }
}

/* Numbers we formatted ourselves. */
static void pk_page_fmt(struct pk_page *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void pk_page_fmt(struct pk_page *p, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        p->oom = true;
        return;
    }
    pk_page_put(p, tmp, (size_t)n);
}

static char *pk_page_done(struct pk_page *p)
{
    if (p->oom) {
        free(p->buf);
        return NULL;
    }
    return p->buf;
}

/* System fonts, large type, one wide button: readable and tappable on a
 * phone without zooming. Any word may break (overflow-wrap:anywhere): an IPv6
 * client address or a long host name is one "word" wider than a 390-pixel
 * screen, and it ran off the right edge of the approval page. */
static const char pk_page_style[] =
    "body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "background:#f6f6f6;color:#191919;font-size:18px;line-height:1.45}"
    "main{max-width:30rem;margin:0 auto;padding:1.5rem 1.25rem;overflow-wrap:anywhere}"
    "h1{font-size:1.5rem;line-height:1.3;margin:.5rem 0 1rem}"
    ".where{color:#555;margin:0 0 1rem}"
    ".time{font-weight:600;margin:1rem 0}"
    "button{display:block;width:100%;min-height:3.5rem;border:0;border-radius:.75rem;"
    "background:#fee500;color:#191919;font-size:1.25rem;font-weight:700;cursor:pointer}"
    ".code{font-family:ui-monospace,'SF Mono',Menlo,Consolas,monospace;font-size:3.25rem;"
    "font-weight:700;letter-spacing:.08em;text-align:center;white-space:nowrap;"
    "background:#fff;border-radius:.75rem;padding:1rem .5rem;margin:1rem 0}"
    ".warn{background:#fff3cd;border-left:.4rem solid #c58a00;padding:.75rem 1rem;"
    "border-radius:.25rem}"
    ".note{color:#555;font-size:.95rem}";

static void pk_page_head(struct pk_page *p, const char *title)
{
    pk_page_raw(p, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<meta name=\"referrer\" content=\"no-referrer\">\n<title>");
    pk_html_add(p, title);
    pk_page_raw(p, "</title>\n<style>");
    pk_page_raw(p, pk_page_style);
    pk_page_raw(p, "</style>\n</head><body><main>\n");
}

static void pk_page_tail(struct pk_page *p)
{
    pk_page_raw(p, "</main></body></html>\n");
}

/* "1 min 45 s", "45 s", "2 min". */
static void pk_page_time_left(struct pk_page *p, long seconds)
{
    long s = seconds > 0 ? seconds : 0;

    if (s >= 60 && s % 60 != 0)
        pk_page_fmt(p, "%ld min %ld s", s / 60, s % 60);
    else if (s >= 60)
        pk_page_fmt(p, "%ld min", s / 60);
    else
        pk_page_fmt(p, "%ld s", s);
}

char *pk_relay_page_approve(const struct pk_relay_view *v)
{
    struct pk_page p = {0};

    if (v == NULL)
        return NULL;
    pk_page_head(&p, "Approve this login");
    pk_page_raw(&p, "<h1>Log in as <b>");
    pk_html_add(&p, v->user);
    pk_page_raw(&p, "</b> on <b>");
    pk_html_add(&p, v->host);
    pk_page_raw(&p, "</b>?</h1>\n<p class=\"where\">(");
    pk_html_add(&p, v->service);
    if (v->rhost != NULL && v->rhost[0] != '\0') {
        pk_page_raw(&p, ", from ");
        pk_html_add(&p, v->rhost);
    }
    pk_page_raw(&p, ")</p>\n<p class=\"time\">Time left: ");
    pk_page_time_left(&p, v->seconds_left);
    /* A form POST, not a link: a link preview or a prefetch approves nothing. */
    pk_page_raw(&p, "</p>\n<form method=\"post\" action=\"/a/");
    pk_html_add(&p, v->short_id);
    pk_page_raw(&p, "\"><button type=\"submit\">Continue with Kakao</button></form>\n"
                    "<p class=\"note\">You will log in with Kakao, then see a 6-digit code to "
                    "type at the terminal. If you did not start this login, close this "
                    "page.</p>\n");
    pk_page_tail(&p);
    return pk_page_done(&p);
}

static bool pk_six_digits(const char *code)
{
    for (int i = 0; i < 6; i++) {
        if (code[i] < '0' || code[i] > '9')
            return false;
    }
    return code[6] == '\0';
}

char *pk_relay_page_code(const char code[7], long seconds_left)
{
    struct pk_page p = {0};
    char half[4];

    if (code == NULL)
        return NULL;
    pk_page_head(&p, "Your login code");
    pk_page_raw(&p, "<h1>Your login code</h1>\n<p class=\"code\">");
    if (pk_six_digits(code)) {
        /* Grouped "481 205": two chunks are easier to carry to a terminal. */
        memcpy(half, code, 3);
        half[3] = '\0';
        pk_html_add(&p, half);
        pk_page_raw(&p, " ");
        pk_html_add(&p, code + 3);
    } else {
        pk_html_add(&p, code);
    }
    pk_page_raw(&p, "</p>\n<p class=\"time\">Time left: ");
    pk_page_time_left(&p, seconds_left);
    pk_page_raw(&p, "</p>\n<p class=\"warn\">Type this code only at the terminal where you "
                    "started this login — never give it to anyone.</p>\n");
    pk_page_tail(&p);
    return pk_page_done(&p);
}

char *pk_relay_page_message(const char *heading, const char *text)
{
    struct pk_page p = {0};

    pk_page_head(&p, heading != NULL ? heading : "");
    pk_page_raw(&p, "<h1>");
    pk_html_add(&p, heading);
    pk_page_raw(&p, "</h1>\n<p>");
    pk_html_add(&p, text);
    pk_page_raw(&p, "</p>\n");
    pk_page_tail(&p);
    return pk_page_done(&p);
}

/* The origin of an http(s) URL ("https://host[:port]"), checked to hold only
 * characters that cannot end a CSP source or a header line. Its length, or
 * 0 when the URL has no such origin. */
static size_t pk_csp_origin(const char *url)
{
    size_t start, i;

    if (url == NULL)
        return 0;
    if (strncmp(url, "https://", 8) == 0)
        start = 8;
    else if (strncmp(url, "http://", 7) == 0)
        start = 7;
    else
        return 0;
    for (i = start; url[i] != '\0' && url[i] != '/'; i++) {
        char c = url[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
            return 0;
    }
    return i > start ? i : 0;
}

size_t pk_relay_page_headers(const char *kakao_auth_url, char *csp_buf, size_t csp_len,
                             struct pk_relay_header *out, size_t max)
{
    size_t origin = pk_csp_origin(kakao_auth_url);
    size_t n = 0;
    int w;

    if (origin == 0 || csp_buf == NULL || out == NULL || max < 6)
        return 0;
    /* form-action names Kakao too: browsers check it on the 303 that the
     * approval form's POST answers with. Chromium checks every redirect of
     * that chain (tried: POST, 303 to an allowed origin, 302 to another one
     * is blocked), so a Kakao authorize that redirects on to a host not
     * listed here (a login page elsewhere) would be blocked. */
    w = snprintf(csp_buf, csp_len,
                 "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' %.*s",
                 (int)origin, kakao_auth_url);
    if (w < 0 || (size_t)w >= csp_len)
        return 0;
    out[n++] = (struct pk_relay_header){"Content-Type", "text/html; charset=utf-8"};
    out[n++] = (struct pk_relay_header){"Content-Security-Policy", csp_buf};
    out[n++] = (struct pk_relay_header){"X-Frame-Options", "DENY"};
    out[n++] = (struct pk_relay_header){"Cache-Control", "no-store"};
    out[n++] = (struct pk_relay_header){"Referrer-Policy", "no-referrer"};
    out[n++] = (struct pk_relay_header){"X-Content-Type-Options", "nosniff"};
    return n;
}
