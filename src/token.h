/* Token intake: trimming, size and byte limits, JWT/opaque classification,
 * and the hints for tokens cut off by client limits (docs/DESIGN.md §4.2, §5.5). */
#ifndef PK_TOKEN_H
#define PK_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verdict.h"

#define PK_TOKEN_MAX 8192
#define PK_KAKAO_TOKEN_MIN 16
#define PK_KAKAO_TOKEN_MAX 512

/* What OpenSSH's sshd hands PAM in place of the user's answer for an invalid
 * user, or for root when PermitRootLogin forbids it: these bytes repeated or
 * cut to the answer's length (auth.c, fake_password()). */
#define PK_SSHD_BADPW "\b\n\r\177INCORRECT"

enum pk_token_shape {
    PK_SHAPE_INVALID = 0,
    PK_SHAPE_JWT,   /* three base64url segments */
    PK_SHAPE_OPAQUE /* a Kakao access token */
};

/* A trimmed view into the caller's buffer; the three JWT segments are
 * located when shape is PK_SHAPE_JWT. */
struct pk_token {
    const char *text;
    size_t len;
    enum pk_token_shape shape;
    size_t seg_off[3];
    size_t seg_len[3];
};

/* Classifies raw (NUL-terminated). sshd's stand-in answer (PK_SSHD_BADPW,
 * untrimmed) is PK_SSHD_INCORRECT. On refusal returns the outcome with a
 * detail in res; the token itself never goes into the detail. */
enum pk_outcome pk_token_parse(const char *raw, struct pk_token *tok, struct pk_result *res);

/* The client that probably cut a token of this length, for the log line's
 * detail, or NULL. */
const char *pk_token_cut_hint(size_t len);
/* The same for the user (shown with PAM_ERROR_MSG), or NULL. */
const char *pk_token_cut_user_hint(size_t len);

/* A kakao_id as text, wherever it is read (user map, JWT claims, the Kakao
 * check cache, the CLI): 1-19 ASCII digits, no sign, no leading zero,
 * within int64. *out (when not NULL) gets the value. */
bool pk_valid_kakao_id_text(const char *s, size_t len, int64_t *out);

#endif
