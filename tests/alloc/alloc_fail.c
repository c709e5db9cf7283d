/* Allocation-failure injection along the JWT, Kakao and relay paths.
 *
 * For each scenario (an authentication through pk_auth_prepare and
 * pk_auth_decide: config, user map, key, token, mapping, and for Kakao
 * tokens the HTTPS calls to the mock Kakao API) the run is repeated with
 * the Nth allocation of the process failing, for N = 1, 2, ... until a run
 * completes without reaching N. Every allocation counts: ours, libcurl's,
 * OpenSSL's, jansson's, libjwt's and libc's (see interpose.h).
 *
 * Rules, for every N: no crash; no block allocated during the run is left
 * after it (but OpenSSL's own caches, see openssl_object); an OpenSSL error
 * queued by the host before the run is still there, alone, after it; and
 * PK_OK only when
 * the clean run of the scenario also ends in PK_OK with the same kakao_id
 * (a library may retry or do without a failed allocation). A scenario that
 * is refused when nothing fails must stay refused.
 *
 * The relay kind (docs/DESIGN.md §4.5): relay_check is the assertion check
 * alone (pk_relay_key_parse, pk_relay_assertion_check); relay_login is the
 * real module through libpam (pam_wrapper, service "pk"): session open, the
 * QR code and the prompt, redeem, assertion, user map, against
 * tests/alloc/relay_standin.py (HTTPS, the same session and a valid
 * assertion every time). There the rules are on the PAM result and the
 * module's last log line: PAM_SUCCESS only with the clean run's line;
 * PAM_BUF_ERR always with an "out of memory: " line (or libpam's own line
 * when libpam failed around the module), and such a line only with
 * PAM_BUF_ERR.
 *
 * Environment (set by tests/run.sh): PK_TEST_DIR, PK_TEST_KEYS; PK_MOCK_PORT
 * and PK_MOCK_CA for the Kakao and relay_login scenarios (skipped without
 * them); pam_wrapper's, with service "pk" reading PK_TEST_DIR/cur.conf.
 * PK_ALLOC_ONLY=NAME runs one scenario, PK_ALLOC_FROM=N starts at N (to
 * debug one run), PK_ALLOC_VERBOSE=1 prints every run. */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <security/pam_appl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "interpose.h"
#include "tests/pam/answer_conv.h"
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif
#include "src/auth.h"
#include "src/jwt_sign.h"
#include "src/relay_kind.h"

extern char **environ;

#define ALICE 3095134389LL
#define MAX_RUNS 200000UL
#define HOST_REASON 77
/* The stand-in's session id S, the nonce of every assertion it serves. */
#define RELAY_SESSION "AllocTestSession-0123456789_abcdefghijklmn"
#define RELAY_LINE_MAX 512

/* How a scenario runs: pk_auth_prepare + pk_auth_decide, the relay
 * assertion check alone, or the module through libpam. */
enum via { VIA_AUTH, VIA_ASSERTION, VIA_PAM };

struct scenario {
    const char *name;
    char conf[512];
    char *token;
    enum pk_outcome want;
    bool online;      /* the Kakao API is asked */
    bool libjwt_leak; /* see lsan_exempt */
    bool enabled;
    enum via via;
};

static char work[400];

/* The relay's side: the stand-in process, the assertion it serves (signed
 * again before it grows old), and where the module's log lines go. */
struct relay {
    const char *keys;
    char host[256];
    char issuer[64];
    char file[600];
    char *assertion;
    time_t signed_at;
    char *pem; /* relay_key's text, for relay_check */
    size_t pem_len;
    pid_t pid;
    FILE *to; /* the stand-in's stdin: closed, it stops */
    int cap_fd, saved_fd;
};

static struct relay relay = {.pid = -1, .cap_fd = -1, .saved_fd = -1};

/* libjwt 1.10.2 asks malloc for (size_t)-1 bytes when an OpenSSL call it
 * makes failed for lack of memory (jwt_verify_sha_pem); glibc answers NULL
 * and libjwt fails the verification, so under ASan do the same. */
const char *__asan_default_options(void);
__attribute__((visibility("default"))) const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

/* glibc's loader leaks the dependency list it was building when an
 * allocation fails inside dlopen (_dl_map_object_deps). relay_login meets it:
 * libpam unloads the module at every pam_end, so the module loads libcurl
 * and libqrencode again (dlopen, src/http.c, src/qr.c) inside every counted
 * login. Not ours, and only when memory is exhausted: kept out of
 * LeakSanitizer's report (our own check leaves ld.so's blocks to it). */
const char *__lsan_default_suppressions(void);
__attribute__((visibility("default"))) const char *__lsan_default_suppressions(void)
{
    return "leak:_dl_map_object_deps\n";
}

static void die(const char *what)
{
    fprintf(stderr, "alloc_fail: %s\n", what);
    exit(2);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0 || chmod(path, 0644) != 0)
        die(path);
}

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(65537);

    if (f == NULL || buf == NULL)
        die(path);
    *len = fread(buf, 1, 65536, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static char *mint_header(const char *keys, const char *key_file, enum pk_alg alg,
                         const char *header, const char *claims)
{
    char path[600], err[256];
    size_t len;
    char *key, *token;

    (void)snprintf(path, sizeof(path), "%s/%s", keys, key_file);
    key = read_text(path, &len);
    if (alg == PK_ALG_HS256 && len > 0 && key[len - 1] == '\n')
        key[--len] = '\0';
    token = pk_jwt_sign(header, claims, alg, (const unsigned char *)key, len, err, sizeof(err));
    if (token == NULL)
        die(err);
    free(key);
    return token;
}

static char *mint(const char *keys, const char *key_file, enum pk_alg alg, const char *claims)
{
    return mint_header(keys, key_file, alg,
                       alg == PK_ALG_HS256   ? "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
                       : alg == PK_ALG_RS256 ? "{\"alg\":\"RS256\",\"typ\":\"JWT\"}"
                                             : "{\"alg\":\"ES256\",\"typ\":\"JWT\"}",
                       claims);
}

/* Signs a fresh assertion for alice (5 minutes, the most the module takes)
 * when there is none or it is a minute old; the stand-in reads the file at
 * each redeem. Never while allocations are counted. */
static void relay_fresh(void)
{
    char claims[1024], tmp[700];
    time_t now = time(NULL);

    if (relay.assertion != NULL && now - relay.signed_at < 60)
        return;
    free(relay.assertion);
    (void)snprintf(claims, sizeof(claims),
                   "{\"iss\":\"%s\",\"aud\":\"%s\",\"nonce\":\"%s\",\"kakao_id\":%lld,"
                   "\"iat\":%lld,\"exp\":%lld,\"auth_time\":%lld,\"jti\":\"alloc-%lld\"}",
                   relay.issuer, relay.host, RELAY_SESSION, ALICE, (long long)now,
                   (long long)now + PK_RELAY_ASSERTION_MAX_TTL, (long long)now, (long long)now);
    relay.assertion = mint_header(relay.keys, "ec256.pem", PK_ALG_ES256,
                                  "{\"alg\":\"ES256\",\"typ\":\"" PK_RELAY_TYP "\"}", claims);
    relay.signed_at = now;
    if (relay.file[0] == '\0')
        return;
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp", relay.file);
    write_text(tmp, relay.assertion);
    if (rename(tmp, relay.file) != 0)
        die(relay.file);
}

/* Starts tests/alloc/relay_standin.py (HTTPS with the mock's server
 * certificate) and reads back its port: the relay_url. Not under
 * pam_wrapper: it is an ordinary program. */
static bool relay_standin_start(const char *ca)
{
    char exe[PATH_MAX], script[PATH_MAX + 64], certs[PATH_MAX], cert[PATH_MAX + 16],
        key[PATH_MAX + 16], line[128], *clean[128];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    posix_spawn_file_actions_t fa;
    int in[2], out[2], k = 0;
    long port;
    FILE *from;

    if (n <= 0)
        return false;
    exe[n] = '\0';
    /* BUILD/tests/alloc_fail: the sources are above BUILD */
    (void)snprintf(script, sizeof(script), "%s/../tests/alloc/relay_standin.py",
                   dirname(dirname(exe)));
    (void)snprintf(certs, sizeof(certs), "%s", ca);
    {
        const char *dir = dirname(certs);
        (void)snprintf(cert, sizeof(cert), "%s/server.pem", dir);
        (void)snprintf(key, sizeof(key), "%s/server.key", dir);
    }
    {
        char *argv[] = {"python3", script, cert, key, RELAY_SESSION, relay.file, NULL};
        for (char **e = environ; *e != NULL && k < 127; e++)
            if (strncmp(*e, "LD_PRELOAD=", 11) != 0)
                clean[k++] = *e;
        clean[k] = NULL;
        if (pipe(in) != 0 || pipe(out) != 0 || posix_spawn_file_actions_init(&fa) != 0 ||
            posix_spawn_file_actions_adddup2(&fa, in[0], 0) != 0 ||
            posix_spawn_file_actions_adddup2(&fa, out[1], 1) != 0 ||
            posix_spawn_file_actions_addclose(&fa, in[1]) != 0 ||
            posix_spawn_file_actions_addclose(&fa, out[0]) != 0 ||
            posix_spawnp(&relay.pid, "python3", &fa, NULL, argv, clean) != 0)
            die("cannot start the relay stand-in");
    }
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    relay.to = fdopen(in[1], "w");
    from = fdopen(out[0], "r");
    if (relay.to == NULL || from == NULL)
        die("fdopen");
    /* Blocks until the stand-in listens (or is gone): no sleep. */
    if (fgets(line, sizeof(line), from) == NULL || sscanf(line, "port %ld", &port) != 1 ||
        port <= 0 || port > 65535) {
        fclose(from);
        return false;
    }
    fclose(from);
    (void)snprintf(relay.issuer, sizeof(relay.issuer), "https://127.0.0.1:%ld", port);
    return true;
}

static void relay_standin_stop(void)
{
    int status;

    if (relay.to != NULL)
        fclose(relay.to);
    relay.to = NULL;
    if (relay.pid > 0)
        (void)waitpid(relay.pid, &status, 0);
    relay.pid = -1;
}

static void jwt_conf(struct scenario *s, const char *keys, const char *key, const char *alg)
{
    char text[1200];

    (void)snprintf(s->conf, sizeof(s->conf), "%s/%s.conf", work, s->name);
    (void)snprintf(text, sizeof(text), "user_map = %s/users\njwt_key = %s/%s\njwt_alg = %s\n", work,
                   keys, key, alg);
    write_text(s->conf, text);
    s->enabled = true;
}

static void emit(void *ctx, int priority, const char *msg)
{
    (void)ctx;
    (void)priority;
    if (getenv("PK_ALLOC_VERBOSE") != NULL)
        fprintf(stderr, "  log: %s\n", msg);
}

static const struct pk_logger quiet = {emit, NULL, false};

/* OpenSSL keeps caches that a failed allocation may leave half filled and a
 * later run completes, and the dynamic loader keeps the last dlerror() text
 * per thread: blocks they allocated are left to LeakSanitizer (make check
 * SANITIZE=1), which tells reachable from leaked. */
static bool openssl_object(const char *object)
{
    return strstr(object, "/libcrypto.so") != NULL || strstr(object, "/libssl.so") != NULL ||
           strstr(object, "/ld-linux") != NULL;
}

/* The relay assertion check alone: relay_key parsed from its text, then the
 * assertion checked at the time it was signed. Below the module's boundary,
 * so the host's OpenSSL error queue is not judged here. */
static enum pk_outcome run_assertion(struct pk_result *res, bool *queue_ok)
{
    struct pk_relay_expect want = {
        relay.issuer, relay.host, RELAY_SESSION, strlen(RELAY_SESSION), relay.signed_at, 60, 0};
    struct evp_pkey_st *key = NULL;
    char problem[256];
    enum pk_status st;
    enum pk_outcome out;

    memset(res, 0, sizeof(*res));
    st = pk_relay_key_parse(relay.pem, relay.pem_len, &key, problem, sizeof(problem));
    if (st == PK_ST_NOMEM)
        out = pk_result_set(res, PK_NO_MEMORY, "reading relay_key");
    else if (st != PK_ST_OK)
        out = pk_result_set(res, PK_CONFIG_ERROR, "%s", problem);
    else
        out = pk_relay_assertion_check(&want, key, relay.assertion, res);
    pk_relay_key_free(key);
    ERR_clear_error();
    *queue_ok = true;
    return out;
}

/* One authentication with an error of the host's queued: the module must
 * leave it there and queue nothing of its own (see pk_auth_prepare). */
static enum pk_outcome run_once(const struct scenario *s, struct pk_result *res, bool *queue_ok)
{
    char arg[600];
    const char *argv[1] = {arg};
    struct pk_auth a;
    enum pk_outcome out;
    unsigned long first;

    if (s->via == VIA_ASSERTION)
        return run_assertion(res, queue_ok);
    ERR_clear_error();
    ERR_raise(ERR_LIB_USER, HOST_REASON);
    (void)snprintf(arg, sizeof(arg), "config=%s", s->conf);
    out = pk_auth_prepare(&a, 1, argv, NULL, "alice", &quiet, res);
    if (out == PK_OK)
        out = pk_auth_decide(&a, s->token, time(NULL), res);
    pk_auth_free(&a);
    first = ERR_get_error();
    /* libcurl empties the queue (ERR_clear_error) before its TLS calls. */
    *queue_ok = ((ERR_GET_LIB(first) == ERR_LIB_USER && ERR_GET_REASON(first) == HOST_REASON) ||
                 (first == 0 && s->online)) &&
                ERR_peek_error() == 0;
    ERR_clear_error();
    return out;
}

/* libjwt 1.10.2 leaks the two BIGNUMs of an ES* signature when an
 * allocation fails in jwt_verify_sha_pem (LeakSanitizer shows them under
 * BN_bin2bn): not ours to fix, and only when memory is exhausted. Blocks
 * allocated while an ES256 scenario runs are kept out of LeakSanitizer's
 * report; our own leak check still covers them. */
static void lsan_exempt(bool on)
{
#ifdef __SANITIZE_ADDRESS__
    if (on)
        __lsan_disable();
    else
        __lsan_enable();
#else
    (void)on;
#endif
}

/* Returns the number of rule violations. */

/* An outcome in words: its decision line, with no detail and user "-". */
struct pk_words {
    char text[192];
};

static struct pk_words words(enum pk_outcome outcome)
{
    struct pk_words w;
    struct pk_result res;

    memset(&res, 0, sizeof(res));
    res.outcome = outcome;
    pk_verdict_line(w.text, sizeof(w.text), &res, "-");
    return w;
}

/* The clean run kept the host's OpenSSL error queue and left no block
 * allocated: returns the number of rules broken. */
static int clean_run_kept(const char *name, bool queue_ok)
{
    unsigned long ignored;
    int bad = 0;

    if (!queue_ok) {
        fprintf(stderr, "  %s: clean run changed the OpenSSL error queue\n", name);
        bad++;
    }
    if (ia_leftovers(stderr, openssl_object, &ignored) != 0) {
        fprintf(stderr, "  %s: clean run left blocks allocated\n", name);
        bad++;
    }
    return bad;
}

/* Run N (described by what) left no block allocated but OpenSSL's caches
 * (counted in *openssl_kept) and kept the host's OpenSSL error queue:
 * returns the number of rules broken. */
static int run_kept(const char *name, unsigned long n, bool queue_ok, const char *what,
                    unsigned long *openssl_kept)
{
    unsigned long ignored, leaked = ia_leftovers(NULL, openssl_object, &ignored);
    int bad = 0;

    *openssl_kept += ignored;
    if (leaked != 0) {
        fprintf(stderr, "  %s N=%lu: %lu blocks leaked (%s)\n", name, n, leaked, what);
        (void)ia_leftovers(stderr, openssl_object, &ignored);
        bad++;
    }
    if (!queue_ok) {
        fprintf(stderr, "  %s N=%lu: OpenSSL error queue changed\n", name, n);
        bad++;
    }
    return bad;
}

/* The first N to fail: PK_ALLOC_FROM, or 1. */
static unsigned long first_n(void)
{
    const char *from = getenv("PK_ALLOC_FROM");
    unsigned long n = from != NULL ? strtoul(from, NULL, 10) : 1;

    return n != 0 ? n : 1;
}

static int exercise(const struct scenario *s, unsigned long *runs)
{
    unsigned long hist[PK_OUTCOME_COUNT] = {0};
    unsigned long absorbed = 0, openssl_kept = 0;
    struct pk_result res;
    enum pk_outcome base;
    int64_t base_id;
    bool queue_ok;
    int bad = 0;
    unsigned long n;

    (void)run_once(s, &res, &queue_ok); /* libraries set up their global state once */
    ia_clear_tracked();
    ia_arm(0);
    base = run_once(s, &res, &queue_ok);
    (void)ia_disarm();
    base_id = res.kakao_id;
    if (base != s->want) {
        fprintf(stderr, "  %s: clean run gave \"%s\" (%s), expected \"%s\"\n", s->name,
                words(base).text, res.detail, words(s->want).text);
        return 1;
    }
    bad += clean_run_kept(s->name, queue_ok);
    for (n = first_n(); n <= MAX_RUNS; n++) {
        enum pk_outcome out;
        bool injected;
        char what[RELAY_LINE_MAX + 160];

        ia_clear_tracked();
        ia_arm(n);
        out = run_once(s, &res, &queue_ok);
        injected = ia_disarm();
        if (getenv("PK_ALLOC_VERBOSE") != NULL)
            fprintf(stderr, "  %s N=%lu: %s (%s)%s\n", s->name, n, words(out).text, res.detail,
                    injected ? "" : " [nothing failed]");
        (void)snprintf(what, sizeof(what), "outcome \"%s\": %s", words(out).text, res.detail);
        bad += run_kept(s->name, n, queue_ok, what, &openssl_kept);
        if (!injected) {
            if (out != base) {
                fprintf(stderr, "  %s: last run gave \"%s\", clean run \"%s\"\n", s->name,
                        words(out).text, words(base).text);
                bad++;
            }
            break;
        }
        if (out == PK_OK && (base != PK_OK || res.kakao_id != base_id)) {
            fprintf(stderr, "  %s N=%lu: ACCEPTED (kakao_id=%lld) after a failed allocation\n",
                    s->name, n, (long long)res.kakao_id);
            bad++;
        } else if (out == PK_OK) {
            absorbed++;
        }
        hist[out]++;
    }
    *runs = n - 1;
    printf("%-12s clean: %-26s allocations: %5lu (absorbed: %lu; OpenSSL cache blocks: %lu)\n",
           s->name, words(base).text, n - 1, absorbed, openssl_kept);
    for (int o = 0; o < PK_OUTCOME_COUNT; o++)
        if (hist[o] != 0)
            printf("%-12s   %6lu x %s\n", "", hist[o], words((enum pk_outcome)o).text);
    return bad;
}

/* ---- the relay login through libpam ---- */

struct pam_outcome {
    int rv;
    char line[RELAY_LINE_MAX]; /* the module's last log line, "" if none */
};

/* The last of pam_wrapper's "SYSLOG(n): text" lines in the capture file,
 * read without stdio (nothing allocated, whether counted or not). */
static void last_log_line(char *line, size_t len)
{
    static char buf[65536];
    ssize_t got = pread(relay.cap_fd, buf, sizeof(buf) - 1, 0);
    char *p, *found = NULL;

    line[0] = '\0';
    if (got <= 0)
        return;
    buf[got] = '\0';
    for (p = strstr(buf, "SYSLOG("); p != NULL; p = strstr(p + 1, "SYSLOG(")) {
        char *text = strstr(p, "): ");
        if (text != NULL)
            found = text + 3;
    }
    if (found != NULL)
        (void)snprintf(line, len, "%.*s", (int)strcspn(found, "\n"), found);
}

/* One login, the module's log into the capture file, the host's queued
 * OpenSSL error as in run_once. Allocations are counted (the nth fails, 0:
 * none) in pam_authenticate and pam_end only: pam_start is libpam's alone.
 * Returns whether a failure was injected. */
static bool pam_once(unsigned long nth, struct pam_outcome *o, bool *queue_ok)
{
    /* The user types the code at the prompt (the stand-in takes any). */
    struct pam_conv pc = {ac_answer_conv, (void *)"481 205"};
    pam_handle_t *ph = NULL;
    unsigned long first;
    bool injected = false;

    ERR_clear_error();
    ERR_raise(ERR_LIB_USER, HOST_REASON);
    if (ftruncate(relay.cap_fd, 0) != 0 || lseek(relay.cap_fd, 0, SEEK_SET) != 0 ||
        dup2(relay.cap_fd, STDERR_FILENO) < 0)
        die("cannot capture stderr");
    o->rv = pam_start("pk", "alice", &pc, &ph);
    if (o->rv == PAM_SUCCESS) {
        ia_arm(nth);
        o->rv = pam_authenticate(ph, 0);
        (void)pam_end(ph, o->rv);
        injected = ia_disarm();
    }
    if (dup2(relay.saved_fd, STDERR_FILENO) < 0)
        die("cannot restore stderr");
    first = ERR_get_error();
    *queue_ok = ((ERR_GET_LIB(first) == ERR_LIB_USER && ERR_GET_REASON(first) == HOST_REASON) ||
                 first == 0) &&
                ERR_peek_error() == 0;
    ERR_clear_error();
    last_log_line(o->line, sizeof(o->line));
    return injected;
}

/* Distinct (result, log line) pairs seen, for the summary. */
struct tally {
    int rv;
    char line[RELAY_LINE_MAX];
    unsigned long count;
};

static void tally_add(struct tally *t, size_t cap, size_t *used, const struct pam_outcome *o)
{
    size_t i;

    for (i = 0; i < *used; i++)
        if (t[i].rv == o->rv && strcmp(t[i].line, o->line) == 0)
            break;
    if (i == *used) {
        if (*used == cap)
            i = cap - 1; /* the last row collects the rest */
        else
            (*used)++;
        t[i].rv = o->rv;
        (void)snprintf(t[i].line, sizeof(t[i].line), "%s", i == cap - 1 ? "(others)" : o->line);
    }
    t[i].count++;
}

/* A line of libpam's own ("_pam_dispatch_aux: no memory ..."): libpam
 * failed before or after the module, which then logged nothing. */
static bool libpam_line(const char *line)
{
    size_t id = strspn(line, "_abcdefghijklmnopqrstuvwxyz");

    return (strncmp(line, "_pam_", 5) == 0 || strncmp(line, "pam_", 4) == 0) &&
           strncmp(line + id, ": ", 2) == 0;
}

/* The rules of a PAM-level run with the Nth allocation failed (see the top
 * of this file); returns the number broken. */
static int judge_pam(const char *name, unsigned long n, const struct pam_outcome *o,
                     const struct pam_outcome *base, unsigned long *absorbed)
{
    bool oom_line = strncmp(o->line, "out of memory: ", 15) == 0;
    int bad = 0;

    if (o->rv == PAM_SUCCESS && strcmp(o->line, base->line) != 0) {
        fprintf(stderr, "  %s N=%lu: PAM_SUCCESS logged as \"%s\"\n", name, n, o->line);
        bad++;
    } else if (o->rv == PAM_SUCCESS) {
        (*absorbed)++;
    }
    if (o->rv == PAM_BUF_ERR && !oom_line && o->line[0] != '\0' && !libpam_line(o->line)) {
        fprintf(stderr, "  %s N=%lu: PAM_BUF_ERR logged as \"%s\"\n", name, n, o->line);
        bad++;
    }
    if (oom_line && o->rv != PAM_BUF_ERR) {
        fprintf(stderr, "  %s N=%lu: \"%s\" returned %s\n", name, n, o->line,
                pam_strerror(NULL, o->rv));
        bad++;
    }
    return bad;
}

static int exercise_pam(const struct scenario *s, unsigned long *runs)
{
    struct tally t[64];
    size_t used = 0;
    struct pam_outcome base, o;
    unsigned long absorbed = 0, openssl_kept = 0, n;
    bool queue_ok;
    int bad = 0;

    memset(t, 0, sizeof(t));
    relay.saved_fd = dup(STDERR_FILENO);
    relay.cap_fd = open(s->conf, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (relay.saved_fd < 0 || relay.cap_fd < 0)
        die("cannot open the log capture");
    relay_fresh();
    (void)pam_once(0, &o, &queue_ok); /* libraries set up their global state once */
    ia_clear_tracked();
    (void)pam_once(0, &base, &queue_ok);
    if (base.rv != PAM_SUCCESS ||
        strcmp(base.line, "accepted relay kakao_id=3095134389 user=alice") != 0) {
        fprintf(stderr, "  %s: clean run gave %s \"%s\"\n", s->name, pam_strerror(NULL, base.rv),
                base.line);
        bad++;
        goto out;
    }
    bad += clean_run_kept(s->name, queue_ok);
    for (n = first_n(); n <= MAX_RUNS; n++) {
        bool injected;
        char what[RELAY_LINE_MAX + 160];

        relay_fresh();
        ia_clear_tracked();
        injected = pam_once(n, &o, &queue_ok);
        if (getenv("PK_ALLOC_VERBOSE") != NULL)
            fprintf(stderr, "  %s N=%lu: %s \"%s\"%s\n", s->name, n, pam_strerror(NULL, o.rv),
                    o.line, injected ? "" : " [nothing failed]");
        (void)snprintf(what, sizeof(what), "%s \"%s\"", pam_strerror(NULL, o.rv), o.line);
        bad += run_kept(s->name, n, queue_ok, what, &openssl_kept);
        if (!injected) {
            if (o.rv != base.rv || strcmp(o.line, base.line) != 0) {
                fprintf(stderr, "  %s: last run gave %s \"%s\"\n", s->name,
                        pam_strerror(NULL, o.rv), o.line);
                bad++;
            }
            break;
        }
        bad += judge_pam(s->name, n, &o, &base, &absorbed);
        tally_add(t, sizeof(t) / sizeof(t[0]), &used, &o);
    }
    *runs = n - 1;
    printf("%-12s clean: %-26s allocations: %5lu (absorbed: %lu; OpenSSL cache blocks: %lu)\n",
           s->name, "PAM_SUCCESS", n - 1, absorbed, openssl_kept);
    for (size_t i = 0; i < used; i++)
        printf("%-12s   %6lu x %s: %.100s\n", "", t[i].count, pam_strerror(NULL, t[i].rv),
               t[i].line[0] != '\0' ? t[i].line : "(the module logged nothing)");
out:
    close(relay.cap_fd);
    close(relay.saved_fd);
    return bad;
}

int main(void)
{
    const char *dir = getenv("PK_TEST_DIR");
    const char *keys = getenv("PK_TEST_KEYS");
    const char *port = getenv("PK_MOCK_PORT");
    const char *ca = getenv("PK_MOCK_CA");
    const char *only = getenv("PK_ALLOC_ONLY");
    struct scenario sc[] = {
        {"jwt_hs256", "", NULL, PK_OK, false, false, false, VIA_AUTH},
        {"jwt_rs256", "", NULL, PK_OK, false, false, false, VIA_AUTH},
        {"jwt_es256", "", NULL, PK_OK, false, true, false, VIA_AUTH},
        {"jwt_expired", "", NULL, PK_JWT_EXPIRED, false, false, false, VIA_AUTH},
        {"jwt_forged", "", NULL, PK_JWT_BAD_SIGNATURE, false, false, false, VIA_AUTH},
        {"kakao_ok", "", NULL, PK_OK, true, false, false, VIA_AUTH},
        {"kakao_other", "", NULL, PK_KAKAO_WRONG_APP, true, false, false, VIA_AUTH},
        /* ES256 through OpenSSL directly, not libjwt: no exemption */
        {"relay_check", "", NULL, PK_OK, false, false, false, VIA_ASSERTION},
        {"relay_login", "", NULL, PK_OK, true, false, false, VIA_PAM},
        /* one_time = yes, store = local: exercise()'s warm-up run uses the
         * token up, so every later run must end in "token already used",
         * and a failed allocation must never turn that into an accept */
        {"jwt_once", "", NULL, PK_TOKEN_USED, false, false, false, VIA_AUTH},
    };
    size_t count = sizeof(sc) / sizeof(sc[0]);
    char claims[256], text[1200];
    unsigned long total = 0;
    int bad = 0, ran = 0;
    time_t now = time(NULL);

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!ia_available()) {
        printf("alloc_fail: skipped: allocator interposition needs a shared sanitizer runtime\n");
        return 0;
    }
    if (dir == NULL || keys == NULL)
        die("PK_TEST_DIR and PK_TEST_KEYS must be set");
    (void)snprintf(work, sizeof(work), "%s/alloc", dir);
    (void)mkdir(work, 0755);
    (void)snprintf(text, sizeof(text), "%s/users", work);
    write_text(text, "3095134389 alice\n");

    (void)snprintf(claims, sizeof(claims), "{\"kakao_id\":%lld,\"iat\":%lld,\"exp\":%lld}", ALICE,
                   (long long)now, (long long)now + 7200);
    jwt_conf(&sc[0], keys, "hs256.key", "HS256");
    sc[0].token = mint(keys, "hs256.key", PK_ALG_HS256, claims);
    jwt_conf(&sc[1], keys, "rsa.pub.pem", "RS256");
    sc[1].token = mint(keys, "rsa.pem", PK_ALG_RS256, claims);
    jwt_conf(&sc[2], keys, "ec256.pub.pem", "ES256");
    sc[2].token = mint(keys, "ec256.pem", PK_ALG_ES256, claims);
    jwt_conf(&sc[3], keys, "hs256.key", "HS256");
    (void)snprintf(claims, sizeof(claims), "{\"kakao_id\":%lld,\"exp\":%lld}", ALICE,
                   (long long)now - 3600);
    sc[3].token = mint(keys, "hs256.key", PK_ALG_HS256, claims);
    jwt_conf(&sc[4], keys, "rsa.pub.pem", "RS256");
    (void)snprintf(claims, sizeof(claims), "{\"kakao_id\":%lld,\"exp\":%lld}", ALICE,
                   (long long)now + 7200);
    sc[4].token = mint(keys, "rsa_other.pem", PK_ALG_RS256, claims);
    jwt_conf(&sc[7], keys, "hs256.key", "HS256");
    (void)snprintf(text, sizeof(text),
                   "user_map = %s/users\njwt_key = %s/hs256.key\njwt_alg = HS256\none_time = yes\n"
                   "cache_dir = %s/once\n",
                   work, keys, work);
    write_text(sc[7].conf, text);
    (void)snprintf(claims, sizeof(claims),
                   "{\"kakao_id\":%lld,\"exp\":%lld,\"jti\":\"alloc-%lld\"}", ALICE,
                   (long long)now + 7200, (long long)now);
    sc[7].token = mint(keys, "hs256.key", PK_ALG_HS256, claims);
    if (port != NULL && port[0] != '\0' && ca != NULL) {
        for (size_t i = 5; i < 7; i++) {
            (void)snprintf(sc[i].conf, sizeof(sc[i].conf), "%s/%s.conf", work, sc[i].name);
            (void)snprintf(text, sizeof(text),
                           "user_map = %s/users\nkakao_app_id = 1234567\n"
                           "kakao_api_url = https://127.0.0.1:%s\nca_file = %s\n"
                           "require_email = verified\ntimeout = 20\n",
                           work, port, ca);
            write_text(sc[i].conf, text);
            sc[i].enabled = true;
        }
        sc[5].token = strdup("mockValidAliceToken_0001");
        sc[6].token = strdup("mockOtherAppToken_00003");
    } else {
        printf("alloc_fail: PK_MOCK_PORT not set: Kakao scenarios skipped\n");
    }

    relay.keys = keys;
    if (gethostname(relay.host, sizeof(relay.host)) != 0)
        die("gethostname");
    relay.host[sizeof(relay.host) - 1] = '\0';
    (void)snprintf(relay.issuer, sizeof(relay.issuer), "https://relay.example");
    (void)snprintf(text, sizeof(text), "%s/ec256.pub.pem", keys);
    relay.pem = read_text(text, &relay.pem_len);
    if (port != NULL && port[0] != '\0' && ca != NULL &&
        (only == NULL || strcmp(only, "relay_login") == 0)) {
        (void)snprintf(relay.file, sizeof(relay.file), "%s/relay.assertion", work);
        if (!relay_standin_start(ca))
            die("the relay stand-in did not start");
        /* VIA_PAM: the module reads PK_TEST_DIR/cur.conf; conf names the
         * file its log lines are captured in. */
        (void)snprintf(sc[8].conf, sizeof(sc[8].conf), "%s/relay.log", work);
        (void)snprintf(text, sizeof(text),
                       "user_map = %s/users\nrelay_url = %s\nrelay_key = %s/ec256.pub.pem\n"
                       "ca_file = %s\ntimeout = 20\nrelay_qr = yes\n",
                       work, relay.issuer, keys, ca);
        (void)snprintf(claims, sizeof(claims), "%s/cur.conf", dir);
        write_text(claims, text);
        sc[8].enabled = true;
    } else {
        printf("alloc_fail: relay_login skipped (not asked for, or PK_MOCK_PORT not set)\n");
    }
    relay_fresh();
    sc[7].enabled = true;

    for (size_t i = 0; i < count; i++) {
        unsigned long runs = 0;
        if (!sc[i].enabled || (only != NULL && strcmp(only, sc[i].name) != 0))
            continue;
        if (sc[i].libjwt_leak)
            lsan_exempt(true);
        bad += sc[i].via == VIA_PAM ? exercise_pam(&sc[i], &runs) : exercise(&sc[i], &runs);
        if (sc[i].libjwt_leak)
            lsan_exempt(false);
        total += runs;
        ran++;
    }
    relay_standin_stop();
    for (size_t i = 0; i < count; i++)
        free(sc[i].token);
    free(relay.assertion);
    free(relay.pem);
    printf("alloc_fail: %d scenarios, %lu runs with one failed allocation each, %d problems\n", ran,
           total, bad);
    return bad == 0 && ran > 0 ? 0 : 1;
}
