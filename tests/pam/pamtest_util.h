/* Running the real module through libpamtest under pam_wrapper, with the
 * syslog lines pam_wrapper writes to stderr captured per run. */
#ifndef PK_PAMTEST_UTIL_H
#define PK_PAMTEST_UTIL_H

#include <libpamtest.h>
#include <stdbool.h>
#include <stddef.h>

#define PT_LOG_MAX 16384

struct pt_run {
    int auth_rv;
    int acct_rv;
    int prompts;           /* echo-off prompts seen */
    char log[PT_LOG_MAX];  /* the decision: the last SYSLOG(..) line, prefix stripped */
    char all_log[PT_LOG_MAX]; /* every SYSLOG(..) line, "\n"-separated */
    char errors[2048];     /* PAM_ERROR_MSG texts */
    char kakao_id_env[64]; /* KAKAO_ID value, "" when unset */
    double elapsed;        /* seconds from pam_start to pam_end (CLOCK_MONOTONIC) */
};

/* Runs authenticate (then acct_mgmt when with_acct) for user on service,
 * answering every echo-off prompt with token (NULL: the conversation fails). */
void pt_run(const char *service, const char *user, const char *token, bool with_acct,
            struct pt_run *r);

#endif
