#include "answer_conv.h"

#include <stdlib.h>
#include <string.h>

void ac_free_answers(struct pam_response *out, int n)
{
    for (int i = 0; i < n; i++)
        free(out[i].resp);
    free(out);
}

int ac_answer_conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    struct pam_response *out = calloc((size_t)n, sizeof(*out));

    if (out == NULL)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF && msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
            continue;
        out[i].resp = strdup(data);
        if (out[i].resp == NULL) {
            ac_free_answers(out, i);
            return PAM_BUF_ERR;
        }
    }
    *resp = out;
    return PAM_SUCCESS;
}
