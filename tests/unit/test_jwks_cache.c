/* pk_jwks_store: jwks_file under the trust rules, and jwks_url with the
 * cache in cache_dir, driven by a fake fetcher and explicit clocks: first
 * fetch and cache creation, max-age refresh, stale copy on failure with
 * back-off, no copy at all, one rate-limited refetch for an unknown kid,
 * unusable cache dirs and records, a clock that moved back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jwk_test_util.h"
#include "src/config.h"
#include "src/jwks_cache.h"
#include "src/log.h"

#define URL "https://jwks.example/keys"
#define T0 1700000000L

#define MAX_LINES 16

struct capture {
    char lines[MAX_LINES][512];
    int count;
};

static void capture_emit(void *ctx, int priority, const char *msg)
{
    struct capture *c = ctx;
    (void)priority;
    if (c->count < MAX_LINES)
        (void)snprintf(c->lines[c->count++], sizeof(c->lines[0]), "%s", msg);
}

struct fake {
    const char *body;
    enum pk_status rc; /* what the fetch returns (err set unless PK_ST_OK or PK_ST_NOMEM) */
    const char *err;
    int calls;
};

static enum pk_status fake_fetch(void *ctx, const struct pk_config *cfg, const char *url,
                                 char **body, size_t *len, char *err, size_t err_len)
{
    struct fake *f = ctx;

    (void)cfg;
    assert_string_equal(url, URL);
    f->calls++;
    if (f->rc != PK_ST_OK) {
        (void)snprintf(err, err_len, "%s", f->err);
        return f->rc;
    }
    *body = strdup(f->body);
    assert_non_null(*body);
    *len = strlen(f->body);
    return PK_ST_OK;
}

static char tmpdir[64];
static char cache_dir[PATH_MAX];
static struct pk_config cfg;
static struct capture cap;
static const struct pk_logger logger = {capture_emit, &cap, false};
static struct fake fake;
static char *jwks_a, *jwks_ab, *jwks_b;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int group_setup(void **state)
{
    EVP_PKEY *a = jt_rsa_new(2048), *b = jt_rsa_new(2048);
    char *ja = jt_jwk(a, "a", ",\"use\":\"sig\",\"alg\":\"RS256\"");
    char *jb = jt_jwk(b, "b", ",\"use\":\"sig\",\"alg\":\"RS256\"");

    (void)state;
    jwks_a = jt_jwks(ja, NULL);
    jwks_b = jt_jwks(jb, NULL);
    jwks_ab = jt_jwks(ja, jb, NULL);
    free(ja);
    free(jb);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/pk_jwks_cache.XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    free(jwks_a);
    free(jwks_b);
    free(jwks_ab);
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Each test: a fresh cache_dir path (not yet created) and config. */
static int setup(void **state)
{
    static int n;
    (void)state;
    (void)snprintf(cache_dir, sizeof(cache_dir), "%s/cache%d", tmpdir, n++);
    memset(&cfg, 0, sizeof(cfg));
    cfg.jwks_url = (char *)URL;
    cfg.cache_dir = cache_dir;
    cfg.jwks_max_age = 3600;
    cfg.timeout = 5;
    memset(&fake, 0, sizeof(fake));
    fake.body = jwks_a;
    return 0;
}

static enum pk_status load(struct pk_jwks_store *s, long now)
{
    char problem[256];
    enum pk_status st;

    memset(&cap, 0, sizeof(cap));
    st = pk_jwks_store_load(s, &cfg, geteuid(), (time_t)now, &logger, fake_fetch, &fake, problem,
                            sizeof(problem));
    if (st != PK_ST_OK)
        fail_msg("load: %d %s", st, problem);
    return st;
}

/* The key for kid as an attempt that may refetch (key_for) or may not
 * (key_offline: a PAM_AUTHTOK from another module). */
static enum pk_outcome key_as(struct pk_jwks_store *s, const char *kid, long now, bool may_refetch,
                              struct pk_result *res)
{
    const struct pk_jwk *key = NULL;
    enum pk_outcome out;

    memset(res, 0, sizeof(*res));
    out = pk_jwks_store_key(s, kid, (time_t)now, may_refetch, &key, res);
    assert_true((out == PK_OK) == (key != NULL));
    if (key != NULL)
        assert_string_equal(key->kid, kid);
    return out;
}

static enum pk_outcome key_for(struct pk_jwks_store *s, const char *kid, long now,
                               struct pk_result *res)
{
    return key_as(s, kid, now, true, res);
}

/* The one cache file's path ("" when there is none), checking that
 * nothing else is in the directory. */
static void cache_file(char *path, size_t len)
{
    DIR *d = opendir(cache_dir);
    struct dirent *e;
    int files = 0;

    path[0] = '\0';
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        files++;
        if (strncmp(e->d_name, "jwks-", 5) != 0 || strlen(e->d_name) != 5 + 32 + 5 ||
            strcmp(e->d_name + 37, ".json") != 0)
            fail_msg("unexpected file in cache_dir: %s", e->d_name);
        (void)snprintf(path, len, "%s/%s", cache_dir, e->d_name);
    }
    closedir(d);
    assert_true(files <= 1);
}

/* A member of the cache record (an integer), -1 when absent. */
static long long record_int(const char *name)
{
    char path[PATH_MAX + 64];
    json_error_t err;
    json_t *rec;
    long long v = -1;

    cache_file(path, sizeof(path));
    assert_true(path[0] != '\0');
    rec = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    assert_non_null(rec);
    if (json_is_integer(json_object_get(rec, name)))
        v = json_integer_value(json_object_get(rec, name));
    json_decref(rec);
    return v;
}

static void first_fetch_creates_cache(void **state)
{
    struct pk_jwks_store s;
    struct pk_result res;
    struct stat st;
    char path[PATH_MAX + 64];
    json_error_t err;
    json_t *rec;
    (void)state;

    load(&s, T0);
    assert_int_equal(fake.calls, 1);
    assert_int_equal(cap.count, 0);
    assert_true(s.have_set);
    assert_int_equal(key_for(&s, "a", T0, &res), PK_OK);
    pk_jwks_store_free(&s);

    assert_int_equal(lstat(cache_dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    cache_file(path, sizeof(path));
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    rec = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    assert_non_null(rec);
    assert_string_equal(json_string_value(json_object_get(rec, "url")), URL);
    assert_string_equal(json_string_value(json_object_get(rec, "jwks")), jwks_a);
    assert_int_equal(json_integer_value(json_object_get(rec, "fetched")), T0);
    assert_int_equal(json_integer_value(json_object_get(rec, "failed")), 0);
    assert_int_equal(json_integer_value(json_object_get(rec, "kid_refetch")), 0);
    json_decref(rec);
}

static void refresh_after_max_age(void **state)
{
    struct pk_jwks_store s;
    struct pk_result res;
    (void)state;

    load(&s, T0);
    pk_jwks_store_free(&s);
    /* within jwks_max_age: the cached copy, no fetch */
    fake.body = jwks_ab;
    load(&s, T0 + 3599);
    assert_int_equal(fake.calls, 1);
    assert_int_equal(key_for(&s, "a", T0 + 3599, &res), PK_OK);
    pk_jwks_store_free(&s);
    /* at jwks_max_age: fetched again */
    load(&s, T0 + 3600);
    assert_int_equal(fake.calls, 2);
    assert_int_equal(cap.count, 0);
    assert_int_equal(key_for(&s, "b", T0 + 3600, &res), PK_OK);
    pk_jwks_store_free(&s);
    assert_int_equal(record_int("fetched"), T0 + 3600);
}

static void stale_copy_while_url_fails(void **state)
{
    struct pk_jwks_store s;
    struct pk_result res;
    long t = T0 + 7200;
    (void)state;

    load(&s, T0);
    pk_jwks_store_free(&s);
    fake.rc = PK_ST_UNAVAILABLE;
    fake.err = "timeout after 5 s";
    load(&s, t);
    assert_int_equal(fake.calls, 2);
    assert_int_equal(cap.count, 1);
    assert_string_equal(cap.lines[0], "jwks " URL ": fetching failed (timeout after 5 s); using "
                                      "the cached copy, 7200 s old");
    assert_int_equal(key_for(&s, "a", t, &res), PK_OK);
    pk_jwks_store_free(&s);
    assert_int_equal(record_int("fetched"), T0);
    assert_int_equal(record_int("failed"), t);

    /* the URL is tried again only after PK_JWKS_RETRY seconds */
    load(&s, t + 10);
    assert_int_equal(fake.calls, 2);
    assert_string_equal(cap.lines[0], "jwks " URL ": using the cached copy, 7210 s old (fetching "
                                      "failed 10 s ago; next try in 290 s)");
    assert_int_equal(key_for(&s, "a", t + 10, &res), PK_OK);
    pk_jwks_store_free(&s);
    load(&s, t + PK_JWKS_RETRY);
    assert_int_equal(fake.calls, 3);
    pk_jwks_store_free(&s);
    /* the URL is back */
    fake.rc = PK_ST_OK;
    fake.body = jwks_ab;
    load(&s, t + 2 * PK_JWKS_RETRY);
    assert_int_equal(fake.calls, 4);
    assert_int_equal(cap.count, 0);
    assert_int_equal(key_for(&s, "b", t + 2 * PK_JWKS_RETRY, &res), PK_OK);
    pk_jwks_store_free(&s);
    assert_int_equal(record_int("failed"), 0);
}

/* A fetch this process may not make (an unsafe environment in a setuid
 * process) is not an outage of the URL: the shared record keeps no failure,
 * so a user cannot hold off every other login's refetch for PK_JWKS_RETRY. */
static void not_allowed_here_is_no_outage(void **state)
{
    struct pk_jwks_store s;
    struct pk_result res;
    long t = T0 + 7200;
    (void)state;

    load(&s, T0);
    pk_jwks_store_free(&s);
    fake.rc = PK_ST_REFUSED;
    fake.err = "unsafe environment: SSLKEYLOGFILE is set in a setuid process";
    load(&s, t);
    assert_int_equal(fake.calls, 2);
    assert_string_equal(cap.lines[0], "jwks " URL ": fetching failed (unsafe environment: "
                                      "SSLKEYLOGFILE is set in a setuid process); using the "
                                      "cached copy, 7200 s old");
    assert_int_equal(key_for(&s, "a", t, &res), PK_OK);
    pk_jwks_store_free(&s);
    assert_int_equal(record_int("failed"), 0);
    /* the next process (a safe one) fetches at once */
    fake.rc = PK_ST_OK;
    fake.body = jwks_ab;
    load(&s, t + 10);
    assert_int_equal(fake.calls, 3);
    assert_int_equal(key_for(&s, "b", t + 10, &res), PK_OK);
    pk_jwks_store_free(&s);
}

static void no_copy_at_all(void **state)
{
    struct pk_jwks_store s;
    struct pk_result res;
    char path[PATH_MAX + 64];
    (void)state;

    fake.rc = PK_ST_UNAVAILABLE;
    fake.err = "timeout after 5 s";
    load(&s, T0);
    assert_false(s.have_set);
    assert_int_equal(key_for(&s, "a", T0, &res), PK_JWKS_UNAVAILABLE);
    assert_string_equal(res.detail, URL ": timeout after 5 s (no cached copy)");
    assert_int_equal(fake.calls, 1);
    pk_jwks_store_free(&s);
    cache_file(path, sizeof(path));
    assert_string_equal(path, "");
    /* without a copy every attempt tries the URL */
    load(&s, T0 + 1);
    assert_int_equal(fake.calls, 2);
    pk_jwks_store_free(&s);

    /* an answer that is not a JWKS is a failure, and is not cached */
    fake.rc = PK_ST_OK;
    fake.body = "<html>not json</html>";
    load(&s, T0 + 2);
    assert_false(s.have_set);
    assert_int_equal(key_for(&s, "a", T0 + 2, &res), PK_JWKS_UNAVAILABLE);
    assert_string_equal(res.detail, URL ": not a JWKS (not valid JSON) (no cached copy)");
    pk_jwks_store_free(&s);
    cache_file(path, sizeof(path));
    assert_string_equal(path, "");
    /* nor does it replace a good copy */
    fake.body = jwks_a;
    load(&s, T0 + 3);
    pk_jwks_store_free(&s);
    fake.body = "{\"keys\":{}}";
    load(&s, T0 + 3 + 3600);
    assert_string_equal(cap.lines[0], "jwks " URL ": fetching failed (not a JWKS (no \"keys\" "
                                      "array)); using the cached copy, 3600 s old");
    assert_int_equal(key_for(&s, "a", T0 + 3 + 3600, &res), PK_OK);
    pk_jwks_store_free(&s);
}

static void unknown_kid_refetch(void **state)
{
    struct pk_jwks_store s;
    struct pk_result res;
    char path[PATH_MAX + 64];
    (void)state;

    load(&s, T0);
    pk_jwks_store_free(&s);
    /* the publisher rotated: "b" appears */
    fake.body = jwks_ab;
    load(&s, T0 + 10);
    assert_int_equal(fake.calls, 1);
    assert_int_equal(key_for(&s, "b", T0 + 10, &res), PK_OK);
    assert_int_equal(fake.calls, 2);
    pk_jwks_store_free(&s);
    assert_int_equal(record_int("kid_refetch"), T0 + 10);
    assert_int_equal(record_int("fetched"), T0 + 10);

    /* another unknown kid within PK_JWKS_RETRY: refused without a fetch */
    load(&s, T0 + 20);
    assert_int_equal(key_for(&s, "c", T0 + 20, &res), PK_JWT_UNKNOWN_KID);
    assert_string_equal(res.detail, "kid=\"c\" not in the JWKS (last refetch 10 s ago)");
    assert_int_equal(key_for(&s, "../../etc/passwd", T0 + 20, &res), PK_JWT_UNKNOWN_KID);
    assert_int_equal(fake.calls, 2);
    /* known kids still work */
    assert_int_equal(key_for(&s, "a", T0 + 20, &res), PK_OK);
    pk_jwks_store_free(&s);

    /* after it: one refetch, then refused */
    load(&s, T0 + 10 + PK_JWKS_RETRY);
    assert_int_equal(key_for(&s, "c", T0 + 10 + PK_JWKS_RETRY, &res), PK_JWT_UNKNOWN_KID);
    assert_string_equal(res.detail, "kid=\"c\" not in the JWKS (refetched)");
    assert_int_equal(fake.calls, 3);
    /* only once per attempt */
    assert_int_equal(key_for(&s, "d", T0 + 10 + PK_JWKS_RETRY, &res), PK_JWT_UNKNOWN_KID);
    assert_string_equal(res.detail, "kid=\"d\" not in the JWKS (fetched just now)");
    assert_int_equal(fake.calls, 3);
    pk_jwks_store_free(&s);
    /* a kid never becomes a file name */
    cache_file(path, sizeof(path));
    assert_true(path[0] != '\0');
}

/* Judging another module's PAM_AUTHTOK makes no network call: an unknown
 * kid is refused from the copy at hand, and the refetch it would have made
 * stays available to the next attempt. */
static void no_refetch_when_not_allowed(void **state)
{
    struct pk_jwks_store s;
    struct pk_result res;
    (void)state;

    load(&s, T0);
    pk_jwks_store_free(&s);
    fake.body = jwks_ab;
    load(&s, T0 + 10);
    assert_int_equal(fake.calls, 1);
    assert_int_equal(key_as(&s, "b", T0 + 10, false, &res), PK_JWT_UNKNOWN_KID);
    assert_string_equal(res.detail, "kid=\"b\" not in the JWKS (no refetch for PAM_AUTHTOK)");
    assert_int_equal(fake.calls, 1);
    assert_int_equal(key_as(&s, "a", T0 + 10, false, &res), PK_OK);
    assert_int_equal(key_as(&s, "b", T0 + 10, true, &res), PK_OK);
    assert_int_equal(fake.calls, 2);
    pk_jwks_store_free(&s);
}

static void no_refetch_right_after_a_fetch(void **state)
{
    struct pk_jwks_store s;
    struct pk_result res;
    (void)state;

    load(&s, T0);
    assert_int_equal(key_for(&s, "b", T0, &res), PK_JWT_UNKNOWN_KID);
    assert_string_equal(res.detail, "kid=\"b\" not in the JWKS (fetched just now)");
    assert_int_equal(fake.calls, 1);
    pk_jwks_store_free(&s);
}

static void refetch_fails(void **state)
{
    struct pk_jwks_store s;
    struct pk_result res;
    (void)state;

    load(&s, T0);
    pk_jwks_store_free(&s);
    fake.rc = PK_ST_UNAVAILABLE;
    fake.err = "connect: Connection refused";
    load(&s, T0 + 5);
    assert_int_equal(key_for(&s, "b", T0 + 5, &res), PK_JWKS_UNAVAILABLE);
    assert_string_equal(res.detail, "kid=\"b\" not in the cached JWKS; refetching " URL
                                    " failed: connect: Connection refused");
    assert_int_equal(fake.calls, 2);
    assert_int_equal(key_for(&s, "a", T0 + 5, &res), PK_OK);
    pk_jwks_store_free(&s);
    assert_int_equal(record_int("kid_refetch"), T0 + 5);
    assert_int_equal(record_int("failed"), T0 + 5);
    assert_int_equal(record_int("fetched"), T0);
    load(&s, T0 + 6);
    assert_int_equal(key_for(&s, "b", T0 + 6, &res), PK_JWT_UNKNOWN_KID);
    assert_string_equal(res.detail, "kid=\"b\" not in the JWKS (last refetch 1 s ago)");
    assert_int_equal(fake.calls, 2);
    pk_jwks_store_free(&s);
}

static void unusable_cache_dir(void **state)
{
    struct pk_jwks_store s;
    char want[PATH_MAX + 128];
    char path[PATH_MAX + 64];
    char target[PATH_MAX + 8];
    (void)state;

    /* not root-only: used neither for reading nor writing */
    assert_int_equal(mkdir(cache_dir, 0700), 0);
    assert_int_equal(chmod(cache_dir, 0755), 0);
    load(&s, T0);
    (void)snprintf(want, sizeof(want),
                   "cache_dir %s: mode 0755, not root-only (0700); the JWKS is not cached",
                   cache_dir);
    assert_int_equal(cap.count, 1);
    assert_string_equal(cap.lines[0], want);
    assert_true(s.have_set);
    pk_jwks_store_free(&s);
    load(&s, T0 + 1);
    assert_int_equal(fake.calls, 2);
    pk_jwks_store_free(&s);
    cache_file(path, sizeof(path));
    assert_string_equal(path, "");

    /* a symbolic link to a good directory */
    (void)snprintf(target, sizeof(target), "%s.real", cache_dir);
    assert_int_equal(rmdir(cache_dir), 0);
    assert_int_equal(mkdir(target, 0700), 0);
    assert_int_equal(symlink(target, cache_dir), 0);
    load(&s, T0 + 2);
    (void)snprintf(want, sizeof(want),
                   "cache_dir %s: not a directory (symbolic links are not followed); the JWKS "
                   "is not cached",
                   cache_dir);
    assert_string_equal(cap.lines[0], want);
    assert_true(s.have_set);
    pk_jwks_store_free(&s);
    assert_int_equal(unlink(cache_dir), 0);

    /* owned by someone else (needs root to arrange) */
    if (geteuid() == 0) {
        assert_int_equal(chown(target, 12345, 12345), 0);
        assert_int_equal(rename(target, cache_dir), 0);
        load(&s, T0 + 3);
        (void)snprintf(want, sizeof(want),
                       "cache_dir %s: owned by uid 12345, not uid 0; the JWKS is not cached",
                       cache_dir);
        assert_string_equal(cap.lines[0], want);
        pk_jwks_store_free(&s);
    }

    /* cannot be created */
    (void)snprintf(cache_dir, sizeof(cache_dir), "%s/missing/cache", tmpdir);
    load(&s, T0 + 4);
    (void)snprintf(want, sizeof(want),
                   "cache_dir %s: cannot create: No such file or directory; the JWKS is not "
                   "cached",
                   cache_dir);
    assert_string_equal(cap.lines[0], want);
    assert_true(s.have_set);
    pk_jwks_store_free(&s);
}

static void bad_cache_records(void **state)
{
    struct pk_jwks_store s;
    struct pk_result res;
    char path[PATH_MAX + 64];
    char want[PATH_MAX + 128];
    FILE *f;
    (void)state;

    load(&s, T0);
    pk_jwks_store_free(&s);
    cache_file(path, sizeof(path));

    /* garbage: ignored, fetched again, rewritten */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("garbage", f);
    fclose(f);
    load(&s, T0 + 1);
    (void)snprintf(want, sizeof(want),
                   "cache_dir %s: %s: not a JWKS cache record for this URL; ignored", cache_dir,
                   strrchr(path, '/') + 1);
    assert_string_equal(cap.lines[0], want);
    assert_int_equal(fake.calls, 2);
    pk_jwks_store_free(&s);
    assert_int_equal(record_int("fetched"), T0 + 1);

    /* a record for another URL under this name */
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"format\":\"pam_kakao jwks cache 1\",\"url\":\"https://evil.example/\","
            "\"fetched\":%ld,\"failed\":0,\"kid_refetch\":0,\"jwks\":\"{\\\"keys\\\":[]}\"}",
            T0 + 1);
    fclose(f);
    load(&s, T0 + 2);
    assert_string_equal(cap.lines[0], want);
    assert_int_equal(fake.calls, 3);
    assert_int_equal(key_for(&s, "a", T0 + 2, &res), PK_OK);
    pk_jwks_store_free(&s);

    /* writable by others: not trusted */
    assert_int_equal(chmod(path, 0666), 0);
    load(&s, T0 + 3);
    (void)snprintf(want, sizeof(want),
                   "cache_dir %s: %s: not a regular file of ours, or too large; ignored", cache_dir,
                   strrchr(path, '/') + 1);
    assert_string_equal(cap.lines[0], want);
    assert_int_equal(fake.calls, 4);
    pk_jwks_store_free(&s);
    /* rewritten with the right mode */
    {
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
    }
}

static void clock_moved_back(void **state)
{
    struct pk_jwks_store s;
    (void)state;

    load(&s, T0);
    pk_jwks_store_free(&s);
    /* fetched "in the future": the age is unknown, so refresh */
    load(&s, T0 - 1000);
    assert_int_equal(fake.calls, 2);
    pk_jwks_store_free(&s);
    load(&s, T0 + 3600);
    assert_int_equal(fake.calls, 3);
    pk_jwks_store_free(&s);
    fake.rc = PK_ST_UNAVAILABLE;
    fake.err = "boom";
    load(&s, T0 - 1000);
    assert_int_equal(fake.calls, 4);
    assert_string_equal(cap.lines[0], "jwks " URL ": fetching failed (boom); using the cached "
                                      "copy, of unknown age (the clock moved back)");
    assert_true(s.have_set);
    pk_jwks_store_free(&s);
}

/* Lines about skipped keys come from the set in use: once per attempt. */
static void skip_lines_once(void **state)
{
    struct pk_jwks_store s;
    char *with_ec = jt_printf("{\"keys\":[{\"kty\":\"EC\",\"kid\":\"e\"},%s", jwks_a + 9);
    (void)state;

    fake.body = with_ec;
    load(&s, T0);
    assert_int_equal(cap.count, 1);
    assert_string_equal(cap.lines[0],
                        "jwks " URL ": key #0 (kid \"e\") skipped: kty \"EC\" is not RSA");
    pk_jwks_store_free(&s);
    /* cached copy in use */
    load(&s, T0 + 1);
    assert_int_equal(cap.count, 1);
    pk_jwks_store_free(&s);
    /* stale copy replaced by a fetch: only the fetched set speaks */
    load(&s, T0 + 3600);
    assert_int_equal(fake.calls, 2);
    assert_int_equal(cap.count, 1);
    pk_jwks_store_free(&s);
    /* stale copy after a failed fetch: its line, then the age */
    fake.rc = PK_ST_UNAVAILABLE;
    fake.err = "boom";
    load(&s, T0 + 7200);
    assert_int_equal(cap.count, 2);
    assert_string_equal(cap.lines[1],
                        "jwks " URL ": fetching failed (boom); using the cached copy, "
                        "3600 s old");
    pk_jwks_store_free(&s);
    free(with_ec);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    FILE *f;
    (void)unlink(path);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void jwks_file_rules(void **state)
{
    struct pk_jwks_store s;
    struct pk_result res;
    char path[PATH_MAX];
    char problem[512];
    char want[PATH_MAX + 128];
    (void)state;

    (void)snprintf(path, sizeof(path), "%s/kakao.jwks", tmpdir);
    cfg.jwks_file = path;
    /* world-readable is fine; jwks_url is then not used */
    write_text(path, jwks_ab, 0644);
    memset(&cap, 0, sizeof(cap));
    assert_int_equal(pk_jwks_store_load(&s, &cfg, geteuid(), T0, &logger, fake_fetch, &fake,
                                        problem, sizeof(problem)),
                     PK_ST_OK);
    assert_int_equal(fake.calls, 0);
    assert_int_equal(key_for(&s, "b", T0, &res), PK_OK);
    /* no refetch for a file */
    assert_int_equal(key_for(&s, "c", T0, &res), PK_JWT_UNKNOWN_KID);
    assert_string_equal(res.detail, "kid=\"c\" not in the JWKS");
    pk_jwks_store_free(&s);

    struct {
        const char *text;
        mode_t mode;
        const char *problem;
    } bad[] = {
        {"{\"keys\":[]}", 0664, "writable by group or others (mode 0664)"},
        {"<html>", 0644, "not valid JSON"},
        {"{\"keys\":[{\"kty\":\"EC\",\"kid\":\"x\"}]}", 0644, "no usable RSA signing key"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_text(path, bad[i].text, bad[i].mode);
        assert_int_equal(pk_jwks_store_load(&s, &cfg, geteuid(), T0, &logger, fake_fetch, &fake,
                                            problem, sizeof(problem)),
                         PK_ST_REFUSED);
        (void)snprintf(want, sizeof(want), "%s: %s", path, bad[i].problem);
        assert_string_equal(problem, want);
        assert_false(s.have_set);
    }
    assert_int_equal(unlink(path), 0);
    assert_int_equal(pk_jwks_store_load(&s, &cfg, geteuid(), T0, &logger, fake_fetch, &fake,
                                        problem, sizeof(problem)),
                     PK_ST_REFUSED);
    (void)snprintf(want, sizeof(want), "%s: does not exist", path);
    assert_string_equal(problem, want);
    assert_int_equal(fake.calls, 0);
}

/* ---- a store kept in memory (kakao-pam-relay) ---- */

static enum pk_status refresh(struct pk_jwks_store *s, long now, long retry)
{
    memset(&cap, 0, sizeof(cap));
    return pk_jwks_store_refresh(s, (time_t)now, retry);
}

/* Fetched once, kept for jwks_max_age, fetched again after; nothing ever
 * touches cache_dir. */
static void memory_store_fetch_and_age(void **state)
{
    struct pk_jwks_store s;
    struct pk_result res;
    struct stat st;

    (void)state;
    pk_jwks_store_init_memory(&s, &cfg, &logger, fake_fetch, &fake);
    assert_int_equal(refresh(&s, T0, 10), PK_ST_OK);
    assert_int_equal(fake.calls, 1);
    assert_int_equal(key_for(&s, "a", T0, &res), PK_OK);
    assert_int_equal(refresh(&s, T0 + 3599, 10), PK_ST_OK);
    assert_int_equal(fake.calls, 1);
    fake.body = jwks_b;
    assert_int_equal(refresh(&s, T0 + 3600, 10), PK_ST_OK);
    assert_int_equal(fake.calls, 2);
    assert_int_equal(key_for(&s, "b", T0 + 3600, &res), PK_OK);
    assert_int_equal(cap.count, 0);
    assert_int_equal(stat(cache_dir, &st), -1);
    pk_jwks_store_free(&s);
}

/* No set and the URL fails: unavailable, and no new fetch within retry
 * seconds of the failure; then one, which brings the set. */
static void memory_store_no_set_retry(void **state)
{
    struct pk_jwks_store s;
    struct pk_result res;

    (void)state;
    fake.rc = PK_ST_UNAVAILABLE;
    fake.err = "timeout after 5 s";
    pk_jwks_store_init_memory(&s, &cfg, &logger, fake_fetch, &fake);
    assert_int_equal(refresh(&s, T0, 10), PK_ST_OK);
    assert_int_equal(key_for(&s, "a", T0, &res), PK_JWKS_UNAVAILABLE);
    assert_string_equal(res.detail, URL ": timeout after 5 s");
    assert_int_equal(refresh(&s, T0 + 9, 10), PK_ST_OK);
    assert_int_equal(fake.calls, 1);
    assert_int_equal(key_for(&s, "a", T0 + 9, &res), PK_JWKS_UNAVAILABLE);
    fake.rc = PK_ST_OK;
    assert_int_equal(refresh(&s, T0 + 10, 10), PK_ST_OK);
    assert_int_equal(fake.calls, 2);
    assert_int_equal(key_for(&s, "a", T0 + 10, &res), PK_OK);
    pk_jwks_store_free(&s);
}

/* An old set whose refresh fails is kept (logged), not dropped. */
static void memory_store_keeps_old_set(void **state)
{
    struct pk_jwks_store s;
    struct pk_result res;

    (void)state;
    pk_jwks_store_init_memory(&s, &cfg, &logger, fake_fetch, &fake);
    assert_int_equal(refresh(&s, T0, 10), PK_ST_OK);
    fake.rc = PK_ST_UNAVAILABLE;
    fake.err = "HTTP 500";
    assert_int_equal(refresh(&s, T0 + 4000, 10), PK_ST_OK);
    assert_int_equal(fake.calls, 2);
    assert_int_equal(cap.count, 1);
    assert_string_equal(cap.lines[0], "jwks " URL ": fetching failed (HTTP 500); using the copy "
                                      "in memory, 4000 s old");
    assert_int_equal(key_for(&s, "a", T0 + 4000, &res), PK_OK);
    pk_jwks_store_free(&s);
}

/* The unknown-kid rule is the module's: one refetch per attempt and at most
 * every PK_JWKS_RETRY seconds, none right after a fetch for this attempt. */
static void memory_store_unknown_kid(void **state)
{
    struct pk_jwks_store s;
    struct pk_result res;

    (void)state;
    pk_jwks_store_init_memory(&s, &cfg, &logger, fake_fetch, &fake);
    assert_int_equal(refresh(&s, T0, 10), PK_ST_OK);
    assert_int_equal(key_for(&s, "b", T0, &res), PK_JWT_UNKNOWN_KID);
    assert_string_equal(res.detail, "kid=\"b\" not in the JWKS (fetched just now)");
    assert_int_equal(fake.calls, 1);
    fake.body = jwks_ab;
    assert_int_equal(refresh(&s, T0 + 1, 10), PK_ST_OK);
    assert_int_equal(key_for(&s, "b", T0 + 1, &res), PK_OK);
    assert_int_equal(fake.calls, 2);
    assert_int_equal(refresh(&s, T0 + 2, 10), PK_ST_OK);
    assert_int_equal(key_for(&s, "c", T0 + 2, &res), PK_JWT_UNKNOWN_KID);
    assert_string_equal(res.detail, "kid=\"c\" not in the JWKS (last refetch 1 s ago)");
    assert_int_equal(fake.calls, 2);
    pk_jwks_store_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(first_fetch_creates_cache, setup),
        cmocka_unit_test_setup(refresh_after_max_age, setup),
        cmocka_unit_test_setup(stale_copy_while_url_fails, setup),
        cmocka_unit_test_setup(not_allowed_here_is_no_outage, setup),
        cmocka_unit_test_setup(no_copy_at_all, setup),
        cmocka_unit_test_setup(unknown_kid_refetch, setup),
        cmocka_unit_test_setup(no_refetch_when_not_allowed, setup),
        cmocka_unit_test_setup(no_refetch_right_after_a_fetch, setup),
        cmocka_unit_test_setup(refetch_fails, setup),
        cmocka_unit_test_setup(unusable_cache_dir, setup),
        cmocka_unit_test_setup(bad_cache_records, setup),
        cmocka_unit_test_setup(clock_moved_back, setup),
        cmocka_unit_test_setup(skip_lines_once, setup),
        cmocka_unit_test_setup(jwks_file_rules, setup),
        cmocka_unit_test_setup(memory_store_fetch_and_age, setup),
        cmocka_unit_test_setup(memory_store_no_set_retry, setup),
        cmocka_unit_test_setup(memory_store_keeps_old_set, setup),
        cmocka_unit_test_setup(memory_store_unknown_kid, setup),
    };
    return cmocka_run_group_tests_name("jwks_cache", tests, group_setup, group_teardown);
}
