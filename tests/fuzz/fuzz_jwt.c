/* The app-JWT rules behind a valid signature: the input is a header JSON
 * text, a newline and a claims JSON text (no newline: the claims, under a
 * standard HS256 header). The harness signs them with the configured HS256
 * secret, so every input reaches the header, claims and id checks that a
 * random token never gets past the signature to see. The first byte picks
 * one of four configurations (plain; issuer + audience; max_token_age with
 * no leeway; id claim "sub").
 *
 * Invariant: PK_OK only when an independent reading of the same JSON says
 * the rules of docs/DESIGN.md §4.4 hold (alg exactly HS256, no crit, exp in force,
 * nbf/iat not in the future, iss/aud/age as configured, the id claim is the
 * accepted id); the decision line for a user name taken from the input
 * cannot be forged. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_common_auth.h"
#include "jwt_sign.h"

#define VARIANTS 4

static struct pk_auth auths[VARIANTS];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const plain[] = {"jwt_alg=HS256", NULL};
    static const char *const iss_aud[] = {"jwt_alg=HS256", "jwt_issuer=https://issuer.example",
                                          "jwt_audience=pam", NULL};
    static const char *const age[] = {"jwt_alg=HS256", "max_token_age=300", "leeway=0", NULL};
    static const char *const sub[] = {"jwt_alg=HS256", "jwt_id_claim=sub", "leeway=5", NULL};
    static const char *const *const variants[VARIANTS] = {plain, iss_aud, age, sub};

    (void)argc;
    (void)argv;
    for (int i = 0; i < VARIANTS; i++)
        pk_fuzz_auth_init(&auths[i], variants[i], "hs256.key", PK_FUZZ_HMAC_SECRET);
    return 0;
}

static bool str_is(json_t *v, const char *want)
{
    return json_is_string(v) && json_string_length(v) == strlen(want) &&
           memcmp(json_string_value(v), want, strlen(want)) == 0;
}

static bool int_claim_ok(json_t *claims, const char *name, json_int_t max)
{
    json_t *v = json_object_get(claims, name);
    return v == NULL || (json_is_integer(v) && json_integer_value(v) <= max);
}

/* The rules as docs/DESIGN.md §4.4 states them, for a token that was accepted. */
static void oracle(int variant, const struct pk_config *cfg, const char *header,
                   const char *payload, int64_t id)
{
    json_t *h = json_loads(header, JSON_REJECT_DUPLICATES, NULL);
    json_t *c = json_loads(payload, JSON_REJECT_DUPLICATES, NULL);
    const json_int_t now = (json_int_t)PK_FUZZ_NOW;
    json_t *v;

    PK_FUZZ_CHECK(json_is_object(h) && json_is_object(c), "accepted non-object JSON");
    PK_FUZZ_CHECK(str_is(json_object_get(h, "alg"), "HS256"), "accepted another alg");
    PK_FUZZ_CHECK(json_object_get(h, "crit") == NULL, "accepted crit");
    v = json_object_get(h, "typ");
    PK_FUZZ_CHECK(v == NULL || str_is(v, "JWT"), "accepted a typ other than JWT");
    v = json_object_get(c, "exp");
    PK_FUZZ_CHECK(json_is_integer(v) && json_integer_value(v) > now - cfg->leeway,
                  "accepted without a valid exp");
    PK_FUZZ_CHECK(int_claim_ok(c, "nbf", now + cfg->leeway), "accepted before nbf");
    PK_FUZZ_CHECK(int_claim_ok(c, "iat", now + cfg->leeway), "accepted iat in the future");
    if (variant == 1) {
        json_t *aud = json_object_get(c, "aud");
        bool aud_ok = str_is(aud, "pam");
        size_t i;
        json_t *item;
        json_array_foreach(aud, i, item) aud_ok = aud_ok || str_is(item, "pam");
        PK_FUZZ_CHECK(str_is(json_object_get(c, "iss"), "https://issuer.example"),
                      "accepted another issuer");
        PK_FUZZ_CHECK(aud_ok, "accepted another audience");
    }
    if (variant == 2) {
        json_t *when = json_object_get(c, "auth_time");
        if (when == NULL)
            when = json_object_get(c, "iat");
        PK_FUZZ_CHECK(json_is_integer(when) &&
                          json_integer_value(when) >= now - cfg->max_token_age - cfg->leeway,
                      "accepted a token too old");
    }
    v = json_object_get(c, cfg->jwt_id_claim);
    if (json_is_integer(v)) {
        PK_FUZZ_CHECK(json_integer_value(v) == id, "accepted id differs from the claim");
    } else {
        char text[24];
        PK_FUZZ_CHECK(json_is_string(v) && json_string_length(v) < sizeof(text),
                      "accepted an id claim that is neither integer nor string");
        (void)snprintf(text, sizeof(text), "%lld", (long long)id);
        PK_FUZZ_CHECK(str_is(v, text), "accepted id differs from the claim string");
    }
    json_decref(h);
    json_decref(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char default_header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char *text, *nl, *token;
    const char *header, *payload;
    char err[256], line[768];
    struct pk_result res;
    enum pk_outcome out;
    int variant;

    if (size == 0)
        return 0;
    variant = data[0] % VARIANTS;
    text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    nl = strchr(text, '\n');
    if (nl != NULL) {
        *nl = '\0';
        header = text;
        payload = nl + 1;
    } else {
        header = default_header;
        payload = text;
    }
    token = pk_jwt_sign(header, payload, PK_ALG_HS256, (const unsigned char *)PK_FUZZ_HMAC_SECRET,
                        strlen(PK_FUZZ_HMAC_SECRET), err, sizeof(err));
    if (token == NULL) {
        free(text);
        return 0;
    }
    out = pk_auth_decide(&auths[variant], token, PK_FUZZ_NOW, &res);
    pk_fuzz_trace(out, res.detail);
    PK_FUZZ_CHECK(out == res.outcome, "returned outcome differs from the logged one");
    PK_FUZZ_CHECK(pk_fuzz_printable(res.detail), "detail not printable");
    pk_verdict_line(line, sizeof(line), &res, "alice");
    PK_FUZZ_CHECK(pk_fuzz_printable(line), "log line not printable");
    {
        char user[25];
        pk_fuzz_user(data, size, user);
        pk_fuzz_check_decision(&res, user);
    }
    if (out == PK_OK)
        oracle(variant, &auths[variant].cfg, header, payload, res.kakao_id);
    free(token);
    free(text);
    return 0;
}
