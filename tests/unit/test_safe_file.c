/* pk_safe_open / pk_safe_read / pk_check_open: every trust rule of docs/DESIGN.md §6.2
 * with its exact problem text, the size caps, and a FIFO that must not hang. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/safe_file.h"

static char tmpdir[64];
static char pbuf[4][PATH_MAX];
static unsigned pbuf_next;

/* A path inside the temp dir (four rotating buffers). */
static const char *at(const char *name)
{
    char *p = pbuf[pbuf_next++ % 4];
    int n = snprintf(p, PATH_MAX, "%s/%s", tmpdir, name);

    assert_true(n > 0 && n < PATH_MAX);
    return p;
}

static const char *write_file(const char *name, const void *data, size_t len, mode_t mode)
{
    const char *path = at(name);
    int fd;

    /* Replaced, not rewritten: the old one may be read-only. */
    (void)unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

/* A file of n bytes of 'x'. */
static const char *write_sized(const char *name, size_t n, mode_t mode)
{
    char *data = malloc(n + 1);
    const char *path;

    assert_non_null(data);
    memset(data, 'x', n);
    path = write_file(name, data, n, mode);
    free(data);
    return path;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    (void)state;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/pk_safe_file.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Opens path with pk_safe_open and checks status and problem text; an
 * expected problem of NULL means "" (success). */
static void expect_open(const char *path, enum pk_file_kind kind, uid_t uid, enum pk_status want,
                        const char *want_problem)
{
    char problem[512];
    int fd = 12345;
    enum pk_status st;

    memset(problem, 'Z', sizeof(problem));
    problem[sizeof(problem) - 1] = '\0';
    st = pk_safe_open(path, kind, uid, &fd, problem, sizeof(problem));
    if (st != want)
        fail_msg("%s: status %d, want %d (problem \"%s\")", path ? path : "(null)", st, want,
                 problem);
    assert_string_equal(problem, want_problem != NULL ? want_problem : "");
    if (want == PK_ST_OK) {
        assert_true(fd >= 0);
        assert_int_equal(close(fd), 0);
    } else {
        assert_int_equal(fd, -1);
    }
}

static char *expected(const char *path, const char *rest)
{
    static char buf[PATH_MAX + 128];
    int n = snprintf(buf, sizeof(buf), "%s: %s", path, rest);

    assert_true(n > 0 && (size_t)n < sizeof(buf));
    return buf;
}

static void test_regular_file_ok(void **state)
{
    const char *p = write_file("ok.conf", "timeout = 5\n", 12, 0644);
    char problem[256];
    char *data = NULL;
    size_t len = 0;
    int fd = -1;
    int flags;

    (void)state;
    expect_open(p, PK_FILE_CONFIG, geteuid(), PK_ST_OK, NULL);
    expect_open(p, PK_FILE_USER_MAP, geteuid(), PK_ST_OK, NULL);

    /* The descriptor is blocking again and close-on-exec. */
    assert_int_equal(pk_safe_open(p, PK_FILE_CONFIG, geteuid(), &fd, problem, sizeof(problem)),
                     PK_ST_OK);
    flags = fcntl(fd, F_GETFL);
    assert_true(flags >= 0);
    assert_int_equal(flags & O_NONBLOCK, 0);
    assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    assert_int_equal(close(fd), 0);

    assert_int_equal(
        pk_safe_read(p, PK_FILE_CONFIG, geteuid(), &data, &len, problem, sizeof(problem)),
        PK_ST_OK);
    assert_non_null(data);
    assert_int_equal(len, 12);
    assert_string_equal(data, "timeout = 5\n");
    free(data);
}

static void test_empty_file(void **state)
{
    const char *p = write_file("empty", "", 0, 0600);
    char problem[256];
    char *data = NULL;
    size_t len = 99;

    (void)state;
    assert_int_equal(pk_safe_read(p, PK_FILE_KEY, geteuid(), &data, &len, problem, sizeof(problem)),
                     PK_ST_OK);
    assert_non_null(data);
    assert_int_equal(len, 0);
    assert_string_equal(data, "");
    free(data);
}

static void test_relative_path(void **state)
{
    (void)state;
    expect_open("etc/pam_kakao.conf", PK_FILE_CONFIG, 0, PK_ST_REFUSED,
                "etc/pam_kakao.conf: path must be absolute");
    expect_open("./x", PK_FILE_KEY, 0, PK_ST_REFUSED, "./x: path must be absolute");
    expect_open("", PK_FILE_USER_MAP, 0, PK_ST_REFUSED, ": path must be absolute");
    expect_open(NULL, PK_FILE_CONFIG, 0, PK_ST_REFUSED, "(null): path must be absolute");
}

static void test_missing(void **state)
{
    const char *p = at("no-such-file");
    char problem[256];
    char *data = (char *)"sentinel";
    size_t len = 99;

    (void)state;
    expect_open(p, PK_FILE_CONFIG, geteuid(), PK_ST_MISSING, expected(p, "does not exist"));
    assert_int_equal(
        pk_safe_read(p, PK_FILE_CONFIG, geteuid(), &data, &len, problem, sizeof(problem)),
        PK_ST_MISSING);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_string_equal(problem, expected(p, "does not exist"));
    expect_open(p, PK_FILE_USER_MAP, geteuid(), PK_ST_MISSING, expected(p, "does not exist"));
}

static void test_symlink_refused(void **state)
{
    const char *target = write_file("target.conf", "x\n", 2, 0600);
    const char *link = at("link.conf");
    const char *dangling = at("dangling.conf");

    (void)state;
    assert_int_equal(symlink(target, link), 0);
    expect_open(link, PK_FILE_CONFIG, geteuid(), PK_ST_REFUSED,
                expected(link, "is a symbolic link (not followed)"));
    expect_open(link, PK_FILE_KEY, geteuid(), PK_ST_REFUSED,
                expected(link, "is a symbolic link (not followed)"));
    assert_int_equal(symlink(at("nowhere"), dangling), 0);
    expect_open(dangling, PK_FILE_USER_MAP, geteuid(), PK_ST_REFUSED,
                expected(dangling, "is a symbolic link (not followed)"));
    /* the target itself is fine */
    expect_open(target, PK_FILE_CONFIG, geteuid(), PK_ST_OK, NULL);
}

static void test_directory_refused(void **state)
{
    const char *d = at("adir");

    (void)state;
    assert_int_equal(mkdir(d, 0700), 0);
    expect_open(d, PK_FILE_CONFIG, geteuid(), PK_ST_REFUSED, expected(d, "not a regular file"));
    expect_open(d, PK_FILE_USER_MAP, geteuid(), PK_ST_REFUSED, expected(d, "not a regular file"));
}

static void test_device_refused(void **state)
{
    (void)state;
    expect_open("/dev/null", PK_FILE_CONFIG, geteuid(), PK_ST_REFUSED,
                "/dev/null: not a regular file");
}

/* A FIFO with no writer would block a plain open(); the login must not hang. */
static void test_fifo_does_not_hang(void **state)
{
    const char *f = at("fifo");
    char problem[256];
    char *data = (char *)"sentinel";
    size_t len = 1;

    (void)state;
    assert_int_equal(mkfifo(f, 0600), 0);
    (void)alarm(10); /* SIGALRM kills the test if anything blocks */
    expect_open(f, PK_FILE_CONFIG, geteuid(), PK_ST_REFUSED, expected(f, "not a regular file"));
    assert_int_equal(pk_safe_read(f, PK_FILE_KEY, geteuid(), &data, &len, problem, sizeof(problem)),
                     PK_ST_REFUSED);
    assert_null(data);
    assert_string_equal(problem, expected(f, "not a regular file"));
    expect_open(f, PK_FILE_USER_MAP, geteuid(), PK_ST_REFUSED, expected(f, "not a regular file"));
    (void)alarm(0);
}

static void test_owner(void **state)
{
    const char *p = write_file("owned.conf", "x\n", 2, 0600);
    char want[PATH_MAX + 64];

    (void)state;
    if (geteuid() != 0) {
        /* Our own file is fine for our uid, refused for another non-root uid. */
        expect_open(p, PK_FILE_CONFIG, geteuid(), PK_ST_OK, NULL);
        (void)snprintf(want, sizeof(want), "%s: owned by uid %u, not root or uid %u", p,
                       (unsigned)geteuid(), (unsigned)geteuid() + 1);
        expect_open(p, PK_FILE_CONFIG, geteuid() + 1, PK_ST_REFUSED, want);
        skip();
    }
    /* Root-owned: fine whatever uid the process runs as. */
    expect_open(p, PK_FILE_CONFIG, 0, PK_ST_OK, NULL);
    expect_open(p, PK_FILE_CONFIG, 12345, PK_ST_OK, NULL);

    /* Owned by another user: refused for root and for any third uid. */
    assert_int_equal(chown(p, 12345, 12345), 0);
    (void)snprintf(want, sizeof(want), "%s: owned by uid 12345, not root or uid 0", p);
    expect_open(p, PK_FILE_CONFIG, 0, PK_ST_REFUSED, want);
    expect_open(p, PK_FILE_USER_MAP, 0, PK_ST_REFUSED, want);
    expect_open(p, PK_FILE_KEY, 0, PK_ST_REFUSED, want);
    (void)snprintf(want, sizeof(want), "%s: owned by uid 12345, not root or uid 1000", p);
    expect_open(p, PK_FILE_CONFIG, 1000, PK_ST_REFUSED, want);
    /* ... but fine for the uid that owns it (an unprivileged test run). */
    expect_open(p, PK_FILE_CONFIG, 12345, PK_ST_OK, NULL);
}

static void test_writable_by_group_or_others(void **state)
{
    static const struct {
        mode_t mode;
        const char *shown;
    } modes[] = {
        {0620, "writable by group or others (mode 0620)"},
        {0602, "writable by group or others (mode 0602)"},
        {0666, "writable by group or others (mode 0666)"},
        {0622, "writable by group or others (mode 0622)"},
        {0660, "writable by group or others (mode 0660)"},
        {02660, "writable by group or others (mode 2660)"},
        {01646, "writable by group or others (mode 1646)"},
    };
    static const enum pk_file_kind kinds[] = {PK_FILE_CONFIG, PK_FILE_USER_MAP, PK_FILE_KEY,
                                              PK_FILE_CA};

    (void)state;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        const char *p = write_file("writable", "x\n", 2, modes[i].mode);
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
            expect_open(p, kinds[k], geteuid(), PK_ST_REFUSED, expected(p, modes[i].shown));
    }
}

static void test_key_readable_by_others(void **state)
{
    const char *p;

    (void)state;
    p = write_file("k", "x\n", 2, 0604);
    expect_open(p, PK_FILE_KEY, geteuid(), PK_ST_REFUSED,
                expected(p, "key file readable by others (mode 0604)"));
    /* config files and the user map may be world-readable */
    expect_open(p, PK_FILE_CONFIG, geteuid(), PK_ST_OK, NULL);
    expect_open(p, PK_FILE_USER_MAP, geteuid(), PK_ST_OK, NULL);
    p = write_file("k", "x\n", 2, 0644);
    expect_open(p, PK_FILE_KEY, geteuid(), PK_ST_REFUSED,
                expected(p, "key file readable by others (mode 0644)"));
    p = write_file("k", "x\n", 2, 0444);
    expect_open(p, PK_FILE_KEY, geteuid(), PK_ST_REFUSED,
                expected(p, "key file readable by others (mode 0444)"));
    /* group-readable and owner-only keys are fine */
    p = write_file("k", "x\n", 2, 0640);
    expect_open(p, PK_FILE_KEY, geteuid(), PK_ST_OK, NULL);
    p = write_file("k", "x\n", 2, 0600);
    expect_open(p, PK_FILE_KEY, geteuid(), PK_ST_OK, NULL);
    p = write_file("k", "x\n", 2, 0400);
    expect_open(p, PK_FILE_KEY, geteuid(), PK_ST_OK, NULL);
}

static void test_size_caps(void **state)
{
    char problem[256];
    char *data = NULL;
    size_t len = 0;
    const char *p;

    (void)state;
    assert_int_equal(PK_CONFIG_MAX, 65536);
    assert_int_equal(PK_KEY_MAX, 65536);

    /* exactly 64 KiB: fine, read whole */
    p = write_sized("cap", 65536, 0600);
    assert_int_equal(
        pk_safe_read(p, PK_FILE_CONFIG, geteuid(), &data, &len, problem, sizeof(problem)),
        PK_ST_OK);
    assert_int_equal(len, 65536);
    assert_int_equal(data[65535], 'x');
    assert_int_equal(data[65536], '\0');
    free(data);
    data = NULL;
    assert_int_equal(pk_safe_read(p, PK_FILE_KEY, geteuid(), &data, &len, problem, sizeof(problem)),
                     PK_ST_OK);
    free(data);
    data = NULL;

    /* one byte more: refused for config and key files */
    p = write_sized("cap", 65537, 0600);
    expect_open(p, PK_FILE_CONFIG, geteuid(), PK_ST_REFUSED,
                expected(p, "larger than 65536 bytes"));
    expect_open(p, PK_FILE_KEY, geteuid(), PK_ST_REFUSED, expected(p, "larger than 65536 bytes"));
    assert_int_equal(
        pk_safe_read(p, PK_FILE_CONFIG, geteuid(), &data, &len, problem, sizeof(problem)),
        PK_ST_REFUSED);
    assert_null(data);
    assert_string_equal(problem, expected(p, "larger than 65536 bytes"));

    /* the user map has no cap when streamed ... */
    expect_open(p, PK_FILE_USER_MAP, geteuid(), PK_ST_OK, NULL);
    p = write_sized("bigmap", 1 << 20, 0644);
    expect_open(p, PK_FILE_USER_MAP, geteuid(), PK_ST_OK, NULL);
    /* ... but pk_safe_read still bounds what it loads into memory */
    assert_int_equal(
        pk_safe_read(p, PK_FILE_USER_MAP, geteuid(), &data, &len, problem, sizeof(problem)),
        PK_ST_REFUSED);
    assert_null(data);
    assert_string_equal(problem, expected(p, "larger than 65536 bytes"));
}

/* A CA bundle decides whom TLS trusts: owner and mode as for the config, no
 * symlink; but it is public (world-readable is fine) and has no cap, as a
 * system bundle is hundreds of KiB. */
static void test_ca_file_rules(void **state)
{
    char link[PATH_MAX];
    const char *p;

    (void)state;
    p = write_sized("ca.pem", 1 << 20, 0644);
    expect_open(p, PK_FILE_CA, geteuid(), PK_ST_OK, NULL);
    p = write_file("ca.pem", "x\n", 2, 0444);
    expect_open(p, PK_FILE_CA, geteuid(), PK_ST_OK, NULL);
    p = write_file("ca.pem", "x\n", 2, 0664);
    expect_open(p, PK_FILE_CA, geteuid(), PK_ST_REFUSED,
                expected(p, "writable by group or others (mode 0664)"));
    p = write_file("ca.pem", "x\n", 2, 0644);
    (void)snprintf(link, sizeof(link), "%s.link", p);
    (void)unlink(link);
    assert_int_equal(symlink(p, link), 0);
    expect_open(link, PK_FILE_CA, geteuid(), PK_ST_REFUSED,
                expected(link, "is a symbolic link (not followed)"));
    assert_int_equal(unlink(link), 0);
}

static void test_not_a_directory(void **state)
{
    const char *f = write_file("plain", "x", 1, 0600);
    char p[PATH_MAX];

    (void)state;
    (void)snprintf(p, sizeof(p), "%s/sub", f);
    expect_open(p, PK_FILE_CONFIG, geteuid(), PK_ST_UNAVAILABLE,
                expected(p, "cannot open: Not a directory"));
}

static void test_unreadable(void **state)
{
    const char *p = write_file("unreadable", "x", 1, 0000);

    (void)state;
    if (geteuid() == 0)
        skip(); /* root reads it anyway */
    expect_open(p, PK_FILE_CONFIG, geteuid(), PK_ST_UNAVAILABLE,
                expected(p, "cannot open: Permission denied"));
}

/* The user map's mode rule (it is streamed by user_map.c from this open). */
static void test_user_map_mode(void **state)
{
    const char *p = write_file("map", "1 alice\n2 bob\n", 14, 0644);

    (void)state;
    expect_open(p, PK_FILE_USER_MAP, geteuid(), PK_ST_OK, NULL);
    p = write_file("map", "1 alice\n", 8, 0646);
    expect_open(p, PK_FILE_USER_MAP, geteuid(), PK_ST_REFUSED,
                expected(p, "writable by group or others (mode 0646)"));
}

/* A small problem buffer truncates the text, never overflows it. */
static void test_small_problem_buffer(void **state)
{
    char problem[8];
    int fd = 0;

    (void)state;
    memset(problem, 'Z', sizeof(problem));
    assert_int_equal(pk_safe_open("/nonexistent/pam_kakao.conf", PK_FILE_CONFIG, 0, &fd, problem,
                                  sizeof(problem)),
                     PK_ST_MISSING);
    assert_string_equal(problem, "/nonexi");
    assert_int_equal(fd, -1);
}

/* kakao-pam check's open: a broken owner, mode or no-symlink rule is noted
 * and the file read anyway; what cannot be read safely is still refused; the
 * module's open stays strict on the same files. */
static void test_check_open_notes_trust(void **state)
{
    const char *p = write_file("open.key", "0123456789abcdef0123456789abcdef\n", 33, 0666);
    const char *link = at("link.key");
    char problem[256], trust[256], want[PATH_MAX + 128];
    char *data = NULL;
    size_t len = 0;
    int fd = -1;

    (void)state;
    assert_int_equal(pk_check_read(p, PK_FILE_KEY, geteuid(), &data, &len, trust, sizeof(trust),
                                   problem, sizeof(problem)),
                     PK_ST_OK);
    assert_int_equal(len, 33);
    assert_memory_equal(data, "0123456789abcdef0123456789abcdef\n", 33);
    free(data);
    (void)snprintf(want, sizeof(want),
                   "%s: writable by group or others (mode 0666); key file readable by others "
                   "(mode 0666)",
                   p);
    assert_string_equal(trust, want);
    assert_string_equal(problem, "");
    expect_open(p, PK_FILE_KEY, geteuid(), PK_ST_REFUSED,
                expected(p, "writable by group or others (mode 0666)"));

    assert_int_equal(chmod(p, 0600), 0);
    (void)unlink(link);
    assert_int_equal(symlink(p, link), 0);
    assert_int_equal(pk_check_open(link, PK_FILE_KEY, geteuid(), &fd, trust, sizeof(trust), problem,
                                   sizeof(problem)),
                     PK_ST_OK);
    assert_true(fd >= 0);
    assert_int_equal(close(fd), 0);
    assert_string_equal(trust, expected(link, "is a symbolic link (not followed)"));
    expect_open(link, PK_FILE_KEY, geteuid(), PK_ST_REFUSED,
                expected(link, "is a symbolic link (not followed)"));

    /* A clean file: no trust note. A directory is still refused. */
    assert_int_equal(pk_check_open(p, PK_FILE_KEY, geteuid(), &fd, trust, sizeof(trust), problem,
                                   sizeof(problem)),
                     PK_ST_OK);
    assert_int_equal(close(fd), 0);
    assert_string_equal(trust, "");
    assert_int_equal(pk_check_open(tmpdir, PK_FILE_CONFIG, geteuid(), &fd, trust, sizeof(trust),
                                   problem, sizeof(problem)),
                     PK_ST_REFUSED);
    assert_int_equal(fd, -1);
    assert_string_equal(problem, expected(tmpdir, "not a regular file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_regular_file_ok),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_relative_path),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_symlink_refused),
        cmocka_unit_test(test_directory_refused),
        cmocka_unit_test(test_device_refused),
        cmocka_unit_test(test_fifo_does_not_hang),
        cmocka_unit_test(test_owner),
        cmocka_unit_test(test_writable_by_group_or_others),
        cmocka_unit_test(test_key_readable_by_others),
        cmocka_unit_test(test_size_caps),
        cmocka_unit_test(test_ca_file_rules),
        cmocka_unit_test(test_not_a_directory),
        cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_user_map_mode),
        cmocka_unit_test(test_small_problem_buffer),
        cmocka_unit_test(test_check_open_notes_trust),
    };
    return cmocka_run_group_tests_name("safe_file", tests, setup, teardown);
}
