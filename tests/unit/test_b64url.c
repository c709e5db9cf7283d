/* pk_b64url_decode / pk_b64url_encode: RFC 4648 §10 vectors in the URL
 * alphabet without padding, and the strictness that gives one text one
 * meaning (no foreign characters, no impossible lengths, no stray bits). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "src/b64url.h"

struct vector {
    const char *plain;
    const char *encoded;
};

/* RFC 4648 §10, padding removed. */
static const struct vector rfc_vectors[] = {
    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

static void test_encode_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]); i++) {
        char *enc = pk_b64url_encode((const unsigned char *)rfc_vectors[i].plain,
                                     strlen(rfc_vectors[i].plain));
        assert_non_null(enc);
        assert_string_equal(enc, rfc_vectors[i].encoded);
        free(enc);
    }
}

/* pk_b64url_decode as a function of its result: NULL unless PK_ST_OK. */
static unsigned char *decode(const char *in, size_t len, size_t *out_len, enum pk_status *st)
{
    unsigned char *out = (unsigned char *)"not set";

    *st = pk_b64url_decode(in, len, &out, out_len);
    if (*st != PK_ST_OK)
        assert_null(out);
    return out;
}

static void test_decode_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc_vectors) / sizeof(rfc_vectors[0]); i++) {
        size_t out_len = 999;
        enum pk_status st = PK_ST_NOMEM;
        unsigned char *dec =
            decode(rfc_vectors[i].encoded, strlen(rfc_vectors[i].encoded), &out_len, &st);
        assert_non_null(dec);
        assert_int_equal(st, PK_ST_OK);
        assert_int_equal(out_len, strlen(rfc_vectors[i].plain));
        assert_memory_equal(dec, rfc_vectors[i].plain, out_len);
        assert_int_equal(dec[out_len], '\0');
        free(dec);
    }
}

/* 0xfb 0xff is "+/8=" in standard base64: here '-' and '_', no padding. */
static void test_url_alphabet(void **state)
{
    static const unsigned char a[] = {0xfb, 0xff};
    static const unsigned char b[] = {0xfb, 0xef, 0xbe};
    static const unsigned char c[] = {0xff, 0xff, 0xff};
    static const unsigned char d[] = {0x00, 0x00, 0x00};
    char *enc;
    unsigned char *dec;
    size_t len;
    enum pk_status st;

    (void)state;
    enc = pk_b64url_encode(a, sizeof(a));
    assert_string_equal(enc, "-_8");
    free(enc);
    enc = pk_b64url_encode(b, sizeof(b));
    assert_string_equal(enc, "----");
    free(enc);
    enc = pk_b64url_encode(c, sizeof(c));
    assert_string_equal(enc, "____");
    free(enc);
    enc = pk_b64url_encode(d, sizeof(d));
    assert_string_equal(enc, "AAAA");
    free(enc);

    dec = decode("-_8", 3, &len, &st);
    assert_non_null(dec);
    assert_int_equal(len, 2);
    assert_memory_equal(dec, a, 2);
    free(dec);
    dec = decode("____", 4, &len, &st);
    assert_non_null(dec);
    assert_int_equal(len, 3);
    assert_memory_equal(dec, c, 3);
    free(dec);
    dec = decode("AAAA", 4, &len, &st);
    assert_non_null(dec);
    assert_int_equal(len, 3);
    assert_memory_equal(dec, d, 3);
    free(dec);
}

static void assert_rejected(const char *in, size_t len)
{
    size_t out_len = 12345;
    enum pk_status st = PK_ST_NOMEM;
    unsigned char *dec = decode(in, len, &out_len, &st);

    if (dec != NULL)
        fail_msg("accepted \"%.*s\" (%zu bytes)", (int)len, in, len);
    assert_int_equal(st, PK_ST_REFUSED);
}

static void test_decode_rejects_foreign_characters(void **state)
{
    (void)state;
    /* the standard alphabet and padding */
    assert_rejected("+_8", 3);
    assert_rejected("-/8", 3);
    assert_rejected("Zg==", 4);
    assert_rejected("Zm8=", 4);
    assert_rejected("Zm9v====", 8);
    /* blanks, dots, junk a lax decoder would skip */
    assert_rejected("Zm 9v", 5);
    assert_rejected("Zm9v\n", 5);
    assert_rejected("Zm9v\r\n", 6);
    assert_rejected("Zm9v!!", 6);
    assert_rejected("Zm.v", 4);
    assert_rejected("Zm9\x80", 4);
    assert_rejected("\xffm9v", 4);
    /* a NUL inside the given length */
    assert_rejected("Zm\0v", 4);
}

static void test_decode_rejects_impossible_length(void **state)
{
    (void)state;
    /* len % 4 == 1 cannot carry a whole byte */
    assert_rejected("Z", 1);
    assert_rejected("A", 1);
    assert_rejected("Zm9vY", 5);
    assert_rejected("Zm9vYmFyZ", 9);
}

static void test_decode_rejects_nonzero_trailing_bits(void **state)
{
    size_t len;
    enum pk_status st;
    unsigned char *dec;

    (void)state;
    /* "QQ" is 'A'; "QR".."QZ" would decode to 'A' too in a lax decoder */
    dec = decode("QQ", 2, &len, &st);
    assert_non_null(dec);
    assert_int_equal(len, 1);
    assert_int_equal(dec[0], 'A');
    free(dec);
    assert_rejected("QR", 2);
    assert_rejected("QZ", 2);
    assert_rejected("Q_", 2);
    /* two leftover bits: "Zm8" is "fo", "Zm9" is not canonical */
    dec = decode("Zm8", 3, &len, &st);
    assert_non_null(dec);
    assert_int_equal(len, 2);
    assert_memory_equal(dec, "fo", 2);
    free(dec);
    assert_rejected("Zm9", 3);
    assert_rejected("Zm_", 3);
}

static void test_decode_uses_given_length(void **state)
{
    size_t len;
    enum pk_status st;
    /* Only the first 4 characters count; the rest would be invalid. */
    unsigned char *dec = decode("Zm9v!!!", 4, &len, &st);

    (void)state;
    assert_non_null(dec);
    assert_int_equal(len, 3);
    assert_memory_equal(dec, "foo", 3);
    free(dec);
}

static void test_empty_input(void **state)
{
    size_t len = 99;
    enum pk_status st = PK_ST_NOMEM;
    unsigned char *dec;
    char *enc;

    (void)state;
    dec = decode("", 0, &len, &st);
    assert_non_null(dec);
    assert_int_equal(len, 0);
    assert_int_equal(st, PK_ST_OK);
    assert_int_equal(dec[0], '\0');
    free(dec);
    enc = pk_b64url_encode((const unsigned char *)"", 0);
    assert_non_null(enc);
    assert_string_equal(enc, "");
    free(enc);
}

static void test_round_trip(void **state)
{
    unsigned char buf[300];
    uint32_t x = 0x12345678u;

    (void)state;
    for (size_t n = 0; n <= sizeof(buf); n++) {
        char *enc;
        unsigned char *dec;
        size_t len = 0;
        enum pk_status st = PK_ST_NOMEM;

        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (unsigned char)(x >> 16);
        }
        enc = pk_b64url_encode(buf, n);
        assert_non_null(enc);
        assert_int_equal(strlen(enc), (n * 4 + 2) / 3);
        assert_int_equal(strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-_"),
                         strlen(enc));
        dec = decode(enc, strlen(enc), &len, &st);
        assert_non_null(dec);
        assert_int_equal(len, n);
        if (n > 0)
            assert_memory_equal(dec, buf, n);
        free(dec);
        free(enc);
    }
}

/* Every byte value survives, at each of the three positions in a group. */
static void test_round_trip_all_bytes(void **state)
{
    (void)state;
    for (unsigned v = 0; v < 256; v++) {
        for (size_t pos = 0; pos < 3; pos++) {
            unsigned char in[3] = {0x55, 0xaa, 0x0f};
            char *enc;
            unsigned char *dec;
            size_t len;
            enum pk_status st;

            in[pos] = (unsigned char)v;
            enc = pk_b64url_encode(in, pos + 1);
            assert_non_null(enc);
            dec = decode(enc, strlen(enc), &len, &st);
            assert_non_null(dec);
            assert_int_equal(len, pos + 1);
            assert_memory_equal(dec, in, pos + 1);
            free(dec);
            free(enc);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_rfc4648_vectors),
        cmocka_unit_test(test_decode_rfc4648_vectors),
        cmocka_unit_test(test_url_alphabet),
        cmocka_unit_test(test_decode_rejects_foreign_characters),
        cmocka_unit_test(test_decode_rejects_impossible_length),
        cmocka_unit_test(test_decode_rejects_nonzero_trailing_bits),
        cmocka_unit_test(test_decode_uses_given_length),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_all_bytes),
    };
    return cmocka_run_group_tests_name("b64url", tests, NULL, NULL);
}
