/* The measuring half of `make bench` (tests/bench/bench.sh sets up keys,
 * maps, services and the mock, runs these, and writes BENCHMARKS.md).
 *
 *   bench spawn ROUNDS CASE...      whole processes: pamtester, alternating
 *   bench pam ROUNDS CASE...        in process: pam_start ... pam_end
 *   bench verify KEYDIR             the JWT step vs bare OpenSSL
 *   bench usermap USER TOKENFILE SERVICE=MAP...   lookup and login per map size
 *   bench load SERVICE USER TOKENFILE THREADS ROUNDS   concurrent logins
 *   bench libs SERVICE USER TOKENFILE   which libraries a login leaves loaded
 *   bench hash PASSWORD             a yescrypt hash, for the pam_unix user
 *   bench osslinit                  OpenSSL 3's first use in a fresh process
 *   bench once ROUNDS KEYFILE NAME=SERVICE...   HS256 logins, a new token (new jti) each
 *
 * A CASE is NAME=SERVICE:USER:TOKENFILE[:EXTRA] (see parse_case). Every result is one line,
 * "KIND NAME key=value ...", times in microseconds. The PAM subcommands run
 * under pam_wrapper (LD_PRELOAD and PAM_WRAPPER_SERVICE_DIR set by the
 * caller). Measurements only: nothing here asserts a target. */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <security/pam_appl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "src/app_jwt.h"
#include "src/b64url.h"
#include "src/config.h"
#include "src/jwt_common.h"
#include "src/jwt_sign.h"
#include "src/keys.h"
#include "src/token.h"
#include "src/user_map.h"
#include "tests/pam/answer_conv.h"

#define MAX_CASES 16
#define MAX_SAMPLES 4096

static double now_us(void)
{
    struct timespec t;

    if (clock_gettime(CLOCK_MONOTONIC, &t) != 0)
        abort();
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0..1) of n samples, sorting them. */
static double quantile(double *v, size_t n, double q)
{
    size_t i;

    if (n == 0)
        return 0.0;
    qsort(v, n, sizeof(*v), cmp_double);
    i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static void die(const char *what)
{
    fprintf(stderr, "bench: %s\n", what);
    exit(2);
}

/* The file's text without one trailing newline (malloc'd). */
static char *read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = malloc(16384);
    size_t n;

    if (f == NULL || buf == NULL)
        die("cannot read a token file");
    n = fread(buf, 1, 16383, f);
    fclose(f);
    buf[n] = '\0';
    if (n > 0 && buf[n - 1] == '\n')
        buf[n - 1] = '\0';
    return buf;
}

struct bench_case {
    char name[64];
    char service[128];
    char user[64];
    char *token;
    long batch;        /* pam: logins per timed sample */
    char preload[512]; /* spawn: libraries to preload too (',' separated) */
    double samples[MAX_SAMPLES];
    double cpu[MAX_SAMPLES]; /* spawn: the child's user+sys time */
    size_t n;
    long failures;
};

/* NAME=SERVICE:USER:TOKENFILE[:EXTRA]; EXTRA is the batch size for
 * `pam`, and libraries to preload (',' separated) for `spawn`. */
static void parse_case(const char *arg, struct bench_case *c)
{
    char copy[1024], *eq, *f[4] = {NULL, NULL, NULL, NULL};
    int nf = 0;

    memset(c, 0, sizeof(*c));
    (void)snprintf(copy, sizeof(copy), "%s", arg);
    eq = strchr(copy, '=');
    if (eq == NULL)
        die("a case is NAME=SERVICE:USER:TOKENFILE[:BATCH]");
    *eq = '\0';
    for (char *p = eq + 1, *tok; nf < 4 && (tok = strsep(&p, ":")) != NULL;)
        f[nf++] = tok;
    if (nf < 3)
        die("a case is NAME=SERVICE:USER:TOKENFILE[:BATCH]");
    if (strlen(copy) >= sizeof(c->name) || strlen(f[0]) >= sizeof(c->service) ||
        strlen(f[1]) >= sizeof(c->user))
        die("a case's name, service or user is too long");
    memcpy(c->name, copy, strlen(copy) + 1);
    memcpy(c->service, f[0], strlen(f[0]) + 1);
    memcpy(c->user, f[1], strlen(f[1]) + 1);
    c->token = read_token(f[2]);
    c->batch = 1;
    if (nf == 4 && f[3][0] >= '0' && f[3][0] <= '9')
        c->batch = strtol(f[3], NULL, 10);
    else if (nf == 4 && strlen(f[3]) < sizeof(c->preload))
        memcpy(c->preload, f[3], strlen(f[3]) + 1);
    if (c->batch < 1)
        c->batch = 1;
}

static void report(const char *kind, struct bench_case *c)
{
    double med = quantile(c->samples, c->n, 0.5);
    double p10 = quantile(c->samples, c->n, 0.1);
    double p90 = quantile(c->samples, c->n, 0.9);

    printf("%s %s median_us=%.1f p10_us=%.1f p90_us=%.1f per_s=%.1f cpu_us=%.1f n=%zu "
           "failures=%ld\n",
           kind, c->name, med, p10, p90, med > 0 ? 1e6 / med : 0.0, quantile(c->cpu, c->n, 0.5),
           c->n, c->failures);
}

static double tv_us(const struct timeval *tv)
{
    return (double)tv->tv_sec * 1e6 + (double)tv->tv_usec;
}

/* ---- whole processes ---- */

/* One pamtester run, the token on its stdin; returns microseconds, and the
 * child's CPU time in *cpu. */
static double spawn_once(struct bench_case *c, double *cpu)
{
    int in[2], status = 0;
    double t0 = now_us(), t1;
    struct rusage ru;
    pid_t pid;

    if (pipe(in) != 0)
        die("pipe");
    pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        (void)dup2(in[0], STDIN_FILENO);
        (void)dup2(null, STDOUT_FILENO);
        (void)dup2(null, STDERR_FILENO);
        (void)close(in[0]);
        (void)close(in[1]);
        if (c->preload[0] != '\0') {
            char libs[1024];
            const char *base = getenv("LD_PRELOAD");
            (void)snprintf(libs, sizeof(libs), "%s:%s", base != NULL ? base : "", c->preload);
            for (char *p = libs; *p != '\0'; p++)
                if (*p == ',')
                    *p = ':';
            (void)setenv("LD_PRELOAD", libs, 1);
        }
        execlp("pamtester", "pamtester", c->service, c->user, "authenticate", (char *)NULL);
        _exit(127);
    }
    (void)close(in[0]);
    if (write(in[1], c->token, strlen(c->token)) < 0 || write(in[1], "\n", 1) < 0)
        c->failures++;
    (void)close(in[1]);
    if (wait4(pid, &status, 0, &ru) != pid)
        die("wait4");
    t1 = now_us();
    *cpu = tv_us(&ru.ru_utime) + tv_us(&ru.ru_stime);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        c->failures++;
    return t1 - t0;
}

static int cmd_spawn(int argc, char **argv)
{
    static struct bench_case cases[MAX_CASES];
    long rounds;
    int n = argc - 1;

    if (argc < 2 || n > MAX_CASES)
        die("usage: bench spawn ROUNDS CASE...");
    rounds = strtol(argv[0], NULL, 10);
    if (rounds < 1 || rounds > MAX_SAMPLES)
        die("bad ROUNDS");
    for (int i = 0; i < n; i++)
        parse_case(argv[i + 1], &cases[i]);
    for (int i = 0; i < n; i++) { /* warm the page cache */
        double cpu;
        (void)spawn_once(&cases[i], &cpu);
        cases[i].failures = 0;
    }
    /* Alternating, and the order rotates so no case always goes first. */
    for (long r = 0; r < rounds; r++)
        for (int k = 0; k < n; k++) {
            struct bench_case *c = &cases[(k + r) % n];
            c->samples[c->n] = spawn_once(c, &c->cpu[c->n]);
            c->n++;
        }
    for (int i = 0; i < n; i++)
        report("spawn", &cases[i]);
    return 0;
}

/* ---- in process, through libpam ---- */

/* One login: pam_start, pam_authenticate, pam_end. */
static int pam_login(const char *service, const char *user, const char *token)
{
    struct pam_conv conv = {ac_answer_conv, (void *)(uintptr_t)token};
    pam_handle_t *ph = NULL;
    int rc = pam_start(service, user, &conv, &ph);

    if (rc != PAM_SUCCESS)
        return rc;
    rc = pam_authenticate(ph, PAM_SILENT);
    (void)pam_end(ph, rc);
    return rc;
}

static int cmd_pam(int argc, char **argv)
{
    static struct bench_case cases[MAX_CASES];
    long rounds;
    int n = argc - 1;

    if (argc < 2 || n > MAX_CASES)
        die("usage: bench pam ROUNDS CASE...");
    rounds = strtol(argv[0], NULL, 10);
    if (rounds < 1 || rounds > MAX_SAMPLES)
        die("bad ROUNDS");
    for (int i = 0; i < n; i++)
        parse_case(argv[i + 1], &cases[i]);
    for (int i = 0; i < n; i++) /* warm: libraries loaded, caches filled */
        for (int k = 0; k < 3; k++)
            if (pam_login(cases[i].service, cases[i].user, cases[i].token) != PAM_SUCCESS)
                cases[i].failures++;
    for (long r = 0; r < rounds; r++)
        for (int k = 0; k < n; k++) {
            struct bench_case *c = &cases[(k + r) % n];
            double t0 = now_us();
            for (long b = 0; b < c->batch; b++)
                if (pam_login(c->service, c->user, c->token) != PAM_SUCCESS)
                    c->failures++;
            c->samples[c->n++] = (now_us() - t0) / (double)c->batch;
        }
    for (int i = 0; i < n; i++)
        report("pam", &cases[i]);
    return 0;
}

/* ---- the JWT step alone vs bare OpenSSL ---- */

struct verify_alg {
    const char *name;
    enum pk_alg alg;
    const char *key_file;  /* verification key (module) */
    const char *sign_file; /* signing key */
};

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = malloc(65536);

    if (f == NULL || buf == NULL)
        die("cannot read a key");
    *len = fread(buf, 1, 65536, f);
    fclose(f);
    return buf;
}

/* A bare OpenSSL verifier of one signature: the key parsed once, as a
 * careful hand-written verifier would keep it. */
struct bare {
    enum pk_alg alg;
    EVP_MAC_CTX *mac; /* keyed HMAC template (HS256) */
    EVP_PKEY *pkey;   /* RS256 / ES256 */
};

static bool bare_verify(const struct bare *b, const struct pk_token *tok)
{
    const char *input = tok->text;
    size_t input_len = tok->seg_off[2] - 1;
    unsigned char *sig = NULL;
    size_t sig_len = 0;
    bool ok = false;

    if (pk_b64url_decode(tok->text + tok->seg_off[2], tok->seg_len[2], &sig, &sig_len) != PK_ST_OK)
        return false;
    if (b->alg == PK_ALG_HS256) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        size_t mac_len = 0;
        EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(b->mac);
        ok = ctx != NULL && EVP_MAC_update(ctx, (const unsigned char *)input, input_len) == 1 &&
             EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) == 1 && mac_len == sig_len &&
             CRYPTO_memcmp(mac, sig, mac_len) == 0;
        EVP_MAC_CTX_free(ctx);
    } else {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char der[80];
        unsigned char *der_p = der;
        const unsigned char *check = sig;
        size_t check_len = sig_len;
        if (b->alg == PK_ALG_ES256) {
            /* JWS carries raw R||S; OpenSSL wants DER */
            ECDSA_SIG *es = ECDSA_SIG_new();
            BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
            int dl;
            if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1)
                die("ECDSA_SIG");
            dl = i2d_ECDSA_SIG(es, &der_p);
            ECDSA_SIG_free(es);
            if (dl <= 0)
                die("i2d_ECDSA_SIG");
            check = der;
            check_len = (size_t)dl;
        }
        ok = md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, b->pkey) == 1 &&
             EVP_DigestVerify(md, check, check_len, (const unsigned char *)input, input_len) == 1;
        EVP_MD_CTX_free(md);
    }
    free(sig);
    return ok;
}

static double time_per_op(long iters, int which, const struct bare *b, const struct pk_token *tok,
                          const struct pk_config *cfg, const struct pk_jwt_key *key)
{
    struct pk_result res;
    double t0 = now_us();

    for (long i = 0; i < iters; i++) {
        bool ok;
        memset(&res, 0, sizeof(res));
        switch (which) {
        case 0:
            ok = bare_verify(b, tok);
            break;
        case 1:
            ok = pk_jwt_verify(tok, key->alg, key->bytes, key->len, &res) == PK_OK;
            break;
        case 2:
            ok = pk_app_jwt_validate(cfg, key, tok, time(NULL), &res) == PK_OK;
            break;
        default: {
            /* reading the PEM key, as libjwt 1.10 does at every verification */
            BIO *bio = BIO_new_mem_buf(key->bytes, (int)key->len);
            EVP_PKEY *pkey = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
            ok = pkey != NULL;
            EVP_PKEY_free(pkey);
            BIO_free(bio);
            break;
        }
        }
        if (!ok)
            die("verification failed");
    }
    return (now_us() - t0) / (double)iters;
}

static int cmd_verify(int argc, char **argv)
{
    static const struct verify_alg algs[] = {
        {"HS256", PK_ALG_HS256, "hs256.key", "hs256.key"},
        {"RS256", PK_ALG_RS256, "rsa.pub.pem", "rsa.pem"},
        {"ES256", PK_ALG_ES256, "ec256.pub.pem", "ec256.pem"},
    };
    const char *dir;

    if (argc != 1)
        die("usage: bench verify KEYDIR");
    dir = argv[0];
    for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
        char path[1024], header[64], claims[160], err[256], problem[512];
        struct pk_jwt_key key;
        struct pk_config cfg;
        struct pk_token tok;
        struct pk_result res;
        struct bare b = {algs[a].alg, NULL, NULL};
        size_t sign_len;
        unsigned char *sign_key;
        char *jwt;
        double t[4][15];
        long iters;
        int ways = algs[a].alg == PK_ALG_HS256 ? 3 : 4; /* HS256 has no PEM key */

        (void)snprintf(path, sizeof(path), "%s/%s", dir, algs[a].sign_file);
        sign_key = slurp(path, &sign_len);
        if (algs[a].alg == PK_ALG_HS256 && sign_len > 0 && sign_key[sign_len - 1] == '\n')
            sign_len--;
        (void)snprintf(claims, sizeof(claims),
                       "{\"kakao_id\":3095134389,\"iat\":%lld,\"exp\":%lld}", (long long)time(NULL),
                       (long long)time(NULL) + 3600);
        (void)snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", algs[a].name);
        jwt = pk_jwt_sign(header, claims, algs[a].alg, sign_key, sign_len, err, sizeof(err));
        if (jwt == NULL)
            die(err);
        memset(&res, 0, sizeof(res));
        if (pk_token_parse(jwt, &tok, &res) != PK_OK)
            die("token parse");
        (void)snprintf(path, sizeof(path), "%s/%s", dir, algs[a].key_file);
        if (pk_jwt_key_load(path, algs[a].alg, geteuid(), &key, problem, sizeof(problem)) !=
            PK_ST_OK)
            die(problem);
        memset(&cfg, 0, sizeof(cfg));
        cfg.jwt_alg = algs[a].alg;
        cfg.leeway = 60;
        cfg.jwt_id_claim = (char *)"kakao_id";
        if (algs[a].alg == PK_ALG_HS256) {
            EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
            OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
                OSSL_PARAM_construct_end()};
            b.mac = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
            if (b.mac == NULL || EVP_MAC_init(b.mac, sign_key, sign_len, params) != 1)
                die("HMAC init");
            EVP_MAC_free(mac);
        } else {
            BIO *bio = BIO_new_mem_buf(key.bytes, (int)key.len);
            b.pkey = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
            BIO_free(bio);
            if (b.pkey == NULL)
                die("PEM_read_bio_PUBKEY");
        }
        /* enough iterations for ~20 ms a sample, then 15 alternating samples */
        iters = algs[a].alg == PK_ALG_HS256 ? 2000 : algs[a].alg == PK_ALG_RS256 ? 300 : 150;
        memset(t, 0, sizeof(t));
        for (int w = 0; w < ways; w++)
            (void)time_per_op(iters / 10, w, &b, &tok, &cfg, &key);
        for (int s = 0; s < 15; s++)
            for (int w = 0; w < ways; w++)
                t[(w + s) % ways][s] = time_per_op(iters, (w + s) % ways, &b, &tok, &cfg, &key);
        printf("verify %s openssl_us=%.2f libjwt_us=%.2f module_us=%.2f pem_us=%.2f\n",
               algs[a].name, quantile(t[0], 15, 0.5), quantile(t[1], 15, 0.5),
               quantile(t[2], 15, 0.5), quantile(t[3], 15, 0.5));
        EVP_MAC_CTX_free(b.mac);
        EVP_PKEY_free(b.pkey);
        pk_jwt_key_free(&key);
        free(jwt);
        free(sign_key);
    }
    return 0;
}

/* ---- user maps ---- */

static long vm_hwm_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmHWM: %ld kB", &v) == 1)
            break;
    fclose(f);
    return v;
}

/* In a fresh process: lookups of user in map, then logins through
 * service; peak memory after each part. */
static int cmd_map_child(int argc, char **argv)
{
    double look[64], login[64];
    struct pk_id_list ids;
    char problem[512];
    long n, hwm_start, hwm_lookup;
    char *token;

    if (argc != 5)
        die("usage: bench map-child MAP USER SERVICE TOKENFILE N");
    n = strtol(argv[4], NULL, 10);
    if (n < 1 || n > 64)
        die("bad N");
    token = read_token(argv[3]);
    hwm_start = vm_hwm_kib();
    for (long i = -1; i < n; i++) {
        double t0 = now_us();
        if (pk_user_map_lookup(argv[0], geteuid(), argv[1], NULL, &ids, problem, sizeof(problem)) !=
                PK_ST_OK ||
            ids.count != 1)
            die("user map lookup failed");
        pk_id_list_free(&ids);
        if (i >= 0)
            look[i] = now_us() - t0;
    }
    hwm_lookup = vm_hwm_kib();
    for (long i = -1; i < n; i++) {
        double t0 = now_us();
        if (pam_login(argv[2], argv[1], token) != PAM_SUCCESS)
            die("login failed");
        if (i >= 0)
            login[i] = now_us() - t0;
    }
    printf("lookup_us=%.1f login_us=%.1f hwm_start_kib=%ld hwm_lookup_kib=%ld hwm_end_kib=%ld\n",
           quantile(look, (size_t)n, 0.5), quantile(login, (size_t)n, 0.5), hwm_start, hwm_lookup,
           vm_hwm_kib());
    free(token);
    return 0;
}

static int cmd_usermap(int argc, char **argv, const char *self)
{
    if (argc < 3)
        die("usage: bench usermap USER TOKENFILE NAME=SERVICE=MAP...");
    for (int i = 2; i < argc; i++) {
        char spec[1024], *name, *service, *map, out[512];
        int fds[2], status = 0;
        struct rusage ru;
        ssize_t got;
        pid_t pid;

        (void)snprintf(spec, sizeof(spec), "%s", argv[i]);
        name = spec;
        service = strchr(name, '=');
        map = service != NULL ? strchr(service + 1, '=') : NULL;
        if (map == NULL)
            die("a map is NAME=SERVICE=MAP");
        *service++ = '\0';
        *map++ = '\0';
        if (pipe(fds) != 0)
            die("pipe");
        pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            (void)dup2(fds[1], STDOUT_FILENO);
            (void)close(fds[0]);
            (void)close(fds[1]);
            execl(self, self, "map-child", map, argv[0], service, argv[1], "15", (char *)NULL);
            _exit(127);
        }
        (void)close(fds[1]);
        got = read(fds[0], out, sizeof(out) - 1);
        (void)close(fds[0]);
        if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
            got <= 0)
            die("map child failed");
        out[got] = '\0';
        if (out[got - 1] == '\n')
            out[got - 1] = '\0';
        printf("usermap %s %s maxrss_kib=%ld\n", name, out, ru.ru_maxrss);
    }
    return 0;
}

/* ---- concurrent logins ---- */

struct load_shared {
    const char *service, *user, *token;
    pthread_barrier_t start;
};

struct load_slot {
    struct load_shared *sh;
    double us;
    int rc;
};

static void *load_thread(void *arg)
{
    struct load_slot *s = arg;
    double t0;

    (void)pthread_barrier_wait(&s->sh->start);
    t0 = now_us();
    s->rc = pam_login(s->sh->service, s->sh->user, s->sh->token);
    s->us = now_us() - t0;
    return NULL;
}

static int cmd_load(int argc, char **argv)
{
    static double lat[MAX_SAMPLES], seq[32];
    struct load_shared sh;
    struct load_slot *slots;
    pthread_t *threads;
    long nthreads, rounds, failures = 0;
    size_t n = 0;
    double wall = 0;

    if (argc != 5)
        die("usage: bench load SERVICE USER TOKENFILE THREADS ROUNDS");
    sh.service = argv[0];
    sh.user = argv[1];
    sh.token = read_token(argv[2]);
    nthreads = strtol(argv[3], NULL, 10);
    rounds = strtol(argv[4], NULL, 10);
    if (nthreads < 1 || rounds < 1 || nthreads * rounds > MAX_SAMPLES)
        die("bad THREADS or ROUNDS");
    /* the same login one at a time: the baseline, in this run */
    for (int i = -2; i < 20; i++) {
        double t0 = now_us();
        if (pam_login(sh.service, sh.user, sh.token) != PAM_SUCCESS)
            die("sequential login failed");
        if (i >= 0)
            seq[i] = now_us() - t0;
    }
    slots = calloc((size_t)nthreads, sizeof(*slots));
    threads = calloc((size_t)nthreads, sizeof(*threads));
    if (slots == NULL || threads == NULL)
        die("out of memory");
    for (long r = 0; r < rounds; r++) {
        double t0;
        if (pthread_barrier_init(&sh.start, NULL, (unsigned)nthreads + 1) != 0)
            die("barrier");
        for (long i = 0; i < nthreads; i++) {
            slots[i].sh = &sh;
            if (pthread_create(&threads[i], NULL, load_thread, &slots[i]) != 0)
                die("pthread_create");
        }
        (void)pthread_barrier_wait(&sh.start);
        t0 = now_us();
        for (long i = 0; i < nthreads; i++) {
            (void)pthread_join(threads[i], NULL);
            lat[n++] = slots[i].us;
            failures += slots[i].rc != PAM_SUCCESS;
        }
        wall += now_us() - t0;
        (void)pthread_barrier_destroy(&sh.start);
    }
    printf("load kakao threads=%ld logins=%zu seq_median_us=%.1f p50_us=%.1f p99_us=%.1f "
           "max_us=%.1f per_s=%.1f failures=%ld\n",
           nthreads, n, quantile(seq, 20, 0.5), quantile(lat, n, 0.5), quantile(lat, n, 0.99),
           quantile(lat, n, 1.0), (double)n / (wall / 1e6), failures);
    free(slots);
    free(threads);
    return 0;
}

/* ---- which libraries a login leaves mapped ---- */

static bool mapped(const char *needle)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[1024];
    bool found = false;

    if (f == NULL)
        return false;
    while (!found && fgets(line, sizeof(line), f) != NULL)
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static int cmd_libs(int argc, char **argv)
{
    char *token;

    if (argc != 3)
        die("usage: bench libs SERVICE USER TOKENFILE");
    token = read_token(argv[2]);
    if (pam_login(argv[0], argv[1], token) != PAM_SUCCESS)
        die("login failed");
    printf("libs %s libcurl=%s\n", argv[0], mapped("libcurl") ? "loaded" : "not-loaded");
    free(token);
    return 0;
}

/* OpenSSL 3's first use in a fresh process: the config file, then the
 * default provider on the first algorithm fetched. */
static int cmd_osslinit(void)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    double t0 = now_us(), t1, t2;

    if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1)
        die("OPENSSL_init_crypto");
    t1 = now_us();
    if (EVP_Digest("x", 1, md, &md_len, EVP_sha256(), NULL) != 1)
        die("EVP_Digest");
    t2 = now_us();
    printf("osslinit openssl config_us=%.1f first_fetch_us=%.1f\n", t1 - t0, t2 - t1);
    return 0;
}

static int cmd_hash(int argc, char **argv)
{
    const char *salt, *hash;

    if (argc != 1)
        die("usage: bench hash PASSWORD");
    salt = crypt_gensalt("$y$", 0, NULL, 0);
    hash = salt != NULL ? crypt(argv[0], salt) : NULL;
    if (hash == NULL || hash[0] == '*')
        die("crypt");
    printf("%s\n", hash);
    return 0;
}

/* One-time tokens: every login gets a token never seen before (its own
 * jti), minted outside the timed part, so that a one_time = yes service
 * accepts each one and the figure is a first use: validation plus setting
 * the mark. Cases alternate, order rotating; one login per sample. */
static int cmd_once(int argc, char **argv)
{
    static struct bench_case cases[MAX_CASES];
    unsigned char key[256];
    char claims[256], err[256];
    unsigned long serial = 0;
    size_t key_len;
    long rounds;
    int n = argc - 2;
    FILE *f;

    if (argc < 3 || n > MAX_CASES)
        die("usage: bench once ROUNDS KEYFILE NAME=SERVICE...");
    rounds = strtol(argv[0], NULL, 10);
    if (rounds < 1 || rounds > MAX_SAMPLES)
        die("bad ROUNDS");
    f = fopen(argv[1], "rb");
    if (f == NULL)
        die("cannot read the HS256 key");
    key_len = fread(key, 1, sizeof(key), f);
    fclose(f);
    if (key_len > 0 && key[key_len - 1] == '\n')
        key_len--;
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(argv[i + 2], '=');

        memset(&cases[i], 0, sizeof(cases[i]));
        if (eq == NULL || (size_t)(eq - argv[i + 2]) >= sizeof(cases[i].name) ||
            strlen(eq + 1) >= sizeof(cases[i].service))
            die("a case is NAME=SERVICE");
        memcpy(cases[i].name, argv[i + 2], (size_t)(eq - argv[i + 2]));
        memcpy(cases[i].service, eq + 1, strlen(eq + 1) + 1);
    }
    for (long r = -3; r < rounds; r++) /* three rounds of warm-up */
        for (int k = 0; k < n; k++) {
            struct bench_case *c = &cases[(k + (r < 0 ? 0 : r)) % n];
            char *token;
            double t0;
            int rc;

            (void)snprintf(claims, sizeof(claims),
                           "{\"kakao_id\":3095134389,\"exp\":%lld,\"jti\":\"bench-%ld-%lu\"}",
                           (long long)time(NULL) + 3600, (long)getpid(), ++serial);
            token = pk_jwt_sign("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, PK_ALG_HS256, key,
                                key_len, err, sizeof(err));
            if (token == NULL)
                die(err);
            t0 = now_us();
            rc = pam_login(c->service, "alice", token);
            if (r >= 0) {
                c->samples[c->n++] = now_us() - t0;
                if (rc != PAM_SUCCESS)
                    c->failures++;
            }
            free(token);
        }
    for (int i = 0; i < n; i++)
        report("once", &cases[i]);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(cmd, "spawn") == 0)
        return cmd_spawn(argc - 2, argv + 2);
    if (strcmp(cmd, "pam") == 0)
        return cmd_pam(argc - 2, argv + 2);
    if (strcmp(cmd, "verify") == 0)
        return cmd_verify(argc - 2, argv + 2);
    if (strcmp(cmd, "usermap") == 0)
        return cmd_usermap(argc - 2, argv + 2, "/proc/self/exe");
    if (strcmp(cmd, "map-child") == 0)
        return cmd_map_child(argc - 2, argv + 2);
    if (strcmp(cmd, "load") == 0)
        return cmd_load(argc - 2, argv + 2);
    if (strcmp(cmd, "libs") == 0)
        return cmd_libs(argc - 2, argv + 2);
    if (strcmp(cmd, "hash") == 0)
        return cmd_hash(argc - 2, argv + 2);
    if (strcmp(cmd, "osslinit") == 0)
        return cmd_osslinit();
    if (strcmp(cmd, "once") == 0)
        return cmd_once(argc - 2, argv + 2);
    fprintf(stderr, "usage: bench spawn|pam|verify|usermap|load|libs|hash|osslinit|once ...\n");
    return 2;
}
