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
    int first_rv;          /* PT_CONV_AGAIN: pam_authenticate's result before the retry */
    int delay_calls;       /* PT_RECORD_DELAY: calls of our PAM_FAIL_DELAY function */
    unsigned delay_usec;   /* PT_RECORD_DELAY: the delay libpam handed it last */
};

/* pt_run_ex flags. */
enum {
    /* Set PAM_FAIL_DELAY to a function that records the delay libpam hands
     * it (instead of sleeping): r->delay_calls, r->delay_usec. */
    PT_RECORD_DELAY = 1 << 0,
    /* The first prompt is answered PAM_CONV_AGAIN; if pam_authenticate then
     * returns PAM_INCOMPLETE (r->first_rv), it is called again and the
     * prompt answered with token (r->auth_rv). */
    PT_CONV_AGAIN = 1 << 1,
};

/* Runs authenticate (then acct_mgmt when with_acct) for user on service,
 * answering every echo-off prompt with token (NULL: the conversation fails). */
void pt_run(const char *service, const char *user, const char *token, bool with_acct,
            struct pt_run *r);
/* pt_run with PT_* flags. */
void pt_run_ex(const char *service, const char *user, const char *token, bool with_acct,
               unsigned flags, struct pt_run *r);

#endif
