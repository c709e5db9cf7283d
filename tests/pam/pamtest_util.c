#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "answer_conv.h"
#include "pamtest_util.h"

#include <fcntl.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct pt_conv {
    const char *token;
    struct pt_run *r;
    bool again; /* answer the next prompt PAM_CONV_AGAIN */
};

static void pt_append(char *buf, size_t cap, const char *text)
{
    size_t used = strlen(buf);
    (void)snprintf(buf + used, cap - used, "%s%s", used ? "\n" : "", text);
}

static int pt_answer(void *ctx, const struct pam_message *msg, char *buf, size_t len,
                     const char **answer)
{
    struct pt_conv *c = ctx;

    (void)buf;
    (void)len;
    switch (msg->msg_style) {
    case PAM_PROMPT_ECHO_OFF:
    case PAM_PROMPT_ECHO_ON:
        c->r->prompts++;
        if (c->token == NULL || c->again) {
            c->again = false;
            return c->token == NULL ? PAM_CONV_ERR : PAM_CONV_AGAIN;
        }
        *answer = c->token;
        break;
    case PAM_ERROR_MSG:
        pt_append(c->r->errors, sizeof(c->r->errors), msg->msg);
        break;
    default:
        break;
    }
    return PAM_SUCCESS;
}

static int pt_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    return ac_converse(n, msg, resp, pt_answer, data);
}

/* Keeps only pam_wrapper's "SYSLOG(n): text" lines, as "text". */
static void pt_collect_log(FILE *f, struct pt_run *r)
{
    char line[8192];

    r->log[0] = '\0';
    r->all_log[0] = '\0';
    rewind(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        char *p = strstr(line, "SYSLOG(");
        char *nl;
        if (p == NULL || (p = strstr(p, "): ")) == NULL)
            continue;
        p += 3;
        nl = strchr(p, '\n');
        if (nl != NULL)
            *nl = '\0';
        pt_append(r->all_log, sizeof(r->all_log), p);
        (void)snprintf(r->log, sizeof(r->log), "%s", p);
    }
}

/* libpam calls this instead of sleeping; appdata is the conversation's. */
static void pt_delay_fn(int status, unsigned usec, void *appdata)
{
    struct pt_conv *c = appdata;

    (void)status;
    c->r->delay_calls++;
    c->r->delay_usec = usec;
}

void pt_run(const char *service, const char *user, const char *token, bool with_acct,
            struct pt_run *r)
{
    pt_run_ex(service, user, token, with_acct, 0, r);
}

void pt_run_ex(const char *service, const char *user, const char *token, bool with_acct,
               unsigned flags, struct pt_run *r)
{
    struct pt_conv conv = {token, r, (flags & PT_CONV_AGAIN) != 0};
    struct pam_conv pc = {pt_conv_fn, &conv};
    pam_handle_t *ph = NULL;
    bool capturing = (flags & PT_NO_CAPTURE) == 0;
    FILE *capture = capturing ? tmpfile() : NULL;
    int saved = capturing ? dup(STDERR_FILENO) : -1;
    const char *env;
    struct timespec t0, t1;

    memset(r, 0, sizeof(*r));
    r->auth_rv = r->acct_rv = -1;
    if (capturing && (capture == NULL || saved < 0)) {
        fprintf(stderr, "pt_run: cannot capture stderr\n");
        abort();
    }
    fflush(stderr);
    if (capturing && dup2(fileno(capture), STDERR_FILENO) < 0)
        abort();
    if (clock_gettime(CLOCK_MONOTONIC, &t0) != 0)
        abort();
    r->first_rv = -1;
    if (pam_start(service, user, &pc, &ph) == PAM_SUCCESS) {
        if ((flags & PT_RECORD_DELAY) != 0) {
            void (*fn)(int, unsigned, void *) = pt_delay_fn;
            if (pam_set_item(ph, PAM_FAIL_DELAY, (const void *)fn) != PAM_SUCCESS)
                abort();
        }
        r->auth_rv = pam_authenticate(ph, 0);
        if ((flags & PT_CONV_AGAIN) != 0) {
            r->first_rv = r->auth_rv;
            if (r->first_rv == PAM_INCOMPLETE)
                r->auth_rv = pam_authenticate(ph, 0);
        }
        if (with_acct)
            r->acct_rv = pam_acct_mgmt(ph, 0);
        env = pam_getenv(ph, "KAKAO_ID");
        if (env != NULL)
            (void)snprintf(r->kakao_id_env, sizeof(r->kakao_id_env), "%s", env);
        (void)pam_end(ph, r->auth_rv);
    }
    if (clock_gettime(CLOCK_MONOTONIC, &t1) != 0)
        abort();
    r->elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (!capturing)
        return;
    fflush(stderr);
    (void)dup2(saved, STDERR_FILENO);
    close(saved);
    pt_collect_log(capture, r);
    fclose(capture);
}

static long pt_port_env(const char *name)
{
    const char *s = getenv(name);
    char *end;
    long v;

    if (s == NULL || *s == '\0')
        return -1;
    v = strtol(s, &end, 10);
    return (*end == '\0' && v > 0 && v < 65536) ? v : -1;
}

bool pt_env_load(struct pt_env *e, unsigned need)
{
    bool ok;

    e->dir = getenv("PK_TEST_DIR");
    e->keys = getenv("PK_TEST_KEYS");
    e->mock_ca = getenv("PK_MOCK_CA");
    e->mock_log = getenv("PK_MOCK_LOG");
    e->port_main = pt_port_env("PK_MOCK_PORT");
    e->port_rogue = pt_port_env("PK_MOCK_ROGUE_PORT");
    e->port_hang = pt_port_env("PK_MOCK_HANG_PORT");
    e->port_closed = pt_port_env("PK_MOCK_CLOSED_PORT");
    ok = e->dir != NULL && ((need & PT_NEED_KEYS) == 0 || e->keys != NULL) &&
         ((need & PT_NEED_MOCK) == 0 ||
          (e->mock_ca != NULL && e->mock_log != NULL && e->port_main > 0)) &&
         ((need & PT_NEED_FAULTS) == 0 ||
          (e->port_rogue > 0 && e->port_hang > 0 && e->port_closed > 0));
    if (!ok)
        fprintf(stderr, "PK_TEST_DIR%s%s must be set (run tests/run.sh)\n",
                (need & PT_NEED_KEYS) != 0 ? ", PK_TEST_KEYS" : "",
                (need & (PT_NEED_MOCK | PT_NEED_FAULTS)) != 0 ? " and the PK_MOCK_* variables"
                                                              : "");
    return ok;
}

char *pt_path(const char *base, const char *name)
{
    static char buf[8][1024];
    static int slot;
    char *p = buf[slot++ % 8];

    (void)snprintf(p, sizeof(buf[0]), "%s/%s", base, name);
    return p;
}

void pt_write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f;

    (void)unlink(path);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

void pt_vconf(const char *dir, const char *users, const char *head, const char *fmt, va_list ap)
{
    char body[4096], text[8192];

    (void)vsnprintf(body, sizeof(body), fmt, ap);
    (void)snprintf(text, sizeof(text), "user_map = %s\n%s%s", pt_path(dir, users), head, body);
    pt_write_file(pt_path(dir, "cur.conf"), text, 0644);
}

char *pt_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (f == NULL)
        return strdup(""); /* nothing logged yet */
    do {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

size_t pt_count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

size_t pt_wait_count(const char *path, const char *needle, size_t want)
{
    struct timespec nap = {0, 50 * 1000 * 1000};
    struct timespec now, end;
    size_t n;

    if (clock_gettime(CLOCK_MONOTONIC, &end) != 0)
        abort();
    end.tv_sec += 30;
    for (;;) {
        char *all = pt_slurp(path);
        assert_non_null(all);
        n = pt_count_of(all, needle);
        free(all);
        if (n >= want)
            return n;
        if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
            abort();
        if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
            return n;
        (void)nanosleep(&nap, NULL);
    }
}

double pt_time_slack(void)
{
    const char *s = getenv("PK_TEST_TIME_SLACK");
    return (s != NULL && *s != '\0') ? strtod(s, NULL) : 0.0;
}
