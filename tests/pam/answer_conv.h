/* The PAM conversation the tests that drive the module through libpam
 * share (tests/pam, tests/alloc, tests/bench): linked by their Makefile
 * rules, never into the module. */
#ifndef PK_ANSWER_CONV_H
#define PK_ANSWER_CONV_H

#include <security/pam_appl.h>
#include <stddef.h>

/* How one message is answered: PAM_SUCCESS with *answer the text to give
 * (a copy goes to the module, which owns it and must wipe it) or NULL for
 * no answer; any other code ends the conversation with that code. buf (len
 * bytes) may hold an answer the function makes. */
typedef int (*ac_answer_fn)(void *ctx, const struct pam_message *msg, char *buf, size_t len,
                            const char **answer);

/* A conversation (struct pam_conv's conv, with its data) that asks fn for
 * each message's answer. Failing part way (fn's code, or PAM_BUF_ERR when
 * out of memory), it leaves nothing allocated. */
int ac_converse(int n, const struct pam_message **msg, struct pam_response **resp, ac_answer_fn fn,
                void *ctx);

/* A conversation function: every prompt, echo on or off, is answered with
 * the string data points to; other messages get no answer. */
int ac_answer_conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data);

#endif
