/* pam_kakao: PAM glue only. Arguments -> config -> user -> token ->
 * validation -> mapping -> one PAM result and one log line. */
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "src/auth.h"
#include "src/log.h"
#include "src/secure.h"
#include "src/verdict.h"

/* Built with -fvisibility=hidden: only these three leave the object. */
#define PK_EXPORT __attribute__((visibility("default")))

#define PK_DATA_USER "pam_kakao:authenticated_user"

/* The failure delay pam_unix asks for, in microseconds (libpam varies it). */
#define PK_FAIL_DELAY_USEC 2000000U

static void pk_pam_emit(void *ctx, int priority, const char *msg)
{
    pam_syslog((pam_handle_t *)ctx, priority, "%s", msg);
}

static int pk_priority(enum pk_outcome out)
{
    switch (pk_outcome_wording(out)) {
    case PK_WORD_ACCEPTED:
    case PK_WORD_INCOMPLETE:
        return LOG_INFO;
    case PK_WORD_REJECTED:
    case PK_WORD_UNKNOWN:
        return LOG_NOTICE;
    case PK_WORD_UNAVAILABLE:
    case PK_WORD_CONV:
        return LOG_WARNING;
    case PK_WORD_SERVICE:
        break;
    }
    return LOG_ERR;
}

static void pk_free_data(pam_handle_t *pamh, void *data, int status)
{
    (void)pamh;
    (void)status;
    free(data);
}

/* Asks for a token; *answer is then ours to wipe and free. */
static enum pk_outcome pk_prompt_token(pam_handle_t *pamh, const struct pk_config *cfg,
                                       char **answer, struct pk_result *res)
{
    int rc;

    *answer = NULL;
    rc = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, answer, "%s", cfg->prompt);
    if (rc == PAM_SUCCESS && *answer != NULL)
        return PK_OK;
    pk_free_secret_str(*answer);
    *answer = NULL;
    /* The application will call pam_authenticate again (PAM_INCOMPLETE);
     * the module keeps nothing and simply asks again then. */
    if (rc == PAM_CONV_AGAIN)
        return pk_result_set(res, PK_CONV_AGAIN,
                             "the conversation answered PAM_CONV_AGAIN (the application may "
                             "call again)");
    return pk_result_set(res, PK_CONV_ERROR, "%s (note: sudo refuses answers of 512 bytes or more)",
                         pam_strerror(pamh, rc != PAM_SUCCESS ? rc : PAM_CONV_ERR));
}

/* A user with no map line, with prompt_unmapped: the same prompt as for
 * anyone, the answer wiped unread, and the caller's PK_USER_UNKNOWN stands
 * (unless the conversation itself failed, as it would for anyone). */
static enum pk_outcome pk_prompt_unmapped(pam_handle_t *pamh, const struct pk_config *cfg,
                                          struct pk_result *res)
{
    struct pk_result conv;
    char *answer = NULL;
    enum pk_outcome out;

    memset(&conv, 0, sizeof(conv));
    out = pk_prompt_token(pamh, cfg, &answer, &conv);
    pk_free_secret_str(answer);
    if (out != PK_OK) {
        *res = conv;
        return out;
    }
    return res->outcome;
}

/* Gets the token by the configured rule and judges it. A PAM_AUTHTOK set
 * by another module is judged only as a JWT, offline (pam_kakao(8)):
 * with try_first_pass any refusal of it leads to the prompt, and is logged
 * at debug level only, so that one decision line is logged. */
static enum pk_outcome pk_authenticate_token(pam_handle_t *pamh, struct pk_auth *auth,
                                             const char *user, const struct pk_logger *log,
                                             struct pk_result *res)
{
    const struct pk_config *cfg = &auth->cfg;
    const void *item = NULL;
    char *answer = NULL;
    enum pk_outcome out;
    int rc;

    if (cfg->authtok != PK_AUTHTOK_PROMPT) {
        rc = pam_get_item(pamh, PAM_AUTHTOK, &item);
        if (rc == PAM_SUCCESS && item != NULL) {
            out = pk_auth_decide_first_pass(auth, item, time(NULL), res);
            if (out == PK_OK || cfg->authtok == PK_AUTHTOK_USE_FIRST)
                return out;
            if (log->debug) {
                char line[768];
                pk_verdict_line(line, sizeof(line), res, user);
                pk_debug(log, "try_first_pass: PAM_AUTHTOK not used (%s); asking", line);
            }
            memset(res, 0, sizeof(*res));
        } else if (cfg->authtok == PK_AUTHTOK_USE_FIRST) {
            return pk_result_set(res, PK_NO_AUTHTOK, NULL);
        }
    }
    out = pk_prompt_token(pamh, cfg, &answer, res);
    if (out == PK_OK)
        out = pk_auth_decide(auth, answer, time(NULL), res);
    pk_free_secret_str(answer);
    return out;
}

static enum pk_outcome pk_record_success(pam_handle_t *pamh, const char *user,
                                         struct pk_result *res)
{
    char env[40];
    char *copy;

    (void)snprintf(env, sizeof(env), "KAKAO_ID=%lld", (long long)res->kakao_id);
    if (pam_putenv(pamh, env) != PAM_SUCCESS)
        return pk_result_set(res, PK_NO_MEMORY, "setting KAKAO_ID");
    copy = strdup(user);
    if (copy == NULL)
        return pk_result_set(res, PK_NO_MEMORY, "recording the login");
    if (pam_set_data(pamh, PK_DATA_USER, copy, pk_free_data) != PAM_SUCCESS) {
        free(copy);
        return pk_result_set(res, PK_NO_MEMORY, "recording the login");
    }
    return PK_OK;
}

PK_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    struct pk_logger log = {pk_pam_emit, pamh, false};
    struct pk_auth auth;
    struct pk_result res;
    const char *user = NULL;
    char line[768];
    enum pk_outcome out;
    int rc;

    memset(&res, 0, sizeof(res));
    /* First, as pam_unix does: every failure from here on, a broken config
     * included, is delayed by libpam (unless the stack succeeds). */
    if (!pk_config_args_nodelay(argc, argv)) {
        rc = pam_fail_delay(pamh, PK_FAIL_DELAY_USEC);
        if (rc != PAM_SUCCESS) {
            pam_syslog(pamh, LOG_ERR, "cannot request the failure delay: %s",
                       pam_strerror(pamh, rc));
            return PAM_SERVICE_ERR;
        }
    }
    rc = pam_get_user(pamh, &user, NULL);
    if (rc != PAM_SUCCESS || user == NULL || user[0] == '\0') {
        pam_syslog(pamh, LOG_NOTICE, "cannot determine the user: %s",
                   pam_strerror(pamh, rc != PAM_SUCCESS ? rc : PAM_USER_UNKNOWN));
        return rc != PAM_SUCCESS ? rc : PAM_USER_UNKNOWN;
    }
    out = pk_auth_prepare(&auth, argc, argv, NULL, user, &log, &res);
    log.debug = auth.cfg_loaded && auth.cfg.debug;
    /* With use_first_pass nobody is asked anything, mapped or not. */
    if (out == PK_USER_UNKNOWN && auth.cfg_loaded && auth.cfg.prompt_unmapped &&
        auth.cfg.authtok != PK_AUTHTOK_USE_FIRST)
        out = pk_prompt_unmapped(pamh, &auth.cfg, &res);
    if (out == PK_OK)
        out = pk_authenticate_token(pamh, &auth, user, &log, &res);
    if (out == PK_OK)
        out = pk_record_success(pamh, user, &res);

    pk_verdict_line(line, sizeof(line), &res, user);
    pam_syslog(pamh, pk_priority(out), "%s", line);
    if (res.user_hint != NULL && ((unsigned)flags & PAM_SILENT) == 0)
        (void)pam_error(pamh, "%s", res.user_hint);
    pk_auth_free(&auth);
    return pk_outcome_pam_code(out);
}

PK_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}

PK_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    const void *data = NULL;
    const char *user = NULL;

    (void)flags;
    (void)argc;
    (void)argv;
    if (pam_get_data(pamh, PK_DATA_USER, &data) != PAM_SUCCESS || data == NULL)
        return PAM_IGNORE;
    if (pam_get_item(pamh, PAM_USER, (const void **)&user) != PAM_SUCCESS || user == NULL ||
        strcmp(user, data) != 0)
        return PAM_IGNORE;
    return PAM_SUCCESS;
}
