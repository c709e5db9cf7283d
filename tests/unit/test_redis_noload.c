/* pk_redis_connect when hiredis cannot be loaded: src/redis.c built here with
 * a path that does not exist (this definition wins over libpk.a's), so the
 * refusal is PK_ST_UNAVAILABLE with the path named, before any socket is
 * opened; a bad target is refused without loading anything. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#undef PK_LIBHIREDIS_PATH
#define PK_LIBHIREDIS_PATH "/nonexistent/libhiredis.so.0.14"
#include "src/redis.c"

static void test_library_missing(void **state)
{
    struct pk_redis_target t;
    struct pk_redis *r = (struct pk_redis *)1;
    char problem[128];

    (void)state;
    assert_int_equal(pk_redis_target_parse("redis://127.0.0.1:9", &t, problem, sizeof(problem)),
                     PK_ST_OK);
    assert_int_equal(
        pk_redis_connect(&t, "pw", pk_redis_now_ms() + 1000, &r, problem, sizeof(problem)),
        PK_ST_UNAVAILABLE);
    assert_null(r);
    assert_string_equal(problem, "cannot load /nonexistent/libhiredis.so.0.14");

    memset(&t, 0, sizeof(t));
    assert_int_equal(
        pk_redis_connect(&t, "pw", pk_redis_now_ms() + 1000, &r, problem, sizeof(problem)),
        PK_ST_REFUSED);
    assert_string_equal(problem, "redis: no usable target");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_library_missing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
