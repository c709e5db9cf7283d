/* cache_dir: the directory's trust rules (created 0700, never through a
 * link, ours alone), reading files under the same rules with a size cap,
 * atomic replacement with mode 0600 and nothing left behind, removal that
 * never follows a link, pruning by age and prefix, SHA-256 in hex. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/cache_dir.h"

static char tmpdir[64];
static char path[PATH_MAX];

/* pk_cache_file_read as a function of its text: NULL unless PK_ST_OK. */
static char *cache_read(int dirfd, const char *name, uid_t uid, mode_t forbid, size_t max,
                        size_t *len, enum pk_status *st, const char **why)
{
    char *text = NULL;

    *st = pk_cache_file_read(dirfd, name, uid, forbid, max, &text, len, why);
    if (*st != PK_ST_OK)
        assert_null(text);
    return text;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int group_setup(void **state)
{
    (void)state;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/pk_cache_dir.XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
    static int n;
    (void)state;
    (void)snprintf(path, sizeof(path), "%s/d%d", tmpdir, n++);
    return 0;
}

static int open_dir(char *why, size_t len)
{
    why[0] = '\0';
    return pk_cache_dir_open(path, geteuid(), why, len);
}

static void write_at(int dirfd, const char *name, const char *text, mode_t mode)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(close(fd), 0);
    assert_int_equal(fchmodat(dirfd, name, mode, 0), 0);
}

static int entries(int dirfd)
{
    DIR *d = fdopendir(openat(dirfd, ".", O_RDONLY | O_DIRECTORY));
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void dir_rules(void **state)
{
    char why[160], target[PATH_MAX + 8];
    struct stat st;
    int fd;
    (void)state;

    /* created root-only */
    fd = open_dir(why, sizeof(why));
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(close(fd), 0);
    /* an existing one is used as it is */
    fd = open_dir(why, sizeof(why));
    assert_true(fd >= 0);
    assert_int_equal(close(fd), 0);

    /* group or others may look in: refused */
    assert_int_equal(chmod(path, 0710), 0);
    assert_int_equal(open_dir(why, sizeof(why)), -1);
    assert_string_equal(why, "mode 0710, not root-only (0700)");

    /* a link to a good directory: refused */
    (void)snprintf(target, sizeof(target), "%s.real", path);
    assert_int_equal(rename(path, target), 0);
    assert_int_equal(chmod(target, 0700), 0);
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(open_dir(why, sizeof(why)), -1);
    assert_string_equal(why, "not a directory (symbolic links are not followed)");
    assert_int_equal(unlink(path), 0);

    /* a file: refused */
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(close(fd), 0);
    assert_int_equal(open_dir(why, sizeof(why)), -1);
    assert_string_equal(why, "not a directory (symbolic links are not followed)");
    assert_int_equal(unlink(path), 0);

    /* someone else's (needs root to arrange) */
    if (geteuid() == 0) {
        assert_int_equal(chown(target, 4242, 4242), 0);
        assert_int_equal(rename(target, path), 0);
        assert_int_equal(open_dir(why, sizeof(why)), -1);
        assert_string_equal(why, "owned by uid 4242, not uid 0");
    }

    /* cannot be created */
    (void)snprintf(path, sizeof(path), "%s/no/such", tmpdir);
    assert_int_equal(open_dir(why, sizeof(why)), -1);
    assert_string_equal(why, "cannot create: No such file or directory");
}

static void read_rules(void **state)
{
    char why_dir[160], target[PATH_MAX + 16];
    const char *why;
    enum pk_status st;
    size_t len = 0;
    char *text;
    int dirfd;
    (void)state;

    dirfd = open_dir(why_dir, sizeof(why_dir));
    assert_true(dirfd >= 0);
    /* missing: no text, no reason */
    assert_null(cache_read(dirfd, "f", geteuid(), 077, 100, &len, &st, &why));
    assert_null(why);
    assert_int_equal(st, PK_ST_MISSING);

    write_at(dirfd, "f", "hello", 0600);
    text = cache_read(dirfd, "f", geteuid(), 077, 100, &len, &st, &why);
    assert_non_null(text);
    assert_int_equal(st, PK_ST_OK);
    assert_string_equal(text, "hello");
    assert_int_equal(len, 5);
    free(text);
    /* over the cap */
    assert_null(cache_read(dirfd, "f", geteuid(), 077, 4, &len, &st, &why));
    assert_int_equal(st, PK_ST_REFUSED);
    assert_string_equal(why, "not a regular file of ours, or too large");
    /* a forbidden mode bit */
    assert_int_equal(fchmodat(dirfd, "f", 0640, 0), 0);
    assert_null(cache_read(dirfd, "f", geteuid(), 077, 100, &len, &st, &why));
    assert_int_equal(st, PK_ST_REFUSED);
    assert_non_null(why);
    text = cache_read(dirfd, "f", geteuid(), 022, 100, &len, &st, &why);
    assert_non_null(text);
    free(text);
    /* another owner */
    assert_null(cache_read(dirfd, "f", geteuid() + 1, 077, 100, &len, &st, &why));
    assert_int_equal(st, PK_ST_REFUSED);
    assert_non_null(why);
    /* a link is not followed */
    (void)snprintf(target, sizeof(target), "%s/elsewhere", tmpdir);
    write_at(AT_FDCWD, target, "secret", 0600);
    assert_int_equal(symlinkat(target, dirfd, "link"), 0);
    assert_null(cache_read(dirfd, "link", geteuid(), 077, 100, &len, &st, &why));
    assert_int_equal(st, PK_ST_UNAVAILABLE);
    assert_string_equal(why, "cannot open");
    /* a directory is not a file */
    assert_int_equal(mkdirat(dirfd, "sub", 0700), 0);
    assert_null(cache_read(dirfd, "sub", geteuid(), 077, 100, &len, &st, &why));
    assert_int_equal(st, PK_ST_REFUSED);
    assert_non_null(why);

    /* removal: the link goes, its target stays; a directory stays */
    assert_true(pk_cache_file_remove(dirfd, "link"));
    assert_int_equal(access(target, F_OK), 0);
    assert_false(pk_cache_file_remove(dirfd, "sub"));
    assert_false(pk_cache_file_remove(dirfd, "missing"));
    assert_int_equal(close(dirfd), 0);
}

static void atomic_write(void **state)
{
    char why_dir[160];
    const char *why;
    char why_write[128];
    enum pk_status rs;
    size_t len = 0;
    struct stat st;
    char *text;
    int dirfd;
    (void)state;

    dirfd = open_dir(why_dir, sizeof(why_dir));
    assert_true(dirfd >= 0);
    assert_int_equal(pk_cache_file_write(dirfd, "e", "one", 3, NULL, why_write, sizeof(why_write)),
                     PK_ST_OK);
    assert_int_equal(pk_cache_file_write(dirfd, "e", "two!", 4, NULL, why_write, sizeof(why_write)),
                     PK_ST_OK);
    text = cache_read(dirfd, "e", geteuid(), 077, 100, &len, &rs, &why);
    assert_int_equal(rs, PK_ST_OK);
    assert_non_null(text);
    assert_string_equal(text, "two!");
    free(text);
    assert_int_equal(fstatat(dirfd, "e", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(entries(dirfd), 1); /* no temp file left */

    /* a file that cannot be replaced: an error, and still nothing left */
    assert_int_equal(mkdirat(dirfd, "d", 0700), 0);
    assert_int_equal(pk_cache_file_write(dirfd, "d", "x", 1, NULL, why_write, sizeof(why_write)),
                     PK_ST_UNAVAILABLE);
    assert_string_equal(why_write, strerror(EISDIR));
    assert_int_equal(entries(dirfd), 2);
    assert_int_equal(close(dirfd), 0);
}

static void prune(void **state)
{
    char why_dir[160];
    struct timespec old[2];
    int dirfd;
    (void)state;

    dirfd = open_dir(why_dir, sizeof(why_dir));
    assert_true(dirfd >= 0);
    write_at(dirfd, "kakao-old", "x", 0600);
    write_at(dirfd, ".kakao-old.1.2.tmp", "x", 0600);
    write_at(dirfd, "kakao-new", "x", 0600);
    write_at(dirfd, "jwks-old.json", "x", 0600);
    assert_int_equal(mkdirat(dirfd, "kakao-dir", 0700), 0);
    old[0].tv_sec = old[1].tv_sec = time(NULL) - 1000;
    old[0].tv_nsec = old[1].tv_nsec = 0;
    assert_int_equal(utimensat(dirfd, "kakao-old", old, 0), 0);
    assert_int_equal(utimensat(dirfd, ".kakao-old.1.2.tmp", old, 0), 0);
    assert_int_equal(utimensat(dirfd, "jwks-old.json", old, 0), 0);
    assert_int_equal(utimensat(dirfd, "kakao-dir", old, 0), 0);
    assert_int_equal(pk_cache_prune(dirfd, "kakao-", time(NULL) - 500), 2);
    /* again on the same dirfd, which the first pass must not have used up */
    write_at(dirfd, "kakao-old2", "x", 0600);
    assert_int_equal(utimensat(dirfd, "kakao-old2", old, 0), 0);
    assert_int_equal(pk_cache_prune(dirfd, "kakao-", time(NULL) - 500), 1);
    assert_int_equal(faccessat(dirfd, "kakao-new", F_OK, 0), 0);
    assert_int_equal(faccessat(dirfd, "jwks-old.json", F_OK, 0), 0);
    assert_int_equal(faccessat(dirfd, "kakao-dir", F_OK, 0), 0);
    assert_int_equal(entries(dirfd), 3);
    assert_int_equal(close(dirfd), 0);
}

static void sha256_hex(void **state)
{
    char hex[65];
    (void)state;

    assert_true(pk_sha256_hex("abc", 3, hex));
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_true(pk_sha256_hex("", 0, hex));
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(dir_rules, setup),
        cmocka_unit_test_setup(read_rules, setup),
        cmocka_unit_test_setup(atomic_write, setup),
        cmocka_unit_test_setup(prune, setup),
        cmocka_unit_test(sha256_hex),
    };
    return cmocka_run_group_tests_name("cache_dir", tests, group_setup, group_teardown);
}
