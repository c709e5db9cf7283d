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

static void pk_pam_emit(void *ctx, int priority, const char *msg)
{
    pam_syslog((pam_handle_t *)ctx, priority, "%s", msg);
}

static int pk_priority(enum pk_outcome out)
{
    switch (pk_outcome_wording(out)) {
    case PK_WORD_ACCEPTED:
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

/* Gets the token by the configured rule; *answer is ours to wipe and free
 * when *owned is set. */
static enum pk_outcome pk_get_token(pam_handle_t *pamh, const struct pk_config *cfg,
                                    const char **token, char **answer, struct pk_result *res)
{
    const void *item = NULL;
    int rc;

    *answer = NULL;
    *token = NULL;
    if (cfg->authtok != PK_AUTHTOK_PROMPT) {
        rc = pam_get_item(pamh, PAM_AUTHTOK, &item);
        if (rc == PAM_SUCCESS && item != NULL) {
            *token = item;
            return PK_OK;
        }
        if (cfg->authtok == PK_AUTHTOK_USE_FIRST)
            return pk_result_set(res, PK_NO_AUTHTOK, NULL);
    }
    rc = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, answer, "%s", cfg->prompt);
    if (rc != PAM_SUCCESS || *answer == NULL) {
        pk_free_secret_str(*answer);
        *answer = NULL;
        return pk_result_set(res, PK_CONV_ERROR,
                             "%s (note: sudo refuses answers of 512 bytes or more)",
                             pam_strerror(pamh, rc != PAM_SUCCESS ? rc : PAM_CONV_ERR));
    }
    *token = *answer;
    return PK_OK;
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
    const char *token = NULL;
    char *answer = NULL;
    char line[768];
    enum pk_outcome out;
    int rc;

    memset(&res, 0, sizeof(res));
    rc = pam_get_user(pamh, &user, NULL);
    if (rc != PAM_SUCCESS || user == NULL || user[0] == '\0') {
        pam_syslog(pamh, LOG_NOTICE, "cannot determine the user: %s",
                   pam_strerror(pamh, rc != PAM_SUCCESS ? rc : PAM_USER_UNKNOWN));
        return rc != PAM_SUCCESS ? rc : PAM_USER_UNKNOWN;
    }
    out = pk_auth_prepare(&auth, argc, argv, NULL, user, &log, &res);
    log.debug = auth.cfg_loaded && auth.cfg.debug;
    if (out == PK_OK)
        out = pk_get_token(pamh, &auth.cfg, &token, &answer, &res);
    if (out == PK_OK)
        out = pk_auth_decide(&auth, token, time(NULL), &res);
    pk_free_secret_str(answer);
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
