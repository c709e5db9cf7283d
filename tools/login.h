/* What the files of `kakao-pam login` share: login.c (the OAuth flow),
 * loopback.c (the listener for the redirect) and browser.c (xdg-open). */
#ifndef PK_LOGIN_H
#define PK_LOGIN_H

/* "kakao-pam login: MESSAGE" on stderr. */
void pk_login_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* CLOCK_MONOTONIC in milliseconds: every deadline of the login. */
long long pk_now_ms(void);

#endif
