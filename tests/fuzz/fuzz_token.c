/* Token intake and the app-JWT path as the module runs them on what a user
 * typed: trimming, limits, JWT/opaque classification, cut-off hints, our
 * header parse, signature length, libjwt verification with a fixed key
 * (HS256, RS256 or ES256: the first input byte chooses), claims, id,
 * mapping (pk_auth_decide). Opaque tokens stop at "kakao not accepted":
 * no network here.
 *
 * Invariants: the returned outcome is the one recorded for the log line;
 * PK_OK only with a mapped id; details and the log line are printable and
 * never quote the token; pk_token_parse's segments lie inside the token; the
 * decision line for a user name taken from the input cannot be forged. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_common_auth.h"
#include "token.h"

static struct pk_auth auths[3];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const hs[] = {"jwt_alg=HS256", NULL};
    static const char *const rs[] = {"jwt_alg=RS256", "jwt_issuer=https://issuer.example", NULL};
    static const char *const es[] = {"jwt_alg=ES256", "jwt_audience=pam", "max_token_age=600",
                                     NULL};

    (void)argc;
    (void)argv;
    pk_fuzz_auth_init(&auths[0], hs, "hs256.key", PK_FUZZ_HMAC_SECRET);
    pk_fuzz_auth_init(&auths[1], rs, "rs256.pem", pk_fuzz_rsa_pub);
    pk_fuzz_auth_init(&auths[2], es, "es256.pem", pk_fuzz_ec_pub);
    return 0;
}

static void check_token_view(const char *raw)
{
    struct pk_token tok;
    struct pk_result res;
    size_t raw_len = strlen(raw);

    memset(&res, 0, sizeof(res));
    if (pk_token_parse(raw, &tok, &res) != PK_OK) {
        PK_FUZZ_CHECK(pk_fuzz_printable(res.detail), "token detail not printable");
        return;
    }
    PK_FUZZ_CHECK(tok.text >= raw && tok.text + tok.len <= raw + raw_len, "token view outside");
    PK_FUZZ_CHECK(tok.len > 0 && tok.len <= PK_TOKEN_MAX, "token length");
    if (tok.shape == PK_SHAPE_JWT) {
        PK_FUZZ_CHECK(tok.seg_off[0] == 0 && tok.seg_len[0] > 0 && tok.seg_len[1] > 0 &&
                          tok.seg_len[2] > 0,
                      "empty segment");
        PK_FUZZ_CHECK(tok.seg_off[1] == tok.seg_len[0] + 1 &&
                          tok.seg_off[2] == tok.seg_off[1] + tok.seg_len[1] + 1 &&
                          tok.seg_off[2] + tok.seg_len[2] == tok.len,
                      "segments do not tile the token");
        PK_FUZZ_CHECK(tok.text[tok.seg_off[1] - 1] == '.' && tok.text[tok.seg_off[2] - 1] == '.',
                      "segments not split at dots");
    } else {
        PK_FUZZ_CHECK(tok.shape == PK_SHAPE_OPAQUE && tok.len >= PK_KAKAO_TOKEN_MIN &&
                          tok.len <= PK_KAKAO_TOKEN_MAX && memchr(tok.text, '.', tok.len) == NULL,
                      "opaque token shape");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pk_auth *a;
    struct pk_result res;
    struct pk_token view;
    struct pk_result scratch;
    enum pk_outcome out;
    char line[768];
    char *raw;

    if (size == 0)
        return 0;
    a = &auths[data[0] % 3];
    raw = malloc(size);
    if (raw == NULL)
        return 0;
    memcpy(raw, data + 1, size - 1);
    raw[size - 1] = '\0';

    check_token_view(raw);
    out = pk_auth_decide(a, raw, PK_FUZZ_NOW, &res);
    pk_fuzz_trace(out, res.detail);
    PK_FUZZ_CHECK(out == res.outcome, "returned outcome differs from the logged one");
    PK_FUZZ_CHECK((unsigned)out < PK_OUTCOME_COUNT, "outcome out of range");
    PK_FUZZ_CHECK(out != PK_OK || res.kakao_id == PK_FUZZ_ALICE || res.kakao_id == PK_FUZZ_BOB,
                  "accepted an unmapped id");
    PK_FUZZ_CHECK(out != PK_OK || res.kind == PK_KIND_JWT, "accepted a non-JWT");
    PK_FUZZ_CHECK(pk_fuzz_printable(res.detail), "detail not printable");
    pk_verdict_line(line, sizeof(line), &res, "alice");
    PK_FUZZ_CHECK(pk_fuzz_printable(line), "log line not printable");
    {
        char user[25];
        pk_fuzz_user(data, size, user);
        pk_fuzz_check_decision(&res, user);
    }
    memset(&scratch, 0, sizeof(scratch));
    if (pk_token_parse(raw, &view, &scratch) == PK_OK && view.len >= 16) {
        char head[17];
        memcpy(head, view.text, 16);
        head[16] = '\0';
        PK_FUZZ_CHECK(strstr(line, head) == NULL, "log line quotes the token");
    }
    free(raw);
    return 0;
}
