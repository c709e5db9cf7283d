#include "verdict.h"

#include <security/_pam_types.h>
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

/* Whether the cut-off hint (pk_auth_add_hint) may apply: PK_NO_HINT when
 * the outcome says nothing of how the token was typed (it passed
 * validation, or the check could not be made). Every row says which. */
enum pk_hint { PK_NO_HINT = 0, PK_HINT };

struct pk_outcome_row {
    int pam_code;
    enum pk_wording wording;
    const char *reason;
    enum pk_hint hint;
};

static const struct pk_outcome_row pk_outcome_table[PK_OUTCOME_COUNT] = {
    [PK_OK] = {PAM_SUCCESS, PK_WORD_ACCEPTED, "accepted", PK_NO_HINT},
    [PK_NOT_MAPPED] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "kakao_id not mapped to this user",
                       PK_NO_HINT},
    [PK_TOKEN_EMPTY] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "empty token", PK_HINT},
    [PK_TOKEN_TOO_LONG] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "token too long", PK_HINT},
    [PK_TOKEN_BAD_BYTES] = {PAM_AUTH_ERR, PK_WORD_REJECTED,
                            "token has bytes outside printable ASCII", PK_HINT},
    [PK_TOKEN_MALFORMED] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "malformed token", PK_HINT},
    [PK_KIND_NOT_ACCEPTED] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "token kind not accepted", PK_HINT},
    [PK_NO_AUTHTOK] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "use_first_pass but no PAM_AUTHTOK",
                       PK_HINT},
    [PK_AUTHTOK_NOT_JWT] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "PAM_AUTHTOK is not a JWT", PK_NO_HINT},
    [PK_SSHD_INCORRECT] = {PAM_AUTH_ERR, PK_WORD_REJECTED,
                           "sshd refused the user (invalid or not allowed; sent its INCORRECT "
                           "password)",
                           PK_NO_HINT},
    [PK_JWT_BAD_HEADER] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "bad header", PK_HINT},
    [PK_JWT_ALG_MISMATCH] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "algorithm not allowed", PK_HINT},
    [PK_JWT_CRIT] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "crit header not supported", PK_HINT},
    [PK_JWT_BAD_TYP] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "typ header not JWT", PK_HINT},
    [PK_JWT_SIG_LENGTH] = {PAM_AUTH_ERR, PK_WORD_REJECTED,
                           "signature length wrong, token probably cut off", PK_HINT},
    [PK_JWT_BAD_SIGNATURE] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "bad signature", PK_HINT},
    [PK_JWT_BAD_CLAIMS] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "bad claims", PK_HINT},
    [PK_JWT_NO_EXP] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "no exp claim", PK_HINT},
    [PK_JWT_EXPIRED] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "expired", PK_HINT},
    [PK_JWT_NOT_YET_VALID] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "not yet valid", PK_HINT},
    [PK_JWT_IAT_FUTURE] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "issued in the future", PK_HINT},
    [PK_JWT_WRONG_ISS] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "wrong issuer", PK_HINT},
    [PK_JWT_WRONG_AUD] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "wrong audience", PK_HINT},
    [PK_JWT_TOO_OLD] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "authentication too old", PK_HINT},
    [PK_JWT_BAD_ID] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "bad id claim", PK_HINT},
    [PK_JWT_UNKNOWN_KID] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "unknown kid", PK_HINT},
    [PK_KAKAO_INVALID_TOKEN] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "invalid or expired token",
                                PK_HINT},
    [PK_KAKAO_REFUSED] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "refused by kakao", PK_HINT},
    [PK_KAKAO_WRONG_APP] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "token issued to another app", PK_HINT},
    [PK_KAKAO_BAD_ID] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "bad id", PK_HINT},
    [PK_KAKAO_NO_EMAIL] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "account has no email", PK_HINT},
    [PK_KAKAO_EMAIL_UNVERIFIED] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "email not valid and verified",
                                   PK_HINT},
    [PK_RELAY_WRONG_CODE] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "wrong code", PK_NO_HINT},
    [PK_RELAY_NOT_APPROVED] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "not approved", PK_NO_HINT},
    [PK_RELAY_EXPIRED] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "session expired", PK_NO_HINT},
    [PK_RELAY_USED] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "session already used", PK_NO_HINT},
    [PK_RELAY_UNKNOWN] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "session unknown", PK_NO_HINT},
    [PK_RELAY_BAD_TYP] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "typ header not kakao-pam-login+jwt",
                          PK_NO_HINT},
    [PK_RELAY_BAD_NONCE] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "wrong nonce", PK_NO_HINT},
    [PK_JWT_NO_JTI] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "no usable jti for one_time", PK_NO_HINT},
    [PK_TOKEN_USED] = {PAM_AUTH_ERR, PK_WORD_REJECTED, "token already used", PK_NO_HINT},
    [PK_USER_UNKNOWN] = {PAM_USER_UNKNOWN, PK_WORD_UNKNOWN, "no user map entry", PK_HINT},
    [PK_KAKAO_UNAVAILABLE] = {PAM_AUTHINFO_UNAVAIL, PK_WORD_UNAVAILABLE, "kakao api unavailable",
                              PK_NO_HINT},
    [PK_JWKS_UNAVAILABLE] = {PAM_AUTHINFO_UNAVAIL, PK_WORD_UNAVAILABLE, "jwks unavailable",
                             PK_NO_HINT},
    [PK_RELAY_UNAVAILABLE] = {PAM_AUTHINFO_UNAVAIL, PK_WORD_UNAVAILABLE, "relay unavailable",
                              PK_NO_HINT},
    [PK_STORE_UNAVAILABLE] = {PAM_AUTHINFO_UNAVAIL, PK_WORD_UNAVAILABLE,
                              "one-time store unavailable", PK_NO_HINT},
    [PK_CONFIG_ERROR] = {PAM_SERVICE_ERR, PK_WORD_SERVICE, "config error", PK_HINT},
    [PK_FILE_ERROR] = {PAM_SERVICE_ERR, PK_WORD_SERVICE, "file refused", PK_HINT},
    [PK_CONV_ERROR] = {PAM_CONV_ERR, PK_WORD_CONV, "conversation failed", PK_HINT},
    [PK_CONV_AGAIN] = {PAM_INCOMPLETE, PK_WORD_INCOMPLETE, "authentication incomplete", PK_HINT},
    [PK_NO_MEMORY] = {PAM_BUF_ERR, PK_WORD_SERVICE, "out of memory", PK_HINT},
};

static const struct pk_outcome_row *pk_row(enum pk_outcome outcome)
{
    static const struct pk_outcome_row fallback = {PAM_SERVICE_ERR, PK_WORD_SERVICE,
                                                   "internal error", PK_HINT};
    if ((unsigned)outcome >= PK_OUTCOME_COUNT || pk_outcome_table[outcome].reason == NULL)
        return &fallback;
    return &pk_outcome_table[outcome];
}

enum pk_outcome pk_result_set(struct pk_result *res, enum pk_outcome outcome, const char *fmt, ...)
{
    res->outcome = outcome;
    res->detail[0] = '\0';
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        if (vsnprintf(res->detail, sizeof(res->detail), fmt, ap) < 0)
            res->detail[0] = '\0';
        va_end(ap);
    }
    return outcome;
}

int pk_outcome_pam_code(enum pk_outcome outcome)
{
    return pk_row(outcome)->pam_code;
}

const char *pk_outcome_reason(enum pk_outcome outcome)
{
    return pk_row(outcome)->reason;
}

enum pk_wording pk_outcome_wording(enum pk_outcome outcome)
{
    return pk_row(outcome)->wording;
}

bool pk_outcome_cut_hint(enum pk_outcome outcome)
{
    return pk_row(outcome)->hint == PK_HINT;
}

void pk_verdict_line(char *buf, size_t len, const struct pk_result *res, const char *user)
{
    char who[128];
    const struct pk_outcome_row *row = pk_row(res->outcome);
    const char *sep = res->detail[0] != '\0' ? " (" : "";
    const char *end = res->detail[0] != '\0' ? ")" : "";
    int n = 0;

    pk_log_field(who, sizeof(who), user != NULL ? user : "(none)");
    switch (row->wording) {
    case PK_WORD_ACCEPTED:
        n = snprintf(buf, len, "accepted %s kakao_id=%lld user=%s", pk_kind_name(res->kind),
                     (long long)res->kakao_id, who);
        break;
    case PK_WORD_REJECTED:
        n = snprintf(buf, len, "rejected %s for user=%s: %s%s%s%s", pk_kind_name(res->kind), who,
                     row->reason, sep, res->detail, end);
        break;
    case PK_WORD_UNKNOWN:
        n = snprintf(buf, len, "no user map entry for user=%s%s%s%s", who, sep, res->detail, end);
        break;
    case PK_WORD_UNAVAILABLE:
        n = snprintf(buf, len, "%s for user=%s: %s", row->reason, who,
                     res->detail[0] != '\0' ? res->detail : "unknown error");
        break;
    case PK_WORD_CONV:
        n = snprintf(buf, len, "conversation failed for user=%s: %s", who,
                     res->detail[0] != '\0' ? res->detail : "no answer");
        break;
    case PK_WORD_INCOMPLETE:
        n = snprintf(buf, len, "%s for user=%s: %s", row->reason, who,
                     res->detail[0] != '\0' ? res->detail : "no detail");
        break;
    case PK_WORD_SERVICE:
        n = snprintf(buf, len, "%s: %s", row->reason,
                     res->detail[0] != '\0' ? res->detail : "(no detail)");
        break;
    }
    if (n < 0 && len > 0)
        buf[0] = '\0';
}
