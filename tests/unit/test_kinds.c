/* The kinds table (docs/DESIGN.md §4.5): every row complete, names and bits
 * unique, routing by claim strength, and the loader with check beside it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "src/kinds.h"
#include "src/kinds_check.h"
#include "src/validate.h"

static void every_row_is_complete_and_unique(void **state)
{
    unsigned seen = 0;
    (void)state;

    assert_int_equal(pk_kind_count, 4);
    for (size_t i = 0; i < pk_kind_count; i++) {
        const struct pk_kind_ops *k = &pk_kinds[i];
        unsigned bit = (unsigned)k->bit;
        assert_non_null(k->name);
        assert_non_null(k->needs);
        assert_non_null(k->not_accepted);
        assert_non_null(k->configured);
        assert_non_null(k->claims);
        assert_non_null(k->validate);
        assert_true((k->load == NULL) == (k->free == NULL));
        assert_true(bit != 0 && (bit & (bit - 1)) == 0);
        assert_int_equal(seen & bit, 0);
        seen |= bit;
        assert_ptr_equal(pk_kind_by_name(k->name, strlen(k->name)), k);
        assert_string_equal(pk_kind_name(k->bit), k->name);
    }
    assert_null(pk_kind_by_name("kakaox", 6));
    assert_null(pk_kind_by_name("kakao", 4));
    assert_null(pk_kind_by_name("", 0));
    assert_string_equal(pk_kind_name(PK_KIND_NONE), "token");
    /* check's rows name kinds of the table, each once */
    seen = 0;
    for (size_t i = 0; i < pk_kind_check_count; i++) {
        unsigned bit = (unsigned)pk_kind_checks[i].bit;
        assert_string_not_equal(pk_kind_name(pk_kind_checks[i].bit), "token");
        assert_int_equal(seen & bit, 0);
        seen |= bit;
    }
}

/* Each token is claimed by exactly one kind with PK_CLAIM_YES at most, and
 * a JWT that no kind claims specifically falls back to the app JWT. */
static void claims_route_each_shape_to_one_kind(void **state)
{
    /* {"iss":"https://kauth.kakao.com"} and {"iss":"https://other"} */
    const char *id_tok = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2thdXRoLmtha2FvLmNvbSJ9.c2ln";
    const char *app_tok = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJodHRwczovL290aGVyIn0.c2ln";
    const char *opaque = "abcdefghijklmnopqrstuvwxyz012345";
    const char *const raw[] = {id_tok, app_tok, opaque};
    const enum pk_kind want[] = {PK_KIND_ID_TOKEN, PK_KIND_JWT, PK_KIND_KAKAO};
    struct pk_config cfg;
    (void)state;

    memset(&cfg, 0, sizeof(cfg));
    cfg.id_token_issuer = (char *)"https://kauth.kakao.com";
    for (size_t t = 0; t < 3; t++) {
        struct pk_token tok;
        struct pk_result res;
        enum pk_kind_claim best = PK_CLAIM_NO;
        enum pk_kind winner = PK_KIND_NONE;
        unsigned yes = 0;

        memset(&res, 0, sizeof(res));
        assert_int_equal(pk_token_parse(raw[t], &tok, &res), PK_OK);
        for (size_t i = 0; i < pk_kind_count; i++) {
            enum pk_kind_claim c = pk_kinds[i].claims(&cfg, &tok);
            yes += c == PK_CLAIM_YES;
            if (c > best) {
                best = c;
                winner = pk_kinds[i].bit;
            }
        }
        assert_true(yes <= 1);
        assert_int_equal(winner, want[t]);
    }
}

/* Routing names the kind before it knows whether it is accepted. */
static void not_accepted_names_the_kind(void **state)
{
    struct pk_config cfg;
    struct pk_kind_state keys;
    struct pk_validator v;
    struct pk_result res;
    (void)state;

    memset(&cfg, 0, sizeof(cfg));
    memset(&keys, 0, sizeof(keys));
    cfg.id_token_issuer = (char *)"https://kauth.kakao.com";
    cfg.has_app_id = true;
    cfg.kakao_app_id = 1;
    cfg.accept = PK_KIND_KAKAO;
    memset(&v, 0, sizeof(v));
    v.cfg = &cfg;
    v.keys = &keys;
    memset(&res, 0, sizeof(res));
    /* accept = kakao, but jwt is not configured: kinds = kakao only */
    assert_int_equal(pk_validate_token(&v, "eyJhbGciOiJIUzI1NiJ9.e30.c2ln", &res),
                     PK_KIND_NOT_ACCEPTED);
    assert_int_equal(res.kind, PK_KIND_JWT);
    assert_string_equal(res.detail, "jwt is not in accept");
}

struct seen {
    char text[2048];
};

static void add(void *ctx, const char *prefix, const char *msg)
{
    struct seen *s = ctx;
    size_t used = strlen(s->text);
    (void)snprintf(s->text + used, sizeof(s->text) - used, "%s%s\n", prefix, msg);
}

static void on_problem(void *ctx, const char *msg)
{
    add(ctx, "", msg);
}

static void on_ok(void *ctx, const char *msg)
{
    add(ctx, "ok ", msg);
}

/* The module stops at the first problem; check reports every one and reads
 * a file whatever kind is accepted. */
static void module_load_and_check(void **state)
{
    struct pk_config cfg;
    struct pk_kind_state st;
    struct pk_result res;
    struct seen seen;
    const struct pk_kind_check check = {on_problem, on_ok, &seen, pk_check_open, pk_check_read};
    struct pk_kind_env env;
    (void)state;

    memset(&cfg, 0, sizeof(cfg));
    cfg.jwt_key = (char *)"/nonexistent/pam_kakao.key";
    cfg.jwt_alg = PK_ALG_HS256;
    cfg.jwks_file = (char *)"/nonexistent/jwks.json";
    memset(&env, 0, sizeof(env));
    env.cfg = &cfg;
    env.uid = 0;

    memset(&st, 0, sizeof(st));
    memset(&res, 0, sizeof(res));
    assert_int_equal(pk_kinds_load(&env, PK_KIND_JWT | PK_KIND_ID_TOKEN, &st, &res), PK_FILE_ERROR);
    assert_string_equal(res.detail, "jwt_key /nonexistent/pam_kakao.key: does not exist");
    pk_kinds_free(&st);

    /* kakao only: nothing to load, no ca_file named */
    memset(&res, 0, sizeof(res));
    assert_int_equal(pk_kinds_load(&env, PK_KIND_KAKAO, &st, &res), PK_OK);

    memset(&seen, 0, sizeof(seen));
    assert_int_equal(pk_kinds_check(&cfg, 0, &check, &res), PK_OK);
    assert_string_equal(seen.text, "/nonexistent/pam_kakao.key: does not exist\n"
                                   "/nonexistent/jwks.json: does not exist\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_row_is_complete_and_unique),
        cmocka_unit_test(claims_route_each_shape_to_one_kind),
        cmocka_unit_test(not_accepted_names_the_kind),
        cmocka_unit_test(module_load_and_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
