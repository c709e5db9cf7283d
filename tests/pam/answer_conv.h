/* The PAM conversation the tests that drive the module through libpam
 * share (tests/pam, tests/alloc, tests/bench): linked by their Makefile
 * rules, never into the module. */
#ifndef PK_ANSWER_CONV_H
#define PK_ANSWER_CONV_H

#include <security/pam_appl.h>

/* A conversation function (struct pam_conv's conv): every prompt, echo on
 * or off, is answered with the string data points to, a copy the module
 * owns (and must wipe); other messages get no answer. PAM_BUF_ERR, with
 * nothing left allocated, when out of memory. */
int ac_answer_conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data);

/* Frees the first n answers of out, then out: a conversation that fails
 * part way returns none of them. */
void ac_free_answers(struct pam_response *out, int n);

#endif
