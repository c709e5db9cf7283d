/* The browser of `kakao-pam login`: xdg-open, run with the authorize URL. */
#ifndef PK_BROWSER_H
#define PK_BROWSER_H

#include <sys/types.h>

/* Runs xdg-open with url, with nothing of ours: stdin, stdout (the token's)
 * and stderr go to /dev/null. Returns its pid, or 0 with a message on
 * stderr telling the user to open the URL themselves. */
pid_t pk_browser_open(const char *url);

/* Reaps xdg-open once it has ended (never waits): *pid becomes 0, and a
 * failure is told on stderr. Nothing when *pid is 0 or it still runs. */
void pk_browser_reap(pid_t *pid);

#endif
