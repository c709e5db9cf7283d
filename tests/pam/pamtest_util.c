#include "pamtest_util.h"

#include <fcntl.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static int pt_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp,
                      void *data)
{
    struct pt_conv *c = data;
    struct pam_response *out = calloc((size_t)n, sizeof(*out));

    if (out == NULL)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        switch (msg[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
        case PAM_PROMPT_ECHO_ON:
            c->r->prompts++;
            if (c->token == NULL || c->again) {
                c->again = false;
                for (int j = 0; j < i; j++)
                    free(out[j].resp);
                free(out);
                return c->token == NULL ? PAM_CONV_ERR : PAM_CONV_AGAIN;
            }
            out[i].resp = strdup(c->token);
            if (out[i].resp == NULL) {
                for (int j = 0; j < i; j++)
                    free(out[j].resp);
                free(out);
                return PAM_BUF_ERR;
            }
            break;
        case PAM_ERROR_MSG:
            pt_append(c->r->errors, sizeof(c->r->errors), msg[i]->msg);
            break;
        default:
            break;
        }
    }
    *resp = out;
    return PAM_SUCCESS;
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
    FILE *capture = tmpfile();
    int saved = dup(STDERR_FILENO);
    const char *env;
    struct timespec t0, t1;

    memset(r, 0, sizeof(*r));
    r->auth_rv = r->acct_rv = -1;
    if (capture == NULL || saved < 0) {
        fprintf(stderr, "pt_run: cannot capture stderr\n");
        abort();
    }
    fflush(stderr);
    if (dup2(fileno(capture), STDERR_FILENO) < 0)
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
    fflush(stderr);
    (void)dup2(saved, STDERR_FILENO);
    close(saved);
    pt_collect_log(capture, r);
    fclose(capture);
}
