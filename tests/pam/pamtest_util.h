/* Running the real module through libpamtest under pam_wrapper, with the
 * syslog lines pam_wrapper writes to stderr captured per run; and the
 * set-up every PAM-level test shares: the environment tests/run.sh's pamenv
 * gives it, the files it writes. */
#ifndef PK_PAMTEST_UTIL_H
#define PK_PAMTEST_UTIL_H

#include <libpamtest.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PT_LOG_MAX 16384

struct pt_run {
    int auth_rv;
    int acct_rv;
    int prompts;              /* echo-off prompts seen */
    char log[PT_LOG_MAX];     /* the decision: the last SYSLOG(..) line, prefix stripped */
    char all_log[PT_LOG_MAX]; /* every SYSLOG(..) line, "\n"-separated */
    char errors[2048];        /* PAM_ERROR_MSG texts */
    char kakao_id_env[64];    /* KAKAO_ID value, "" when unset */
    double elapsed;           /* seconds from pam_start to pam_end (CLOCK_MONOTONIC) */
    int first_rv;             /* PT_CONV_AGAIN: pam_authenticate's result before the retry */
    int delay_calls;          /* PT_RECORD_DELAY: calls of our PAM_FAIL_DELAY function */
    unsigned delay_usec;      /* PT_RECORD_DELAY: the delay libpam handed it last */
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
    /* stderr is left alone (r->log stays empty): for runs from several
     * threads at once, whose caller captures the log of them all. */
    PT_NO_CAPTURE = 1 << 2,
};

/* Runs authenticate (then acct_mgmt when with_acct) for user on service,
 * answering every echo-off prompt with token (NULL: the conversation fails). */
void pt_run(const char *service, const char *user, const char *token, bool with_acct,
            struct pt_run *r);
/* pt_run with PT_* flags. */
void pt_run_ex(const char *service, const char *user, const char *token, bool with_acct,
               unsigned flags, struct pt_run *r);

/* What tests/run.sh's pamenv sets. */
struct pt_env {
    const char *dir;      /* PK_TEST_DIR: the suite's scratch directory */
    const char *keys;     /* PK_TEST_KEYS: tests/keys/make_keys.sh's output */
    const char *mock_ca;  /* PK_MOCK_CA: the CA of the mock's certificates */
    const char *mock_log; /* PK_MOCK_LOG: the mock's request log */
    long port_main;       /* PK_MOCK_PORT; the ports are -1 when unset or bad */
    long port_rogue;      /* PK_MOCK_ROGUE_PORT */
    long port_hang;       /* PK_MOCK_HANG_PORT */
    long port_closed;     /* PK_MOCK_CLOSED_PORT */
};

/* pt_env_load: what the test needs besides PK_TEST_DIR. */
enum {
    PT_NEED_KEYS = 1 << 0,
    PT_NEED_MOCK = 1 << 1,   /* the CA, the request log, the main port */
    PT_NEED_FAULTS = 1 << 2, /* the rogue, hang and closed ports */
};

/* Fills e from the environment. False, with a message on stderr, when a
 * needed variable is missing (the test was not started by tests/run.sh). */
bool pt_env_load(struct pt_env *e, unsigned need);

/* "base/name" in one of 8 rotating buffers: valid for the next 7 calls. */
char *pt_path(const char *base, const char *name);

/* Replaces path by a file holding text, with mode (cmocka assertions). */
void pt_write_file(const char *path, const char *text, mode_t mode);

/* Writes dir/cur.conf: "user_map = dir/users", then head, then fmt's lines
 * (for each test's conf() wrapper). */
void pt_vconf(const char *dir, const char *users, const char *head, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* The whole file as a new string ("" when it does not exist yet). */
char *pt_slurp(const char *path);

/* How many times needle occurs in hay, without overlaps. */
size_t pt_count_of(const char *hay, const char *needle);

/* How many times needle occurs in the file at path, once it occurs at least
 * `want` times or 30 s have passed (polled): for a log written by another
 * process (the mock logs a request when it has read it, which for a request
 * it never answers can come after the module gave up on it). */
size_t pt_wait_count(const char *path, const char *needle, size_t want);

/* Seconds of slack for upper time bounds: PK_TEST_TIME_SLACK, which the
 * valgrind pass sets; 0 otherwise. */
double pt_time_slack(void);

#endif
