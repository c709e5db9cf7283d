#include "jwks_cache.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cache_dir.h"
#include "http.h"
#include "json_load.h"
#include "safe_file.h"

#define PK_JWKS_FORMAT "pam_kakao jwks cache 1"
/* The record holds the JWKS as a JSON string: escaping can grow it. */
#define PK_JWKS_RECORD_MAX (8 * PK_JWKS_MAX)
/* A recorded time this far ahead of the clock means the clock moved back. */
#define PK_JWKS_CLOCK_SLACK 300

/* ---- fetching ---- */

static enum pk_status pk_jwks_https_fetch(void *ctx, const struct pk_config *cfg, const char *url,
                                          char **body, size_t *len, char *err, size_t err_len)
{
    struct pk_http_request req;
    struct pk_http_response resp;
    char why[256];
    enum pk_status st;

    (void)ctx;
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.ca_file = cfg->ca_file;
    req.proxy = cfg->proxy;
    req.timeout_ms = cfg->timeout * 1000;
    req.max_body = PK_JWKS_MAX;
    st = pk_http_get_public(&req, &resp, why, sizeof(why));
    if (st == PK_ST_OK && resp.status != 200) {
        (void)snprintf(err, err_len, "HTTP %ld", resp.status);
        pk_http_response_free(&resp);
        return PK_ST_UNAVAILABLE;
    }
    if (st == PK_ST_OK) {
        *body = resp.body;
        *len = resp.len;
        return PK_ST_OK;
    }
    pk_http_failure_text(st, resp.failure, why, cfg->timeout, PK_JWKS_MAX, err, err_len);
    return st;
}

/* ---- cache_dir and the cache file ---- */

/* Opens cache_dir if it is ours alone; -1 means "do not cache", with the
 * reason logged. */
static int pk_jwks_dir_open(const char *path, uid_t uid, const struct pk_logger *log)
{
    char why[160];
    int fd = pk_cache_dir_open(path, uid, why, sizeof(why));

    if (fd < 0)
        pk_log(log, LOG_NOTICE, "cache_dir %s: %s; the JWKS is not cached", path, why);
    return fd;
}

/* "jwks-" and the first 16 bytes of SHA-256(url) in hex: the URL, not
 * anything from a token, names the file. */
static bool pk_cache_name(const char *url, char *name, size_t len)
{
    char digest[65];

    if (!pk_sha256_hex(url, strlen(url), digest))
        return false;
    return snprintf(name, len, "jwks-%.32s.json", digest) < (int)len;
}

static bool pk_time_member(json_t *rec, const char *name, time_t *out)
{
    json_t *v = json_object_get(rec, name);

    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (time_t)json_integer_value(v);
    return true;
}

/* Loads the cached record for cfg->jwks_url into s (body and times).
 * PK_ST_NOMEM when out of memory, otherwise PK_ST_OK (nothing usable is
 * fine: a cache problem is logged and costs only the cache). */
static enum pk_status pk_cache_read(struct pk_jwks_store *s)
{
    const char *why = NULL;
    size_t len = 0;
    char *text = NULL;
    enum pk_status st = pk_cache_file_read(s->dirfd, s->cache_name, s->uid, 022, PK_JWKS_RECORD_MAX,
                                           &text, &len, &why);
    json_error_t err;
    json_t *rec, *fmt, *url, *jwks;
    time_t fetched = 0, failed = 0, kid_refetch = 0;

    if (st != PK_ST_OK) {
        if (st == PK_ST_REFUSED)
            pk_log(s->log, LOG_NOTICE, "cache_dir %s: %s: %s; ignored", s->cfg->cache_dir,
                   s->cache_name, why);
        return st == PK_ST_NOMEM ? PK_ST_NOMEM : PK_ST_OK;
    }
    rec = pk_json_loadb(text, len, &err);
    free(text);
    if (rec == NULL && json_error_code(&err) == json_error_out_of_memory)
        return PK_ST_NOMEM;
    fmt = json_object_get(rec, "format");
    url = json_object_get(rec, "url");
    jwks = json_object_get(rec, "jwks");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), PK_JWKS_FORMAT) != 0 ||
        !json_is_string(url) || strcmp(json_string_value(url), s->cfg->jwks_url) != 0 ||
        !json_is_string(jwks) || json_string_length(jwks) > PK_JWKS_MAX ||
        !pk_time_member(rec, "fetched", &fetched) || fetched == 0 ||
        !pk_time_member(rec, "failed", &failed) ||
        !pk_time_member(rec, "kid_refetch", &kid_refetch)) {
        pk_log(s->log, LOG_NOTICE,
               "cache_dir %s: %s: not a JWKS cache record for this URL; ignored", s->cfg->cache_dir,
               s->cache_name);
        json_decref(rec);
        return PK_ST_OK;
    }
    s->body = malloc(json_string_length(jwks) + 1);
    if (s->body == NULL) {
        json_decref(rec);
        return PK_ST_NOMEM;
    }
    memcpy(s->body, json_string_value(jwks), json_string_length(jwks) + 1);
    s->body_len = json_string_length(jwks);
    s->fetched_at = fetched;
    s->failed_at = failed;
    s->kid_refetch_at = kid_refetch;
    json_decref(rec);
    return PK_ST_OK;
}

/* Writes the record (s->body and the times) atomically: temp file, fsync,
 * rename, fsync of the directory. Failure costs only the cache. */
static void pk_cache_write(struct pk_jwks_store *s)
{
    char why[128];
    char *text;
    json_t *rec;

    if (s->dirfd < 0 || s->body == NULL)
        return;
    rec = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s%}", "format", PK_JWKS_FORMAT, "url",
                    s->cfg->jwks_url, "fetched", (json_int_t)s->fetched_at, "failed",
                    (json_int_t)s->failed_at, "kid_refetch", (json_int_t)s->kid_refetch_at, "jwks",
                    s->body, s->body_len);
    text = rec != NULL ? json_dumps(rec, JSON_COMPACT) : NULL;
    json_decref(rec);
    if (text == NULL) {
        pk_log(s->log, LOG_NOTICE, "cache_dir %s: cannot write the JWKS cache: out of memory",
               s->cfg->cache_dir);
        return;
    }
    if (pk_cache_file_write(s->dirfd, s->cache_name, text, strlen(text), s->log, why,
                            sizeof(why)) != PK_ST_OK)
        pk_log(s->log, LOG_NOTICE, "cache_dir %s: cannot write the JWKS cache: %s",
               s->cfg->cache_dir, why);
    free(text);
}

/* ---- the store ---- */

/* Seconds since t, or -1 when t is unset or ahead of the clock (the clock
 * moved back: the age is unknown). */
static long pk_age(time_t now, time_t t)
{
    if (t <= 0 || t > now + PK_JWKS_CLOCK_SLACK)
        return -1;
    return t > now ? 0L : (long)(now - t);
}

static void pk_age_text(long age, char *buf, size_t len)
{
    if (age >= 0)
        (void)snprintf(buf, len, "%ld s old", age);
    else
        (void)snprintf(buf, len, "of unknown age (the clock moved back)");
}

/* Fetches the URL and, when the answer is a JWKS, makes it the set.
 * PK_ST_OK; PK_ST_NOMEM; anything else with err set (the old set stays). */
static enum pk_status pk_store_fetch(struct pk_jwks_store *s, time_t now, char *err, size_t err_len)
{
    char *body = NULL;
    size_t len = 0;
    struct pk_jwks fresh;
    char problem[128];
    enum pk_status st;

    s->fetched = true;
    st = s->fetch(s->fetch_ctx, s->cfg, s->cfg->jwks_url, &body, &len, err, err_len);
    if (st != PK_ST_OK) {
        /* A request this process was not allowed to make (PK_ST_REFUSED)
         * tells nothing of the URL: other processes keep trying it. */
        if (st != PK_ST_REFUSED)
            s->failed_at = now;
        return st;
    }
    st = pk_jwks_parse(body, len, s->cfg->jwks_url, s->log, &fresh, problem, sizeof(problem));
    if (st != PK_ST_OK) {
        free(body);
        if (st == PK_ST_NOMEM)
            return st;
        (void)snprintf(err, err_len, "not a JWKS (%s)", problem);
        s->failed_at = now;
        return PK_ST_REFUSED;
    }
    pk_jwks_free(&s->set);
    free(s->body);
    s->set = fresh;
    s->have_set = true;
    s->body = body;
    s->body_len = len;
    s->fetched_at = now;
    s->failed_at = 0;
    return PK_ST_OK;
}

static enum pk_status pk_store_load_file(struct pk_jwks_store *s, char *problem, size_t problem_len)
{
    const char *path = s->cfg->jwks_file;
    char why[128];
    char *data;
    size_t len;
    enum pk_status st;
    enum pk_status fst =
        pk_safe_read(path, PK_FILE_CONFIG, s->uid, &data, &len, problem, problem_len);

    if (fst == PK_ST_NOMEM)
        return PK_ST_NOMEM;
    if (fst != PK_ST_OK)
        return PK_ST_REFUSED;
    st = pk_jwks_parse(data, len, path, s->log, &s->set, why, sizeof(why));
    free(data);
    if (st == PK_ST_NOMEM)
        return PK_ST_NOMEM;
    if (st == PK_ST_REFUSED) {
        (void)snprintf(problem, problem_len, "%s: %s", path, why);
        return PK_ST_REFUSED;
    }
    if (s->set.count == 0) {
        (void)snprintf(problem, problem_len, "%s: no usable RSA signing key", path);
        pk_jwks_free(&s->set);
        return PK_ST_REFUSED;
    }
    s->have_set = true;
    return PK_ST_OK;
}

/* Makes the cached copy (if any) the set: PK_ST_OK; PK_ST_MISSING when
 * there is none or it is unusable (logged); PK_ST_NOMEM. */
static enum pk_status pk_store_use_cached(struct pk_jwks_store *s)
{
    char why[128];
    enum pk_status st;

    if (s->body == NULL)
        return PK_ST_MISSING;
    st = pk_jwks_parse(s->body, s->body_len, s->cfg->jwks_url, s->log, &s->set, why, sizeof(why));
    if (st == PK_ST_OK) {
        s->have_set = true;
        return PK_ST_OK;
    }
    if (st != PK_ST_NOMEM)
        pk_log(s->log, LOG_NOTICE, "cache_dir %s: %s: cached JWKS unusable (%s); ignored",
               s->cfg->cache_dir, s->cache_name, why);
    free(s->body);
    s->body = NULL;
    s->body_len = 0;
    return st == PK_ST_NOMEM ? PK_ST_NOMEM : PK_ST_MISSING;
}

static enum pk_status pk_store_load_url(struct pk_jwks_store *s, time_t now)
{
    char err[256];
    char age_text[48];
    enum pk_status cached = PK_ST_MISSING;
    long age, since_failure;
    enum pk_status st;

    s->from_url = true;
    if (!pk_cache_name(s->cfg->jwks_url, s->cache_name, sizeof(s->cache_name)))
        return PK_ST_NOMEM;
    s->dirfd = pk_jwks_dir_open(s->cfg->cache_dir, s->uid, s->log);
    if (s->dirfd >= 0 && pk_cache_read(s) != PK_ST_OK)
        return PK_ST_NOMEM;
    age = pk_age(now, s->fetched_at);
    since_failure = s->failed_at > s->fetched_at ? pk_age(now, s->failed_at) : -1;
    pk_age_text(age, age_text, sizeof(age_text));
    /* The copy is parsed only when it is to be used, so its lines about
     * skipped keys appear once. */
    if (age >= 0 && age < s->cfg->jwks_max_age) {
        cached = pk_store_use_cached(s);
        if (cached == PK_ST_OK)
            return PK_ST_OK;
    } else if (since_failure >= 0 && since_failure < PK_JWKS_RETRY) {
        cached = pk_store_use_cached(s);
        if (cached == PK_ST_OK) {
            pk_log(s->log, LOG_WARNING,
                   "jwks %s: using the cached copy, %s (fetching failed %ld s ago; next try in "
                   "%ld s)",
                   s->cfg->jwks_url, age_text, since_failure, PK_JWKS_RETRY - since_failure);
            return PK_ST_OK;
        }
    }
    if (cached == PK_ST_NOMEM)
        return PK_ST_NOMEM;
    st = pk_store_fetch(s, now, err, sizeof(err));
    if (st == PK_ST_NOMEM)
        return PK_ST_NOMEM;
    if (st == PK_ST_OK) {
        pk_cache_write(s);
        return PK_ST_OK;
    }
    cached = pk_store_use_cached(s);
    if (cached == PK_ST_OK) {
        pk_log(s->log, LOG_WARNING, "jwks %s: fetching failed (%s); using the cached copy, %s",
               s->cfg->jwks_url, err, age_text);
        pk_cache_write(s);
        return PK_ST_OK;
    }
    if (cached == PK_ST_NOMEM)
        return PK_ST_NOMEM;
    /* A long URL may cut the detail short: it is only a log line. */
    if (snprintf(s->unavailable, sizeof(s->unavailable), "%s: %s (no cached copy)",
                 s->cfg->jwks_url, err) < 0)
        s->unavailable[0] = '\0';
    return PK_ST_OK;
}

enum pk_status pk_jwks_store_load(struct pk_jwks_store *s, const struct pk_config *cfg, uid_t uid,
                                  time_t now, const struct pk_logger *log, pk_jwks_fetch_fn fetch,
                                  void *fetch_ctx, char *problem, size_t problem_len)
{
    enum pk_status st;

    memset(s, 0, sizeof(*s));
    s->dirfd = -1;
    s->cfg = cfg;
    s->log = log;
    s->uid = uid;
    s->fetch = fetch != NULL ? fetch : pk_jwks_https_fetch;
    s->fetch_ctx = fetch_ctx;
    problem[0] = '\0';
    if (cfg->jwks_file != NULL)
        st = pk_store_load_file(s, problem, problem_len);
    else if (cfg->jwks_url != NULL)
        st = pk_store_load_url(s, now);
    else {
        (void)snprintf(problem, problem_len, "neither jwks_file nor jwks_url is set");
        st = PK_ST_REFUSED;
    }
    if (st == PK_ST_NOMEM)
        (void)snprintf(problem, problem_len, "out of memory");
    if (st != PK_ST_OK)
        pk_jwks_store_free(s);
    return st;
}

static enum pk_outcome pk_kid_refused(const char *shown, enum pk_status found, const char *why,
                                      const char *suffix, struct pk_result *res)
{
    if (found == PK_ST_REFUSED)
        return pk_result_set(res, PK_JWT_UNKNOWN_KID, "kid=\"%s\": %s%s", shown, why, suffix);
    return pk_result_set(res, PK_JWT_UNKNOWN_KID, "kid=\"%s\" not in the JWKS%s", shown, suffix);
}

enum pk_outcome pk_jwks_store_key(struct pk_jwks_store *s, const char *kid, time_t now,
                                  bool may_refetch, const struct pk_jwk **key,
                                  struct pk_result *res)
{
    char shown[PK_KID_MAX];
    char suffix[64] = "";
    char err[256];
    const char *why = NULL;
    enum pk_status found, st;
    long since;

    *key = NULL;
    pk_log_field(shown, sizeof(shown), kid);
    if (!s->have_set)
        return pk_result_set(res, PK_JWKS_UNAVAILABLE, "%s",
                             s->unavailable[0] != '\0' ? s->unavailable : "no JWKS loaded");
    found = pk_jwks_find(&s->set, kid, key, &why);
    if (found == PK_ST_OK)
        return PK_OK;
    if (!s->from_url)
        return pk_kid_refused(shown, found, why, "", res);
    if (s->fetched)
        return pk_kid_refused(shown, found, why, " (fetched just now)", res);
    if (!may_refetch)
        return pk_kid_refused(shown, found, why, " (no refetch for PAM_AUTHTOK)", res);
    since = pk_age(now, s->kid_refetch_at);
    if (since >= 0 && since < PK_JWKS_RETRY) {
        (void)snprintf(suffix, sizeof(suffix), " (last refetch %ld s ago)", since);
        return pk_kid_refused(shown, found, why, suffix, res);
    }
    /* Keys rotate: a kid we do not know may be new. One refetch, recorded
     * first so that a flood of made-up kids cannot hammer the URL. */
    s->kid_refetch_at = now;
    st = pk_store_fetch(s, now, err, sizeof(err));
    if (st == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "refetching the JWKS");
    pk_cache_write(s);
    if (st != PK_ST_OK)
        return pk_result_set(res, PK_JWKS_UNAVAILABLE,
                             "kid=\"%s\" not in the cached JWKS; refetching %s failed: %s", shown,
                             s->cfg->jwks_url, err);
    found = pk_jwks_find(&s->set, kid, key, &why);
    if (found == PK_ST_OK)
        return PK_OK;
    return pk_kid_refused(shown, found, why, " (refetched)", res);
}

void pk_jwks_store_free(struct pk_jwks_store *s)
{
    pk_jwks_free(&s->set);
    free(s->body);
    if (s->dirfd >= 0)
        (void)close(s->dirfd);
    memset(s, 0, sizeof(*s));
    s->dirfd = -1;
}

void pk_jwks_store_init_memory(struct pk_jwks_store *s, const struct pk_config *cfg,
                               const struct pk_logger *log, pk_jwks_fetch_fn fetch, void *fetch_ctx)
{
    memset(s, 0, sizeof(*s));
    s->dirfd = -1;
    s->from_url = true;
    s->cfg = cfg;
    s->log = log;
    s->fetch = fetch != NULL ? fetch : pk_jwks_https_fetch;
    s->fetch_ctx = fetch_ctx;
}

enum pk_status pk_jwks_store_refresh(struct pk_jwks_store *s, time_t now, long retry)
{
    char err[256];
    long age = pk_age(now, s->fetched_at);
    long since_failure = s->failed_at > s->fetched_at ? pk_age(now, s->failed_at) : -1;
    enum pk_status st;

    s->fetched = false;
    if (s->have_set && age >= 0 && age < s->cfg->jwks_max_age)
        return PK_ST_OK;
    if (since_failure >= 0 && since_failure < retry)
        return PK_ST_OK;
    st = pk_store_fetch(s, now, err, sizeof(err));
    if (st == PK_ST_NOMEM)
        return PK_ST_NOMEM;
    if (st == PK_ST_OK) {
        s->unavailable[0] = '\0';
        return PK_ST_OK;
    }
    if (s->have_set) {
        char age_text[48];
        pk_age_text(age, age_text, sizeof(age_text));
        pk_log(s->log, LOG_WARNING, "jwks %s: fetching failed (%s); using the copy in memory, %s",
               s->cfg->jwks_url, err, age_text);
    } else if (snprintf(s->unavailable, sizeof(s->unavailable), "%s: %s", s->cfg->jwks_url, err) <
               0) {
        s->unavailable[0] = '\0';
    }
    return PK_ST_OK;
}
