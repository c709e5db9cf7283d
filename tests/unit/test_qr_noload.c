/* pk_qr_text when libqrencode cannot be loaded: src/qr.c built here with a
 * path that does not exist (this definition wins over libpk.a's), so the
 * refusal is PK_ST_UNAVAILABLE with the path named, never a crash or a
 * drawing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#undef PK_LIBQRENCODE_PATH
#define PK_LIBQRENCODE_PATH "/nonexistent/libqrencode.so.4"
#include "src/qr.c"

static void test_library_missing(void **state)
{
    char problem[128];
    char *out = (char *)1;
    size_t lines = 7;

    (void)state;
    assert_int_equal(pk_qr_text("https://login.example.com/a/K7F3Q9ZT2M", &out, &lines, problem,
                                sizeof(problem)),
                     PK_ST_UNAVAILABLE);
    assert_null(out);
    assert_int_equal(lines, 0);
    assert_string_equal(problem, "cannot load /nonexistent/libqrencode.so.4");
    /* The text is judged first: a bad one is refused without loading anything. */
    assert_int_equal(pk_qr_text("", &out, &lines, problem, sizeof(problem)), PK_ST_REFUSED);
    assert_string_equal(problem, "empty text");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_library_missing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
