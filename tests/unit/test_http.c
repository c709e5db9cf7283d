/* The HTTPS transport's refusal of an unsafe caller environment: in a
 * process started setuid or setgid, SSLKEYLOGFILE set (any value) means no
 * network call at all; anywhere else the variable is the process's own
 * business. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "src/http.h"

#define REFUSAL "unsafe environment: SSLKEYLOGFILE is set in a setuid process"

static void test_secure_and_set_refused(void **state)
{
    char err[128];
    (void)state;

    memset(err, 'Z', sizeof(err));
    assert_false(pk_http_env_safe(true, "/etc/ld.so.preload", err, sizeof(err)));
    assert_string_equal(err, REFUSAL);
    assert_string_equal(PK_HTTP_KEYLOG_REFUSAL, REFUSAL);

    /* Any value counts: libcurl would fopen("") and fail today, but an
     * empty value is no reason to let it try. */
    memset(err, 'Z', sizeof(err));
    assert_false(pk_http_env_safe(true, "", err, sizeof(err)));
    assert_string_equal(err, REFUSAL);
}

static void test_secure_and_unset_ok(void **state)
{
    char err[128] = "";
    (void)state;

    assert_true(pk_http_env_safe(true, NULL, err, sizeof(err)));
    assert_string_equal(err, "");
}

static void test_not_secure_and_set_ok(void **state)
{
    char err[128] = "";
    (void)state;

    assert_true(pk_http_env_safe(false, "/tmp/keys.log", err, sizeof(err)));
    assert_true(pk_http_env_safe(false, "", err, sizeof(err)));
    assert_true(pk_http_env_safe(false, NULL, err, sizeof(err)));
    assert_string_equal(err, "");
}

static void test_small_and_missing_error_buffer(void **state)
{
    char err[12];
    (void)state;

    memset(err, 'Z', sizeof(err));
    assert_false(pk_http_env_safe(true, "x", err, sizeof(err)));
    /* cut as every error text is (pk_log_text): visibly, never mid-escape */
    assert_string_equal(err, "unsafe e...");
    assert_false(pk_http_env_safe(true, "x", NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secure_and_set_refused),
        cmocka_unit_test(test_secure_and_unset_ok),
        cmocka_unit_test(test_not_secure_and_set_ok),
        cmocka_unit_test(test_small_and_missing_error_buffer),
    };
    return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
