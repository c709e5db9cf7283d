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
#include "src/relay_client.h"
#include "src/log.h"
#include "src/qr.h"
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

/* One question through the conversation; *answer is then ours to wipe and
 * free. `note` ends the log line when the conversation fails. */
static enum pk_outcome pk_ask(pam_handle_t *pamh, int style, const char *text, char **answer,
                              const char *note, struct pk_result *res)
{
    int rc;

    *answer = NULL;
    rc = pam_prompt(pamh, style, answer, "%s", text);
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
    return pk_result_set(res, PK_CONV_ERROR, "%s (%s)",
                         pam_strerror(pamh, rc != PAM_SUCCESS ? rc : PAM_CONV_ERR), note);
}

/* Asks for a token; *answer is then ours to wipe and free. */
static enum pk_outcome pk_prompt_token(pam_handle_t *pamh, const struct pk_config *cfg,
                                       char **answer, struct pk_result *res)
{
    return pk_ask(pamh, PAM_PROMPT_ECHO_OFF, cfg->prompt, answer,
                  "note: sudo refuses answers of 512 bytes or more", res);
}

/* Whether the application gave a conversation function: without one nobody
 * can read the relay's URL, so the relay is not even asked for a session. */
static bool pk_can_converse(pam_handle_t *pamh)
{
    const void *item = NULL;

    return pam_get_item(pamh, PAM_CONV, &item) == PAM_SUCCESS && item != NULL &&
           ((const struct pam_conv *)item)->conv != NULL;
}

/* Opens the relay session before any prompt. With *fallback set the relay
 * could not be reached and other kinds are accepted (logged as a notice
 * here): the caller asks with the plain prompt instead. */
static enum pk_outcome pk_relay_start(pam_handle_t *pamh, struct pk_auth *auth, const char *user,
                                      struct pk_relay_session *sess, bool *fallback,
                                      struct pk_result *res)
{
    const void *service = NULL, *rhost = NULL;
    enum pk_outcome out;

    *fallback = false;
    memset(sess, 0, sizeof(*sess));
    if (!pk_can_converse(pamh))
        return pk_result_set(res, PK_CONV_ERROR,
                             "no conversation function: a relay login needs someone at a "
                             "terminal to type the code");
    (void)pam_get_item(pamh, PAM_SERVICE, &service);
    (void)pam_get_item(pamh, PAM_RHOST, &rhost);
    out = pk_auth_relay_open(auth, user, service != NULL ? service : "", rhost, sess, res);
    if (out == PK_RELAY_UNAVAILABLE && pk_config_kinds(&auth->cfg) != PK_KIND_RELAY) {
        char line[768];
        pk_verdict_line(line, sizeof(line), res, user);
        pam_syslog(pamh, LOG_NOTICE, "%s; asking for a token instead", line);
        memset(res, 0, sizeof(*res));
        *fallback = true;
        return PK_OK;
    }
    return out;
}

/* relay_qr = yes: the URL as a QR code in one PAM_TEXT_INFO right before the
 * prompt (sshd shows the two together). The prompt carries the URL anyway, so
 * a code that cannot be drawn is a notice, not a refusal; only out of memory
 * ends the login. */
static enum pk_outcome pk_relay_qr(pam_handle_t *pamh, const char *url)
{
    char *qr = NULL;
    char problem[256];
    size_t len;
    enum pk_status st = pk_qr_text(url, &qr, NULL, problem, sizeof(problem));

    if (st == PK_ST_NOMEM)
        return PK_NO_MEMORY;
    if (st != PK_ST_OK) {
        pam_syslog(pamh, LOG_NOTICE, "relay_qr: no QR code (%s); the prompt shows the URL",
                   problem);
        return PK_OK;
    }
    /* sshd and most applications end each message with a newline of their own.
     * The code starts on a line of its own: sshd sends this text and the
     * prompt as one prompt, and the OpenSSH client writes "(user@host) " in
     * front of it, which would shift the code's first line. */
    len = strlen(qr);
    if (len > 0 && qr[len - 1] == '\n')
        qr[len - 1] = '\0';
    if (pam_info(pamh, "\n%s", qr) != PAM_SUCCESS)
        pam_syslog(pamh, LOG_NOTICE, "relay_qr: the application did not show the QR code");
    free(qr);
    return PK_OK;
}

/* Asks with relay_prompt (%u = the session's URL); echo on only when the
 * relay is the only kind (a code is no secret, a token is). *answer is then
 * ours to wipe and free. */
static enum pk_outcome pk_relay_prompt(pam_handle_t *pamh, const struct pk_config *cfg,
                                       const struct pk_relay_session *sess, char **answer,
                                       struct pk_result *res)
{
    char *text;
    enum pk_outcome out;

    *answer = NULL;
    if (cfg->relay_qr) {
        enum pk_outcome qr = pk_relay_qr(pamh, sess->url);
        if (qr != PK_OK)
            return pk_result_set(res, qr, "drawing the QR code");
    }
    text = pk_relay_prompt_text(cfg->relay_prompt, sess->url);
    if (text == NULL)
        return pk_result_set(res, PK_NO_MEMORY, "building the prompt");
    out = pk_ask(pamh,
                 pk_config_kinds(cfg) == PK_KIND_RELAY ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF,
                 text, answer, "no one answered the relay prompt", res);
    free(text);
    return out;
}

/* The relay login: a 6-digit answer is redeemed (asked again after a wrong
 * code while attempts are left); any other answer is a token for the other
 * accepted kinds, as before. */
static enum pk_outcome pk_authenticate_relay(pam_handle_t *pamh, struct pk_auth *auth,
                                             const char *user, bool *fallback,
                                             struct pk_result *res)
{
    struct pk_relay_session sess;
    char code[PK_RELAY_CODE_LEN + 1];
    char *answer = NULL;
    long left = 0;
    enum pk_outcome out;

    out = pk_relay_start(pamh, auth, user, &sess, fallback, res);
    if (out != PK_OK || *fallback)
        return out;
    for (;;) {
        out = pk_relay_prompt(pamh, &auth->cfg, &sess, &answer, res);
        if (out != PK_OK)
            break;
        if (pk_relay_code_parse(answer, code)) {
            out = pk_auth_relay_redeem(auth, &sess, code, time(NULL), &left, res);
            explicit_bzero(code, sizeof(code));
        } else if (pk_config_kinds(&auth->cfg) != PK_KIND_RELAY) {
            out = pk_auth_decide(auth, answer, time(NULL), res);
        } else {
            out = pk_result_set(res, PK_TOKEN_MALFORMED, "not a 6-digit code");
            res->kind = PK_KIND_RELAY;
        }
        pk_free_secret_str(answer);
        answer = NULL;
        if (out != PK_RELAY_WRONG_CODE || left <= 0)
            break;
        {
            char who[128];
            pk_log_field(who, sizeof(who), user);
            pam_syslog(pamh, LOG_NOTICE,
                       "wrong relay code for user=%s (attempts_left=%ld); asking again", who, left);
        }
    }
    pk_relay_session_free(&sess);
    return out;
}

/* A user with no map line, with prompt_unmapped: the same prompt as for
 * anyone, the answer wiped unread, and the caller's PK_USER_UNKNOWN stands
 * (unless the conversation itself failed, as it would for anyone). */
static enum pk_outcome pk_prompt_unmapped(pam_handle_t *pamh, struct pk_auth *auth,
                                          const char *user, struct pk_result *res)
{
    const struct pk_config *cfg = &auth->cfg;
    struct pk_relay_session sess;
    struct pk_result conv;
    char *answer = NULL;
    bool fallback = true;
    enum pk_outcome out = PK_OK;

    memset(&conv, 0, sizeof(conv));
    memset(&sess, 0, sizeof(sess));
    /* With the relay, a real session and URL, as for anyone. */
    if ((pk_config_kinds(cfg) & PK_KIND_RELAY) != 0)
        out = pk_relay_start(pamh, auth, user, &sess, &fallback, &conv);
    if (out == PK_OK && !fallback)
        out = pk_relay_prompt(pamh, cfg, &sess, &answer, &conv);
    else if (out == PK_OK)
        out = pk_prompt_token(pamh, cfg, &answer, &conv);
    pk_relay_session_free(&sess);
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
    /* PAM_AUTHTOK never reaches the relay: only what is typed here does. */
    if ((pk_config_kinds(cfg) & PK_KIND_RELAY) != 0) {
        bool fallback = false;
        out = pk_authenticate_relay(pamh, auth, user, &fallback, res);
        if (!fallback)
            return out;
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
        out = pk_prompt_unmapped(pamh, &auth, user, &res);
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
