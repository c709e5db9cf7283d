/* pk_kakao_cache: the entry format read back exactly or not at all; hits
 * within cache_ttl and never past expires_in; the require_email rule, the
 * app and the API an entry was made for; broken, foreign, linked or dead
 * entries ignored and removed; unusable cache dirs turning the cache off
 * with a debug line only; the token never stored; old entries pruned. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "src/cache_dir.h"
#include "src/config.h"
#include "src/kakao_cache.h"
#include "src/log.h"

#define TOKEN "mockValidAliceToken_0001"
#define OTHER_TOKEN "mockValidBobToken_000002"
#define ALICE 3095134389LL
#define APP 1234567LL
#define T0 1700000000L
#define MAX_LINES 16

struct capture {
    char lines[MAX_LINES][512];
    int prio[MAX_LINES];
    int count;
};

static void capture_emit(void *ctx, int priority, const char *msg)
{
    struct capture *c = ctx;
    if (c->count < MAX_LINES) {
        c->prio[c->count] = priority;
        (void)snprintf(c->lines[c->count++], sizeof(c->lines[0]), "%s", msg);
    }
}

static char tmpdir[64];
static char cache_dir[PATH_MAX];
static char api_url[] = "https://kapi.example";
static struct pk_config cfg;
static struct capture cap;
static struct pk_logger logger = {capture_emit, &cap, true};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int group_setup(void **state)
{
    (void)state;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/pk_kakao_cache.XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Each test: a fresh cache_dir path (not yet created) and config. */
static int setup(void **state)
{
    static int n;
    (void)state;
    (void)snprintf(cache_dir, sizeof(cache_dir), "%s/cache%d", tmpdir, n++);
    memset(&cfg, 0, sizeof(cfg));
    cfg.has_app_id = true;
    cfg.kakao_app_id = APP;
    cfg.kakao_api_url = api_url;
    cfg.cache_dir = cache_dir;
    cfg.cache_ttl = 600;
    cfg.require_email = PK_EMAIL_NO;
    memset(&cap, 0, sizeof(cap));
    logger.debug = true;
    return 0;
}

/* One lookup as validate.c does it: open, get, close. */
static bool get(const char *token, long now, int64_t *id)
{
    struct pk_kakao_cache c;
    bool hit;

    *id = 0;
    pk_kakao_cache_open(&c, &cfg, geteuid(), token, strlen(token), &logger);
    hit = pk_kakao_cache_get(&c, (time_t)now, id);
    pk_kakao_cache_close(&c);
    return hit;
}

static void put(const char *token, long now, int64_t id, int64_t valid_for)
{
    struct pk_kakao_cache c;

    pk_kakao_cache_open(&c, &cfg, geteuid(), token, strlen(token), &logger);
    pk_kakao_cache_put(&c, (time_t)now, id, valid_for);
    pk_kakao_cache_close(&c);
}

static void entry_path(const char *token, char *path, size_t len)
{
    char hex[65];

    assert_true(pk_sha256_hex(token, strlen(token), hex));
    (void)snprintf(path, len, "%s/kakao-%s", cache_dir, hex);
}

static char *read_text(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    int fd;

    (void)unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(close(fd), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Number of entries in cache_dir (everything but . and ..). */
static int dir_count(void)
{
    DIR *d = opendir(cache_dir);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static bool logged(const char *needle)
{
    for (int i = 0; i < cap.count; i++)
        if (strstr(cap.lines[i], needle) != NULL)
            return true;
    return false;
}

static struct pk_kakao_entry good_entry(void)
{
    struct pk_kakao_entry e;

    memset(&e, 0, sizeof(e));
    e.kakao_id = ALICE;
    e.app_id = APP;
    assert_true(pk_kakao_cache_api_id(&cfg, e.api));
    e.email = PK_EMAIL_YES;
    e.created = T0;
    e.expires = T0 + 600;
    return e;
}

/* ---- the entry format ---- */

static void entry_round_trip(void **state)
{
    struct pk_kakao_entry e = good_entry(), back;
    char text[PK_KAKAO_ENTRY_MAX], want[PK_KAKAO_ENTRY_MAX];
    size_t len;
    (void)state;

    len = pk_kakao_entry_format(&e, text, sizeof(text));
    assert_true(len > 0);
    (void)snprintf(want, sizeof(want),
                   "pam_kakao kakao check 1\nkakao_id=3095134389\napp_id=1234567\napi=%s\n"
                   "require_email=yes\ncreated=1700000000\nexpires=1700000600\n",
                   e.api);
    assert_string_equal(text, want);
    assert_true(pk_kakao_entry_parse(text, len, &back));
    assert_int_equal(back.kakao_id, ALICE);
    assert_int_equal(back.app_id, APP);
    assert_string_equal(back.api, e.api);
    assert_int_equal(back.email, PK_EMAIL_YES);
    assert_int_equal(back.created, T0);
    assert_int_equal(back.expires, T0 + 600);

    /* the largest kakao_id of the user map (pam_kakao.conf(5)) fits */
    e.kakao_id = INT64_MAX;
    len = pk_kakao_entry_format(&e, text, sizeof(text));
    assert_true(pk_kakao_entry_parse(text, len, &back));
    assert_int_equal(back.kakao_id, INT64_MAX);
    /* too small a buffer: nothing */
    assert_int_equal(pk_kakao_entry_format(&e, text, 20), 0);
}

static void entry_strict(void **state)
{
    static const char api[] = "0123456789abcdef0123456789abcdef";
    static const char *const bad[] = {
        "",
        "pam_kakao kakao check 1\n",
        "pam_kakao kakao check 2\nkakao_id=1\napp_id=1\napi=%s\nrequire_email=no\ncreated=1\n"
        "expires=2\n",
        /* a number with a sign, a leading zero, blanks, or beyond int64 */
        "pam_kakao kakao check 1\nkakao_id=+1\napp_id=1\napi=%s\nrequire_email=no\ncreated=1\n"
        "expires=2\n",
        "pam_kakao kakao check 1\nkakao_id=01\napp_id=1\napi=%s\nrequire_email=no\ncreated=1\n"
        "expires=2\n",
        "pam_kakao kakao check 1\nkakao_id=0\napp_id=1\napi=%s\nrequire_email=no\ncreated=1\n"
        "expires=2\n",
        "pam_kakao kakao check 1\nkakao_id= 1\napp_id=1\napi=%s\nrequire_email=no\ncreated=1\n"
        "expires=2\n",
        "pam_kakao kakao check 1\nkakao_id=1 \napp_id=1\napi=%s\nrequire_email=no\ncreated=1\n"
        "expires=2\n",
        "pam_kakao kakao check 1\nkakao_id=9223372036854775808\napp_id=1\napi=%s\n"
        "require_email=no\ncreated=1\nexpires=2\n",
        /* fields out of order, missing, repeated, unknown */
        "pam_kakao kakao check 1\napp_id=1\nkakao_id=1\napi=%s\nrequire_email=no\ncreated=1\n"
        "expires=2\n",
        "pam_kakao kakao check 1\nkakao_id=1\napi=%s\nrequire_email=no\ncreated=1\nexpires=2\n",
        "pam_kakao kakao check 1\nkakao_id=1\nkakao_id=1\napp_id=1\napi=%s\nrequire_email=no\n"
        "created=1\nexpires=2\n",
        "pam_kakao kakao check 1\nkakao_id=1\napp_id=1\napi=%s\nrequire_email=no\ncreated=1\n"
        "expires=2\nextra=1\n",
        /* bad email rule, bad api, times out of order */
        "pam_kakao kakao check 1\nkakao_id=1\napp_id=1\napi=%s\nrequire_email=Yes\ncreated=1\n"
        "expires=2\n",
        "pam_kakao kakao check 1\nkakao_id=1\napp_id=1\napi=%s\nrequire_email=\ncreated=1\n"
        "expires=2\n",
        "pam_kakao kakao check 1\nkakao_id=1\napp_id=1\napi=%.31s\nrequire_email=no\n"
        "created=1\nexpires=2\n",
        "pam_kakao kakao check 1\nkakao_id=1\napp_id=1\napi=%sA\nrequire_email=no\n"
        "created=1\nexpires=2\n",
        "pam_kakao kakao check 1\nkakao_id=1\napp_id=1\napi=%s\nrequire_email=no\ncreated=2\n"
        "expires=2\n",
        /* line ends: CRLF, none at the end, a NUL */
        "pam_kakao kakao check 1\r\nkakao_id=1\napp_id=1\napi=%s\nrequire_email=no\ncreated=1\n"
        "expires=2\n",
        "pam_kakao kakao check 1\nkakao_id=1\napp_id=1\napi=%s\nrequire_email=no\ncreated=1\n"
        "expires=2",
    };
    struct pk_kakao_entry e;
    char text[1024];
    (void)state;

    (void)snprintf(text, sizeof(text),
                   "pam_kakao kakao check 1\nkakao_id=1\napp_id=1\napi=%s\nrequire_email=no\n"
                   "created=1\nexpires=2\n",
                   api);
    assert_true(pk_kakao_entry_parse(text, strlen(text), &e));
    /* a NUL inside, then the same bytes: not the same length */
    text[30] = '\0';
    assert_false(pk_kakao_entry_parse(text, strlen(text) + 1 + strlen(text + 31), &e));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        (void)snprintf(text, sizeof(text), bad[i], api);
#pragma GCC diagnostic pop
        if (pk_kakao_entry_parse(text, strlen(text), &e))
            fail_msg("accepted: %s", text);
    }
    /* over the size cap, whatever it holds */
    memset(text, 'a', sizeof(text));
    assert_false(pk_kakao_entry_parse(text, PK_KAKAO_ENTRY_MAX + 1, &e));
}

/* ---- hits and misses ---- */

static void off_without_ttl(void **state)
{
    int64_t id;
    (void)state;

    cfg.cache_ttl = 0;
    put(TOKEN, T0, ALICE, 21599);
    assert_false(get(TOKEN, T0, &id));
    assert_false(exists(cache_dir));
    assert_int_equal(cap.count, 0);
}

static void miss_put_hit(void **state)
{
    char path[PATH_MAX + 80];
    struct stat st;
    int64_t id;
    (void)state;

    assert_false(get(TOKEN, T0, &id));
    assert_true(logged("kakao check cache: no entry for token "));
    put(TOKEN, T0, ALICE, 21599);
    assert_true(logged("kakao check cache: stored for token "));
    assert_true(logged("kakao_id=3095134389 for 600 s"));
    /* cache_dir made root-only; the entry is 0600, named by the hash */
    assert_int_equal(lstat(cache_dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    entry_path(TOKEN, path, sizeof(path));
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(dir_count(), 1);
    /* the token is nowhere in it, nor in a log line */
    assert_null(strstr(read_text(path), TOKEN));
    for (int i = 0; i < cap.count; i++)
        assert_null(strstr(cap.lines[i], TOKEN));

    memset(&cap, 0, sizeof(cap));
    assert_true(get(TOKEN, T0 + 10, &id));
    assert_int_equal(id, ALICE);
    assert_true(logged("kakao check cache: hit (cached) for token "));
    /* another token has no entry */
    assert_false(get(OTHER_TOKEN, T0 + 10, &id));

    /* debug off: hits and misses say nothing */
    logger.debug = false;
    memset(&cap, 0, sizeof(cap));
    assert_true(get(TOKEN, T0 + 11, &id));
    assert_false(get(OTHER_TOKEN, T0 + 11, &id));
    assert_int_equal(cap.count, 0);
}

static void never_past_expires_in(void **state)
{
    char path[PATH_MAX + 80];
    int64_t id;
    (void)state;

    /* Kakao says 30 s left: the entry ends then, whatever cache_ttl says */
    put(TOKEN, T0, ALICE, 30);
    entry_path(TOKEN, path, sizeof(path));
    assert_non_null(strstr(read_text(path), "created=1700000000\nexpires=1700000030\n"));
    assert_true(get(TOKEN, T0 + 29, &id));
    assert_false(get(TOKEN, T0 + 30, &id));
    assert_true(logged(": expired; removed"));
    assert_false(exists(path));

    /* cache_ttl shorter than the token's life: cache_ttl */
    put(TOKEN, T0, ALICE, 21599);
    assert_non_null(strstr(read_text(path), "expires=1700000600\n"));
    assert_true(get(TOKEN, T0 + 599, &id));
    assert_false(get(TOKEN, T0 + 600, &id));

    /* nothing to store: no expiry, no id */
    put(TOKEN, T0, ALICE, 0);
    put(TOKEN, T0, 0, 100);
    assert_false(exists(path));
}

static void shorter_ttl_honoured(void **state)
{
    char path[PATH_MAX + 80];
    int64_t id;
    (void)state;

    put(TOKEN, T0, ALICE, 21599);
    /* the admin lowers cache_ttl: older entries stop counting */
    cfg.cache_ttl = 60;
    assert_true(get(TOKEN, T0 + 59, &id));
    assert_false(get(TOKEN, T0 + 60, &id));
    assert_true(logged("is older than cache_ttl"));
    entry_path(TOKEN, path, sizeof(path));
    assert_true(exists(path));
}

static void clock_moved_back(void **state)
{
    char path[PATH_MAX + 80];
    int64_t id;
    (void)state;

    put(TOKEN, T0, ALICE, 21599);
    assert_false(get(TOKEN, T0 - 1, &id));
    assert_true(logged("made in the future (the clock moved back); removed"));
    entry_path(TOKEN, path, sizeof(path));
    assert_false(exists(path));
}

static void email_rule(void **state)
{
    int64_t id;
    (void)state;

    /* made without email checks: not enough for yes or verified */
    put(TOKEN, T0, ALICE, 21599);
    cfg.require_email = PK_EMAIL_VERIFIED;
    assert_false(get(TOKEN, T0 + 1, &id));
    assert_true(logged("was checked with require_email=no; checking online"));
    cfg.require_email = PK_EMAIL_YES;
    assert_false(get(TOKEN, T0 + 1, &id));

    /* made with yes: enough for yes and no, not for verified */
    put(TOKEN, T0, ALICE, 21599);
    assert_true(get(TOKEN, T0 + 1, &id));
    cfg.require_email = PK_EMAIL_NO;
    assert_true(get(TOKEN, T0 + 1, &id));
    cfg.require_email = PK_EMAIL_VERIFIED;
    assert_false(get(TOKEN, T0 + 1, &id));

    /* made with verified: enough for everything */
    put(TOKEN, T0, ALICE, 21599);
    for (int r = PK_EMAIL_NO; r <= PK_EMAIL_VERIFIED; r++) {
        cfg.require_email = (enum pk_email_rule)r;
        assert_true(get(TOKEN, T0 + 1, &id));
    }
}

static void other_app_or_api(void **state)
{
    static char other_url[] = "https://127.0.0.1:4443";
    char path[PATH_MAX + 80];
    int64_t id;
    (void)state;

    put(TOKEN, T0, ALICE, 21599);
    entry_path(TOKEN, path, sizeof(path));
    cfg.kakao_app_id = 7654321;
    assert_false(get(TOKEN, T0 + 1, &id));
    assert_true(logged("is for app_id=1234567 or another kakao_api_url; checking online"));
    cfg.kakao_app_id = APP;
    cfg.kakao_api_url = other_url;
    assert_false(get(TOKEN, T0 + 1, &id));
    /* left for the config it was made for */
    assert_true(exists(path));
    cfg.kakao_api_url = api_url;
    assert_true(get(TOKEN, T0 + 1, &id));
}

/* ---- broken entries ---- */

static void broken_entries(void **state)
{
    char path[PATH_MAX + 80], target[PATH_MAX + 80], text[PK_KAKAO_ENTRY_MAX];
    char big[PK_KAKAO_ENTRY_MAX + 2];
    struct pk_kakao_entry e = good_entry();
    int64_t id;
    (void)state;

    put(TOKEN, T0, ALICE, 21599); /* creates cache_dir */
    entry_path(TOKEN, path, sizeof(path));
    assert_true(pk_kakao_entry_format(&e, text, sizeof(text)) > 0);

    /* a good entry written by hand is used */
    write_text(path, text, 0600);
    assert_true(get(TOKEN, T0 + 1, &id));

    /* tampered: not the format; removed, and said so without debug */
    logger.debug = false;
    memset(&cap, 0, sizeof(cap));
    write_text(path, "pam_kakao kakao check 1\nkakao_id=1122334455 \n", 0600);
    assert_false(get(TOKEN, T0 + 1, &id));
    assert_false(exists(path));
    assert_int_equal(cap.count, 1);
    assert_int_equal(cap.prio[0], LOG_NOTICE);
    assert_non_null(strstr(cap.lines[0], ": not in the entry format; removed"));
    assert_null(strstr(cap.lines[0], TOKEN));
    logger.debug = true;

    /* readable or writable by others */
    write_text(path, text, 0644);
    assert_false(get(TOKEN, T0 + 1, &id));
    assert_true(logged("not a regular file of ours, or too large; removed"));
    assert_false(exists(path));
    write_text(path, text, 0620);
    assert_false(get(TOKEN, T0 + 1, &id));
    assert_false(exists(path));

    /* too large */
    memset(big, '\n', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    write_text(path, big, 0600);
    assert_false(get(TOKEN, T0 + 1, &id));
    assert_false(exists(path));

    /* a symbolic link to a good entry: not followed; the link goes, the
     * file it named stays */
    (void)snprintf(target, sizeof(target), "%s/elsewhere", tmpdir);
    write_text(target, text, 0600);
    assert_int_equal(symlink(target, path), 0);
    assert_false(get(TOKEN, T0 + 1, &id));
    assert_false(exists(path));
    assert_true(exists(target));

    /* owned by another uid (needs root to arrange) */
    if (geteuid() == 0) {
        write_text(path, text, 0600);
        assert_int_equal(chown(path, 12345, 12345), 0);
        assert_false(get(TOKEN, T0 + 1, &id));
        assert_false(exists(path));
    }

    /* a directory in its place: ignored, left alone */
    assert_int_equal(mkdir(path, 0700), 0);
    assert_false(get(TOKEN, T0 + 1, &id));
    assert_true(exists(path));
    /* and a write cannot replace it: the cache is skipped quietly */
    logger.debug = false;
    memset(&cap, 0, sizeof(cap));
    put(TOKEN, T0, ALICE, 21599);
    assert_int_equal(cap.count, 0);
    assert_int_equal(rmdir(path), 0);
}

/* ---- unusable cache dirs ---- */

static void unusable_cache_dir(void **state)
{
    char target[PATH_MAX + 8], want[PATH_MAX + 128];
    int64_t id;
    (void)state;

    /* not root-only: neither read nor written, one debug line */
    assert_int_equal(mkdir(cache_dir, 0755), 0);
    assert_int_equal(chmod(cache_dir, 0755), 0);
    put(TOKEN, T0, ALICE, 21599);
    assert_false(get(TOKEN, T0 + 1, &id));
    assert_int_equal(dir_count(), 0);
    (void)snprintf(want, sizeof(want),
                   "cache_dir %s: mode 0755, not root-only (0700); Kakao token checks are not "
                   "cached",
                   cache_dir);
    assert_string_equal(cap.lines[0], want);
    assert_int_equal(cap.prio[0], LOG_DEBUG);

    /* without debug: nothing at all */
    logger.debug = false;
    memset(&cap, 0, sizeof(cap));
    put(TOKEN, T0, ALICE, 21599);
    assert_false(get(TOKEN, T0 + 1, &id));
    assert_int_equal(cap.count, 0);
    logger.debug = true;

    /* a symbolic link to a good directory: refused */
    (void)snprintf(target, sizeof(target), "%s.real", cache_dir);
    assert_int_equal(rmdir(cache_dir), 0);
    assert_int_equal(mkdir(target, 0700), 0);
    assert_int_equal(symlink(target, cache_dir), 0);
    memset(&cap, 0, sizeof(cap));
    put(TOKEN, T0, ALICE, 21599);
    assert_false(get(TOKEN, T0 + 1, &id));
    assert_true(logged("not a directory (symbolic links are not followed); Kakao token checks "
                       "are not cached"));
    {
        DIR *d = opendir(target);
        struct dirent *e;
        assert_non_null(d);
        while ((e = readdir(d)) != NULL)
            if (e->d_name[0] != '.')
                fail_msg("written through the link: %s", e->d_name);
        closedir(d);
    }
    assert_int_equal(unlink(cache_dir), 0);

    /* owned by someone else (needs root to arrange) */
    if (geteuid() == 0) {
        assert_int_equal(chown(target, 12345, 12345), 0);
        assert_int_equal(rename(target, cache_dir), 0);
        memset(&cap, 0, sizeof(cap));
        put(TOKEN, T0, ALICE, 21599);
        assert_true(logged("owned by uid 12345, not uid 0"));
        assert_int_equal(dir_count(), 0);
    }

    /* cannot be created */
    (void)snprintf(cache_dir, sizeof(cache_dir), "%s/missing/cache", tmpdir);
    memset(&cap, 0, sizeof(cap));
    put(TOKEN, T0, ALICE, 21599);
    assert_false(get(TOKEN, T0 + 1, &id));
    assert_true(logged("cannot create: No such file or directory; Kakao token checks are not "
                       "cached"));
}

/* ---- pruning ---- */

static void old_entries_pruned(void **state)
{
    char old_path[PATH_MAX + 80], tmp_path[PATH_MAX + 80], keep[PATH_MAX + 80];
    struct timespec times[2];
    int64_t id;
    (void)state;

    put(OTHER_TOKEN, T0, ALICE, 21599);
    entry_path(OTHER_TOKEN, old_path, sizeof(old_path));
    (void)snprintf(tmp_path, sizeof(tmp_path), "%s/.kakao-0.1.2.tmp", cache_dir);
    (void)snprintf(keep, sizeof(keep), "%s/jwks-0123.json", cache_dir);
    write_text(tmp_path, "x", 0600);
    write_text(keep, "{}", 0600);
    /* all three written long ago (mtime), by the clock */
    times[0].tv_sec = times[1].tv_sec = time(NULL) - 7200;
    times[0].tv_nsec = times[1].tv_nsec = 0;
    assert_int_equal(utimensat(AT_FDCWD, old_path, times, 0), 0);
    assert_int_equal(utimensat(AT_FDCWD, tmp_path, times, 0), 0);
    assert_int_equal(utimensat(AT_FDCWD, keep, times, 0), 0);

    put(TOKEN, time(NULL), ALICE, 21599);
    assert_true(logged("(2 old entries removed)"));
    assert_false(exists(old_path));
    assert_false(exists(tmp_path));
    assert_true(exists(keep)); /* not ours to prune */
    assert_true(get(TOKEN, time(NULL), &id));
    assert_int_equal(dir_count(), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(entry_round_trip, setup),
        cmocka_unit_test_setup(entry_strict, setup),
        cmocka_unit_test_setup(off_without_ttl, setup),
        cmocka_unit_test_setup(miss_put_hit, setup),
        cmocka_unit_test_setup(never_past_expires_in, setup),
        cmocka_unit_test_setup(shorter_ttl_honoured, setup),
        cmocka_unit_test_setup(clock_moved_back, setup),
        cmocka_unit_test_setup(email_rule, setup),
        cmocka_unit_test_setup(other_app_or_api, setup),
        cmocka_unit_test_setup(broken_entries, setup),
        cmocka_unit_test_setup(unusable_cache_dir, setup),
        cmocka_unit_test_setup(old_entries_pruned, setup),
    };
    return cmocka_run_group_tests_name("kakao_cache", tests, group_setup, group_teardown);
}
