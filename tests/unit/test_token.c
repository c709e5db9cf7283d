/* pk_token_parse, pk_token_cut_hint (docs/DESIGN.md §4.2 and §5.5):
 * trimming, the 8192-byte cap, printable ASCII only, the JWT and opaque
 * shapes, and the hints for tokens cut off by client limits. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "src/token.h"
#include "src/verdict.h"

#define NOT_JWT_NOR_OPAQUE " bytes, neither a JWT nor a Kakao access token"

/* A fresh result, so a stale detail cannot make a test pass. */
static void reset(struct pk_result *res)
{
    memset(res, 0, sizeof(*res));
    strcpy(res->detail, "stale");
}

/* n copies of c, NUL-terminated; the caller frees. */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* A JWT-shaped text of exactly n bytes (n >= 5): "a.b.ccc...". */
static char *jwt_of_len(size_t n)
{
    char *s = repeat('A', n);
    s[1] = '.';
    s[3] = '.';
    return s;
}

static void expect_malformed(const char *raw, const char *detail)
{
    struct pk_token tok;
    struct pk_result res;

    reset(&res);
    assert_int_equal(pk_token_parse(raw, &tok, &res), PK_TOKEN_MALFORMED);
    assert_int_equal(res.outcome, PK_TOKEN_MALFORMED);
    assert_int_equal(tok.shape, PK_SHAPE_INVALID);
    assert_string_equal(res.detail, detail);
}

static void test_empty(void **state)
{
    static const char *const empties[] = {"", " ", "\t", "\n", "\r\n", " \t\r\n \n"};
    struct pk_token tok;
    struct pk_result res;

    (void)state;
    for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
        reset(&res);
        assert_int_equal(pk_token_parse(empties[i], &tok, &res), PK_TOKEN_EMPTY);
        assert_int_equal(res.outcome, PK_TOKEN_EMPTY);
        assert_string_equal(res.detail, "");
        assert_int_equal(tok.len, 0);
        assert_int_equal(tok.shape, PK_SHAPE_INVALID);
    }
}

static void test_trimming(void **state)
{
    const char *raw = " \t\r\n abcdefghijklmnop_-0123 \n\r\t ";
    struct pk_token tok;
    struct pk_result res;

    (void)state;
    reset(&res);
    assert_int_equal(pk_token_parse(raw, &tok, &res), PK_OK);
    assert_int_equal(tok.shape, PK_SHAPE_OPAQUE);
    assert_ptr_equal(tok.text, raw + 5);
    assert_int_equal(tok.len, 22);
    assert_memory_equal(tok.text, "abcdefghijklmnop_-0123", 22);

    /* Inner blanks are not trimmed: the token is then neither shape. */
    expect_malformed("  abcdefgh ijklmnop  ", "17" NOT_JWT_NOR_OPAQUE);
    /* A vertical tab or form feed is not whitespace here but a control byte. */
    reset(&res);
    assert_int_equal(pk_token_parse("\vabcdefghijklmnopq", &tok, &res), PK_TOKEN_BAD_BYTES);
    assert_string_equal(res.detail, "byte 0x0b at offset 0");
}

static void test_length_cap(void **state)
{
    struct pk_token tok;
    struct pk_result res;
    char *s;

    (void)state;
    /* 8192 bytes: parsed (a JWT shape passes, a long blob is malformed) */
    s = jwt_of_len(8192);
    reset(&res);
    assert_int_equal(pk_token_parse(s, &tok, &res), PK_OK);
    assert_int_equal(tok.shape, PK_SHAPE_JWT);
    assert_int_equal(tok.len, 8192);
    free(s);
    s = repeat('A', 8192);
    expect_malformed(s, "8192" NOT_JWT_NOR_OPAQUE);
    free(s);

    /* 8193 bytes: refused before parsing */
    s = jwt_of_len(8193);
    reset(&res);
    assert_int_equal(pk_token_parse(s, &tok, &res), PK_TOKEN_TOO_LONG);
    assert_int_equal(res.outcome, PK_TOKEN_TOO_LONG);
    assert_string_equal(res.detail, "over 8192 bytes");
    assert_int_equal(tok.shape, PK_SHAPE_INVALID);
    free(s);

    /* Far longer: refused the same way */
    s = repeat('A', 1 << 20);
    reset(&res);
    assert_int_equal(pk_token_parse(s, &tok, &res), PK_TOKEN_TOO_LONG);
    assert_string_equal(res.detail, "over 8192 bytes");
    free(s);

    /* A control byte beyond the cap does not matter: length is checked first */
    s = repeat('A', 9000);
    s[8999] = '\x01';
    reset(&res);
    assert_int_equal(pk_token_parse(s, &tok, &res), PK_TOKEN_TOO_LONG);
    free(s);
}

/* Surrounding whitespace does not count towards the cap (docs/DESIGN.md §4.2: trim, then
 * measure), however much of it the client sends. */
static void test_length_cap_after_trimming(void **state)
{
    struct pk_token tok;
    struct pk_result res;
    char *s = malloc(8192 + 5);

    (void)state;
    assert_non_null(s);
    memset(s, 'A', 8192);
    s[1] = '.';
    s[3] = '.';
    memcpy(s + 8192, " \r\n\n", 5);
    reset(&res);
    assert_int_equal(pk_token_parse(s, &tok, &res), PK_OK);
    assert_int_equal(tok.len, 8192);
    assert_int_equal(tok.shape, PK_SHAPE_JWT);

    memcpy(s + 8192, "\n", 2);
    reset(&res);
    assert_int_equal(pk_token_parse(s, &tok, &res), PK_OK);
    assert_int_equal(tok.len, 8192);
    free(s);

    /* 8192 bytes, one blank and more text: 8194 bytes of token, too long */
    s = malloc(8192 + 3);
    assert_non_null(s);
    memset(s, 'A', 8192);
    memcpy(s + 8192, " B", 3);
    reset(&res);
    assert_int_equal(pk_token_parse(s, &tok, &res), PK_TOKEN_TOO_LONG);
    free(s);
}

static void test_bad_bytes(void **state)
{
    static const struct {
        const char *raw;
        const char *detail;
    } cases[] = {
        {"abcdefgh\x01ijklmnopq", "byte 0x01 at offset 8"},
        {"abcdefgh\tijklmnopq", "byte 0x09 at offset 8"},
        {"abcdefgh\nijklmnopq", "byte 0x0a at offset 8"},
        {"abcdefgh\x1fijklmnopq", "byte 0x1f at offset 8"},
        {"abcdefghijklmnopq\x7f", "byte 0x7f at offset 17"},
        {"\x80"
         "abcdefghijklmnopq",
         "byte 0x80 at offset 0"},
        {"abcdefghijklmnopq\xff", "byte 0xff at offset 17"},
        {"abc\xc3\xa9"
         "defghijklmnop",
         "byte 0xc3 at offset 3"},
        /* offsets count from the trimmed start */
        {"   ab\x7f"
         "cdefghijklmnopq",
         "byte 0x7f at offset 2"},
        /* inside a JWT shape */
        {"eyJh.eyJi\x7f.c2ln", "byte 0x7f at offset 9"},
    };
    struct pk_token tok;
    struct pk_result res;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        reset(&res);
        assert_int_equal(pk_token_parse(cases[i].raw, &tok, &res), PK_TOKEN_BAD_BYTES);
        assert_int_equal(res.outcome, PK_TOKEN_BAD_BYTES);
        assert_string_equal(res.detail, cases[i].detail);
        assert_int_equal(tok.shape, PK_SHAPE_INVALID);
    }
}

/* sshd answers "\b\n\r\177INCORRECT", repeated or cut to the length of the
 * user's answer, for users it will not let in: named as such, and only
 * exactly that pattern. */
static void test_sshd_incorrect(void **state)
{
    struct pk_token tok;
    struct pk_result res;

    (void)state;
    reset(&res);
    assert_int_equal(pk_token_parse("\b\n\r\177INCORRECT", &tok, &res), PK_SSHD_INCORRECT);
    assert_int_equal(res.outcome, PK_SSHD_INCORRECT);
    assert_string_equal(res.detail, "");
    assert_int_equal(tok.len, 13);
    assert_int_equal(tok.shape, PK_SHAPE_INVALID);
    assert_string_equal(PK_SSHD_BADPW, "\b\n\r\177INCORRECT");
    /* cut to the answer's length, or repeated */
    reset(&res);
    assert_int_equal(pk_token_parse("\b\n\r\177INC", &tok, &res), PK_SSHD_INCORRECT);
    assert_int_equal(tok.len, 7);
    reset(&res);
    assert_int_equal(pk_token_parse("\b", &tok, &res), PK_SSHD_INCORRECT);
    reset(&res);
    assert_int_equal(
        pk_token_parse("\b\n\r\177INCORRECT\b\n\r\177INCORRECT\b\n\r\177IN", &tok, &res),
        PK_SSHD_INCORRECT);
    assert_int_equal(tok.len, 32);
    assert_string_equal(res.detail, "");
    /* anything else around it makes it an ordinary bad byte */
    reset(&res);
    assert_int_equal(pk_token_parse(" \b\n\r\177INCORRECT", &tok, &res), PK_TOKEN_BAD_BYTES);
    assert_string_equal(res.detail, "byte 0x08 at offset 0");
    reset(&res);
    assert_int_equal(pk_token_parse("\b\n\r\177INCORRECT\n", &tok, &res), PK_TOKEN_BAD_BYTES);
    reset(&res);
    assert_int_equal(pk_token_parse("\b\n\r\177INCORRECT\b\n\rX", &tok, &res), PK_TOKEN_BAD_BYTES);
    reset(&res);
    assert_int_equal(pk_token_parse("\n\r\177INCORRECT", &tok, &res), PK_TOKEN_BAD_BYTES);
    reset(&res);
    assert_int_equal(pk_token_parse("INCORRECT", &tok, &res), PK_TOKEN_MALFORMED);
}

static void test_jwt_shape(void **state)
{
    const char *raw = "eyJhbGciOiJIUzI1NiJ9.eyJrYWthb19pZCI6MX0.c2ln-_09";
    struct pk_token tok;
    struct pk_result res;

    (void)state;
    reset(&res);
    assert_int_equal(pk_token_parse(raw, &tok, &res), PK_OK);
    assert_int_equal(tok.shape, PK_SHAPE_JWT);
    assert_int_equal(tok.len, strlen(raw));
    assert_int_equal(tok.seg_off[0], 0);
    assert_int_equal(tok.seg_len[0], 20);
    assert_int_equal(tok.seg_off[1], 21);
    assert_int_equal(tok.seg_len[1], 19);
    assert_int_equal(tok.seg_off[2], 41);
    assert_int_equal(tok.seg_len[2], 8);

    /* The smallest JWT shape: three one-character segments */
    reset(&res);
    assert_int_equal(pk_token_parse(" a.b.c\n", &tok, &res), PK_OK);
    assert_int_equal(tok.shape, PK_SHAPE_JWT);
    assert_int_equal(tok.len, 5);
    assert_int_equal(tok.seg_off[0], 0);
    assert_int_equal(tok.seg_off[1], 2);
    assert_int_equal(tok.seg_off[2], 4);
    assert_int_equal(tok.seg_len[0], 1);
    assert_int_equal(tok.seg_len[1], 1);
    assert_int_equal(tok.seg_len[2], 1);
}

static void test_not_jwt_shapes(void **state)
{
    (void)state;
    expect_malformed("a..b", "4" NOT_JWT_NOR_OPAQUE);
    expect_malformed("a.b", "3" NOT_JWT_NOR_OPAQUE);
    expect_malformed("a.b.c.d", "7" NOT_JWT_NOR_OPAQUE);
    expect_malformed(".a.b", "4" NOT_JWT_NOR_OPAQUE);
    expect_malformed("a.b.", "4" NOT_JWT_NOR_OPAQUE);
    expect_malformed("..", "2" NOT_JWT_NOR_OPAQUE);
    expect_malformed(".", "1" NOT_JWT_NOR_OPAQUE);
    expect_malformed("aaaa.bbbb.cc==", "14" NOT_JWT_NOR_OPAQUE);
    expect_malformed("aaaa.bbbb.cc=", "13" NOT_JWT_NOR_OPAQUE);
    expect_malformed("aa+a.bbbb.cccc", "14" NOT_JWT_NOR_OPAQUE);
    expect_malformed("aaaa.bb/b.cccc", "14" NOT_JWT_NOR_OPAQUE);
    expect_malformed("aaaa.bbbb.cc cc", "15" NOT_JWT_NOR_OPAQUE);
    expect_malformed("aaaa.bbbb.cc!c", "14" NOT_JWT_NOR_OPAQUE);
    /* four segments, long enough to be an opaque token were it not for the dots */
    expect_malformed("aaaaaa.bbbbbb.cccccc.dddddd", "27" NOT_JWT_NOR_OPAQUE);
}

static void test_opaque_lengths(void **state)
{
    struct pk_token tok;
    struct pk_result res;
    char *s;

    (void)state;
    s = repeat('x', 15);
    expect_malformed(s, "15" NOT_JWT_NOR_OPAQUE);
    free(s);

    for (size_t n = 16; n <= 512; n += 496) {
        s = repeat('x', n);
        s[0] = '-';
        s[n - 1] = '_';
        reset(&res);
        assert_int_equal(pk_token_parse(s, &tok, &res), PK_OK);
        assert_int_equal(tok.shape, PK_SHAPE_OPAQUE);
        assert_int_equal(tok.len, n);
        free(s);
    }

    s = repeat('x', 513);
    expect_malformed(s, "513" NOT_JWT_NOR_OPAQUE);
    free(s);

    /* A realistic Kakao access token: 54-64 chars of [A-Za-z0-9_-] */
    reset(&res);
    assert_int_equal(
        pk_token_parse("pbaLRzKkDx0IdKMNwKUKkZAjeSWa3QhxH1z-Oq3Yp6oAAAGLM_abcd", &tok, &res),
        PK_OK);
    assert_int_equal(tok.shape, PK_SHAPE_OPAQUE);

    /* '=' or '+' are not in the opaque alphabet either */
    expect_malformed("abcdefghijklmnop=", "17" NOT_JWT_NOR_OPAQUE);
    expect_malformed("abcdefgh+ijklmnop", "17" NOT_JWT_NOR_OPAQUE);
}

static void test_cut_hint(void **state)
{
    (void)state;
    assert_string_equal(pk_token_cut_hint(1023),
                        "1023 bytes: probably cut off by the OpenSSH client");
    assert_string_equal(pk_token_cut_hint(4095),
                        "4095 bytes: probably cut off by pamtester or another misc_conv client");
    assert_string_equal(pk_token_cut_user_hint(1023),
                        "The token is 1023 bytes: the OpenSSH client probably cut it off.");
    assert_string_equal(pk_token_cut_user_hint(4095),
                        "The token is 4095 bytes: the client probably cut it off.");
    assert_null(pk_token_cut_user_hint(1022));
    assert_null(pk_token_cut_hint(0));
    assert_null(pk_token_cut_hint(511));
    assert_null(pk_token_cut_hint(512));
    assert_null(pk_token_cut_hint(1022));
    assert_null(pk_token_cut_hint(1024));
    assert_null(pk_token_cut_hint(4094));
    assert_null(pk_token_cut_hint(4096));
    assert_null(pk_token_cut_hint(8192));
}

/* A malformed token of a cut-off length names the client in its detail. */
static void test_cut_hint_in_malformed_detail(void **state)
{
    struct pk_token tok;
    struct pk_result res;
    char *s;

    (void)state;
    s = repeat('A', 1023);
    expect_malformed(s, "1023 bytes: probably cut off by the OpenSSH client");
    free(s);
    s = repeat('A', 4095);
    expect_malformed(s, "4095 bytes: probably cut off by pamtester or another misc_conv client");
    free(s);
    s = repeat('A', 1022);
    expect_malformed(s, "1022" NOT_JWT_NOR_OPAQUE);
    free(s);
    s = repeat('A', 1024);
    expect_malformed(s, "1024" NOT_JWT_NOR_OPAQUE);
    free(s);

    /* A JWT cut at 1023 whose cut fell after the second dot still has the JWT
     * shape: the signature-length check names the cut later. */
    s = jwt_of_len(1023);
    reset(&res);
    assert_int_equal(pk_token_parse(s, &tok, &res), PK_OK);
    assert_int_equal(tok.shape, PK_SHAPE_JWT);
    free(s);

    /* A JWT cut before its second dot: malformed, with the hint */
    s = repeat('A', 4095);
    s[100] = '.';
    expect_malformed(s, "4095 bytes: probably cut off by pamtester or another misc_conv client");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_trimming),
        cmocka_unit_test(test_length_cap),
        cmocka_unit_test(test_length_cap_after_trimming),
        cmocka_unit_test(test_bad_bytes),
        cmocka_unit_test(test_sshd_incorrect),
        cmocka_unit_test(test_jwt_shape),
        cmocka_unit_test(test_not_jwt_shapes),
        cmocka_unit_test(test_opaque_lengths),
        cmocka_unit_test(test_cut_hint),
        cmocka_unit_test(test_cut_hint_in_malformed_detail),
    };
    return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
