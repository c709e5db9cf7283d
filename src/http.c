/* The one HTTPS exchange: every request (the Kakao API GET with a bearer
 * token, the public JWKS GET, the CLI's form POST in http_post.c) goes through
 * pk_http_exchange, so the transport rules of docs/DESIGN.md §7 live here once.
 *
 * Global initialisation: we never call curl_global_init() or
 * curl_global_cleanup(). A PAM module cannot own process-wide library state:
 * the host (sshd, sudo) may use libcurl or OpenSSL itself, may run PAM in
 * several threads, and dlcloses us at will. Since libcurl 7.84 (Debian 12 has
 * 7.88, built "threadsafe" with the threaded resolver) curl_easy_init()
 * performs the global init lazily under an internal atomic lock, which is the
 * only thread-safe way for a library to get it done.
 *
 * The deadline: CURLOPT_NOSIGNAL keeps libcurl away from SIGALRM (sshd uses
 * it for LoginGraceTime); the threaded resolver lets CURLOPT_TIMEOUT_MS bound
 * name resolution too, so one total timeout covers the whole exchange and a
 * server dripping bytes.
 *
 * Loading: libcurl (and the ~30 libraries it pulls in) is dlopen()ed from its
 * absolute path on the first request of a process, so a process that only
 * checks app JWTs never loads it. RTLD_NODELETE keeps it mapped once loaded;
 * the function table lives on the caller's stack, nothing global.
 *
 * The caller's environment: su and sudo run us with the environment of the
 * user who started them. libcurl reads proxy variables, NO_PROXY and
 * SSLKEYLOGFILE with plain getenv(); the options set in pk_configure() make it
 * ignore all but SSLKEYLOGFILE, which pk_curl_load() refuses in such a
 * process before libcurl is even loaded (SECURITY.md, "The caller's
 * environment", lists every variable on this path).
 *
 * Trust: without ca_file the system store is used through its hashed
 * directory (CURLOPT_CAPATH), never the bundle file: OpenSSL then reads only
 * the issuer certificates a chain needs, when it needs them, instead of
 * parsing every certificate of the bundle at each login. */
#include "http.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>

#include "dl.h"
#include "http_exchange.h"
#include "log.h"
#include "secure.h"

#define PK_HTTP_USER_AGENT "pam_kakao/0.1"
#define PK_HTTP_AUTH_PREFIX "Authorization: Bearer "
/* Far above any sane config (timeout is 1-60 s); keeps the ms value small. */
#define PK_HTTP_TIMEOUT_MAX_MS 3600000L
#define PK_HTTP_BODY_INITIAL 4096u

/* The system store's hashed directory: where Debian's libcurl looks
 * (--with-ca-path) and what OpenSSL's X509_get_default_cert_dir()
 * (/usr/lib/ssl/certs) links to. A build-time constant, so no environment
 * variable (SSL_CERT_DIR, SSL_CERT_FILE) can move it. */
#ifndef PK_HTTP_CA_PATH
#define PK_HTTP_CA_PATH "/etc/ssl/certs"
#endif

#ifndef PK_LIBCURL_PATH
#define PK_LIBCURL_PATH "/usr/lib/x86_64-linux-gnu/libcurl.so.4"
#endif

/* The libcurl functions we use, resolved per request. */
struct pk_curl_api {
    void *dl;
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
};

struct pk_body_sink {
    char *buf;
    size_t len;
    size_t cap;
    size_t max;
    bool too_big;
    bool nomem;
};

static void pk_http_set_err(char *err, size_t err_len, const char *msg)
{
    char trimmed[CURL_ERROR_SIZE];
    size_t n = (msg != NULL) ? strlen(msg) : 0;

    if (err == NULL || err_len == 0)
        return;
    /* curl's error buffer sometimes ends with a newline. */
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r' || msg[n - 1] == ' '))
        n--;
    if (n > sizeof(trimmed) - 1)
        n = sizeof(trimmed) - 1;
    if (n > 0)
        memcpy(trimmed, msg, n);
    trimmed[n] = '\0';
    /* Library messages may quote server-provided text: escaped as quoted
     * text, which callers show inside double quotes. */
    pk_log_text(err, err_len, trimmed);
}

bool pk_http_env_safe(bool secure, const char *keylog, char *err, size_t err_len)
{
    if (secure && keylog != NULL) {
        pk_http_set_err(err, err_len, PK_HTTP_KEYLOG_REFUSAL);
        return false;
    }
    return true;
}

/* The one way to libcurl: every request starts here, so the environment is
 * checked before libcurl's first (lazy, process-wide) initialisation, which
 * is where it opens the key log file. */
static enum pk_http_failure pk_curl_load(struct pk_curl_api *api, char *err, size_t err_len)
{
    const struct pk_dl_sym syms[] = {
        {"curl_easy_init", &api->easy_init},           {"curl_easy_setopt", &api->easy_setopt},
        {"curl_easy_perform", &api->easy_perform},     {"curl_easy_getinfo", &api->easy_getinfo},
        {"curl_easy_cleanup", &api->easy_cleanup},     {"curl_easy_reset", &api->easy_reset},
        {"curl_easy_strerror", &api->easy_strerror},   {"curl_slist_append", &api->slist_append},
        {"curl_slist_free_all", &api->slist_free_all},
    };
    bool missing = false;

    memset(api, 0, sizeof(*api));
    /* getenv, not secure_getenv: libcurl reads it with getenv, and
     * secure_getenv would hide it in exactly the processes at risk. */
    if (!pk_http_env_safe(getauxval(AT_SECURE) != 0, getenv("SSLKEYLOGFILE"), err, err_len))
        return PK_HTTP_UNSAFE_ENV;
    api->dl = pk_dl_load(PK_LIBCURL_PATH, syms, sizeof(syms) / sizeof(syms[0]), &missing);
    if (api->dl == NULL) {
        pk_http_set_err(err, err_len,
                        missing ? "libcurl lacks a needed function"
                                : "cannot load " PK_LIBCURL_PATH);
        return PK_HTTP_ERROR;
    }
    return PK_HTTP_NO_FAILURE;
}

static void pk_curl_unload(struct pk_curl_api *api)
{
    if (api->dl != NULL)
        (void)dlclose(api->dl);
    api->dl = NULL;
}

/* ---- kept handles (pk_http_pool_new): the relay only ---- */

struct pk_http_slot {
    pthread_mutex_t lock; /* held by the request using h */
    CURL *h;              /* NULL until first used */
};

struct pk_http_pool {
    struct pk_curl_api api; /* keeps libcurl loaded while the pool lives */
    size_t n;
    struct pk_http_slot *slots;
};

struct pk_http_pool *pk_http_pool_new(size_t handles, char *err, size_t err_len)
{
    struct pk_http_pool *pool;

    if (err != NULL && err_len > 0)
        err[0] = '\0';
    if (handles == 0 || handles > 1024) {
        pk_http_set_err(err, err_len, "pool size out of range");
        return NULL;
    }
    pool = calloc(1, sizeof(*pool));
    if (pool == NULL) {
        pk_http_set_err(err, err_len, "out of memory");
        return NULL;
    }
    pool->slots = calloc(handles, sizeof(*pool->slots));
    if (pool->slots == NULL) {
        free(pool);
        pk_http_set_err(err, err_len, "out of memory");
        return NULL;
    }
    for (; pool->n < handles; pool->n++) {
        if (pthread_mutex_init(&pool->slots[pool->n].lock, NULL) != 0) {
            pk_http_set_err(err, err_len, "cannot create a mutex");
            pk_http_pool_free(pool);
            return NULL;
        }
    }
    if (pk_curl_load(&pool->api, err, err_len) != PK_HTTP_NO_FAILURE) {
        pk_http_pool_free(pool);
        return NULL;
    }
    return pool;
}

void pk_http_pool_free(struct pk_http_pool *pool)
{
    if (pool == NULL)
        return;
    for (size_t i = 0; i < pool->n; i++) {
        /* A handle exists only once libcurl was loaded. */
        if (pool->slots[i].h != NULL && pool->api.easy_cleanup != NULL)
            pool->api.easy_cleanup(pool->slots[i].h);
        (void)pthread_mutex_destroy(&pool->slots[i].lock);
    }
    free(pool->slots);
    pk_curl_unload(&pool->api);
    free(pool);
}

/* A handle no other thread is using, reset to libcurl's defaults (its
 * connections and DNS answers stay), with *slot locked; NULL (and *slot NULL)
 * when every slot is busy or a new handle cannot be made. */
static CURL *pk_pool_borrow(struct pk_http_pool *pool, struct pk_http_slot **slot)
{
    *slot = NULL;
    for (size_t i = 0; i < pool->n; i++) {
        struct pk_http_slot *s = &pool->slots[i];
        if (pthread_mutex_trylock(&s->lock) != 0)
            continue;
        if (s->h == NULL)
            s->h = pool->api.easy_init();
        if (s->h == NULL) {
            (void)pthread_mutex_unlock(&s->lock);
            return NULL;
        }
        pool->api.easy_reset(s->h);
        *slot = s;
        return s->h;
    }
    return NULL;
}

/* Drops every option (they point into the finished request's memory) and
 * hands the handle back. */
static void pk_pool_return(struct pk_http_pool *pool, struct pk_http_slot *slot)
{
    pool->api.easy_reset(slot->h);
    (void)pthread_mutex_unlock(&slot->lock);
}

/* Grows geometrically; the old buffer is wiped rather than realloc'd so no
 * copy of the (personal) response is left behind in freed memory. */
static bool pk_sink_reserve(struct pk_body_sink *s, size_t need)
{
    size_t cap = s->cap != 0 ? s->cap : PK_HTTP_BODY_INITIAL;
    char *nbuf;

    if (need <= s->cap)
        return true;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
    if (cap > s->max + 1)
        cap = s->max + 1;
    nbuf = malloc(cap);
    if (nbuf == NULL)
        return false;
    if (s->buf != NULL) {
        memcpy(nbuf, s->buf, s->len);
        pk_free_secret(s->buf, s->cap);
    }
    s->buf = nbuf;
    s->cap = cap;
    return true;
}

static size_t pk_sink_write(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct pk_body_sink *s = userdata;
    size_t n = size * nmemb;

    if (size != 0 && n / size != nmemb) {
        s->too_big = true;
        return 0;
    }
    if (n > s->max - s->len) {
        /* A short count makes libcurl abort with CURLE_WRITE_ERROR. */
        s->too_big = true;
        return 0;
    }
    if (!pk_sink_reserve(s, s->len + n + 1)) {
        s->nomem = true;
        return 0;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

static void pk_sink_free(struct pk_body_sink *s)
{
    pk_free_secret(s->buf, s->cap);
    s->buf = NULL;
    s->len = 0;
    s->cap = 0;
}

/* libcurl copies each header into the list; wipe those copies too. */
static void pk_free_headers(const struct pk_curl_api *api, struct curl_slist *headers)
{
    for (struct curl_slist *h = headers; h != NULL; h = h->next) {
        if (h->data != NULL)
            pk_wipe(h->data, strlen(h->data));
    }
    api->slist_free_all(headers);
}

static bool pk_bearer_ok(const char *bearer, size_t len)
{
    if (bearer == NULL || len == 0)
        return false;
    /* Visible ASCII only: no CR/LF header injection, no spaces, no NUL. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)bearer[i];
        if (c < 0x21 || c > 0x7e)
            return false;
    }
    return true;
}

/* NULL only when out of memory. */
static struct curl_slist *pk_auth_header(const struct pk_curl_api *api, const char *bearer,
                                         size_t len)
{
    size_t plen = sizeof(PK_HTTP_AUTH_PREFIX) - 1;
    struct curl_slist *list;
    char *line;

    if (len > SIZE_MAX - plen - 1)
        return NULL;
    line = malloc(plen + len + 1);
    if (line == NULL)
        return NULL;
    memcpy(line, PK_HTTP_AUTH_PREFIX, plen);
    memcpy(line + plen, bearer, len);
    line[plen + len] = '\0';
    list = api->slist_append(NULL, line);
    pk_free_secret(line, plen + len + 1);
    return list;
}

static enum pk_http_failure pk_curl_failure(CURLcode rc, const struct pk_body_sink *sink)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return PK_HTTP_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return PK_HTTP_CONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
        return PK_HTTP_TLS;
    case CURLE_FILESIZE_EXCEEDED:
        return PK_HTTP_TOO_BIG;
    case CURLE_WRITE_ERROR:
        if (sink->too_big)
            return PK_HTTP_TOO_BIG;
        return PK_HTTP_ERROR;
    default:
        return PK_HTTP_ERROR;
    }
}

/* What a failed transfer means: out of memory, or no response with
 * *failure saying why. */
static enum pk_status pk_map_curl_error(CURLcode rc, const struct pk_body_sink *sink,
                                        enum pk_http_failure *failure)
{
    *failure = pk_curl_failure(rc, sink);
    if (rc == CURLE_OUT_OF_MEMORY || (rc == CURLE_WRITE_ERROR && !sink->too_big && sink->nomem))
        return PK_ST_NOMEM;
    return PK_ST_UNAVAILABLE;
}

/* Sets every option; the first failure sticks in *rc. */
#define PK_SETOPT(a, h, rc, opt, val)                                                              \
    do {                                                                                           \
        if ((rc) == CURLE_OK)                                                                      \
            (rc) = (a)->easy_setopt((h), (opt), (val));                                            \
    } while (0)

static CURLcode pk_configure(const struct pk_curl_api *api, CURL *h,
                             const struct pk_http_exchange *x, struct curl_slist *headers,
                             struct pk_body_sink *sink, char *curl_err)
{
    CURLcode rc = CURLE_OK;
    long ms = x->timeout_ms;
    const char *proxy = (x->proxy != NULL) ? x->proxy : "";

    PK_SETOPT(api, h, rc, CURLOPT_ERRORBUFFER, curl_err);
    PK_SETOPT(api, h, rc, CURLOPT_VERBOSE, 0L);
    PK_SETOPT(api, h, rc, CURLOPT_NOSIGNAL, 1L);
    PK_SETOPT(api, h, rc, CURLOPT_URL, x->url);
    PK_SETOPT(api, h, rc, CURLOPT_PROTOCOLS_STR, "https");
    PK_SETOPT(api, h, rc, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    PK_SETOPT(api, h, rc, CURLOPT_FOLLOWLOCATION, 0L);
    PK_SETOPT(api, h, rc, CURLOPT_SSL_VERIFYPEER, 1L);
    PK_SETOPT(api, h, rc, CURLOPT_SSL_VERIFYHOST, 2L);
    PK_SETOPT(api, h, rc, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    /* One handle per request never resumes a TLS session (a pooled handle
     * reuses whole connections instead); and libcurl 7.88's session cache
     * double-frees when an allocation in it fails (tests/alloc/alloc_fail.c
     * found it). */
    PK_SETOPT(api, h, rc, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    /* Exactly one trust source. The configured bundle replaces the system
     * store, not adds to it. Without one, the system store's hashed
     * directory, looked up lazily by OpenSSL, instead of libcurl's default
     * bundle file, which OpenSSL would parse whole at every request. */
    PK_SETOPT(api, h, rc, CURLOPT_CAINFO, x->ca_file);
    PK_SETOPT(api, h, rc, CURLOPT_CAPATH, x->ca_file != NULL ? NULL : PK_HTTP_CA_PATH);
    /* "" disables proxies, including http(s)_proxy from the environment. */
    PK_SETOPT(api, h, rc, CURLOPT_PROXY, proxy);
    /* Without it libcurl reads NO_PROXY/no_proxy, and "*" there would send
     * the request around a configured proxy. */
    PK_SETOPT(api, h, rc, CURLOPT_NOPROXY, "");
    PK_SETOPT(api, h, rc, CURLOPT_TIMEOUT_MS, ms);
    PK_SETOPT(api, h, rc, CURLOPT_CONNECTTIMEOUT_MS, ms);
    PK_SETOPT(api, h, rc, CURLOPT_TCP_KEEPALIVE, 0L);
    PK_SETOPT(api, h, rc, CURLOPT_USERAGENT, PK_HTTP_USER_AGENT);
    PK_SETOPT(api, h, rc, CURLOPT_HTTPHEADER, headers);
    /* Our headers (the bearer token) never go to a proxy's CONNECT. */
    PK_SETOPT(api, h, rc, CURLOPT_HEADEROPT, CURLHEADER_SEPARATE);
    /* No CURLOPT_ACCEPT_ENCODING: a compressed body could expand past the cap
     * inside libcurl before our callback sees it. */
    PK_SETOPT(api, h, rc, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body);
    PK_SETOPT(api, h, rc, CURLOPT_WRITEFUNCTION, pk_sink_write);
    PK_SETOPT(api, h, rc, CURLOPT_WRITEDATA, sink);
    if (x->method == PK_HTTP_POST_FORM || x->method == PK_HTTP_POST_JSON) {
        /* libcurl sends our buffer, not a copy: the caller's wipe covers it. */
        PK_SETOPT(api, h, rc, CURLOPT_POST, 1L);
        PK_SETOPT(api, h, rc, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->form_len);
        PK_SETOPT(api, h, rc, CURLOPT_POSTFIELDS, x->form);
    }
    return rc;
}

static bool pk_request_ok(const struct pk_http_exchange *x, char *err, size_t err_len)
{
    if (x == NULL || x->url == NULL || strncasecmp(x->url, "https://", 8) != 0) {
        pk_http_set_err(err, err_len, "URL is not https");
        return false;
    }
    switch (x->method) {
    case PK_HTTP_GET_BEARER:
        if (!pk_bearer_ok(x->bearer, x->bearer_len)) {
            pk_http_set_err(err, err_len, "bearer token unusable in a header");
            return false;
        }
        break;
    case PK_HTTP_GET_PUBLIC:
        if (x->bearer != NULL) {
            pk_http_set_err(err, err_len, "bearer token given for a public GET");
            return false;
        }
        break;
    case PK_HTTP_POST_FORM:
    case PK_HTTP_POST_JSON:
        if (x->form == NULL || x->form_len == 0 || x->form_len > PK_HTTP_FORM_MAX) {
            pk_http_set_err(err, err_len, "form body empty or too large");
            return false;
        }
        break;
    default:
        pk_http_set_err(err, err_len, "unknown request method");
        return false;
    }
    if (x->timeout_ms <= 0 || x->timeout_ms > PK_HTTP_TIMEOUT_MAX_MS) {
        pk_http_set_err(err, err_len, "timeout out of range");
        return false;
    }
    if (x->max_body == 0 || x->max_body > SIZE_MAX / 4) {
        pk_http_set_err(err, err_len, "body cap out of range");
        return false;
    }
    return true;
}

/* The request headers: the Authorization line, then the fixed ones. *list
 * is NULL when there are none; false only when out of memory. */
static bool pk_request_headers(const struct pk_curl_api *api, const struct pk_http_exchange *x,
                               struct curl_slist **list)
{
    *list = NULL;
    if (x->method == PK_HTTP_GET_BEARER) {
        *list = pk_auth_header(api, x->bearer, x->bearer_len);
        if (*list == NULL)
            return false;
    }
    for (size_t i = 0; i < x->n_headers; i++) {
        struct curl_slist *n = api->slist_append(*list, x->headers[i]);
        if (n == NULL) {
            pk_free_headers(api, *list);
            *list = NULL;
            return false;
        }
        *list = n;
    }
    return true;
}

enum pk_status pk_http_exchange(const struct pk_http_exchange *x, struct pk_http_response *resp,
                                char *err, size_t err_len)
{
    char curl_err[CURL_ERROR_SIZE];
    struct pk_body_sink sink = {0};
    struct curl_slist *headers;
    struct pk_curl_api api;
    struct pk_http_slot *slot = NULL;
    enum pk_http_failure failure;
    enum pk_status st;
    CURLcode rc;
    CURL *h = NULL;

    if (err != NULL && err_len > 0)
        err[0] = '\0';
    if (resp == NULL) {
        pk_http_set_err(err, err_len, "no response buffer");
        return PK_ST_UNAVAILABLE;
    }
    resp->status = 0;
    resp->body = NULL;
    resp->len = 0;
    resp->failure = PK_HTTP_ERROR;
    if (!pk_request_ok(x, err, err_len))
        return PK_ST_UNAVAILABLE;
    failure = pk_curl_load(&api, err, err_len);
    if (failure != PK_HTTP_NO_FAILURE) {
        resp->failure = failure;
        return failure == PK_HTTP_UNSAFE_ENV ? PK_ST_REFUSED : PK_ST_UNAVAILABLE;
    }

    sink.max = x->max_body;
    curl_err[0] = '\0';

    if (!pk_request_headers(&api, x, &headers)) {
        pk_curl_unload(&api);
        pk_http_set_err(err, err_len, "out of memory");
        return PK_ST_NOMEM;
    }
    if (x->pool != NULL)
        h = pk_pool_borrow(x->pool, &slot);
    if (h == NULL)
        h = api.easy_init();
    if (h == NULL) {
        pk_free_headers(&api, headers);
        pk_curl_unload(&api);
        pk_http_set_err(err, err_len, "curl_easy_init failed");
        return PK_ST_UNAVAILABLE;
    }

    rc = pk_configure(&api, h, x, headers, &sink, curl_err);
    if (rc != CURLE_OK) {
        pk_http_set_err(err, err_len, api.easy_strerror(rc));
        st = (rc == CURLE_OUT_OF_MEMORY) ? PK_ST_NOMEM : PK_ST_UNAVAILABLE;
        goto out;
    }

    rc = api.easy_perform(h);
    if (api.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status) != CURLE_OK)
        resp->status = 0;
    if (rc != CURLE_OK) {
        st = pk_map_curl_error(rc, &sink, &resp->failure);
        if (resp->failure == PK_HTTP_TOO_BIG)
            pk_http_set_err(err, err_len, "response body over the cap");
        else
            pk_http_set_err(err, err_len, curl_err[0] != '\0' ? curl_err : api.easy_strerror(rc));
        goto out;
    }

    /* Always hand back a NUL-terminated buffer, even for an empty body. */
    if (!pk_sink_reserve(&sink, sink.len + 1)) {
        pk_http_set_err(err, err_len, "out of memory");
        st = PK_ST_NOMEM;
        goto out;
    }
    sink.buf[sink.len] = '\0';
    resp->body = sink.buf;
    resp->len = sink.len;
    /* resp->body owns the buffer now. Bytes past len + 1 were never written,
     * so pk_http_response_free wiping len + 1 bytes covers the whole body. */
    sink.buf = NULL;
    resp->failure = PK_HTTP_NO_FAILURE;
    st = PK_ST_OK;

out:
    pk_sink_free(&sink);
    if (slot != NULL)
        pk_pool_return(x->pool, slot);
    else
        api.easy_cleanup(h);
    pk_free_headers(&api, headers);
    pk_curl_unload(&api);
    return st;
}

/* A GET as the one exchange sees it. */
static enum pk_status pk_http_get_as(enum pk_http_method method, const struct pk_http_request *req,
                                     struct pk_http_response *resp, char *err, size_t err_len)
{
    struct pk_http_exchange x;

    if (req == NULL)
        return pk_http_exchange(NULL, resp, err, err_len);
    memset(&x, 0, sizeof(x));
    x.method = method;
    x.url = req->url;
    x.bearer = req->bearer;
    x.bearer_len = req->bearer_len;
    x.ca_file = req->ca_file;
    x.proxy = req->proxy;
    x.timeout_ms = req->timeout_ms;
    x.max_body = req->max_body;
    return pk_http_exchange(&x, resp, err, err_len);
}

enum pk_status pk_http_get(const struct pk_http_request *req, struct pk_http_response *resp,
                           char *err, size_t err_len)
{
    return pk_http_get_as(PK_HTTP_GET_BEARER, req, resp, err, err_len);
}

enum pk_status pk_http_get_public(const struct pk_http_request *req, struct pk_http_response *resp,
                                  char *err, size_t err_len)
{
    return pk_http_get_as(PK_HTTP_GET_PUBLIC, req, resp, err, err_len);
}

enum pk_status pk_http_post(enum pk_http_method method, struct pk_http_pool *pool,
                            const struct pk_http_form_request *req, struct pk_http_response *resp,
                            char *err, size_t err_len)
{
    static const char *const form_headers[] = {
        "Content-Type: application/x-www-form-urlencoded;charset=utf-8",
        "Accept: application/json",
        /* No "Expect: 100-continue" round trip. */
        "Expect:",
    };
    static const char *const json_headers[] = {
        "Content-Type: application/json",
        "Accept: application/json",
        "Expect:",
    };
    struct pk_http_exchange x;

    if (req == NULL || (method != PK_HTTP_POST_FORM && method != PK_HTTP_POST_JSON))
        return pk_http_exchange(NULL, resp, err, err_len);
    memset(&x, 0, sizeof(x));
    x.method = method;
    x.url = req->url;
    x.form = req->body;
    x.form_len = req->body_len;
    x.headers = method == PK_HTTP_POST_JSON ? json_headers : form_headers;
    x.n_headers = 3;
    x.ca_file = req->ca_file;
    x.proxy = req->proxy;
    x.timeout_ms = req->timeout_ms;
    x.max_body = req->max_body;
    x.pool = pool;
    return pk_http_exchange(&x, resp, err, err_len);
}

enum pk_status pk_http_post_json(const struct pk_http_form_request *req,
                                 struct pk_http_response *resp, char *err, size_t err_len)
{
    return pk_http_post(PK_HTTP_POST_JSON, NULL, req, resp, err, err_len);
}

void pk_http_response_free(struct pk_http_response *resp)
{
    if (resp == NULL)
        return;
    pk_free_secret(resp->body, resp->body != NULL ? resp->len + 1 : 0);
    resp->body = NULL;
    resp->len = 0;
    resp->status = 0;
    resp->failure = PK_HTTP_NO_FAILURE;
}

void pk_http_failure_text(enum pk_status st, enum pk_http_failure failure, const char *err,
                          long timeout_s, size_t max_body, char *out, size_t out_len)
{
    const char *why = (err != NULL) ? err : "";

    if (out == NULL || out_len == 0)
        return;
    if (st == PK_ST_NOMEM) {
        (void)snprintf(out, out_len, "out of memory");
        return;
    }
    switch (failure) {
    case PK_HTTP_TIMEOUT:
        (void)snprintf(out, out_len, "timeout after %ld s", timeout_s);
        return;
    case PK_HTTP_CONNECT:
        (void)snprintf(out, out_len, "connect: \"%s\"", why);
        return;
    case PK_HTTP_TLS:
        (void)snprintf(out, out_len, "TLS: \"%s\"", why);
        return;
    case PK_HTTP_TOO_BIG:
        (void)snprintf(out, out_len, "response over %zu bytes", max_body);
        return;
    case PK_HTTP_UNSAFE_ENV:
        (void)snprintf(out, out_len, "%s", why);
        return;
    case PK_HTTP_NO_FAILURE:
    case PK_HTTP_ERROR:
    default:
        (void)snprintf(out, out_len, "request failed: \"%s\"", why);
        return;
    }
}
