/* relay/pages.c: every field of every page HTML-escaped (a <script> or a
 * quote from the host never becomes markup), the code grouped "481 205" with
 * the warning, time left worded, and the security headers of each page. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "relay/pages.h"

#define EVIL "<script>alert('x')</script>\"&"
#define EVIL_ESCAPED "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;"

static void assert_contains(const char *page, const char *want)
{
    if (strstr(page, want) == NULL)
        fail_msg("page lacks \"%s\":\n%s", want, page);
}

static void assert_lacks(const char *page, const char *unwanted)
{
    if (strstr(page, unwanted) != NULL)
        fail_msg("page has \"%s\":\n%s", unwanted, page);
}

/* What every page must be: a complete, self-contained document without script. */
static void assert_standalone(const char *page)
{
    assert_true(strncmp(page, "<!DOCTYPE html>\n", 16) == 0);
    assert_contains(page, "<meta charset=\"utf-8\">");
    assert_contains(page,
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    assert_contains(page, "</html>\n");
    assert_lacks(page, "<script");
    assert_lacks(page, "src=");
    assert_lacks(page, "http://");
    assert_lacks(page, "https://");
    assert_lacks(page, "<link");
}

static void test_approve_page_plain(void **state)
{
    struct pk_relay_view v = {"alice", "bastion", "sshd", "203.0.113.5", 105, "K7F3Q9ZT2M"};
    char *page = pk_relay_page_approve(&v);

    (void)state;
    assert_non_null(page);
    assert_standalone(page);
    assert_contains(page, "<h1>Log in as <b>alice</b> on <b>bastion</b>?</h1>");
    assert_contains(page, "<p class=\"where\">(sshd, from 203.0.113.5)</p>");
    assert_contains(page, "<p class=\"time\">Time left: 1 min 45 s</p>");
    assert_contains(page, "<form method=\"post\" action=\"/a/K7F3Q9ZT2M\">"
                          "<button type=\"submit\">Continue with Kakao</button></form>");
    /* One button, one form. */
    assert_null(strstr(strstr(page, "<form") + 1, "<form"));
    assert_null(strstr(strstr(page, "<button") + 1, "<button"));
    free(page);
}

static void test_approve_page_no_rhost(void **state)
{
    struct pk_relay_view v = {"bob", "db1", "sudo", "", 120, "ABCDEFGHJK"};
    char *page = pk_relay_page_approve(&v);

    (void)state;
    assert_non_null(page);
    assert_contains(page, "<p class=\"where\">(sudo)</p>");
    assert_contains(page, "Time left: 2 min</p>");
    assert_lacks(page, "from");
    free(page);
}

/* Each field on its own, so a field left unescaped is named by the failure. */
static void test_approve_page_escapes_each_field(void **state)
{
    (void)state;
    for (int f = 0; f < 5; f++) {
        struct pk_relay_view v = {"alice", "bastion", "sshd", "203.0.113.5", 30, "K7F3Q9ZT2M"};
        const char **field[] = {&v.user, &v.host, &v.service, &v.rhost, &v.short_id};
        char *page;

        *field[f] = EVIL;
        page = pk_relay_page_approve(&v);
        assert_non_null(page);
        assert_contains(page, EVIL_ESCAPED);
        assert_lacks(page, "<script");
        assert_lacks(page, "alert('x')");
        assert_standalone(page);
        free(page);
    }
}

static void test_approve_page_attribute_breakout(void **state)
{
    struct pk_relay_view v = {"alice", "bastion", "sshd", "", 30, "x\" onclick=\"y' z"};
    char *page = pk_relay_page_approve(&v);

    (void)state;
    assert_non_null(page);
    assert_contains(page, "action=\"/a/x&quot; onclick=&quot;y&#39; z\">");
    assert_lacks(page, "onclick=\"");
    free(page);
}

/* Bytes outside printable ASCII (a newline, an escape, a UTF-8 byte) never
 * reach the page as they are. */
static void test_control_and_high_bytes_replaced(void **state)
{
    struct pk_relay_view v = {"al\nice", "bas\x1b[1mtion", "s\xc3\xa9", "", 30, "K"};
    char *page = pk_relay_page_approve(&v);

    (void)state;
    assert_non_null(page);
    assert_contains(page, "<b>al&#xFFFD;ice</b>");
    assert_contains(page, "<b>bas&#xFFFD;[1mtion</b>");
    assert_contains(page, "(s&#xFFFD;&#xFFFD;)");
    free(page);
}

static void test_code_page_grouped(void **state)
{
    char *page = pk_relay_page_code("481205", 75);

    (void)state;
    assert_non_null(page);
    assert_standalone(page);
    assert_contains(page, "<p class=\"code\">481 205</p>");
    assert_lacks(page, "481205");
    assert_contains(page, "Time left: 1 min 15 s");
    assert_contains(page, "Type this code only at the terminal where you started this login "
                          "\xe2\x80\x94 never give it to anyone.");
    assert_lacks(page, "<form");
    free(page);
}

static void test_code_page_time_left_floor(void **state)
{
    char *page = pk_relay_page_code("000007", -3);

    (void)state;
    assert_non_null(page);
    assert_contains(page, "<p class=\"code\">000 007</p>");
    assert_contains(page, "Time left: 0 s</p>");
    free(page);
}

/* Not six digits: shown escaped and ungrouped, never as markup. */
static void test_code_page_not_digits(void **state)
{
    char code[7] = "<a'\"&>";
    char *page = pk_relay_page_code(code, 10);

    (void)state;
    assert_non_null(page);
    assert_contains(page, "<p class=\"code\">&lt;a&#39;&quot;&amp;&gt;</p>");
    free(page);
}

static void test_message_page_escapes(void **state)
{
    char *page = pk_relay_page_message("Denied <at> Kakao", EVIL);

    (void)state;
    assert_non_null(page);
    assert_standalone(page);
    assert_contains(page, "<title>Denied &lt;at&gt; Kakao</title>");
    assert_contains(page, "<h1>Denied &lt;at&gt; Kakao</h1>");
    assert_contains(page, "<p>" EVIL_ESCAPED "</p>");
    assert_lacks(page, "<form");
    free(page);
}

static const char *header_value(const struct pk_relay_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(h[i].name, name) == 0)
            return h[i].value;
    }
    return NULL;
}

static void test_headers(void **state)
{
    char csp[256];
    struct pk_relay_header h[8];
    size_t n = pk_relay_page_headers("https://kauth.kakao.com", csp, sizeof(csp), h, 8);

    (void)state;
    assert_int_equal(n, 6);
    assert_string_equal(header_value(h, n, "Content-Security-Policy"),
                        "default-src 'none'; style-src 'unsafe-inline'; "
                        "form-action 'self' https://kauth.kakao.com");
    assert_string_equal(header_value(h, n, "X-Frame-Options"), "DENY");
    assert_string_equal(header_value(h, n, "Cache-Control"), "no-store");
    assert_string_equal(header_value(h, n, "Referrer-Policy"), "no-referrer");
    assert_string_equal(header_value(h, n, "X-Content-Type-Options"), "nosniff");
    assert_string_equal(header_value(h, n, "Content-Type"), "text/html; charset=utf-8");
}

/* form-action names the origin only; a port stays, a path goes. */
static void test_headers_origin_of_url(void **state)
{
    char csp[256];
    struct pk_relay_header h[6];
    size_t n = pk_relay_page_headers("https://127.0.0.1:40123/x", csp, sizeof(csp), h, 6);

    (void)state;
    assert_int_equal(n, 6);
    assert_string_equal(header_value(h, n, "Content-Security-Policy"),
                        "default-src 'none'; style-src 'unsafe-inline'; "
                        "form-action 'self' https://127.0.0.1:40123");
}

/* A URL that would end the CSP source or the header line, or too little room: nothing. */
static void test_headers_refused(void **state)
{
    static const char *const bad[] = {
        NULL,
        "",
        "ftp://kauth.kakao.com",
        "https://",
        "https://kauth.kakao.com; script-src *",
        "https://kauth.kakao.com\r\nSet-Cookie: a=b",
        "https://a b",
        "https://k'x",
    };
    char csp[256];
    char tiny[20];
    struct pk_relay_header h[8];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(pk_relay_page_headers(bad[i], csp, sizeof(csp), h, 8), 0);
    assert_int_equal(pk_relay_page_headers("https://kauth.kakao.com", tiny, sizeof(tiny), h, 8), 0);
    assert_int_equal(pk_relay_page_headers("https://kauth.kakao.com", csp, sizeof(csp), h, 5), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_approve_page_plain),
        cmocka_unit_test(test_approve_page_no_rhost),
        cmocka_unit_test(test_approve_page_escapes_each_field),
        cmocka_unit_test(test_approve_page_attribute_breakout),
        cmocka_unit_test(test_control_and_high_bytes_replaced),
        cmocka_unit_test(test_code_page_grouped),
        cmocka_unit_test(test_code_page_time_left_floor),
        cmocka_unit_test(test_code_page_not_digits),
        cmocka_unit_test(test_message_page_escapes),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_headers_origin_of_url),
        cmocka_unit_test(test_headers_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
