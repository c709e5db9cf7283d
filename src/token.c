#include "token.h"

#include <stdbool.h>
#include <string.h>

static bool pk_is_b64url(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static bool pk_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Lengths at which clients cut what the user pastes: the OpenSSH client's
 * keyboard-interactive answers, and misc_conv's buffer (pamtester). */
static const struct pk_cut {
    size_t len;
    const char *detail;    /* for the log line */
    const char *user_hint; /* for the user, PAM_ERROR_MSG */
} pk_cuts[] = {
    {1023, "1023 bytes: probably cut off by the OpenSSH client",
     "The token is 1023 bytes: the OpenSSH client probably cut it off."},
    {4095, "4095 bytes: probably cut off by pamtester or another misc_conv client",
     "The token is 4095 bytes: the client probably cut it off."},
};

static const struct pk_cut *pk_cut_find(size_t len)
{
    for (size_t i = 0; i < sizeof(pk_cuts) / sizeof(pk_cuts[0]); i++)
        if (pk_cuts[i].len == len)
            return &pk_cuts[i];
    return NULL;
}

const char *pk_token_cut_hint(size_t len)
{
    const struct pk_cut *cut = pk_cut_find(len);
    return cut != NULL ? cut->detail : NULL;
}

const char *pk_token_cut_user_hint(size_t len)
{
    const struct pk_cut *cut = pk_cut_find(len);
    return cut != NULL ? cut->user_hint : NULL;
}

/* Three non-empty base64url segments and two dots, nothing else. */
static bool pk_split_jwt(struct pk_token *tok)
{
    size_t seg = 0, start = 0;

    for (size_t i = 0; i <= tok->len; i++) {
        if (i == tok->len || tok->text[i] == '.') {
            if (seg >= 3 || i == start)
                return false;
            tok->seg_off[seg] = start;
            tok->seg_len[seg] = i - start;
            seg++;
            start = i + 1;
        } else if (!pk_is_b64url((unsigned char)tok->text[i])) {
            return false;
        }
    }
    return seg == 3;
}

static bool pk_is_opaque(const struct pk_token *tok)
{
    if (tok->len < PK_KAKAO_TOKEN_MIN || tok->len > PK_KAKAO_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < tok->len; i++)
        if (!pk_is_b64url((unsigned char)tok->text[i]))
            return false;
    return true;
}

/* PK_SSHD_BADPW repeated or cut to some non-zero length, and nothing else.
 * No user types these control bytes: sshd sent them. */
static bool pk_is_sshd_badpw(const char *raw, size_t *len)
{
    static const char junk[] = PK_SSHD_BADPW;
    size_t i;

    for (i = 0; raw[i] != '\0'; i++)
        if (raw[i] != junk[i % (sizeof(junk) - 1)])
            return false;
    *len = i;
    return i > 0;
}

enum pk_outcome pk_token_parse(const char *raw, struct pk_token *tok, struct pk_result *res)
{
    const char *hint;
    size_t len;

    memset(tok, 0, sizeof(*tok));
    /* sshd's bytes, before any trimming; otherwise it would only be "byte
     * 0x08 at offset 0", which tells the administrator nothing. */
    if (pk_is_sshd_badpw(raw, &len)) {
        tok->text = raw;
        tok->len = len;
        return pk_result_set(res, PK_SSHD_INCORRECT, NULL);
    }
    while (pk_is_space(*raw))
        raw++;
    /* One linear pass even for a huge answer; only trimmed bytes count. */
    len = strlen(raw);
    while (len > 0 && pk_is_space(raw[len - 1]))
        len--;
    tok->text = raw;
    tok->len = len;
    if (len == 0)
        return pk_result_set(res, PK_TOKEN_EMPTY, NULL);
    if (len > PK_TOKEN_MAX)
        return pk_result_set(res, PK_TOKEN_TOO_LONG, "over %d bytes", PK_TOKEN_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c < 0x20 || c > 0x7e)
            return pk_result_set(res, PK_TOKEN_BAD_BYTES, "byte 0x%02x at offset %zu", c, i);
    }
    hint = pk_token_cut_hint(len);
    if (pk_split_jwt(tok)) {
        tok->shape = PK_SHAPE_JWT;
        return PK_OK;
    }
    if (pk_is_opaque(tok)) {
        tok->shape = PK_SHAPE_OPAQUE;
        return PK_OK;
    }
    if (hint != NULL)
        return pk_result_set(res, PK_TOKEN_MALFORMED, "%s", hint);
    return pk_result_set(res, PK_TOKEN_MALFORMED,
                         "%zu bytes, neither a JWT nor a Kakao access token", len);
}

bool pk_valid_kakao_id_text(const char *s, size_t len, int64_t *out)
{
    uint64_t v = 0; /* 19 digits always fit in 64 unsigned bits */

    if (len == 0 || len > 19 || s[0] == '0')
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9)
            return false;
        v = v * 10 + d;
    }
    if (v > (uint64_t)INT64_MAX)
        return false;
    if (out != NULL)
        *out = (int64_t)v;
    return true;
}
