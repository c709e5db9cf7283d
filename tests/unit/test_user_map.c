/* pk_user_map_lookup and the syntax checks of pam_kakao.conf(5): the man page's example,
 * many-to-many maps, comments, every kind of malformed line (logged with
 * file:line through a capturing logger, never granting), the log cap, long
 * lines, NUL bytes, and files refused by the trust rules. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "src/log.h"
#include "src/token.h"
#include "src/user_map.h"

#define ALICE_ID 3095134389LL
#define BOB_ID 1122334455LL

static char tmpdir[64];
static char map_path[PATH_MAX];

#define MAX_MSGS 64

struct capture {
    unsigned count;
    int priority[MAX_MSGS];
    char msg[MAX_MSGS][1024];
};

static struct capture cap;

static void capture_emit(void *ctx, int priority, const char *msg)
{
    struct capture *c = ctx;

    if (c->count < MAX_MSGS) {
        c->priority[c->count] = priority;
        (void)snprintf(c->msg[c->count], sizeof(c->msg[0]), "%s", msg);
    }
    c->count++;
}

static const struct pk_logger logger = {capture_emit, &cap, false};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int group_setup(void **state)
{
    int n;

    (void)state;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/pk_user_map.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    n = snprintf(map_path, sizeof(map_path), "%s/pam_kakao.users", tmpdir);
    return n > 0 && (size_t)n < sizeof(map_path) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int reset_capture(void **state)
{
    (void)state;
    memset(&cap, 0, sizeof(cap));
    return 0;
}

static void write_map_bytes(const char *data, size_t len, mode_t mode)
{
    int fd = open(map_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
    assert_int_equal(chmod(map_path, mode), 0);
}

static void write_map(const char *text)
{
    write_map_bytes(text, strlen(text), 0644);
}

/* Looks user up; expects PK_ST_OK and exactly the n ids given, in order. */
static void expect_ids(const char *user, size_t n, ...)
{
    struct pk_id_list list = {(int64_t *)1, 99};
    char problem[256] = "";
    va_list ap;

    assert_int_equal(
        pk_user_map_lookup(map_path, geteuid(), user, &logger, &list, problem, sizeof(problem)),
        PK_ST_OK);
    if (list.count != n)
        fail_msg("user \"%s\": %zu ids, want %zu", user, list.count, n);
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        int64_t want = va_arg(ap, int64_t);
        if (list.ids[i] != want)
            fail_msg("user \"%s\": id[%zu] = %lld, want %lld", user, i, (long long)list.ids[i],
                     (long long)want);
    }
    va_end(ap);
    if (n == 0)
        assert_null(list.ids);
    pk_id_list_free(&list);
    assert_null(list.ids);
    assert_int_equal(list.count, 0);
}

/* The i-th captured message must read "<map_path><suffix>" at LOG_WARNING. */
static void expect_msg(unsigned i, const char *suffix)
{
    char want[PATH_MAX + 256];
    int n = snprintf(want, sizeof(want), "%s%s", map_path, suffix);

    assert_true(n > 0 && (size_t)n < sizeof(want));
    if (i >= cap.count)
        fail_msg("no message %u (only %u), wanted \"%s\"", i, cap.count, want);
    assert_string_equal(cap.msg[i], want);
    assert_int_equal(cap.priority[i], LOG_WARNING);
}

static void test_spec_example(void **state)
{
    (void)state;
    write_map("# kakao_id     local_user      (comments after '#', whitespace separated)\n"
              "3095134389     alice\n"
              "3095134389     deploy          # one Kakao account may open several local "
              "accounts\n"
              "1122334455     bob\n");
    expect_ids("alice", 1, (int64_t)ALICE_ID);
    expect_ids("deploy", 1, (int64_t)ALICE_ID);
    expect_ids("bob", 1, (int64_t)BOB_ID);
    expect_ids("carol", 0);
    assert_int_equal(cap.count, 0);
}

static void test_many_to_many(void **state)
{
    (void)state;
    write_map("1 alice\n"
              "2 alice\n"
              "1 bob\n"
              "3 bob\n"
              "2 alice\n" /* repeated line: listed once */
              "9223372036854775807 carol\n"
              "4 alice\n");
    expect_ids("alice", 3, (int64_t)1, (int64_t)2, (int64_t)4);
    expect_ids("bob", 2, (int64_t)1, (int64_t)3);
    expect_ids("carol", 1, (int64_t)INT64_MAX);
    assert_int_equal(cap.count, 0);
}

static void test_exact_case_sensitive_match(void **state)
{
    (void)state;
    write_map("5 Alice\n"
              "6 alice.x\n"
              "7 alic\n"
              "8 machine$\n"
              "9 alice\n");
    expect_ids("alice", 1, (int64_t)9);
    expect_ids("Alice", 1, (int64_t)5);
    expect_ids("ALICE", 0);
    expect_ids("alic", 1, (int64_t)7);
    expect_ids("machine$", 1, (int64_t)8);
    expect_ids("machine", 0);
    expect_ids("", 0);
    assert_int_equal(cap.count, 0);
}

static void test_comments_and_blanks(void **state)
{
    (void)state;
    write_map("\n"
              "   \n"
              "\t\t\n"
              "# 1 alice\n"
              "   # 2 alice\n"
              "#\n"
              "\t3\talice\t# tabs\n"
              "  4   alice#no blank before the hash\n"
              "5 alice # 6 alice\n"
              "7 alice\r\n"
              "8 bob \t \r\n");
    expect_ids("alice", 4, (int64_t)3, (int64_t)4, (int64_t)5, (int64_t)7);
    expect_ids("bob", 1, (int64_t)8);
    assert_int_equal(cap.count, 0);
}

static void test_no_trailing_newline(void **state)
{
    (void)state;
    write_map("1 bob\n2 alice");
    expect_ids("alice", 1, (int64_t)2);
    write_map("2 alice # comment, no newline");
    expect_ids("alice", 1, (int64_t)2);
    assert_int_equal(cap.count, 0);
}

static void test_empty_file(void **state)
{
    (void)state;
    write_map("");
    expect_ids("alice", 0);
    assert_int_equal(cap.count, 0);
}

static void test_malformed_lines(void **state)
{
    (void)state;
    write_map("03095134389 alice\n"                            /* 1 leading zero */
              "30951343890000000000 alice\n"                   /* 2 twenty digits */
              "9223372036854775808 alice\n"                    /* 3 INT64_MAX + 1 */
              "+3095134389 alice\n"                            /* 4 sign */
              "-3095134389 alice\n"                            /* 5 sign */
              "3095134389 -alice\n"                            /* 6 leading '-' */
              "3095134389 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n" /* 7 33 bytes */
              "3095134389 al$ice\n"                            /* 8 '$' inside */
              "3095134389 alice extra\n"                       /* 9 three fields */
              "3095134389\n"                                   /* 10 one field */
              "1122334455 bob\n"                               /* 11 fine */
              "0 alice\n");                                    /* 12 zero: over the cap */
    expect_ids("alice", 0);
    assert_int_equal(cap.count, 11);
    expect_msg(0, ":1: malformed line ignored: bad kakao_id");
    expect_msg(1, ":2: malformed line ignored: bad kakao_id");
    expect_msg(2, ":3: malformed line ignored: bad kakao_id");
    expect_msg(3, ":4: malformed line ignored: bad kakao_id");
    expect_msg(4, ":5: malformed line ignored: bad kakao_id");
    expect_msg(5, ":6: malformed line ignored: bad local user name");
    expect_msg(6, ":7: malformed line ignored: bad local user name");
    expect_msg(7, ":8: malformed line ignored: bad local user name");
    expect_msg(8, ":9: malformed line ignored: more than two fields");
    expect_msg(9, ":10: malformed line ignored: missing local user");
    expect_msg(10, ": 1 more malformed lines ignored");

    /* Malformed lines are logged on every lookup, whoever logs in. */
    memset(&cap, 0, sizeof(cap));
    expect_ids("bob", 1, (int64_t)BOB_ID);
    assert_int_equal(cap.count, 11);
    assert_int_equal(pk_id_list_contains(&(struct pk_id_list){NULL, 0}, 1), false);
}

/* A malformed line for a user never grants, whatever it would have meant. */
static void test_malformed_never_grants(void **state)
{
    (void)state;
    write_map("3095134389 alice extra\n"
              "3095134389 alice$$\n"
              "03095134389 alice\n"
              "3095134389 alice bob\n");
    expect_ids("alice", 0);
    expect_ids("bob", 0);
    expect_ids("extra", 0);
}

static void test_name_length_limit(void **state)
{
    (void)state;
    /* 32 bytes, and 31 + '$', are fine */
    write_map("1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
              "2 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb$\n"
              "3 cccccccccccccccccccccccccccccccc$\n");
    expect_ids("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1, (int64_t)1);
    assert_int_equal(cap.count, 1);
    expect_msg(0, ":3: malformed line ignored: bad local user name");
    expect_ids("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb$", 1, (int64_t)2);
    expect_ids("cccccccccccccccccccccccccccccccc$", 0);
}

static void test_log_cap(void **state)
{
    char text[1024] = "";

    (void)state;
    /* exactly 10 malformed lines: each logged, no summary */
    for (int i = 0; i < 10; i++)
        strcat(text, "x alice\n");
    strcat(text, "7 alice\n");
    write_map(text);
    expect_ids("alice", 1, (int64_t)7);
    assert_int_equal(cap.count, 10);
    expect_msg(9, ":10: malformed line ignored: bad kakao_id");

    /* 13 malformed lines: ten logged, then one summary for the other three */
    memset(&cap, 0, sizeof(cap));
    text[0] = '\0';
    for (int i = 0; i < 13; i++)
        strcat(text, i % 2 == 0 ? "x alice\n" : "1 -alice\n");
    strcat(text, "7 alice\n");
    write_map(text);
    expect_ids("alice", 1, (int64_t)7);
    assert_int_equal(cap.count, 11);
    expect_msg(0, ":1: malformed line ignored: bad kakao_id");
    expect_msg(1, ":2: malformed line ignored: bad local user name");
    expect_msg(9, ":10: malformed line ignored: bad local user name");
    expect_msg(10, ": 3 more malformed lines ignored");
}

/* n bytes of line content (without the newline) mapping id 1 to alice. */
static char *padded_line(size_t n)
{
    char *s = malloc(n + 1);

    assert_non_null(s);
    assert_true(n >= 10);
    memset(s, 'p', n);
    memcpy(s, "1 alice #", 9);
    s[n] = '\0';
    return s;
}

static void test_long_lines(void **state)
{
    char *line;
    char *text;

    (void)state;
    text = malloc(8192);
    assert_non_null(text);

    /* 1022 bytes and a newline fit the 1023-byte line buffer */
    line = padded_line(1022);
    (void)snprintf(text, 8192, "%s\n2 bob\n", line);
    free(line);
    write_map(text);
    expect_ids("alice", 1, (int64_t)1);
    assert_int_equal(cap.count, 0);

    /* over 1023 bytes: malformed, and the next line keeps its number */
    line = padded_line(1023);
    (void)snprintf(text, 8192, "%s\n2 alice\n", line);
    free(line);
    write_map(text);
    expect_ids("alice", 1, (int64_t)2);
    assert_int_equal(cap.count, 1);
    expect_msg(0, ":1: malformed line ignored: line too long");

    memset(&cap, 0, sizeof(cap));
    line = padded_line(5000);
    (void)snprintf(text, 8192, "3 alice\n%s\n4 alice\n", line);
    free(line);
    write_map(text);
    expect_ids("alice", 2, (int64_t)3, (int64_t)4);
    assert_int_equal(cap.count, 1);
    expect_msg(0, ":2: malformed line ignored: line too long");

    /* an overlong last line without a newline */
    memset(&cap, 0, sizeof(cap));
    line = padded_line(3000);
    (void)snprintf(text, 8192, "3 alice\n%s", line);
    free(line);
    write_map(text);
    expect_ids("alice", 1, (int64_t)3);
    assert_int_equal(cap.count, 1);
    expect_msg(0, ":2: malformed line ignored: line too long");
    free(text);
}

/* A NUL byte makes its line malformed, and only its line: the next line is
 * read as usual and keeps its number. */
static void test_nul_byte_mid_line(void **state)
{
    static const char map[] = "1 alice\0junk\n2 bob\n3 alice\n";

    (void)state;
    write_map_bytes(map, sizeof(map) - 1, 0644);
    expect_ids("alice", 1, (int64_t)3);
    assert_int_equal(cap.count, 1);
    expect_msg(0, ":1: malformed line ignored: NUL byte");
    expect_ids("bob", 1, (int64_t)2);
}

static void test_nul_byte_before_newline(void **state)
{
    static const char map[] = "1 alice\0\n2 bob\n";

    (void)state;
    write_map_bytes(map, sizeof(map) - 1, 0644);
    expect_ids("bob", 1, (int64_t)2);
    assert_int_equal(cap.count, 1);
    expect_msg(0, ":1: malformed line ignored: NUL byte");
}

/* On the last line, without a newline: still malformed, never a grant. */
static void test_nul_byte_last_line(void **state)
{
    static const char map[] = "2 bob\n1 alice\0junk";

    (void)state;
    write_map_bytes(map, sizeof(map) - 1, 0644);
    expect_ids("alice", 0);
    assert_int_equal(cap.count, 1);
    expect_msg(0, ":2: malformed line ignored: NUL byte");
}

/* A NUL byte on an overlong line: one problem, one line. */
static void test_nul_byte_in_long_line(void **state)
{
    char *text = malloc(3000);

    (void)state;
    assert_non_null(text);
    memset(text, 'p', 3000);
    memcpy(text, "1 alice #", 9);
    text[2000] = '\0';
    text[2500] = '\n';
    memcpy(text + 2501, "2 alice\n", 8);
    write_map_bytes(text, 2509, 0644);
    free(text);
    expect_ids("alice", 1, (int64_t)2);
    assert_int_equal(cap.count, 1);
    expect_msg(0, ":1: malformed line ignored: line too long");
}

static void test_large_map(void **state)
{
    FILE *fp;

    (void)state;
    /* well over the 64 KiB config cap: the user map may be large */
    fp = fopen(map_path, "we");
    assert_non_null(fp);
    for (int i = 1; i <= 20000; i++)
        fprintf(fp, "%d user%d\n", 100000 + i, i);
    fprintf(fp, "3095134389 alice\n");
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(map_path, 0644), 0);
    expect_ids("alice", 1, (int64_t)ALICE_ID);
    expect_ids("user20000", 1, (int64_t)120000);
    assert_int_equal(cap.count, 0);
}

/* The map is read in 64 KiB blocks: lines cut by a block's end are read
 * whole, with the same rules, whatever part falls where. */
#define BLOCK (64 * 1024)

/* Comment lines up to offset `to` (from `from`), exactly. */
static size_t pad_to(char *buf, size_t from, size_t to)
{
    while (from < to) {
        size_t n = to - from > 200 ? 200 : to - from;
        memset(buf + from, 'c', n);
        buf[from] = '#';
        buf[from + n - 1] = '\n';
        from += n;
    }
    return from;
}

static void test_block_boundaries(void **state)
{
    size_t size = 4 * BLOCK + 4096, at;
    char *buf = malloc(size);
    char *line;

    (void)state;
    assert_non_null(buf);
    /* a good line cut by the first block's end */
    at = pad_to(buf, 0, BLOCK - 4);
    memcpy(buf + at, "7 alice\n", 8);
    at += 8;
    /* a 1022-byte line (the longest allowed) across the second */
    at = pad_to(buf, at, 2 * BLOCK - 500);
    line = padded_line(1022);
    memcpy(line, "8 alice #", 9);
    memcpy(buf + at, line, 1022);
    free(line);
    buf[at + 1022] = '\n';
    at += 1023;
    /* a 1023-byte line across the third: too long, and only it */
    at = pad_to(buf, at, 3 * BLOCK - 1000);
    line = padded_line(1023);
    memcpy(line, "5 alice #", 9);
    memcpy(buf + at, line, 1023);
    free(line);
    buf[at + 1023] = '\n';
    at += 1024;
    /* a NUL byte just after the fourth block's start */
    at = pad_to(buf, at, 4 * BLOCK - 5);
    memcpy(buf + at, "6 alice\0x\n9 alice", 17);
    at += 17;
    write_map_bytes(buf, at, 0644);
    free(buf);
    expect_ids("alice", 3, (int64_t)7, (int64_t)8, (int64_t)9);
    assert_int_equal(cap.count, 2);
    assert_non_null(strstr(cap.msg[0], ": malformed line ignored: line too long"));
    assert_non_null(strstr(cap.msg[1], ": malformed line ignored: NUL byte"));
}

static void test_max_ids_per_user(void **state)
{
    FILE *fp;
    struct pk_id_list list;
    char problem[128];

    (void)state;
    fp = fopen(map_path, "we");
    assert_non_null(fp);
    for (int i = 1; i <= PK_MAP_MAX_IDS + 3; i++)
        fprintf(fp, "%d alice\n", i);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(map_path, 0644), 0);
    assert_int_equal(
        pk_user_map_lookup(map_path, geteuid(), "alice", &logger, &list, problem, sizeof(problem)),
        PK_ST_OK);
    assert_int_equal(list.count, PK_MAP_MAX_IDS);
    assert_int_equal(list.ids[0], 1);
    assert_int_equal(list.ids[PK_MAP_MAX_IDS - 1], PK_MAP_MAX_IDS);
    assert_true(pk_id_list_contains(&list, 1));
    assert_true(pk_id_list_contains(&list, PK_MAP_MAX_IDS));
    assert_false(pk_id_list_contains(&list, PK_MAP_MAX_IDS + 1));
    pk_id_list_free(&list);
    assert_int_equal(cap.count, 1);
    expect_msg(0, ": user has more than 1024 kakao ids; 3 lines ignored");
}

static void test_unsafe_file(void **state)
{
    struct pk_id_list list = {(int64_t *)1, 5};
    char problem[PATH_MAX + 128];
    char want[PATH_MAX + 128];
    char link[PATH_MAX];
    int n;

    (void)state;
    write_map_bytes("3095134389 alice\n", 17, 0666);
    assert_int_equal(
        pk_user_map_lookup(map_path, geteuid(), "alice", &logger, &list, problem, sizeof(problem)),
        PK_ST_REFUSED);
    assert_null(list.ids);
    assert_int_equal(list.count, 0);
    n = snprintf(want, sizeof(want), "%s: writable by group or others (mode 0666)", map_path);
    assert_true(n > 0 && (size_t)n < sizeof(want));
    assert_string_equal(problem, want);

    write_map_bytes("3095134389 alice\n", 17, 0620);
    assert_int_equal(
        pk_user_map_lookup(map_path, geteuid(), "alice", &logger, &list, problem, sizeof(problem)),
        PK_ST_REFUSED);
    n = snprintf(want, sizeof(want), "%s: writable by group or others (mode 0620)", map_path);
    assert_true(n > 0 && (size_t)n < sizeof(want));
    assert_string_equal(problem, want);

    /* a symlink to a good map */
    write_map_bytes("3095134389 alice\n", 17, 0644);
    n = snprintf(link, sizeof(link), "%s/link.users", tmpdir);
    assert_true(n > 0 && (size_t)n < sizeof(link));
    assert_int_equal(symlink(map_path, link), 0);
    assert_int_equal(
        pk_user_map_lookup(link, geteuid(), "alice", &logger, &list, problem, sizeof(problem)),
        PK_ST_REFUSED);
    n = snprintf(want, sizeof(want), "%s: is a symbolic link (not followed)", link);
    assert_true(n > 0 && (size_t)n < sizeof(want));
    assert_string_equal(problem, want);
    assert_int_equal(unlink(link), 0);

    /* missing */
    n = snprintf(link, sizeof(link), "%s/missing.users", tmpdir);
    assert_true(n > 0 && (size_t)n < sizeof(link));
    assert_int_equal(
        pk_user_map_lookup(link, geteuid(), "alice", &logger, &list, problem, sizeof(problem)),
        PK_ST_REFUSED);
    n = snprintf(want, sizeof(want), "%s: does not exist", link);
    assert_true(n > 0 && (size_t)n < sizeof(want));
    assert_string_equal(problem, want);

    /* owned by another user */
    if (geteuid() == 0) {
        assert_int_equal(chown(map_path, 12345, 12345), 0);
        assert_int_equal(
            pk_user_map_lookup(map_path, 0, "alice", &logger, &list, problem, sizeof(problem)),
            PK_ST_REFUSED);
        n = snprintf(want, sizeof(want), "%s: owned by uid 12345, not root or uid 0", map_path);
        assert_true(n > 0 && (size_t)n < sizeof(want));
        assert_string_equal(problem, want);
        assert_int_equal(chown(map_path, 0, 0), 0);
    }
    assert_int_equal(cap.count, 0);
}

static void test_valid_kakao_id_text(void **state)
{
    static const char *const bad[] = {
        "",
        "0",
        "01",
        "00",
        "-1",
        "+1",
        "1a",
        "a1",
        " 1",
        "1 ",
        "1.0",
        "1e3",
        "0x10",
        "9223372036854775808",
        "9999999999999999999",
        "10000000000000000000",
        "18446744073709551616",
    };
    int64_t v = -7;

    (void)state;
    assert_true(pk_valid_kakao_id_text("1", 1, &v));
    assert_int_equal(v, 1);
    assert_true(pk_valid_kakao_id_text("3095134389", 10, &v));
    assert_int_equal(v, 3095134389LL);
    assert_true(pk_valid_kakao_id_text("9223372036854775807", 19, &v));
    assert_true(v == INT64_MAX);
    assert_true(pk_valid_kakao_id_text("9223372036854775799", 19, &v));
    assert_true(v == INT64_MAX - 8);
    assert_true(pk_valid_kakao_id_text("1000000000000000000", 19, &v));
    assert_true(v == 1000000000000000000LL);
    assert_true(pk_valid_kakao_id_text("10", 2, NULL));
    /* only len bytes count */
    assert_true(pk_valid_kakao_id_text("12345", 3, &v));
    assert_int_equal(v, 123);
    assert_false(pk_valid_kakao_id_text("12x45", 3, NULL));
    assert_true(pk_valid_kakao_id_text("12x45", 2, NULL));

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = -7;
        if (pk_valid_kakao_id_text(bad[i], strlen(bad[i]), &v))
            fail_msg("\"%s\" accepted as a kakao_id", bad[i]);
        assert_int_equal(v, -7);
    }
    assert_false(pk_valid_kakao_id_text("1\0", 2, NULL));
}

static void test_valid_local_user(void **state)
{
    static const char *const good[] = {
        "a",
        "alice",
        "Alice",
        "a-b",
        "a_b",
        "a.b",
        "_a",
        ".a",
        "a-",
        "0",
        "123",
        "name$",
        "a-$",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa$",
    };
    static const char *const bad[] = {
        "",
        "$",
        "$$",
        "a$$",
        "$a",
        "na$me",
        "-a",
        "-",
        "a b",
        "a\tb",
        "a/b",
        "a:b",
        "a@b",
        "caf\xc3\xa9",
        "a\x7f",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa$",
    };
    char line[128];

    (void)state;
    /* The local user syntax is the map's: a good name is found by the
     * lookup, a bad one never is (the line is malformed). */
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        (void)snprintf(line, sizeof(line), "%lld %s\n", ALICE_ID, good[i]);
        write_map(line);
        expect_ids(good[i], 1, (int64_t)ALICE_ID);
        assert_int_equal(cap.count, 0);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *why = bad[i][0] == '\0'                ? "missing local user"
                          : strpbrk(bad[i], " \t") != NULL ? "more than two fields"
                                                           : "bad local user name";
        char suffix[64];

        reset_capture(NULL);
        (void)snprintf(line, sizeof(line), "%lld %s\n", ALICE_ID, bad[i]);
        write_map(line);
        expect_ids(bad[i], 0);
        (void)snprintf(suffix, sizeof(suffix), ":1: malformed line ignored: %s", why);
        expect_msg(0, suffix);
        if (cap.count != 1)
            fail_msg("\"%s\": %u log lines, want 1", bad[i], cap.count);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_spec_example, reset_capture),
        cmocka_unit_test_setup(test_many_to_many, reset_capture),
        cmocka_unit_test_setup(test_exact_case_sensitive_match, reset_capture),
        cmocka_unit_test_setup(test_comments_and_blanks, reset_capture),
        cmocka_unit_test_setup(test_no_trailing_newline, reset_capture),
        cmocka_unit_test_setup(test_empty_file, reset_capture),
        cmocka_unit_test_setup(test_malformed_lines, reset_capture),
        cmocka_unit_test_setup(test_malformed_never_grants, reset_capture),
        cmocka_unit_test_setup(test_name_length_limit, reset_capture),
        cmocka_unit_test_setup(test_log_cap, reset_capture),
        cmocka_unit_test_setup(test_long_lines, reset_capture),
        cmocka_unit_test_setup(test_nul_byte_mid_line, reset_capture),
        cmocka_unit_test_setup(test_nul_byte_before_newline, reset_capture),
        cmocka_unit_test_setup(test_nul_byte_last_line, reset_capture),
        cmocka_unit_test_setup(test_nul_byte_in_long_line, reset_capture),
        cmocka_unit_test_setup(test_large_map, reset_capture),
        cmocka_unit_test_setup(test_block_boundaries, reset_capture),
        cmocka_unit_test_setup(test_max_ids_per_user, reset_capture),
        cmocka_unit_test_setup(test_unsafe_file, reset_capture),
        cmocka_unit_test_setup(test_valid_kakao_id_text, reset_capture),
        cmocka_unit_test_setup(test_valid_local_user, reset_capture),
    };
    return cmocka_run_group_tests_name("user_map", tests, group_setup, group_teardown);
}
