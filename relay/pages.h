/* relay/pages.h — the HTML pages a phone sees. Every field is HTML-escaped here. */
#ifndef PK_RELAY_PAGES_H
#define PK_RELAY_PAGES_H
#include <stddef.h>
struct pk_relay_view {
    const char *user, *host, *service, *rhost; /* as the host sent them; rhost may be "" */
    long seconds_left;                         /* of the session */
    const char *short_id;                      /* the {short} of /a/{short} */
};
/* The approval page: "Log in as USER on HOST (SERVICE, from RHOST)?", time left, and one
 * button: a form POST to /a/{short} ("Continue with Kakao"). malloc'd; NULL: no memory. */
char *pk_relay_page_approve(const struct pk_relay_view *v);
/* The code page: the 6 digits large, grouped "481 205", time left, and "Type this code only
 * at the terminal where you started this login — never give it to anyone." */
char *pk_relay_page_code(const char code[7], long seconds_left);
/* A plain message page (expired, denied at Kakao, unknown link, ...). */
char *pk_relay_page_message(const char *heading, const char *text);
/* The security headers every page carries (value of Content-Security-Policy needs the
 * Kakao authorize origin for form-action). Fills name/value pairs; returns the count.
 * The Content-Security-Policy value is written into csp_buf (256 bytes are plenty); the other
 * values are static. 0 (nothing filled) when kakao_auth_url is not an http(s) URL with a
 * plain host[:port], csp_buf is too small or max is under 6. */
struct pk_relay_header {
    const char *name;
    const char *value;
};
size_t pk_relay_page_headers(const char *kakao_auth_url, char *csp_buf, size_t csp_len,
                             struct pk_relay_header *out, size_t max);
#endif
