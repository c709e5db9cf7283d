/* Outcomes of an authentication attempt and the one table that maps each to
 * its PAM result and its log wording. A new failure mode is one row here. */
#ifndef PK_VERDICT_H
#define PK_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pk_kind {
    PK_KIND_NONE = 0,
    PK_KIND_KAKAO = 1 << 0,    /* Kakao access token, checked online */
    PK_KIND_JWT = 1 << 1,      /* app JWT, checked offline */
    PK_KIND_ID_TOKEN = 1 << 2, /* Kakao OIDC ID token, checked offline */
    PK_KIND_RELAY = 1 << 3,    /* 6-digit code redeemed at the relay, assertion checked offline */
};

enum pk_outcome {
    PK_OK = 0,
    /* refusals: PAM_AUTH_ERR */
    PK_NOT_MAPPED,
    PK_TOKEN_EMPTY,
    PK_TOKEN_TOO_LONG,
    PK_TOKEN_BAD_BYTES,
    PK_TOKEN_MALFORMED,
    PK_KIND_NOT_ACCEPTED,
    PK_NO_AUTHTOK,
    PK_AUTHTOK_NOT_JWT, /* a PAM_AUTHTOK from another module is used only as a JWT */
    PK_SSHD_INCORRECT,  /* sshd's stand-in answer for a user it will not let in */
    PK_JWT_BAD_HEADER,
    PK_JWT_ALG_MISMATCH,
    PK_JWT_CRIT,
    PK_JWT_BAD_TYP,
    PK_JWT_SIG_LENGTH,
    PK_JWT_BAD_SIGNATURE,
    PK_JWT_BAD_CLAIMS,
    PK_JWT_NO_EXP,
    PK_JWT_EXPIRED,
    PK_JWT_NOT_YET_VALID,
    PK_JWT_IAT_FUTURE,
    PK_JWT_WRONG_ISS,
    PK_JWT_WRONG_AUD,
    PK_JWT_TOO_OLD,
    PK_JWT_BAD_ID,
    PK_JWT_UNKNOWN_KID,
    PK_KAKAO_INVALID_TOKEN,
    PK_KAKAO_REFUSED,
    PK_KAKAO_WRONG_APP,
    PK_KAKAO_BAD_ID,
    PK_KAKAO_NO_EMAIL,
    PK_KAKAO_EMAIL_UNVERIFIED,
    PK_RELAY_WRONG_CODE,   /* wrong code after the last attempt */
    PK_RELAY_NOT_APPROVED, /* the code was typed before the phone approved */
    PK_RELAY_EXPIRED,
    PK_RELAY_USED,
    PK_RELAY_UNKNOWN,   /* the relay does not know the session */
    PK_RELAY_BAD_TYP,   /* an assertion whose typ is not kakao-pam-login+jwt */
    PK_RELAY_BAD_NONCE, /* an assertion for another session */
    PK_JWT_NO_JTI,      /* one_time = yes and the app JWT has no usable jti */
    PK_TOKEN_USED,      /* one_time = yes and the token's mark is already set */
    /* PAM_USER_UNKNOWN */
    PK_USER_UNKNOWN,
    /* PAM_AUTHINFO_UNAVAIL */
    PK_KAKAO_UNAVAILABLE,
    PK_JWKS_UNAVAILABLE, /* no JWKS at all: no cached copy and the URL fails */
    /* the relay unreachable, slow, 5xx or a broken answer */
    PK_RELAY_UNAVAILABLE,
    PK_STORE_UNAVAILABLE, /* the one-time store: Redis unreachable, slow, refusing; cache_dir */
    /* PAM_SERVICE_ERR */
    PK_CONFIG_ERROR,
    PK_FILE_ERROR,
    /* PAM_CONV_ERR */
    PK_CONV_ERROR,
    /* PAM_INCOMPLETE */
    PK_CONV_AGAIN, /* the conversation answered PAM_CONV_AGAIN */
    /* PAM_BUF_ERR */
    PK_NO_MEMORY,
    PK_OUTCOME_COUNT
};

/* How a log line for an outcome is worded. */
enum pk_wording {
    PK_WORD_ACCEPTED,    /* accepted <kind> kakao_id=N user=U */
    PK_WORD_REJECTED,    /* rejected <kind> for user=U: <reason> (<detail>) */
    PK_WORD_UNKNOWN,     /* no user map entry for user=U */
    PK_WORD_UNAVAILABLE, /* <reason> for user=U: <detail> (kakao api / jwks unavailable) */
    PK_WORD_SERVICE,     /* <reason>: <detail> */
    PK_WORD_CONV,        /* conversation failed for user=U: <detail> */
    PK_WORD_INCOMPLETE,  /* <reason> for user=U: <detail> (PAM_INCOMPLETE) */
};

#define PK_DETAIL_MAX 256

/* A one-time token's mark (docs/DESIGN.md §8.6): set by the JWT kinds when
 * one_time = yes, used up by pk_auth (src/one_time.c) only for a login that
 * would otherwise succeed. */
struct pk_mark {
    bool set;
    unsigned char digest[32]; /* SHA-256(iss "\0" jti), or of an ID token's signature */
    long long until;          /* keep it until then: exp + leeway (Unix seconds) */
};

/* What a validation step found. `detail` never holds token text, keys or
 * response bodies: only numbers, claim names and short library messages. */
struct pk_result {
    enum pk_outcome outcome;
    enum pk_kind kind;
    int64_t kakao_id;
    char detail[PK_DETAIL_MAX];
    const char *user_hint; /* static text for PAM_ERROR_MSG, or NULL */
    struct pk_mark mark;
};

/* Sets outcome and a printf-style detail; returns the outcome. */
enum pk_outcome pk_result_set(struct pk_result *res, enum pk_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

int pk_outcome_pam_code(enum pk_outcome outcome);
/* The outcome's reason as the decision line words it ("expired", "wrong audience"). */
const char *pk_outcome_reason(enum pk_outcome outcome);
enum pk_wording pk_outcome_wording(enum pk_outcome outcome);
/* Whether a refusal may come from a token cut short by the client, so that
 * the cut-off hint applies (docs/DESIGN.md §5.5): false for a token that
 * passed validation and for outages, which say nothing of the token. */
bool pk_outcome_cut_hint(enum pk_outcome outcome);
/* The word for a kind in log lines and `accept`, from the kinds table
 * (kinds.c); "token" when the kind is not known yet. */
const char *pk_kind_name(enum pk_kind kind);

/* Formats the single log line for a decision into buf. `user` is escaped
 * as a field (pk_log_field: no raw space, quote or control byte), so a user
 * name cannot forge a field or a second decision. */
void pk_verdict_line(char *buf, size_t len, const struct pk_result *res, const char *user);

#endif
