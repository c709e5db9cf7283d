/* pk_qr_text: the drawing of a login URL (golden text), its alphabet and
 * sizes, the refusals, and a decode check without a scanner: the half blocks
 * are read back into a module matrix and compared with the matrix
 * libqrencode itself produces for the same text (error correction L, byte
 * mode, smallest version), quiet zone included. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <qrencode.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/qr.h"

#define URL "https://login.example.com/a/K7F3Q9ZT2M"

/* As a terminal shows it: light modules are blocks (qr.c). Each line is 37
 * columns; clang-format counts the 3 bytes of each block as 3. */
// clang-format off
static const char golden[] =
    "█████████████████████████████████████\n"
    "█████████████████████████████████████\n"
    "████ ▄▄▄▄▄ █ ▄▄ █▄▄   ▄███ ▄▄▄▄▄ ████\n"
    "████ █   █ ██▄█▀▀▄▄▄▀ ▀▀██ █   █ ████\n"
    "████ █▄▄▄█ █ ▀▀▄ ▀ ▀ ▀ █ █ █▄▄▄█ ████\n"
    "████▄▄▄▄▄▄▄█ ▀▄█▄▀▄█▄█ █ █▄▄▄▄▄▄▄████\n"
    "████▄▄▄▀█▄▄▀ ▄█▄ ▄█▄▀▀█  ▄  ▄██  ████\n"
    "████▄█▄ ██▄ ▀▄ ▀ ▄ ▄ ▄▀▄ █▀█  ▄█▄████\n"
    "████▄  ▀▀█▄█   ██  █▀▀▄▀ ▄  ███▀ ████\n"
    "█████ ▄▀▄█▄█▄▄ ▄█▀██ █▀▄▄█▀▀████▄████\n"
    "███████▀ ▄▄█▀▄█▄ ▄█▄▄██ ▀█  ██▀▀ ████\n"
    "████▄▄▀▄▀▄▄▄███▀ ▄ ▀▄▄ ▄▀▀▄▀▀▄██▄████\n"
    "████▄▄▄███▄▄ ▄███  ▄ █▄█ ▄▄▄  ▀▄▀████\n"
    "████ ▄▄▄▄▄ █▀▄ ▄█▀█▄█▄▄▀ █▄█ ██▀ ████\n"
    "████ █   █ ███ ▄ ▄█▀▄ ▀ ▄ ▄▄  ▀ █████\n"
    "████ █▄▄▄█ █ ▄▀▀ ▄  █▀▀▄ █▀█▄▀█▄▄████\n"
    "████▄▄▄▄▄▄▄█▄█▄██▄▄▄▄█▄█▄▄▄██▄██▄████\n"
    "█████████████████████████████████████\n"
    "▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀\n";
// clang-format on

static char *draw(const char *text, size_t *lines, enum pk_status *st, char *problem,
                  size_t problem_len)
{
    char *out = (char *)1;

    *st = pk_qr_text(text, &out, lines, problem, problem_len);
    return out;
}

static void test_golden_url(void **state)
{
    char problem[128];
    enum pk_status st;
    size_t lines = 0;
    char *out;

    (void)state;
    out = draw(URL, &lines, &st, problem, sizeof(problem));
    assert_int_equal(st, PK_ST_OK);
    assert_string_equal(problem, "");
    assert_non_null(out);
    assert_string_equal(out, golden);
    assert_int_equal(lines, 19);
    free(out);
}

/* Splits a drawing into lines of characters: 0 space, 1 upper, 2 lower,
 * 3 full. Fails the test on any other byte. Returns the line count; *cols
 * is the width, the same for every line. */
static size_t cells(const char *s, unsigned char *grid, size_t cap, size_t *cols)
{
    size_t n = 0, col = 0, line_count = 0;

    *cols = 0;
    while (*s != '\0') {
        if (*s == '\n') {
            if (line_count == 0)
                *cols = col;
            assert_int_equal(col, *cols);
            line_count++;
            col = 0;
            s++;
            continue;
        }
        assert_true(n < cap);
        if (*s == ' ') {
            grid[n++] = 0;
            s++;
        } else if (strncmp(s, "\xe2\x96\x80", 3) == 0) {
            grid[n++] = 1;
            s += 3;
        } else if (strncmp(s, "\xe2\x96\x84", 3) == 0) {
            grid[n++] = 2;
            s += 3;
        } else if (strncmp(s, "\xe2\x96\x88", 3) == 0) {
            grid[n++] = 3;
            s += 3;
        } else {
            fail_msg("byte 0x%02x is not one of the four characters", (unsigned char)*s);
        }
        col++;
    }
    assert_int_equal(col, 0); /* the last line ends in '\n' too */
    return line_count;
}

/* Reads the drawing back into modules and compares them with libqrencode's. */
static void check_decodes_to(const char *text, size_t *lines_out, size_t *cols_out)
{
    static unsigned char grid[100 * 100];
    char problem[128];
    enum pk_status st;
    size_t lines = 0, cols, side;
    char *out = draw(text, &lines, &st, problem, sizeof(problem));
    QRcode *qr;

    assert_int_equal(st, PK_ST_OK);
    assert_int_equal(cells(out, grid, sizeof(grid), &cols), lines);
    assert_true(cols <= PK_QR_MAX_COLUMNS);
    qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
    assert_non_null(qr);
    side = (size_t)qr->width + 2 * PK_QR_QUIET;
    assert_int_equal(cols, side);
    assert_int_equal(lines, (side + 1) / 2);
    for (size_t y = 0; y < 2 * lines; y++) {
        for (size_t x = 0; x < cols; x++) {
            unsigned char c = grid[(y / 2) * cols + x];
            bool light = (y % 2 == 0) ? (c & 1) != 0 : (c & 2) != 0;
            bool want;

            if (y >= side) {
                want = false; /* the half line under an odd count: nothing drawn */
            } else if (x < PK_QR_QUIET || y < PK_QR_QUIET || x >= side - PK_QR_QUIET ||
                       y >= side - PK_QR_QUIET) {
                want = true; /* quiet zone */
            } else {
                size_t qx = x - PK_QR_QUIET, qy = y - PK_QR_QUIET;
                want = (qr->data[qy * (size_t)qr->width + qx] & 1) == 0;
            }
            if (light != want)
                fail_msg("%s: module (%zu,%zu) drawn %s", text, x, y, light ? "light" : "dark");
        }
    }
    QRcode_free(qr);
    free(out);
    *lines_out = lines;
    *cols_out = cols;
}

static void test_decodes_to_libqrencode_matrix(void **state)
{
    size_t lines, cols;

    (void)state;
    check_decodes_to(URL, &lines, &cols);
    assert_int_equal(lines, 19);
    assert_int_equal(cols, 37);
}

/* "https://" and n - 8 letters. */
static char *url_of(size_t n)
{
    char *s = malloc(n + 1);

    assert_non_null(s);
    memcpy(s, "https://", 8);
    memset(s + 8, 'a', n - 8);
    s[n] = '\0';
    return s;
}

/* The sizes pam_kakao.conf(5) gives: up to 32 bytes 17 lines, up to 53
 * bytes 19 lines (fits 80x24 with the prompt), up to 78 bytes 21 lines; the
 * longest text accepted still fits 80 columns. */
static void test_sizes(void **state)
{
    static const struct {
        size_t len, lines, cols;
    } want[] = {
        {9, 15, 29},
        {32, 17, 33},
        {33, 19, 37},
        {53, 19, 37},
        {54, 21, 41},
        {78, 21, 41},
        {PK_QR_TEXT_MAX, 33, 65},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char *u = url_of(want[i].len);
        size_t lines, cols;

        check_decodes_to(u, &lines, &cols);
        assert_int_equal(lines, want[i].lines);
        assert_int_equal(cols, want[i].cols);
        free(u);
    }
}

static void expect_refused(const char *text, const char *why)
{
    char problem[128];
    enum pk_status st;
    size_t lines = 7;
    char *out = draw(text, &lines, &st, problem, sizeof(problem));

    assert_int_equal(st, PK_ST_REFUSED);
    assert_null(out);
    assert_int_equal(lines, 0);
    assert_string_equal(problem, why);
}

static void test_refusals(void **state)
{
    char *long_url = url_of(PK_QR_TEXT_MAX + 1);
    char problem[16];

    (void)state;
    expect_refused(NULL, "no text");
    expect_refused("", "empty text");
    expect_refused(long_url, "text longer than 256 bytes");
    expect_refused("https://a.example/\x1b[2J", "text is not printable ASCII without spaces");
    expect_refused("https://a.example/a b", "text is not printable ASCII without spaces");
    expect_refused("https://a.example/\xc3\xa9", "text is not printable ASCII without spaces");
    expect_refused("https://a.example/\n", "text is not printable ASCII without spaces");
    assert_int_equal(pk_qr_text(URL, NULL, NULL, problem, sizeof(problem)), PK_ST_REFUSED);
    assert_string_equal(problem, "no text");
    /* No problem buffer, no line count: still a drawing. */
    {
        char *out = NULL;

        assert_int_equal(pk_qr_text(URL, &out, NULL, NULL, 0), PK_ST_OK);
        assert_string_equal(out, golden);
        free(out);
    }
    free(long_url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_url),
        cmocka_unit_test(test_decodes_to_libqrencode_matrix),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
