/* tests/bench/relay_bench.c — the load driver for kakao-pam-relay in make bench
 * (tests/bench/bench.sh starts the relay, the mock Kakao and mhd_fixed, runs these, and
 * writes BENCHMARKS.md).
 *
 *   relay_bench login BASE PUBLIC_URL CLIENTS SECONDS [CA_FILE]
 *       CLIENTS threads, each doing complete logins for SECONDS: POST /v1/sessions,
 *       POST /a/{short} (the approve form), the 303 to Kakao's /oauth/authorize (the mock
 *       auto-approves), its 302 to the relay's /callback, the 6-digit code read from the code
 *       page, POST /v1/sessions/S/redeem -> 200 with an assertion.
 *   relay_bench create NAME BASE CLIENTS SECONDS
 *       CLIENTS threads doing POST /v1/sessions only (against the relay, or mhd_fixed).
 *   relay_bench memory BASE PID SESSIONS
 *       VmRSS of process PID before and after creating SESSIONS sessions.
 *   relay_bench module LOGINS CA_FILE NAME=SERVICE:USER[:TOKEN_FILE]...
 *       The module's side, in this process under pam_wrapper: LOGINS logins of each case
 *       (after 3 not measured), the cases alternating, each pam_start ... pam_authenticate ...
 *       pam_end. A case with a token file answers the prompt with the token; one without is a
 *       relay login: at the prompt the driver approves the session as the phone would (the
 *       steps of `login` from POST /a/{short} to the code page, against the URL in the prompt)
 *       and answers the code. The module's time is the login's less that approval: session
 *       open, redeem, assertion check and user map, with libpam's own work around them.
 *
 * BASE is where the relay listens (http://127.0.0.1:PORT); PUBLIC_URL is its public_url: the
 * URLs it hands out start with it and are sent to BASE instead, as a TLS reverse proxy in
 * front of the relay would. CA_FILE verifies the mock Kakao. One libcurl easy handle per
 * thread, so connections are kept alive as a phone's browser and a host's module would.
 * Every result is one line, "relay NAME key=value ...", times in microseconds; the first
 * failure of each kind is described on stderr. Measurements only: nothing here asserts a
 * target. */
#include <ctype.h>
#include <curl/curl.h>
#include <security/pam_appl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/pam/answer_conv.h"

#define MAX_BODY (64 * 1024)
#define MAX_URL 2048
#define REQUEST_TIMEOUT_S 30L

enum mode { MODE_LOGIN, MODE_CREATE };

struct run {
    enum mode mode;
    const char *base;       /* the relay, as the driver reaches it */
    const char *public_url; /* the relay's public_url: rewritten to base */
    const char *ca_file;    /* NULL: libcurl's default */
    double deadline;        /* monotonic seconds; set between the two barriers */
    pthread_barrier_t ready, start;
    pthread_mutex_t err_lock;
    bool err_shown;
};

struct worker {
    pthread_t thread;
    struct run *run;
    size_t index; /* its own client address in X-Forwarded-For: 10.0.index/256.index%256 */
    CURL *h;
    double *lat_us;
    size_t n, cap;
    size_t failures;
    size_t status_429, status_503;
    const char *transport_error; /* of the last request; NULL: it got an answer */
};

struct buf {
    char p[MAX_BODY + 1];
    char text[MAX_BODY + 1]; /* the code page's text, for find_code */
    size_t len;
    bool truncated;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    struct buf *b = user;
    size_t n = size * nmemb;
    size_t room = MAX_BODY - b->len;
    if (n > room) {
        b->truncated = true;
        return 0;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

/* One request on the worker's handle (connections kept). Returns the HTTP status, 0 on a
 * transport failure; *location gets the Location header resolved to an absolute URL. */
static long request(struct worker *w, const char *method, const char *url, const char *ctype,
                    const char *body, struct buf *out, char *location, size_t location_len)
{
    CURL *h = w->h;
    out->len = 0;
    out->p[0] = '\0';
    out->truncated = false;
    if (location_len > 0)
        location[0] = '\0';
    curl_easy_reset(h); /* keeps the live connections */
    struct curl_slist *hdrs = NULL;
    char line[128];
    /* Each client its own address (the relay trusts 127.0.0.1 as a proxy), so that
     * rate_limit, which counts per client address, measures nothing but itself. */
    snprintf(line, sizeof(line), "X-Forwarded-For: 10.0.%zu.%zu", w->index / 256, w->index % 256);
    hdrs = curl_slist_append(hdrs, line);
    if (hdrs == NULL)
        return 0;
    if (ctype != NULL) {
        struct curl_slist *more;
        snprintf(line, sizeof(line), "Content-Type: %s", ctype);
        more = curl_slist_append(hdrs, line);
        if (more == NULL) {
            curl_slist_free_all(hdrs);
            return 0;
        }
        hdrs = more;
    }
    bool ok = curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_WRITEDATA, out) == CURLE_OK &&
              curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) == CURLE_OK &&
              (w->run->ca_file == NULL ||
               curl_easy_setopt(h, CURLOPT_CAINFO, w->run->ca_file) == CURLE_OK);
    if (ok && strcmp(method, "POST") == 0)
        ok = curl_easy_setopt(h, CURLOPT_POSTFIELDS, body != NULL ? body : "") == CURLE_OK;
    long status = 0;
    CURLcode rc = ok ? curl_easy_perform(h) : CURLE_FAILED_INIT;
    w->transport_error = rc != CURLE_OK ? curl_easy_strerror(rc) : NULL;
    if (rc == CURLE_OK && curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
        location_len > 0) {
        char *loc = NULL;
        if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc != NULL &&
            strlen(loc) < location_len)
            memcpy(location, loc, strlen(loc) + 1);
    }
    curl_slist_free_all(hdrs);
    return status;
}

/* URLs the relay hands out start with its public_url; the driver reaches it at base. */
static bool to_base(const struct run *r, const char *url, char *out, size_t out_len)
{
    size_t pl = strlen(r->public_url);
    const char *rest = url;
    if (strncmp(url, r->public_url, pl) == 0 &&
        (url[pl] == '/' || url[pl] == '?' || url[pl] == '\0'))
        rest = url + pl;
    else if (strncmp(url, r->base, strlen(r->base)) == 0)
        rest = url + strlen(r->base);
    else
        return false;
    return (size_t)snprintf(out, out_len, "%s%s", r->base, rest) < out_len;
}

static void fail(struct worker *w, const char *step, long status, const char *detail)
{
    w->failures++;
    if (status == 429)
        w->status_429++;
    else if (status == 503)
        w->status_503++;
    pthread_mutex_lock(&w->run->err_lock);
    if (status == 0 && w->transport_error != NULL)
        detail = w->transport_error;
    if (!w->run->err_shown) {
        w->run->err_shown = true;
        fprintf(stderr, "relay_bench: first failure: %s: HTTP %ld%s%s\n", step, status,
                detail != NULL ? ": " : "", detail != NULL ? detail : "");
    }
    pthread_mutex_unlock(&w->run->err_lock);
}

static bool record(struct worker *w, double us)
{
    if (w->n == w->cap) {
        size_t cap = w->cap != 0 ? w->cap * 2 : 1024;
        double *p = realloc(w->lat_us, cap * sizeof(*p));
        if (p == NULL)
            return false;
        w->lat_us = p;
        w->cap = cap;
    }
    w->lat_us[w->n++] = us;
    return true;
}

static bool is_b64url(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

/* Inline elements a page may wrap the code's groups in: their tags join text. */
static bool inline_tag(const char *name, size_t len)
{
    static const char *const names[] = {"span", "b",    "strong", "em",   "i",     "code",
                                        "kbd",  "samp", "tt",     "mark", "small", "big"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == len && strncasecmp(name, names[i], len) == 0)
            return true;
    return false;
}

/* The page's text: tags removed (inline ones join, others break), the contents of <style>,
 * <script> and <title> dropped, no-break and thin spaces made spaces, other entities and
 * non-ASCII bytes a break. '|' stands for a break. */
static void page_text(const char *html, char *out, size_t out_len)
{
    size_t o = 0;
    const char *p = html;
    while (*p != '\0' && o + 1 < out_len) {
        char c = '|';
        if (*p == '<') {
            const char *q = p + 1 + (p[1] == '/');
            size_t nl = strcspn(q, " \t\r\n/>");
            const char *end = strchr(p, '>');
            if (end == NULL)
                break;
            bool closing = p[1] == '/';
            bool skip = !closing && ((nl == 5 && strncasecmp(q, "style", 5) == 0) ||
                                     (nl == 6 && strncasecmp(q, "script", 6) == 0) ||
                                     (nl == 5 && strncasecmp(q, "title", 5) == 0));
            bool join = inline_tag(q, nl);
            p = end + 1;
            if (skip) {
                char close[16];
                snprintf(close, sizeof(close), "</%.*s", (int)nl, q);
                const char *e = strcasestr(p, close);
                if (e == NULL)
                    break;
                p = e;
            }
            if (join)
                continue;
        } else if (*p == '&') {
            const char *semi = strchr(p, ';');
            size_t n = semi != NULL ? (size_t)(semi - p) + 1 : 1;
            if (n <= 10 && (strncmp(p, "&nbsp;", n) == 0 || strncmp(p, "&#160;", n) == 0 ||
                            strncasecmp(p, "&#xa0;", n) == 0 || strncmp(p, "&thinsp;", n) == 0 ||
                            strncmp(p, "&#8201;", n) == 0 || strncmp(p, "&#8239;", n) == 0))
                c = ' ';
            p += n <= 10 ? n : 1;
        } else if ((unsigned char)p[0] == 0xc2 && (unsigned char)p[1] == 0xa0) {
            c = ' ';
            p += 2;
        } else if ((unsigned char)p[0] == 0xe2 && (unsigned char)p[1] == 0x80 &&
                   ((unsigned char)p[2] == 0x89 || (unsigned char)p[2] == 0xaf)) {
            c = ' ';
            p += 3;
        } else {
            unsigned char u = (unsigned char)*p++;
            if (isdigit(u))
                c = (char)u;
            else if (u == ' ' || u == '\t' || u == '\r' || u == '\n')
                c = ' ';
            else if (u < 0x80 && isprint(u))
                c = (char)u;
        }
        out[o++] = c;
    }
    out[o] = '\0';
}

/* The code on the code page: six digits standing alone, whole or grouped "481 205". */
static bool find_code(struct buf *b, char code[7])
{
    char *t = b->text;
    page_text(b->p, t, sizeof(b->text));
    for (const char *p = t; *p != '\0'; p++) {
        if (!isdigit((unsigned char)*p) || (p > t && isdigit((unsigned char)p[-1])))
            continue;
        size_t g1 = strspn(p, "0123456789");
        if (g1 == 6 && !isdigit((unsigned char)p[6])) {
            memcpy(code, p, 6);
            code[6] = '\0';
            return true;
        }
        if (g1 != 3)
            continue;
        size_t sp = strspn(p + 3, " ");
        if (sp == 0 || sp > 2 || strspn(p + 3 + sp, "0123456789") != 3)
            continue;
        memcpy(code, p, 3);
        memcpy(code + 3, p + 3 + sp, 3);
        code[6] = '\0';
        return true;
    }
    return false;
}

static const char session_body[] =
    "{\"user\":\"alice\",\"service\":\"sshd\",\"host\":\"bench-host\",\"rhost\":\"203.0.113.5\"}";

/* POST /v1/sessions; fills S and U when asked. */
static bool create_session(struct worker *w, struct buf *b, char *s, size_t s_len, char *u,
                           size_t u_len)
{
    char url[MAX_URL];
    snprintf(url, sizeof(url), "%s/v1/sessions", w->run->base);
    long st = request(w, "POST", url, "application/json", session_body, b, NULL, 0);
    if (st != 201) {
        fail(w, "POST /v1/sessions", st, NULL);
        return false;
    }
    if (s == NULL)
        return true;
    json_t *j = json_loadb(b->p, b->len, JSON_REJECT_DUPLICATES, NULL);
    const char *js = j != NULL ? json_string_value(json_object_get(j, "session")) : NULL;
    const char *ju = j != NULL ? json_string_value(json_object_get(j, "url")) : NULL;
    bool ok =
        js != NULL && ju != NULL && is_b64url(js, 128) && strlen(js) < s_len && strlen(ju) < u_len;
    if (ok) {
        memcpy(s, js, strlen(js) + 1);
        memcpy(u, ju, strlen(ju) + 1);
    } else {
        fail(w, "POST /v1/sessions", st, "no session or url in the answer");
    }
    json_decref(j);
    return ok;
}

/* The phone's part: the approval form at shown (the URL the user is shown), Kakao's
 * authorize (the mock approves), the callback, the code read from the page. */
static bool approve(struct worker *w, struct buf *b, const char *shown, char code[7])
{
    const struct run *r = w->run;
    char u[MAX_URL], url[MAX_URL], loc[MAX_URL];
    /* u, url and loc: never one buffer as both a request's URL and its Location */
    if (!to_base(r, shown, url, sizeof(url))) {
        fail(w, "POST /v1/sessions", 201, "url not under public_url");
        return false;
    }
    long st = request(w, "POST", url, "application/x-www-form-urlencoded", "", b, loc, sizeof(loc));
    if (st != 303 || loc[0] == '\0') {
        fail(w, "POST /a/{short}", st, "expected 303 with a Location");
        return false;
    }
    st = request(w, "GET", loc, NULL, NULL, b, u, sizeof(u));
    if (st != 302 || u[0] == '\0') {
        fail(w, "GET /oauth/authorize", st, "expected 302 with a Location");
        return false;
    }
    if (!to_base(r, u, url, sizeof(url))) {
        fail(w, "GET /oauth/authorize", st, "redirect not under public_url");
        return false;
    }
    st = request(w, "GET", url, NULL, NULL, b, NULL, 0);
    if (st != 200 || !find_code(b, code)) {
        fail(w, "GET /callback", st, st == 200 ? "no 6-digit code on the page" : NULL);
        return false;
    }
    return true;
}

static bool one_login(struct worker *w, struct buf *b)
{
    const struct run *r = w->run;
    char s[160], u[MAX_URL], url[MAX_URL], code[7];
    if (!create_session(w, b, s, sizeof(s), u, sizeof(u)) || !approve(w, b, u, code))
        return false;
    snprintf(url, sizeof(url), "%s/v1/sessions/%s/redeem", r->base, s);
    char body[32];
    snprintf(body, sizeof(body), "{\"code\":\"%s\"}", code);
    long st = request(w, "POST", url, "application/json", body, b, NULL, 0);
    if (st != 200 || strstr(b->p, "\"assertion\"") == NULL) {
        fail(w, "POST /v1/sessions/S/redeem", st, NULL);
        return false;
    }
    return true;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    struct buf *b = malloc(sizeof(*b));
    /* One warm-up round before the barrier: connections open, nothing measured. */
    if (b != NULL)
        (void)(r->mode == MODE_LOGIN ? one_login(w, b) : create_session(w, b, NULL, 0, NULL, 0));
    w->failures = w->status_429 = w->status_503 = 0;
    pthread_barrier_wait(&r->ready);
    pthread_barrier_wait(&r->start);
    if (b == NULL) {
        w->failures++;
        return NULL;
    }
    while (now_s() < r->deadline) {
        double t0 = now_s();
        bool ok = r->mode == MODE_LOGIN ? one_login(w, b) : create_session(w, b, NULL, 0, NULL, 0);
        if (ok && !record(w, (now_s() - t0) * 1e6))
            w->failures++;
    }
    free(b);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static bool parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int run_load(enum mode mode, const char *name, const char *base, const char *public_url,
                    const char *clients_s, const char *seconds_s, const char *ca_file)
{
    unsigned long clients = 0, seconds = 0;
    if (!parse_ulong(clients_s, 1, 4096, &clients) || !parse_ulong(seconds_s, 1, 600, &seconds)) {
        fprintf(stderr, "relay_bench: bad CLIENTS or SECONDS\n");
        return 2;
    }
    struct run r = {.mode = mode, .base = base, .public_url = public_url, .ca_file = ca_file};
    if (pthread_barrier_init(&r.ready, NULL, (unsigned)clients + 1) != 0 ||
        pthread_barrier_init(&r.start, NULL, (unsigned)clients + 1) != 0 ||
        pthread_mutex_init(&r.err_lock, NULL) != 0)
        return 1;
    struct worker *ws = calloc(clients, sizeof(*ws));
    if (ws == NULL)
        return 1;
    size_t started = 0;
    for (size_t i = 0; i < clients; i++) {
        ws[i].run = &r;
        ws[i].index = i;
        ws[i].h = curl_easy_init();
        if (ws[i].h == NULL || pthread_create(&ws[i].thread, NULL, work, &ws[i]) != 0) {
            fprintf(stderr, "relay_bench: cannot start client %zu\n", i);
            return 1; /* the started ones wait at the barrier forever: exit now */
        }
        started++;
    }
    /* Every client has done its warm-up round; the clock starts for all at once. Workers
     * read the deadline only after the second barrier, which orders this write for them. */
    pthread_barrier_wait(&r.ready);
    double t0 = now_s();
    r.deadline = t0 + (double)seconds;
    pthread_barrier_wait(&r.start);
    size_t n = 0, failures = 0, s429 = 0, s503 = 0;
    for (size_t i = 0; i < started; i++) {
        pthread_join(ws[i].thread, NULL);
        n += ws[i].n;
        failures += ws[i].failures;
        s429 += ws[i].status_429;
        s503 += ws[i].status_503;
    }
    double elapsed = now_s() - t0;
    double *all = malloc((n != 0 ? n : 1) * sizeof(*all));
    size_t k = 0;
    for (size_t i = 0; i < started; i++) {
        if (all != NULL)
            memcpy(all + k, ws[i].lat_us, ws[i].n * sizeof(*all));
        k += ws[i].n;
        free(ws[i].lat_us);
        curl_easy_cleanup(ws[i].h);
    }
    free(ws);
    if (all == NULL)
        return 1;
    qsort(all, n, sizeof(*all), cmp_double);
    printf("relay %s clients=%lu %s=%zu seconds=%.1f per_s=%.1f p50_us=%.1f p99_us=%.1f "
           "max_us=%.1f failures=%zu status_429=%zu status_503=%zu\n",
           name, clients, mode == MODE_LOGIN ? "logins" : "requests", n, elapsed,
           (double)n / elapsed, pct(all, n, 0.50), pct(all, n, 0.99), n ? all[n - 1] : 0.0,
           failures, s429, s503);
    free(all);
    pthread_barrier_destroy(&r.ready);
    pthread_barrier_destroy(&r.start);
    pthread_mutex_destroy(&r.err_lock);
    return n > 0 ? 0 : 1;
}

static long vm_rss_kib(unsigned long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%lu/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    long kib = -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static int run_memory(const char *base, const char *pid_s, const char *sessions_s)
{
    unsigned long pid = 0, sessions = 0;
    if (!parse_ulong(pid_s, 1, 4194304, &pid) || !parse_ulong(sessions_s, 1, 1000000, &sessions)) {
        fprintf(stderr, "relay_bench: bad PID or SESSIONS\n");
        return 2;
    }
    struct run r = {.mode = MODE_CREATE, .base = base, .public_url = base};
    if (pthread_mutex_init(&r.err_lock, NULL) != 0)
        return 1;
    struct worker w = {.run = &r, .h = curl_easy_init()};
    struct buf *b = malloc(sizeof(*b));
    if (w.h == NULL || b == NULL) {
        free(b);
        curl_easy_cleanup(w.h);
        return 1;
    }
    /* Warm-up: the connection, the relay's first allocations and tables. */
    for (unsigned i = 0; i < 100; i++)
        (void)create_session(&w, b, NULL, 0, NULL, 0);
    w.failures = 0;
    long before = vm_rss_kib(pid);
    size_t made = 0;
    for (unsigned long i = 0; i < sessions; i++)
        made += create_session(&w, b, NULL, 0, NULL, 0);
    long after = vm_rss_kib(pid);
    free(b);
    curl_easy_cleanup(w.h);
    pthread_mutex_destroy(&r.err_lock);
    if (before < 0 || after < 0) {
        fprintf(stderr, "relay_bench: cannot read VmRSS of %lu\n", pid);
        return 1;
    }
    printf("relay memory sessions=%zu rss_before_kib=%ld rss_after_kib=%ld "
           "bytes_per_session=%.0f failures=%zu\n",
           made, before, after, made ? (double)(after - before) * 1024.0 / (double)made : 0.0,
           w.failures);
    return made > 0 ? 0 : 1;
}

/* ---- the module's side (module) ---- */

#define MODULE_CASES 8
#define MODULE_WARMUP 3

struct module_case {
    const char *name, *service, *user;
    char token[8192]; /* "": a relay login */
    double *lat_us, *approve_us;
    size_t n, failures;
};

struct module_conv {
    struct worker *w;
    struct buf *b;
    const char *token;
    double approve_s; /* time spent approving, taken out of the login's */
};

/* Answers the prompt: the token, or (relay) the code after approving the URL in it. */
static int module_answer(void *data, const struct pam_message *msg, char *buf, size_t len,
                         const char **answer)
{
    struct module_conv *c = data;
    char url[MAX_URL];
    if (msg->msg_style != PAM_PROMPT_ECHO_OFF && msg->msg_style != PAM_PROMPT_ECHO_ON)
        return PAM_SUCCESS;
    *answer = c->token;
    if (c->token[0] == '\0') {
        const char *u = strstr(msg->msg, "https://");
        double t0 = now_s();
        bool ok = len >= 7 && u != NULL && strcspn(u, " ") < sizeof(url);
        if (ok) {
            snprintf(url, sizeof(url), "%.*s", (int)strcspn(u, " "), u);
            ok = approve(c->w, c->b, url, buf);
        }
        c->approve_s += now_s() - t0;
        if (!ok)
            return PAM_CONV_ERR;
        *answer = buf;
    }
    return PAM_SUCCESS;
}

static int module_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp,
                          void *data)
{
    return ac_converse(n, msg, resp, module_answer, data);
}

/* NAME=SERVICE:USER[:TOKEN_FILE], the strings kept in arg. */
static bool module_case_parse(char *arg, struct module_case *c)
{
    char *eq = strchr(arg, '='), *colon = eq != NULL ? strchr(eq + 1, ':') : NULL, *file;
    if (colon == NULL)
        return false;
    *eq = *colon = '\0';
    c->name = arg;
    c->service = eq + 1;
    c->user = colon + 1;
    file = strchr(c->user, ':');
    c->token[0] = '\0';
    if (file == NULL)
        return true;
    *file++ = '\0';
    FILE *f = fopen(file, "r");
    if (f == NULL || fgets(c->token, sizeof(c->token), f) == NULL) {
        if (f != NULL)
            fclose(f);
        return false;
    }
    fclose(f);
    c->token[strcspn(c->token, "\n")] = '\0';
    return c->token[0] != '\0';
}

/* One login of case c: its module time (login less approval) into c's samples. */
static void module_login(struct module_case *c, struct worker *w, struct buf *b, bool measured)
{
    struct module_conv mc = {w, b, c->token, 0.0};
    struct pam_conv pc = {module_conv_fn, &mc};
    pam_handle_t *ph = NULL;
    double t0 = now_s();
    int rv = pam_start(c->service, c->user, &pc, &ph);
    if (rv == PAM_SUCCESS) {
        rv = pam_authenticate(ph, PAM_SILENT);
        (void)pam_end(ph, rv);
    }
    double us = (now_s() - t0 - mc.approve_s) * 1e6;
    if (!measured)
        return;
    if (rv != PAM_SUCCESS) {
        c->failures++;
        if (c->failures == 1)
            fprintf(stderr, "relay_bench: module %s: %s\n", c->name, pam_strerror(NULL, rv));
        return;
    }
    c->lat_us[c->n] = us;
    c->approve_us[c->n] = mc.approve_s * 1e6;
    c->n++;
}

static int run_module(int argc, char **argv)
{
    unsigned long logins = 0;
    struct module_case cases[MODULE_CASES];
    int ncases = argc - 5;
    struct run r = {.mode = MODE_LOGIN, .base = argv[4], .public_url = argv[4], .ca_file = argv[3]};
    struct worker w = {.run = &r};
    struct buf *b = malloc(sizeof(*b));
    int rc = 0;

    if (!parse_ulong(argv[2], 1, 100000, &logins) || ncases < 1 || ncases > MODULE_CASES ||
        b == NULL || pthread_mutex_init(&r.err_lock, NULL) != 0) {
        fprintf(stderr, "relay_bench: bad LOGINS or cases\n");
        free(b);
        return 2;
    }
    memset(cases, 0, sizeof(cases));
    for (int i = 0; i < ncases; i++) {
        cases[i].lat_us = calloc(logins, sizeof(double));
        cases[i].approve_us = calloc(logins, sizeof(double));
        if (!module_case_parse(argv[5 + i], &cases[i]) || cases[i].lat_us == NULL ||
            cases[i].approve_us == NULL) {
            fprintf(stderr, "relay_bench: bad case %s\n", argv[5 + i]);
            rc = 2;
            goto out;
        }
    }
    w.h = curl_easy_init();
    if (w.h == NULL) {
        rc = 1;
        goto out;
    }
    /* Rounds of one login of each case, so a busy machine slows them alike. */
    for (unsigned long k = 0; k < logins + MODULE_WARMUP; k++)
        for (int i = 0; i < ncases; i++)
            module_login(&cases[i], &w, b, k >= MODULE_WARMUP);
    for (int i = 0; i < ncases; i++) {
        struct module_case *c = &cases[i];
        qsort(c->lat_us, c->n, sizeof(double), cmp_double);
        qsort(c->approve_us, c->n, sizeof(double), cmp_double);
        printf("module %s logins=%zu p50_us=%.1f p99_us=%.1f max_us=%.1f approve_p50_us=%.1f "
               "failures=%zu\n",
               c->name, c->n, pct(c->lat_us, c->n, 0.50), pct(c->lat_us, c->n, 0.99),
               c->n ? c->lat_us[c->n - 1] : 0.0, pct(c->approve_us, c->n, 0.50), c->failures);
        if (c->n == 0)
            rc = 1;
    }
    curl_easy_cleanup(w.h);
out:
    for (int i = 0; i < ncases; i++) {
        free(cases[i].lat_us);
        free(cases[i].approve_us);
    }
    free(b);
    pthread_mutex_destroy(&r.err_lock);
    return rc;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: relay_bench login BASE PUBLIC_URL CLIENTS SECONDS [CA_FILE]\n"
            "       relay_bench create NAME BASE CLIENTS SECONDS\n"
            "       relay_bench memory BASE PID SESSIONS\n"
            "       relay_bench module LOGINS CA_FILE RELAY_URL NAME=SERVICE:USER[:TOKEN]...\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    int rc;
    if (argc >= 6 && argc <= 7 && strcmp(argv[1], "login") == 0)
        rc = run_load(MODE_LOGIN, "login", argv[2], argv[3], argv[4], argv[5],
                      argc == 7 ? argv[6] : NULL);
    else if (argc == 6 && strcmp(argv[1], "create") == 0)
        rc = run_load(MODE_CREATE, argv[2], argv[3], argv[3], argv[4], argv[5], NULL);
    else if (argc == 5 && strcmp(argv[1], "memory") == 0)
        rc = run_memory(argv[2], argv[3], argv[4]);
    else if (argc >= 6 && strcmp(argv[1], "module") == 0)
        rc = run_module(argc, argv);
    else
        rc = usage();
    curl_global_cleanup();
    return rc;
}
