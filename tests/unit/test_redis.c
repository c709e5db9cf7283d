/* src/redis.c against a real redis-server (tests/unit/redis_server.h): URL
 * forms, connect on a unix socket and on 127.0.0.1, AUTH (right and wrong
 * password), SELECT, command round trips of every reply type, a server that
 * is down, and a paused server (SIGSTOP), which must fail by the deadline.
 * The library-missing case is tests/unit/test_redis_noload.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "src/redis.h"
#include "tests/unit/redis_server.h"

#define PASSWORD "pw-7c1e0b9a-not-in-any-problem"
/* A paused server must fail by its deadline (never hang); this much slack
 * for a loaded 2-core CI machine or an ASan build, where the test can be
 * descheduled for a second or more. */
#define DEADLINE_SLACK_MS 5000
/* The deadline for what the server answers: generous, so that a server slow
 * to answer on a loaded machine is not taken for one that never does (a
 * deadline costs nothing when the answer comes). */
#define ANSWER_MS 30000

struct fixture {
    struct pk_test_redis server;
    char unix_url[160];
    char tcp_url[64];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    if (!pk_test_redis_start(&f->server, PASSWORD)) {
        pk_test_redis_stop(&f->server);
        free(f);
        fprintf(stderr, "cannot start redis-server (apt-get install redis-server)\n");
        return -1;
    }
    (void)snprintf(f->unix_url, sizeof(f->unix_url), "unix:%s", f->server.sock);
    (void)snprintf(f->tcp_url, sizeof(f->tcp_url), "redis://127.0.0.1:%u", f->server.port);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    pk_test_redis_stop(&f->server);
    free(f);
    return 0;
}

static struct pk_redis *connect_url(const char *url, const char *password, long long budget_ms)
{
    struct pk_redis_target t;
    struct pk_redis *r = NULL;
    char problem[256];

    assert_int_equal(pk_redis_target_parse(url, &t, problem, sizeof(problem)), PK_ST_OK);
    assert_int_equal(
        pk_redis_connect(&t, password, pk_redis_now_ms() + budget_ms, &r, problem, sizeof(problem)),
        PK_ST_OK);
    assert_non_null(r);
    return r;
}

/* One command from NUL-terminated words; the reply must come. */
static struct pk_redis_reply *run(struct pk_redis *r, int argc, const char *const *argv)
{
    size_t lens[8];
    struct pk_redis_reply *reply = NULL;
    char problem[256];

    assert_true(argc <= 8);
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    assert_int_equal(pk_redis_command(r, pk_redis_now_ms() + ANSWER_MS, argc, argv, lens, &reply,
                                      problem, sizeof(problem)),
                     PK_ST_OK);
    assert_non_null(reply);
    return reply;
}

/* One command whose reply has this type and, for strings, this text. */
static void expect(struct pk_redis *r, int argc, const char *const *argv, enum pk_redis_type type,
                   const char *str)
{
    struct pk_redis_reply *reply = run(r, argc, argv);

    assert_int_equal(reply->type, type);
    if (str != NULL)
        assert_string_equal(reply->str, str);
    else if (type != PK_REDIS_ERROR)
        assert_null(reply->str);
    pk_redis_reply_free(reply);
}

static void test_parse_good(void **state)
{
    struct pk_redis_target t;
    char problem[256];
    char label[300];

    (void)state;
    assert_int_equal(pk_redis_target_parse("redis://127.0.0.1:6379", &t, problem, sizeof(problem)),
                     PK_ST_OK);
    assert_false(t.is_unix);
    assert_string_equal(t.host, "127.0.0.1");
    assert_int_equal(t.port, 6379);
    assert_int_equal(t.db, 0);
    assert_string_equal(problem, "");

    assert_int_equal(pk_redis_target_parse("redis://10.1.2.3:1/15", &t, problem, sizeof(problem)),
                     PK_ST_OK);
    assert_string_equal(t.host, "10.1.2.3");
    assert_int_equal(t.port, 1);
    assert_int_equal(t.db, 15);
    pk_redis_target_describe(&t, label, sizeof(label));
    assert_string_equal(label, "10.1.2.3:1/15");

    assert_int_equal(pk_redis_target_parse("redis://[::1]:65535/0", &t, problem, sizeof(problem)),
                     PK_ST_OK);
    assert_string_equal(t.host, "::1");
    assert_int_equal(t.port, 65535);
    assert_int_equal(t.db, 0);
    pk_redis_target_describe(&t, label, sizeof(label));
    assert_string_equal(label, "[::1]:65535");

    assert_int_equal(
        pk_redis_target_parse("unix:/run/redis/redis.sock", &t, problem, sizeof(problem)),
        PK_ST_OK);
    assert_true(t.is_unix);
    assert_string_equal(t.path, "/run/redis/redis.sock");
    assert_int_equal(t.db, 0);
    pk_redis_target_describe(&t, label, sizeof(label));
    assert_string_equal(label, "unix:/run/redis/redis.sock");
}

static void bad(const char *url, const char *why)
{
    struct pk_redis_target t;
    char problem[256];

    memset(&t, 0x5a, sizeof(t));
    assert_int_equal(pk_redis_target_parse(url, &t, problem, sizeof(problem)), PK_ST_REFUSED);
    assert_string_equal(problem, why);
    assert_false(t.is_unix);
    assert_int_equal(t.port, 0);
    assert_string_equal(t.host, "");
}

static void test_parse_bad(void **state)
{
    const char *hostp = "redis:// host must be numeric (IPv4, or [IPv6]): names are not looked up";
    char longpath[200];

    (void)state;
    bad("", "not redis://HOST:PORT[/DB] or unix:PATH");
    bad("rediss://127.0.0.1:6379", "not redis://HOST:PORT[/DB] or unix:PATH");
    bad("http://127.0.0.1:6379", "not redis://HOST:PORT[/DB] or unix:PATH");
    bad("REDIS://127.0.0.1:6379", "not redis://HOST:PORT[/DB] or unix:PATH");
    bad("redis://127.0.0.1", "redis:// needs HOST:PORT");
    bad("redis://:6379", "redis:// host is empty or too long");
    bad("redis://redis.example.com:6379", hostp);
    bad("redis://localhost:6379", hostp);
    bad("redis://127.0.0.1.5:6379", hostp);
    bad("redis://::1:6379", "redis:// host is empty or too long");
    bad("redis://[::1]6379", "redis:// needs [IPV6]:PORT");
    bad("redis://[127.0.0.1]:6379", hostp);
    bad("redis://127.0.0.1:0", "redis:// port must be 1-65535");
    bad("redis://127.0.0.1:65536", "redis:// port must be 1-65535");
    bad("redis://127.0.0.1:06379", "redis:// port must be 1-65535");
    bad("redis://127.0.0.1:+6379", "redis:// port must be 1-65535");
    bad("redis://127.0.0.1:", "redis:// port must be 1-65535");
    bad("redis://127.0.0.1:6379/", "redis:// database must be 0-65535");
    bad("redis://127.0.0.1:6379/65536", "redis:// database must be 0-65535");
    bad("redis://127.0.0.1:6379/01", "redis:// database must be 0-65535");
    bad("redis://127.0.0.1:6379/1/2", "redis:// database must be 0-65535");
    bad("redis://127.0.0.1:6379/-1", "redis:// database must be 0-65535");
    bad("redis://127.0.0.1:6379?db=1", "redis:// port must be 1-65535");
    bad("unix:", "unix: needs an absolute path");
    bad("unix:run/redis.sock", "unix: needs an absolute path");
    bad("unix:/run/my redis.sock", "unix: path holds a space or a non-printable byte");
    bad("unix:/run/\x1b.sock", "unix: path holds a space or a non-printable byte");
    memset(longpath, 0, sizeof(longpath));
    memcpy(longpath, "unix:/", 6);
    memset(longpath + 6, 'a', 107);
    bad(longpath, "unix: path longer than 107 bytes");
    longpath[strlen(longpath) - 1] = '\0';
    {
        struct pk_redis_target t;
        char problem[64];

        assert_int_equal(pk_redis_target_parse(longpath, &t, problem, sizeof(problem)), PK_ST_OK);
        assert_int_equal(strlen(t.path), 107);
    }
}

static void test_unix_auth_roundtrip(void **state)
{
    struct fixture *f = *state;
    struct pk_redis *r = connect_url(f->unix_url, PASSWORD, ANSWER_MS);
    const char *set[] = {"SET", "pk:test:a", "value"};
    const char *get[] = {"GET", "pk:test:a"};
    const char *get_missing[] = {"GET", "pk:test:missing"};
    const char *incr[] = {"INCR", "pk:test:n"};
    const char *unknown[] = {"NOSUCHCOMMAND"};
    struct pk_redis_reply *reply;

    expect(r, 3, set, PK_REDIS_STATUS, "OK");
    expect(r, 2, get, PK_REDIS_STR, "value");
    expect(r, 2, get_missing, PK_REDIS_NIL, NULL);

    reply = run(r, 2, incr);
    assert_int_equal(reply->type, PK_REDIS_INT);
    assert_int_equal(reply->integer, 1);
    pk_redis_reply_free(reply);

    /* A Redis error reply is an answer, not a failure: the connection stays usable. */
    reply = run(r, 1, unknown);
    assert_int_equal(reply->type, PK_REDIS_ERROR);
    assert_non_null(strstr(reply->str, "unknown command"));
    pk_redis_reply_free(reply);
    expect(r, 2, get, PK_REDIS_STR, "value");

    /* No time left: nothing is sent, and the connection stays usable. */
    {
        size_t lens[2] = {3, 9};
        char problem[256];
        char want[256];

        reply = (struct pk_redis_reply *)1;
        assert_int_equal(pk_redis_command(r, pk_redis_now_ms() - 1, 2, get, lens, &reply, problem,
                                          sizeof(problem)),
                         PK_ST_UNAVAILABLE);
        assert_null(reply);
        (void)snprintf(want, sizeof(want), "redis %s: no time left before the deadline",
                       f->unix_url);
        assert_string_equal(problem, want);
    }
    expect(r, 2, get, PK_REDIS_STR, "value");
    pk_redis_close(r);
}

static void test_binary_and_array(void **state)
{
    struct fixture *f = *state;
    struct pk_redis *r = connect_url(f->tcp_url, PASSWORD, ANSWER_MS);
    static const char bin[] = {'a', '\0', '\r', '\n', 'b'};
    const char *set[] = {"SET", "pk:test:bin", bin};
    size_t set_len[] = {3, 11, sizeof(bin)};
    const char *get[] = {"GET", "pk:test:bin"};
    const char *del[] = {"DEL", "pk:test:list"};
    const char *push[] = {"RPUSH", "pk:test:list", "x", "yy"};
    const char *range[] = {"LRANGE", "pk:test:list", "0", "-1"};
    const char *nx[] = {"SET", "pk:test:nx", "1", "NX", "PX", "60000"};
    struct pk_redis_reply *reply = NULL;
    char problem[256];

    assert_int_equal(pk_redis_command(r, pk_redis_now_ms() + ANSWER_MS, 3, set, set_len, &reply,
                                      problem, sizeof(problem)),
                     PK_ST_OK);
    pk_redis_reply_free(reply);
    reply = run(r, 2, get);
    assert_int_equal(reply->type, PK_REDIS_STR);
    assert_int_equal(reply->len, sizeof(bin));
    assert_memory_equal(reply->str, bin, sizeof(bin));
    pk_redis_reply_free(reply);

    pk_redis_reply_free(run(r, 2, del));
    pk_redis_reply_free(run(r, 4, push));
    reply = run(r, 4, range);
    assert_int_equal(reply->type, PK_REDIS_ARRAY);
    assert_int_equal(reply->elements, 2);
    assert_int_equal(reply->element[0].type, PK_REDIS_STR);
    assert_string_equal(reply->element[0].str, "x");
    assert_string_equal(reply->element[1].str, "yy");
    pk_redis_reply_free(reply);

    /* The one-use primitive: the first SET NX wins, the second gets nil. */
    pk_redis_reply_free(run(r, 2, (const char *const[]){"DEL", "pk:test:nx"}));
    expect(r, 6, nx, PK_REDIS_STATUS, "OK");
    expect(r, 6, nx, PK_REDIS_NIL, NULL);
    pk_redis_close(r);
}

static void test_select_db(void **state)
{
    struct fixture *f = *state;
    char url[80];
    struct pk_redis *r3;
    struct pk_redis *r0;
    const char *set[] = {"SET", "pk:test:db", "three"};
    const char *get[] = {"GET", "pk:test:db"};
    const char *del[] = {"DEL", "pk:test:db"};

    (void)snprintf(url, sizeof(url), "%s/3", f->tcp_url);
    r3 = connect_url(url, PASSWORD, ANSWER_MS);
    r0 = connect_url(f->tcp_url, PASSWORD, ANSWER_MS);
    pk_redis_reply_free(run(r0, 2, del));
    pk_redis_reply_free(run(r3, 3, set));
    expect(r3, 2, get, PK_REDIS_STR, "three");
    expect(r0, 2, get, PK_REDIS_NIL, NULL);
    pk_redis_close(r3);
    pk_redis_close(r0);

    /* A database the server does not have is refused at connect. */
    {
        struct pk_redis_target t;
        struct pk_redis *r = (struct pk_redis *)1;
        char problem[256];

        (void)snprintf(url, sizeof(url), "%s/99", f->tcp_url);
        assert_int_equal(pk_redis_target_parse(url, &t, problem, sizeof(problem)), PK_ST_OK);
        assert_int_equal(pk_redis_connect(&t, PASSWORD, pk_redis_now_ms() + ANSWER_MS, &r, problem,
                                          sizeof(problem)),
                         PK_ST_UNAVAILABLE);
        assert_null(r);
        assert_non_null(strstr(problem, "refused SELECT: \"ERR DB index is out of range\""));
    }
}

/* A connect that must fail with this status and this problem. */
static void connect_fails(const char *url, const char *password, long long deadline_ms,
                          const char *want)
{
    struct pk_redis_target t;
    struct pk_redis *r = (struct pk_redis *)1;
    char problem[256];

    assert_int_equal(pk_redis_target_parse(url, &t, problem, sizeof(problem)), PK_ST_OK);
    assert_int_equal(pk_redis_connect(&t, password, deadline_ms, &r, problem, sizeof(problem)),
                     PK_ST_UNAVAILABLE);
    assert_null(r);
    assert_string_equal(problem, want);
    if (password != NULL)
        assert_null(strstr(problem, password));
}

static void test_wrong_password(void **state)
{
    struct fixture *f = *state;
    struct pk_redis *r;
    char want[256];
    struct pk_redis_reply *reply;

    (void)snprintf(want, sizeof(want),
                   "redis 127.0.0.1:%u refused AUTH: \"WRONGPASS invalid username-password pair "
                   "or user is disabled.\"",
                   f->server.port);
    connect_fails(f->tcp_url, "wrong-password-secret-xyz", pk_redis_now_ms() + ANSWER_MS, want);

    /* No password for a server that wants one: the connection opens, and
     * the commands are answered with an error (the caller's to judge). */
    r = connect_url(f->tcp_url, NULL, ANSWER_MS);
    reply = run(r, 2, (const char *const[]){"GET", "x"});
    assert_int_equal(reply->type, PK_REDIS_ERROR);
    assert_non_null(strstr(reply->str, "NOAUTH"));
    pk_redis_reply_free(reply);
    pk_redis_close(r);
}

static void test_server_down(void **state)
{
    struct fixture *f = *state;
    char url[200];
    char want[256];
    int hold = -1;
    unsigned port = pk_test_redis_dead_port(&hold);

    assert_int_not_equal(port, 0);
    (void)snprintf(url, sizeof(url), "redis://127.0.0.1:%u", port);
    (void)snprintf(want, sizeof(want), "redis 127.0.0.1:%u: connect: Connection refused", port);
    connect_fails(url, PASSWORD, pk_redis_now_ms() + ANSWER_MS, want);
    (void)close(hold);

    (void)snprintf(url, sizeof(url), "unix:%s/nosuch.sock", f->server.dir);
    (void)snprintf(want, sizeof(want), "redis %s: connect: No such file or directory", url);
    connect_fails(url, PASSWORD, pk_redis_now_ms() + ANSWER_MS, want);

    /* A deadline already past: nothing is tried. */
    (void)snprintf(want, sizeof(want), "redis 127.0.0.1:%u: no time left before the deadline",
                   f->server.port);
    connect_fails(f->tcp_url, PASSWORD, pk_redis_now_ms() - 1, want);
}

/* A stopped server accepts connections (the kernel does) and never answers:
 * connect (at AUTH) and a command on an open connection both fail by the
 * deadline, and the connection is unusable afterwards. */
static void test_paused_server(void **state)
{
    struct fixture *f = *state;
    struct pk_redis *r = connect_url(f->tcp_url, PASSWORD, ANSWER_MS);
    struct pk_redis *r2 = (struct pk_redis *)1;
    struct pk_redis_target t;
    struct pk_redis_reply *reply = (struct pk_redis_reply *)1;
    const char *get[] = {"GET", "pk:test:a"};
    size_t get_len[] = {3, 9};
    char problem[256];
    char want[256];
    long long deadline;
    long long t1;

    assert_int_equal(kill(f->server.pid, SIGSTOP), 0);

    deadline = pk_redis_now_ms() + 700;
    assert_int_equal(
        pk_redis_command(r, deadline, 2, get, get_len, &reply, problem, sizeof(problem)),
        PK_ST_UNAVAILABLE);
    t1 = pk_redis_now_ms();
    assert_null(reply);
    assert_true(t1 >= deadline);
    assert_true(t1 <= deadline + DEADLINE_SLACK_MS);
    (void)snprintf(want, sizeof(want), "redis 127.0.0.1:%u: no answer before the deadline",
                   f->server.port);
    assert_string_equal(problem, want);

    assert_int_equal(pk_redis_target_parse(f->unix_url, &t, problem, sizeof(problem)), PK_ST_OK);
    deadline = pk_redis_now_ms() + 700;
    assert_int_equal(pk_redis_connect(&t, PASSWORD, deadline, &r2, problem, sizeof(problem)),
                     PK_ST_UNAVAILABLE);
    t1 = pk_redis_now_ms();
    assert_null(r2);
    assert_true(t1 >= deadline);
    assert_true(t1 <= deadline + DEADLINE_SLACK_MS);
    (void)snprintf(want, sizeof(want), "redis %s: no answer before the deadline", f->unix_url);
    assert_string_equal(problem, want);

    assert_int_equal(kill(f->server.pid, SIGCONT), 0);

    /* The timed-out connection is unusable, at once, even with the server back. */
    t1 = pk_redis_now_ms();
    assert_int_equal(pk_redis_command(r, pk_redis_now_ms() + ANSWER_MS, 2, get, get_len, &reply,
                                      problem, sizeof(problem)),
                     PK_ST_UNAVAILABLE);
    assert_true(pk_redis_now_ms() - t1 < DEADLINE_SLACK_MS); /* far from ANSWER_MS */
    (void)snprintf(want, sizeof(want), "redis 127.0.0.1:%u: not connected", f->server.port);
    assert_string_equal(problem, want);
    pk_redis_close(r);

    /* And a new one works. */
    r = connect_url(f->tcp_url, PASSWORD, ANSWER_MS);
    pk_redis_reply_free(run(r, 2, get));
    pk_redis_close(r);
}

/* The server goes away under an open connection. */
static void test_server_gone(void **state)
{
    struct fixture *f = *state;
    struct pk_test_redis other;
    struct pk_redis *r;
    struct pk_redis_reply *reply = (struct pk_redis_reply *)1;
    const char *ping[] = {"PING"};
    size_t ping_len[] = {4};
    char url[200];
    char problem[256];
    enum pk_status st;

    (void)f;
    assert_true(pk_test_redis_start(&other, NULL));
    (void)snprintf(url, sizeof(url), "unix:%s", other.sock);
    r = connect_url(url, NULL, ANSWER_MS);
    expect(r, 1, ping, PK_REDIS_STATUS, "PONG");
    pk_test_redis_stop(&other);
    st = pk_redis_command(r, pk_redis_now_ms() + ANSWER_MS, 1, ping, ping_len, &reply, problem,
                          sizeof(problem));
    assert_int_equal(st, PK_ST_UNAVAILABLE);
    assert_null(reply);
    assert_true(strstr(problem, "connection closed by the server") != NULL ||
                strstr(problem, "send: Broken pipe") != NULL ||
                strstr(problem, "Connection reset by peer") != NULL);
    pk_redis_close(r);
}

/* Whether the idle check fails within 10 s (it does not wait itself). */
static bool turns_unusable(struct pk_redis *r)
{
    long long end = pk_redis_now_ms() + 10000;
    const struct timespec tick = {0, 10 * 1000 * 1000};

    while (pk_redis_now_ms() < end) {
        if (!pk_redis_idle_usable(r))
            return true;
        (void)nanosleep(&tick, NULL);
    }
    return false;
}

/* An idle connection checked before reuse (relay/store_redis.c's pool):
 * usable while the server keeps it; not once bytes arrive that no command
 * asked for, nor once the server is gone, and then nothing is sent on it. */
static void test_idle_check(void **state)
{
    struct fixture *f = *state;
    struct pk_test_redis other;
    struct pk_redis *r, *sub;
    struct pk_redis_reply *reply = (struct pk_redis_reply *)1;
    const char *ping[] = {"PING"};
    const char *subscribe[] = {"SUBSCRIBE", "pk-idle-check"};
    const char *publish[] = {"PUBLISH", "pk-idle-check", "unasked"};
    size_t ping_len[] = {4};
    char url[200];
    char problem[256];

    (void)f;
    assert_false(pk_redis_command_sent(NULL));
    assert_false(pk_redis_idle_usable(NULL));
    assert_true(pk_test_redis_start(&other, NULL));
    (void)snprintf(url, sizeof(url), "unix:%s", other.sock);
    r = connect_url(url, NULL, 5000);
    expect(r, 1, ping, PK_REDIS_STATUS, "PONG");
    assert_true(pk_redis_command_sent(r));
    assert_true(pk_redis_idle_usable(r));
    assert_true(pk_redis_idle_usable(r)); /* the check takes nothing away */
    expect(r, 1, ping, PK_REDIS_STATUS, "PONG");
    /* A message pushed to a subscriber: bytes no command asked for. */
    sub = connect_url(url, NULL, 5000);
    pk_redis_reply_free(run(sub, 2, subscribe));
    assert_true(pk_redis_idle_usable(sub));
    expect(r, 3, publish, PK_REDIS_INT, NULL);
    assert_true(turns_unusable(sub));
    assert_int_equal(pk_redis_command(sub, pk_redis_now_ms() + 5000, 1, ping, ping_len, &reply,
                                      problem, sizeof(problem)),
                     PK_ST_UNAVAILABLE);
    assert_null(reply);
    assert_false(pk_redis_command_sent(sub));
    pk_redis_close(sub);
    /* The server gone: seen without sending anything. */
    pk_test_redis_stop(&other);
    assert_true(turns_unusable(r));
    reply = (struct pk_redis_reply *)1;
    assert_int_equal(pk_redis_command(r, pk_redis_now_ms() + 5000, 1, ping, ping_len, &reply,
                                      problem, sizeof(problem)),
                     PK_ST_UNAVAILABLE);
    assert_null(reply);
    assert_false(pk_redis_command_sent(r));
    assert_true(strstr(problem, "not connected") != NULL);
    pk_redis_close(r);
}

static void test_bad_arguments(void **state)
{
    struct pk_redis *r = (struct pk_redis *)1;
    struct pk_redis_target t;
    struct pk_redis_reply *reply = (struct pk_redis_reply *)1;
    char problem[64];

    (void)state;
    memset(&t, 0, sizeof(t));
    assert_int_equal(
        pk_redis_connect(&t, NULL, pk_redis_now_ms() + 1000, &r, problem, sizeof(problem)),
        PK_ST_REFUSED);
    assert_null(r);
    assert_string_equal(problem, "redis: no usable target");
    assert_int_equal(pk_redis_command(NULL, pk_redis_now_ms() + 1000, 1,
                                      (const char *const[]){"PING"}, (const size_t[]){4}, &reply,
                                      problem, sizeof(problem)),
                     PK_ST_UNAVAILABLE);
    assert_null(reply);
    pk_redis_close(NULL);
    pk_redis_reply_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),          cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_unix_auth_roundtrip), cmocka_unit_test(test_binary_and_array),
        cmocka_unit_test(test_select_db),           cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_server_down),         cmocka_unit_test(test_paused_server),
        cmocka_unit_test(test_server_gone),         cmocka_unit_test(test_idle_check),
        cmocka_unit_test(test_bad_arguments),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
