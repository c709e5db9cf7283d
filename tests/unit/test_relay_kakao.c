/* relay/kakao_leg.c against the mock Kakao (tests/mock/mock_kakao.py, its
 * kakao-pam-relay clients): PKCE secrets, the authorize URL (its challenge
 * recomputed here with OpenSSL), a whole login (authorize as the phone's
 * browser would, then pk_relay_kakao_finish), and every way Kakao or its ID
 * token can fail, each with its result and its exact reason.
 *
 * The mock: PK_MOCK_PORT, PK_MOCK_CA and PK_MOCK_LOG when the caller runs one
 * (tests/run.sh exports them only to the PAM-level tests), otherwise this
 * test starts its own, with --parent-pid so it never outlives the test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "relay/kakao_leg.h"

#ifndef PK_MOCK_DIR
#error "PK_MOCK_DIR must name tests/mock (the Makefile sets it)"
#endif

#define REDIRECT "https://relay.example.test/callback"
/* The Kakao leg's timeout where the mock answers: generous, so that a mock
 * slow to answer on a loaded CI machine (or under ASan) is not taken for one
 * that never does; a timeout costs nothing when the answer comes. */
#define ANSWER_TIMEOUT 30

struct mock {
    char dir[64]; /* our own mock's files; "" when the caller runs one */
    pid_t pid;
    char base[64];
    char ca[256];
    char log[256];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int read_port(const char *path)
{
    FILE *f = fopen(path, "r");
    int port = 0;

    if (f == NULL)
        return 0;
    if (fscanf(f, "%d", &port) != 1)
        port = 0;
    fclose(f);
    return port;
}

static int mock_start(struct mock *m)
{
    char cmd[512], portfile[128], ppid[24];
    const char *port = getenv("PK_MOCK_PORT");
    const char *ca = getenv("PK_MOCK_CA");
    const char *log = getenv("PK_MOCK_LOG");

    if (port != NULL && port[0] != '\0' && ca != NULL && log != NULL) {
        snprintf(m->base, sizeof(m->base), "https://127.0.0.1:%s", port);
        snprintf(m->ca, sizeof(m->ca), "%s", ca);
        snprintf(m->log, sizeof(m->log), "%s", log);
        return 0;
    }
    snprintf(m->dir, sizeof(m->dir), "/tmp/pk_relay_kakao.XXXXXX");
    if (mkdtemp(m->dir) == NULL)
        return -1;
    snprintf(cmd, sizeof(cmd), "bash '%s/make_certs.sh' '%s/certs'", PK_MOCK_DIR, m->dir);
    if (system(cmd) != 0)
        return -1;
    snprintf(portfile, sizeof(portfile), "%s/port", m->dir);
    snprintf(m->ca, sizeof(m->ca), "%s/certs/ca.pem", m->dir);
    snprintf(m->log, sizeof(m->log), "%s/requests.jsonl", m->dir);
    snprintf(ppid, sizeof(ppid), "%ld", (long)getpid());
    m->pid = fork();
    if (m->pid < 0)
        return -1;
    if (m->pid == 0) {
        char cert[128], key[128];
        snprintf(cert, sizeof(cert), "%s/certs/server.pem", m->dir);
        snprintf(key, sizeof(key), "%s/certs/server.key", m->dir);
        execlp("python3", "python3", PK_MOCK_DIR "/mock_kakao.py", "--cert", cert, "--key", key,
               "--port-file", portfile, "--log", m->log, "--lifetime", "600", "--parent-pid", ppid,
               (char *)NULL);
        _exit(127);
    }
    /* Waits for the port file; 30 s only give up on a mock that never starts. */
    for (int i = 0; i < 300; i++) {
        int p = read_port(portfile);
        if (p > 0) {
            snprintf(m->base, sizeof(m->base), "https://127.0.0.1:%d", p);
            return 0;
        }
        if (waitpid(m->pid, NULL, WNOHANG) != 0)
            return -1;
        usleep(100000);
    }
    return -1;
}

static int group_setup(void **state)
{
    static struct mock m;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return -1;
    if (mock_start(&m) != 0) {
        fprintf(stderr, "cannot start the mock Kakao\n");
        return -1;
    }
    *state = &m;
    return 0;
}

static int group_teardown(void **state)
{
    struct mock *m = *state;
    char cmd[128];

    if (m->dir[0] != '\0') {
        if (m->pid > 0) {
            kill(m->pid, SIGTERM);
            waitpid(m->pid, NULL, 0);
        }
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", m->dir);
        if (system(cmd) != 0)
            return -1;
    }
    curl_global_cleanup();
    return 0;
}

static struct pk_relay_kakao *leg(const struct mock *m, const char *client, const char *secret,
                                  long timeout)
{
    struct pk_relay_kakao_conf c = {m->base, client, secret, REDIRECT, m->ca, NULL, timeout};
    char err[128];
    struct pk_relay_kakao *k = pk_relay_kakao_new(&c, err, sizeof(err));

    if (k == NULL)
        fail_msg("pk_relay_kakao_new: %s", err);
    return k;
}

/* The value of name=... in a URL's query, percent-decoded by curl ("" when absent). */
static void query_value(const char *url, const char *name, char *out, size_t len)
{
    const char *q = strchr(url, '?');
    size_t n = strlen(name);

    out[0] = '\0';
    while (q != NULL) {
        q++;
        if (strncmp(q, name, n) == 0 && q[n] == '=') {
            const char *v = q + n + 1;
            size_t vl = strcspn(v, "&");
            int dl = 0;
            char *d = curl_easy_unescape(NULL, v, (int)vl, &dl);
            assert_non_null(d);
            snprintf(out, len, "%s", d);
            curl_free(d);
            return;
        }
        q = strchr(q, '&');
    }
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

/* What the phone's browser does at Kakao: GET the authorize URL, and read the
 * redirect back to the relay. Returns the Location header's URL (malloc'd). */
static char *authorize(const struct mock *m, const char *url)
{
    CURL *h = curl_easy_init();
    char *loc = NULL;
    long status = 0;

    assert_non_null(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CAINFO, m->ca);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 302);
    curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
    assert_non_null(loc);
    loc = strdup(loc);
    curl_easy_cleanup(h);
    return loc;
}

/* A login up to the code: new secrets, authorize, the code Kakao sent back. */
static void login_code(const struct mock *m, struct pk_relay_kakao *k, struct pk_relay_pkce *p,
                       char *code, size_t code_len)
{
    char state[64];
    char *url, *loc;

    assert_true(pk_relay_pkce_new(p));
    url = pk_relay_kakao_authorize_url(k, p, false);
    assert_non_null(url);
    loc = authorize(m, url);
    assert_true(strncmp(loc, REDIRECT "?", strlen(REDIRECT) + 1) == 0);
    query_value(loc, "state", state, sizeof(state));
    assert_string_equal(state, p->state);
    query_value(loc, "code", code, code_len);
    assert_true(strlen(code) > 0);
    free(loc);
    free(url);
}

/* A whole login through client; returns the result, reason and identity. */
static enum pk_status run_login(const struct mock *m, const char *client, const char *secret,
                                long timeout, struct pk_relay_identity *id, char *reason,
                                size_t reason_len)
{
    struct pk_relay_kakao *k = leg(m, client, secret, timeout);
    struct pk_relay_pkce p;
    char code[256];
    enum pk_status rc;

    login_code(m, k, &p, code, sizeof(code));
    rc = pk_relay_kakao_finish(k, code, &p, id, reason, reason_len);
    pk_relay_kakao_free(k);
    return rc;
}

static void expect_login(void **state, const char *client, enum pk_status want,
                         const char *want_reason)
{
    struct pk_relay_identity id;
    char reason[256];
    enum pk_status rc =
        run_login(*state, client, NULL, ANSWER_TIMEOUT, &id, reason, sizeof(reason));

    if (rc != want || strcmp(reason, want_reason) != 0)
        fail_msg("%s: result %d reason \"%s\", expected %d \"%s\"", client, rc, reason, want,
                 want_reason);
    if (want != PK_ST_OK)
        assert_string_equal(id.kakao_id, "");
}

/* Lines of the mock's request log that hold every one of the needles. */
static int log_count(const struct mock *m, const char *a, const char *b)
{
    FILE *f = fopen(m->log, "r");
    char line[8192];
    int n = 0;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL))
            n++;
    }
    fclose(f);
    return n;
}

/* ---- secrets and the authorize URL ---- */

static bool b64url_chars(const char *s)
{
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
           strlen(s);
}

static void test_pkce_new(void **state)
{
    struct pk_relay_pkce a, b;

    (void)state;
    assert_true(pk_relay_pkce_new(&a));
    assert_true(pk_relay_pkce_new(&b));
    assert_int_equal(strlen(a.state), 43);
    assert_int_equal(strlen(a.nonce), 43);
    assert_int_equal(strlen(a.verifier), 43);
    assert_true(b64url_chars(a.state) && b64url_chars(a.nonce) && b64url_chars(a.verifier));
    assert_string_not_equal(a.state, b.state);
    assert_string_not_equal(a.nonce, b.nonce);
    assert_string_not_equal(a.verifier, b.verifier);
    assert_string_not_equal(a.state, a.nonce);
}

/* base64url(SHA-256(verifier)) without padding, by OpenSSL's own encoder. */
static void expected_challenge(const char *verifier, char out[64])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    unsigned char b64[64];
    int n;

    SHA256((const unsigned char *)verifier, strlen(verifier), d);
    n = EVP_EncodeBlock(b64, d, sizeof(d));
    assert_int_equal(n, 44);
    for (int i = 0; i < n; i++)
        out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
    assert_int_equal(out[43], '=');
    out[43] = '\0';
}

static void test_authorize_url(void **state)
{
    const struct mock *m = *state;
    struct pk_relay_kakao_conf c = {
        m->base, "mockRelayKey_alice_0101", NULL, "https://r.example/c&b=1#x", m->ca, NULL, 5};
    char err[128], want[1024], challenge[64];
    struct pk_relay_kakao *k = pk_relay_kakao_new(&c, err, sizeof(err));
    struct pk_relay_pkce p;
    char *url, *url2;

    assert_non_null(k);
    assert_true(pk_relay_pkce_new(&p));
    expected_challenge(p.verifier, challenge);
    url = pk_relay_kakao_authorize_url(k, &p, false);
    assert_non_null(url);
    snprintf(want, sizeof(want),
             "%s/oauth/authorize?response_type=code&client_id=mockRelayKey_alice_0101"
             "&redirect_uri=https%%3A%%2F%%2Fr.example%%2Fc%%26b%%3D1%%23x&state=%s"
             "&code_challenge=%s&code_challenge_method=S256&nonce=%s&scope=openid",
             m->base, p.state, challenge, p.nonce);
    assert_string_equal(url, want);
    /* The verifier itself never goes to the browser. */
    assert_null(strstr(url, p.verifier));
    url2 = pk_relay_kakao_authorize_url(k, &p, true);
    assert_non_null(url2);
    assert_int_equal(strlen(url2), strlen(want) + strlen("&prompt=login"));
    assert_string_equal(url2 + strlen(want), "&prompt=login");
    free(url);
    free(url2);
    pk_relay_kakao_free(k);
}

static void test_new_refuses(void **state)
{
    const struct mock *m = *state;
    struct {
        struct pk_relay_kakao_conf c;
        const char *err;
    } cases[] = {
        {{"http://kauth.kakao.com", "k", NULL, REDIRECT, NULL, NULL, 5},
         "kakao_auth_url: not an https:// URL"},
        {{"https://kauth.kakao.com/", "k", NULL, REDIRECT, NULL, NULL, 5},
         "kakao_auth_url: must not end with '/' or hold '?' or '#'"},
        {{"https://kauth.kakao.com?x", "k", NULL, REDIRECT, NULL, NULL, 5},
         "kakao_auth_url: must not end with '/' or hold '?' or '#'"},
        {{m->base, NULL, NULL, REDIRECT, NULL, NULL, 5},
         "kakao_rest_api_key: missing or not printable"},
        {{m->base, "a key", NULL, REDIRECT, NULL, NULL, 5},
         "kakao_rest_api_key: missing or not printable"},
        {{m->base, "k", NULL, "", NULL, NULL, 5}, "redirect URI: missing or not printable"},
        {{m->base, "k", "", REDIRECT, NULL, NULL, 5}, "client secret: empty or not printable"},
        {{m->base, "k", NULL, REDIRECT, NULL, NULL, 0}, "timeout: 0 is not 1-60 s"},
        {{m->base, "k", NULL, REDIRECT, NULL, NULL, 61}, "timeout: 61 is not 1-60 s"},
    };
    char err[128];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_null(pk_relay_kakao_new(&cases[i].c, err, sizeof(err)));
        assert_string_equal(err, cases[i].err);
    }
    assert_null(pk_relay_kakao_new(NULL, err, sizeof(err)));
}

/* ---- whole logins ---- */

static void test_finish_ok_alice(void **state)
{
    const struct mock *m = *state;
    struct pk_relay_identity id;
    char reason[256];
    long long now = (long long)time(NULL);
    int posts = log_count(m, "\"path\": \"/oauth/token\"", NULL);

    assert_int_equal(
        run_login(m, "mockRelayKey_alice_0101", NULL, ANSWER_TIMEOUT, &id, reason, sizeof(reason)),
        PK_ST_OK);
    assert_string_equal(reason, "");
    assert_string_equal(id.kakao_id, "3095134389");
    /* The mock's auth_time is 5 s before it signed. */
    assert_true(id.auth_time >= now - 60 && id.auth_time <= now + 5);
    assert_int_equal(log_count(m, "\"path\": \"/oauth/token\"", NULL), posts + 1);
}

static void test_finish_ok_bob(void **state)
{
    struct pk_relay_identity id;
    char reason[256];

    assert_int_equal(run_login(*state, "mockRelayKey_bob_000102", NULL, ANSWER_TIMEOUT, &id, reason,
                               sizeof(reason)),
                     PK_ST_OK);
    assert_string_equal(id.kakao_id, "1122334455");
}

static void test_client_secret(void **state)
{
    struct pk_relay_identity id;
    char reason[256];

    assert_int_equal(run_login(*state, "mockRelayKey_secret_103", "mockRelaySecret_0103",
                               ANSWER_TIMEOUT, &id, reason, sizeof(reason)),
                     PK_ST_OK);
    assert_string_equal(id.kakao_id, "3095134389");
    assert_int_equal(run_login(*state, "mockRelayKey_secret_103", NULL, ANSWER_TIMEOUT, &id, reason,
                               sizeof(reason)),
                     PK_ST_REFUSED);
    assert_string_equal(reason, "Kakao refused the code: invalid_client KOE010 (HTTP 401)");
    assert_int_equal(run_login(*state, "mockRelayKey_secret_103", "wrong", ANSWER_TIMEOUT, &id,
                               reason, sizeof(reason)),
                     PK_ST_REFUSED);
    assert_string_equal(reason, "Kakao refused the code: invalid_client KOE010 (HTTP 401)");
}

/* Denied at Kakao: the browser comes back with error=access_denied and the
 * state, and no code (the server shows the message page). */
static void test_denied_at_kakao(void **state)
{
    const struct mock *m = *state;
    struct pk_relay_kakao *k = leg(m, "mockRelayKey_deny_00104", NULL, ANSWER_TIMEOUT);
    struct pk_relay_pkce p;
    char v[128];
    char *url, *loc;

    assert_true(pk_relay_pkce_new(&p));
    url = pk_relay_kakao_authorize_url(k, &p, true);
    assert_non_null(url);
    loc = authorize(m, url);
    query_value(loc, "error", v, sizeof(v));
    assert_string_equal(v, "access_denied");
    query_value(loc, "state", v, sizeof(v));
    assert_string_equal(v, p.state);
    query_value(loc, "code", v, sizeof(v));
    assert_string_equal(v, "");
    free(loc);
    free(url);
    pk_relay_kakao_free(k);
}

static void test_wrong_nonce(void **state)
{
    expect_login(state, "mockRelayKey_nonce_0105", PK_ST_REFUSED,
                 "ID token refused: bad claims (nonce does not match)");
}

static void test_wrong_aud(void **state)
{
    expect_login(state, "mockRelayKey_aud_000106", PK_ST_REFUSED,
                 "ID token refused: wrong audience (aud does not contain "
                 "\"mockRelayKey_aud_000106\")");
}

static void test_wrong_iss(void **state)
{
    expect_login(state, "mockRelayKey_iss_000107", PK_ST_REFUSED,
                 "ID token refused: wrong issuer (iss=\"https://kauth.kakao.com\")");
}

static void test_expired(void **state)
{
    struct pk_relay_identity id;
    char reason[256];

    assert_int_equal(run_login(*state, "mockRelayKey_exp_000108", NULL, ANSWER_TIMEOUT, &id, reason,
                               sizeof(reason)),
                     PK_ST_REFUSED);
    if (strncmp(reason, "ID token refused: expired (exp=", 31) != 0)
        fail_msg("reason \"%s\"", reason);
    assert_string_equal(id.kakao_id, "");
}

static void test_bad_signature(void **state)
{
    expect_login(state, "mockRelayKey_sig_000109", PK_ST_REFUSED,
                 "ID token refused: bad signature");
}

/* A kid the JWKS lacks: the set was fetched for this very login, so no
 * second fetch, and the token is refused. */
static void test_unknown_kid(void **state)
{
    expect_login(state, "mockRelayKey_kid_000110", PK_ST_REFUSED,
                 "ID token refused: unknown kid (kid=\"mockUnknownKid_0110\" not in the JWKS "
                 "(fetched just now))");
}

static void test_token_endpoint_500(void **state)
{
    expect_login(state, "mockRelayKey_5xx_000111", PK_ST_UNAVAILABLE,
                 "Kakao token endpoint answered HTTP 500");
}

/* The description of Kakao's error may quote the code: never in the reason. */
static void test_koe_error(void **state)
{
    expect_login(state, "mockRelayKey_koe_000113", PK_ST_REFUSED,
                 "Kakao refused the code: invalid_grant KOE320 (HTTP 400)");
}

/* The token endpoint answers only after 10 s: UNAVAILABLE when the 2 s timeout ends. */
static void test_token_endpoint_slow(void **state)
{
    const struct mock *m = *state;
    struct pk_relay_kakao *k = leg(m, "mockRelayKey_slow_00112", NULL, 2);
    struct pk_relay_identity id;
    struct pk_relay_pkce p;
    char code[256], reason[256];
    enum pk_status rc;
    double t0, took;

    login_code(m, k, &p, code, sizeof(code));
    t0 = now_s();
    rc = pk_relay_kakao_finish(k, code, &p, &id, reason, sizeof(reason));
    took = now_s() - t0;
    pk_relay_kakao_free(k);
    assert_int_equal(rc, PK_ST_UNAVAILABLE);
    assert_string_equal(reason, "Kakao token endpoint: timeout after 2 s");
    /* Bounded by the timeout, not by the answer 10 s later: 5 s past it,
     * which a loaded CI machine or an ASan build cannot use up. */
    if (took < 1.9 || took > 2.0 + 5.0)
        fail_msg("took %.2f s, expected the 2 s timeout (+5 s at most)", took);
}

/* A code works once; a verifier that is not the authorize one never. */
static void test_code_once_and_verifier(void **state)
{
    const struct mock *m = *state;
    struct pk_relay_kakao *k = leg(m, "mockRelayKey_alice_0101", NULL, ANSWER_TIMEOUT);
    struct pk_relay_identity id;
    struct pk_relay_pkce p, other;
    char code[256], reason[256];

    login_code(m, k, &p, code, sizeof(code));
    assert_int_equal(pk_relay_kakao_finish(k, code, &p, &id, reason, sizeof(reason)), PK_ST_OK);
    assert_int_equal(pk_relay_kakao_finish(k, code, &p, &id, reason, sizeof(reason)),
                     PK_ST_REFUSED);
    assert_string_equal(reason, "Kakao refused the code: invalid_grant KOE320 (HTTP 400)");
    assert_string_equal(id.kakao_id, "");

    login_code(m, k, &p, code, sizeof(code));
    assert_true(pk_relay_pkce_new(&other));
    memcpy(other.nonce, p.nonce, sizeof(p.nonce));
    assert_int_equal(pk_relay_kakao_finish(k, code, &other, &id, reason, sizeof(reason)),
                     PK_ST_REFUSED);
    assert_string_equal(reason, "Kakao refused the code: invalid_grant KOE320 (HTTP 400)");
    pk_relay_kakao_free(k);
}

/* A code that cannot be one is refused before any request. */
static void test_malformed_code(void **state)
{
    const struct mock *m = *state;
    struct pk_relay_kakao *k = leg(m, "mockRelayKey_alice_0101", NULL, ANSWER_TIMEOUT);
    struct pk_relay_identity id;
    struct pk_relay_pkce p;
    char reason[256];
    char *big = malloc(2000);
    int posts = log_count(m, "\"path\": \"/oauth/token\"", NULL);

    assert_non_null(big);
    memset(big, 'a', 1999);
    big[1999] = '\0';
    assert_true(pk_relay_pkce_new(&p));
    const char *bad[] = {"", "a b", "a\nb", big};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(pk_relay_kakao_finish(k, bad[i], &p, &id, reason, sizeof(reason)),
                         PK_ST_REFUSED);
        assert_string_equal(reason, "the authorization code is missing or malformed");
    }
    assert_int_equal(pk_relay_kakao_finish(k, NULL, &p, &id, reason, sizeof(reason)),
                     PK_ST_REFUSED);
    assert_int_equal(log_count(m, "\"path\": \"/oauth/token\"", NULL), posts);
    free(big);
    pk_relay_kakao_free(k);
}

/* The peer ("127.0.0.1:PORT") of the last token POST in the request log. */
static void last_token_peer(const struct mock *m, char *out, size_t len)
{
    FILE *f = fopen(m->log, "r");
    char line[8192];

    out[0] = '\0';
    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        const char *p = strstr(line, "\"peer\": \"");
        if (strstr(line, "\"path\": \"/oauth/token\"") != NULL && p != NULL) {
            p += strlen("\"peer\": \"");
            snprintf(out, len, "%.*s", (int)strcspn(p, "\""), p);
        }
    }
    fclose(f);
}

/* The relay keeps its connection to the token endpoint (the mock keeps it
 * open after a relay client's good answer, as Kakao does): the next login's
 * POST arrives from the same client port, with no new TLS handshake. A new
 * leg has handles of its own, so it connects anew. */
static void test_token_connection_kept(void **state)
{
    const struct mock *m = *state;
    struct pk_relay_kakao *k = leg(m, "mockRelayKey_alice_0101", NULL, ANSWER_TIMEOUT);
    struct pk_relay_kakao *k2;
    struct pk_relay_identity id;
    struct pk_relay_pkce p;
    char code[256], reason[256], first[64], second[64], third[64];

    login_code(m, k, &p, code, sizeof(code));
    assert_int_equal(pk_relay_kakao_finish(k, code, &p, &id, reason, sizeof(reason)), PK_ST_OK);
    last_token_peer(m, first, sizeof(first));
    login_code(m, k, &p, code, sizeof(code));
    assert_int_equal(pk_relay_kakao_finish(k, code, &p, &id, reason, sizeof(reason)), PK_ST_OK);
    last_token_peer(m, second, sizeof(second));
    assert_true(first[0] != '\0');
    assert_string_equal(first, second);

    k2 = leg(m, "mockRelayKey_alice_0101", NULL, ANSWER_TIMEOUT);
    login_code(m, k2, &p, code, sizeof(code));
    assert_int_equal(pk_relay_kakao_finish(k2, code, &p, &id, reason, sizeof(reason)), PK_ST_OK);
    last_token_peer(m, third, sizeof(third));
    assert_string_not_equal(first, third);
    pk_relay_kakao_free(k2);
    pk_relay_kakao_free(k);
}

/* ---- the JWKS kept in memory, from several threads ---- */

struct worker {
    const struct mock *m;
    struct pk_relay_kakao *k;
    enum pk_status rc;
    struct pk_relay_identity id;
    struct pk_relay_pkce p;
    char code[256];
    char reason[256];
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    w->rc = pk_relay_kakao_finish(w->k, w->code, &w->p, &w->id, w->reason, sizeof(w->reason));
    return NULL;
}

static void test_jwks_kept_across_logins_and_threads(void **state)
{
    const struct mock *m = *state;
    struct pk_relay_kakao *k = leg(m, "mockRelayKey_alice_0101", NULL, ANSWER_TIMEOUT);
    struct worker w[6];
    pthread_t t[6];
    const char *jwks = "\"path\": \"/.well-known/jwks.json\", \"query\": \"\"";
    int before = log_count(m, jwks, NULL);

    for (int i = 0; i < 6; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].m = m;
        w[i].k = k;
        login_code(m, k, &w[i].p, w[i].code, sizeof(w[i].code));
    }
    for (int i = 0; i < 6; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        if (w[i].rc != PK_ST_OK)
            fail_msg("thread %d: %d \"%s\"", i, w[i].rc, w[i].reason);
        assert_string_equal(w[i].id.kakao_id, "3095134389");
    }
    /* One more login later: still the same copy. */
    login_code(m, k, &w[0].p, w[0].code, sizeof(w[0].code));
    worker_run(&w[0]);
    assert_int_equal(w[0].rc, PK_ST_OK);
    assert_int_equal(log_count(m, jwks, NULL), before + 1);
    pk_relay_kakao_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pkce_new),
        cmocka_unit_test(test_authorize_url),
        cmocka_unit_test(test_new_refuses),
        cmocka_unit_test(test_finish_ok_alice),
        cmocka_unit_test(test_finish_ok_bob),
        cmocka_unit_test(test_client_secret),
        cmocka_unit_test(test_denied_at_kakao),
        cmocka_unit_test(test_wrong_nonce),
        cmocka_unit_test(test_wrong_aud),
        cmocka_unit_test(test_wrong_iss),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_unknown_kid),
        cmocka_unit_test(test_token_endpoint_500),
        cmocka_unit_test(test_koe_error),
        cmocka_unit_test(test_token_endpoint_slow),
        cmocka_unit_test(test_code_once_and_verifier),
        cmocka_unit_test(test_malformed_code),
        cmocka_unit_test(test_jwks_kept_across_logins_and_threads),
        cmocka_unit_test(test_token_connection_kept),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
