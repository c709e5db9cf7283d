/* The two escape forms every outside value goes through before it reaches a
 * log line or a result detail (man pam_kakao(8), LOGGING). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "src/log.h"

typedef void (*escape_fn)(char *buf, size_t len, const char *s);

/* What one byte becomes: itself, or \xNN in lower-case hex. */
static void expected_byte(unsigned char c, bool text, char out[5])
{
    bool keep = c != '"' && c != '\\' && ((c > 0x20 && c < 0x7f) || (text && c == 0x20));

    if (keep)
        (void)snprintf(out, 5, "%c", c);
    else
        (void)snprintf(out, 5, "\\x%02x", c);
}

static void check_every_byte(escape_fn fn, bool text)
{
    for (unsigned v = 1; v < 256; v++) {
        char in[2] = {(char)v, '\0'};
        char want[5];
        char got[8];

        expected_byte((unsigned char)v, text, want);
        fn(got, sizeof(got), in);
        if (strcmp(got, want) != 0)
            fail_msg("byte 0x%02x (%s form): got \"%s\", want \"%s\"", v, text ? "text" : "field",
                     got, want);
    }
}

static void test_field_every_byte(void **state)
{
    (void)state;
    check_every_byte(pk_log_field, false);
}

static void test_text_every_byte(void **state)
{
    (void)state;
    check_every_byte(pk_log_text, true);
}

static void test_edges(void **state)
{
    char buf[64];

    (void)state;
    pk_log_field(buf, sizeof(buf), " !~\x7f\"\\");
    assert_string_equal(buf, "\\x20!~\\x7f\\x22\\x5c");
    pk_log_text(buf, sizeof(buf), " !~\x7f\"\\");
    assert_string_equal(buf, " !~\\x7f\\x22\\x5c");
    /* UTF-8 is escaped byte by byte */
    pk_log_field(buf, sizeof(buf), "caf\xc3\xa9 \xe2\x82\xac");
    assert_string_equal(buf, "caf\\xc3\\xa9\\x20\\xe2\\x82\\xac");
    pk_log_text(buf, sizeof(buf), "caf\xc3\xa9 \xe2\x82\xac");
    assert_string_equal(buf, "caf\\xc3\\xa9 \\xe2\\x82\\xac");
    /* tabs, CR and LF are never kept, not even in text */
    pk_log_text(buf, sizeof(buf), "a\tb\rc\nd");
    assert_string_equal(buf, "a\\x09b\\x0dc\\x0ad");
    pk_log_field(buf, sizeof(buf), NULL);
    assert_string_equal(buf, "");
    pk_log_text(buf, sizeof(buf), "");
    assert_string_equal(buf, "");
    /* a zero-length buffer is left alone */
    memset(buf, 'Z', sizeof(buf));
    pk_log_field(buf, 0, "abc");
    assert_int_equal(buf[0], 'Z');
}

/* A forged field or decision stays inside the one value. */
static void test_forging(void **state)
{
    char buf[128];

    (void)state;
    pk_log_field(buf, sizeof(buf), "x accepted kakao kakao_id=1 user=root");
    assert_string_equal(buf, "x\\x20accepted\\x20kakao\\x20kakao_id=1\\x20user=root");
    pk_log_text(buf, sizeof(buf), "a\" user=root msg=\"b");
    assert_string_equal(buf, "a\\x22 user=root msg=\\x22b");
}

/* The escaped form of in, and after which output lengths an escape unit ends. */
static size_t full_escape(const char *in, bool text, char *out, bool *boundary)
{
    size_t o = 0;

    boundary[0] = true;
    for (const char *p = in; *p != '\0'; p++) {
        char one[5];
        expected_byte((unsigned char)*p, text, one);
        for (size_t i = 0; one[i] != '\0'; i++) {
            out[o++] = one[i];
            boundary[o] = false;
        }
        boundary[o] = true;
    }
    out[o] = '\0';
    return o;
}

static void check_truncation(escape_fn fn, bool text, const char *in)
{
    char full[256];
    bool boundary[256];
    size_t n = full_escape(in, text, full, boundary);

    for (size_t len = 1; len <= n + 3; len++) {
        char buf[300];
        size_t got;

        memset(buf, 'Z', sizeof(buf));
        fn(buf, len, in);
        got = strlen(buf);
        if (got > len - 1 || buf[len] != 'Z')
            fail_msg("len %zu: wrote past the buffer (\"%s\")", len, buf);
        if (n <= len - 1) {
            assert_string_equal(buf, full);
            continue;
        }
        /* cut: a whole-unit prefix of the full form, then as much of "..." as fits */
        {
            size_t dots = len - 1 < 3 ? len - 1 : 3;
            size_t room = len - 1 - dots;
            size_t keep = got >= dots ? got - dots : 0;
            size_t next = keep + 1;
            if (got < dots || strncmp(buf + keep, "...", dots) != 0)
                fail_msg("len %zu: cut not marked: \"%s\"", len, buf);
            if (strncmp(buf, full, keep) != 0 || !boundary[keep])
                fail_msg("len %zu: \"%s\" cuts an escape in half (full \"%s\")", len, buf, full);
            while (!boundary[next])
                next++;
            if (next <= room)
                fail_msg("len %zu: cut earlier than needed: \"%s\"", len, buf);
        }
    }
}

static void test_truncation_never_halves_an_escape(void **state)
{
    (void)state;
    check_truncation(pk_log_field, false, "ab \"c\\d\n\xc3\xa9");
    check_truncation(pk_log_text, true, "ab \"c\\d\n\xc3\xa9");
    check_truncation(pk_log_field, false, "\x01\x02\x03\x04\x05");
    check_truncation(pk_log_text, true, "plain text, no escapes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_every_byte),
        cmocka_unit_test(test_text_every_byte),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_forging),
        cmocka_unit_test(test_truncation_never_halves_an_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
