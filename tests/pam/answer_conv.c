#include "answer_conv.h"

#include <stdlib.h>
#include <string.h>

static void ac_free_answers(struct pam_response *out, int n)
{
    for (int i = 0; i < n; i++)
        free(out[i].resp);
    free(out);
}

int ac_converse(int n, const struct pam_message **msg, struct pam_response **resp, ac_answer_fn fn,
                void *ctx)
{
    struct pam_response *out = calloc((size_t)n, sizeof(*out));

    if (out == NULL)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        char buf[1024];
        const char *answer = NULL;
        int rc = fn(ctx, msg[i], buf, sizeof(buf), &answer);

        if (rc == PAM_SUCCESS && answer != NULL) {
            out[i].resp = strdup(answer);
            if (out[i].resp == NULL)
                rc = PAM_BUF_ERR;
        }
        if (rc != PAM_SUCCESS) {
            ac_free_answers(out, i);
            return rc;
        }
    }
    *resp = out;
    return PAM_SUCCESS;
}

static int ac_fixed_answer(void *ctx, const struct pam_message *msg, char *buf, size_t len,
                           const char **answer)
{
    (void)buf;
    (void)len;
    if (msg->msg_style == PAM_PROMPT_ECHO_OFF || msg->msg_style == PAM_PROMPT_ECHO_ON)
        *answer = ctx;
    return PAM_SUCCESS;
}

int ac_answer_conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    return ac_converse(n, msg, resp, ac_fixed_answer, data);
}
