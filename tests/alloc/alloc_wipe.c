/* Secrets are wiped before their memory is released (docs/DESIGN.md §10.1).
 *
 * Every free() in the process is inspected (see interpose.h): a block that
 * still holds a secret when it is released is a finding. New blocks are
 * filled first, so what a block holds was written into it after it was
 * allocated, never left there by an earlier block. Secrets: the token
 * as typed, its signature (text and decoded bytes), the HMAC key, and
 * pieces of the Kakao API's response bodies. A finding is ours when our
 * code allocated or released the block (this executable, which links
 * libpk.a, or pam_kakao.so), or when it is the Authorization header line we
 * hand to libcurl: each of those fails the test. Copies that libraries make
 * internally and release without wiping (libjwt's copy of the token,
 * libcurl's request buffer, jansson's strings, OpenSSL's records) are
 * listed, not failed: SECURITY.md names them.
 *
 * Paths: pk_auth_prepare/pk_auth_decide with an HS256 JWT (also with its
 * last character mistyped), an RS256 JWT and a Kakao token (require_email =
 * verified, against the mock), and the real module through libpam
 * (pam_wrapper) with a JWT and a Kakao token typed at the prompt, whose
 * answer buffer this test allocates and the module must wipe. A self-check
 * first frees an unwiped copy to prove findings are seen.
 *
 * Environment (tests/run.sh): PK_TEST_DIR, PK_TEST_KEYS, PK_MOCK_PORT,
 * PK_MOCK_CA, and pam_wrapper's with service "pk" reading PK_TEST_DIR/cur.conf. */
#include <dlfcn.h>
#include <security/pam_appl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "interpose.h"
#include "tests/pam/answer_conv.h"
#include "src/auth.h"
#include "src/b64url.h"
#include "src/jwt_sign.h"

#define MAX_SECRETS 16
#define MAX_FINDINGS 64
#define AUTH_PREFIX "Authorization: Bearer "

struct secret {
    const char *name;
    const unsigned char *bytes;
    size_t len;
};

struct finding {
    const char *secret;
    const char *path;
    size_t size;
    char alloc_obj[96];
    char free_obj[96];
    bool ours;
};

static struct secret secrets[MAX_SECRETS];
static int nsecrets;
static struct finding findings[MAX_FINDINGS];
static int nfindings;
static unsigned long dropped;
static const char *current_path = "setup";
static const void *exe_base;

static void die(const char *what)
{
    fprintf(stderr, "alloc_wipe: %s\n", what);
    exit(2);
}

static void add_secret(const char *name, const void *bytes, size_t len)
{
    if (nsecrets == MAX_SECRETS || len < 8)
        die("bad secret");
    secrets[nsecrets++] = (struct secret){name, bytes, len};
}

static const char *short_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/* Ours: this executable (libpk.a is linked in) or the module. */
static bool our_code(const void *addr, char *name, size_t len)
{
    Dl_info info;

    if (addr == NULL || dladdr(addr, &info) == 0) {
        (void)snprintf(name, len, "?");
        return false;
    }
    (void)snprintf(name, len, "%s",
                   info.dli_fbase == exe_base ? "this test (libpk.a)" : short_name(info.dli_fname));
    return info.dli_fbase == exe_base || strstr(name, "pam_kakao") != NULL;
}

static void on_free(const void *p, size_t size, const void *caller)
{
    for (int i = 0; i < nsecrets; i++) {
        struct finding *f;
        bool by_us, alloc_us;

        if (memmem(p, size, secrets[i].bytes, secrets[i].len) == NULL)
            continue;
        if (nfindings == MAX_FINDINGS) {
            dropped++;
            return;
        }
        f = &findings[nfindings++];
        f->secret = secrets[i].name;
        f->path = current_path;
        f->size = size;
        alloc_us = our_code(ia_allocated_by(p), f->alloc_obj, sizeof(f->alloc_obj));
        by_us = our_code(caller, f->free_obj, sizeof(f->free_obj));
        f->ours = alloc_us || by_us || memcmp(p, AUTH_PREFIX, sizeof(AUTH_PREFIX) - 1) == 0;
        return;
    }
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

static void emit(void *ctx, int priority, const char *msg)
{
    (void)ctx;
    (void)priority;
    (void)msg;
}

static const struct pk_logger quiet = {emit, NULL, false};

/* pk_auth_prepare + pk_auth_decide for alice with config file conf. */
static enum pk_outcome auth_direct(const char *conf, const char *token)
{
    char arg[600];
    const char *argv[1] = {arg};
    struct pk_auth a;
    struct pk_result res;
    enum pk_outcome out;

    (void)snprintf(arg, sizeof(arg), "config=%s", conf);
    out = pk_auth_prepare(&a, 1, argv, NULL, "alice", &quiet, &res);
    if (out == PK_OK)
        out = pk_auth_decide(&a, token, time(NULL), &res);
    pk_auth_free(&a);
    return out;
}

static int auth_pam(const char *token)
{
    /* The module owns the copy of token it is given: it must wipe it. */
    struct pam_conv pc = {ac_answer_conv, (void *)token};
    pam_handle_t *ph = NULL;
    int rc;

    if (pam_start("pk", "alice", &pc, &ph) != PAM_SUCCESS)
        die("pam_start");
    rc = pam_authenticate(ph, PAM_SILENT);
    (void)pam_end(ph, rc);
    return rc;
}

static int check(const char *what, bool ok)
{
    printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
    return ok ? 0 : 1;
}

int main(void)
{
    const char *dir = getenv("PK_TEST_DIR");
    const char *keys = getenv("PK_TEST_KEYS");
    const char *port = getenv("PK_MOCK_PORT");
    const char *ca = getenv("PK_MOCK_CA");
    char path[600], text[2048], claims[200], err[256];
    char hs_conf[600], rs_conf[600], kakao_conf[600];
    char *hs_key, *rs_key, *hs_token, *rs_token, *copy, *typo;
    unsigned char *hs_sig = NULL, *rs_sig = NULL;
    size_t hs_len, rs_len, hs_sig_len = 0, rs_sig_len = 0;
    const char *kakao_token = "mockValidAliceToken_0001";
    static const char body_info[] = "\"expires_in\":21599,\"app_id\":1234567";
    static const char body_me[] = "\"is_email_verified\":true,\"email\":\"alice@example.com\"";
    time_t now = time(NULL);
    Dl_info self;
    int failed = 0, ours = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!ia_available()) {
        printf("alloc_wipe: skipped: allocator interposition needs a shared sanitizer runtime\n");
        return 0;
    }
    if (dir == NULL || keys == NULL || port == NULL || port[0] == '\0' || ca == NULL)
        die("PK_TEST_DIR, PK_TEST_KEYS, PK_MOCK_PORT and PK_MOCK_CA must be set");
    if (dladdr((void *)&main, &self) == 0)
        die("dladdr");
    exe_base = self.dli_fbase;

    (void)snprintf(path, sizeof(path), "%s/wipe", dir);
    (void)mkdir(path, 0755);
    (void)snprintf(text, sizeof(text), "%s/wipe/users", dir);
    write_text(text, "3095134389 alice\n");
    (void)snprintf(hs_conf, sizeof(hs_conf), "%s/wipe/hs.conf", dir);
    (void)snprintf(text, sizeof(text),
                   "user_map = %s/wipe/users\njwt_key = %s/hs256.key\njwt_alg = HS256\n", dir,
                   keys);
    write_text(hs_conf, text);
    (void)snprintf(rs_conf, sizeof(rs_conf), "%s/wipe/rs.conf", dir);
    (void)snprintf(text, sizeof(text),
                   "user_map = %s/wipe/users\njwt_key = %s/rsa.pub.pem\njwt_alg = RS256\n", dir,
                   keys);
    write_text(rs_conf, text);
    (void)snprintf(kakao_conf, sizeof(kakao_conf), "%s/wipe/kakao.conf", dir);
    (void)snprintf(text, sizeof(text),
                   "user_map = %s/wipe/users\nkakao_app_id = 1234567\n"
                   "kakao_api_url = https://127.0.0.1:%s\nca_file = %s\nrequire_email = verified\n",
                   dir, port, ca);
    write_text(kakao_conf, text);
    /* The module's service "pk" reads cur.conf: both kinds at once. */
    (void)snprintf(path, sizeof(path), "%s/cur.conf", dir);
    (void)snprintf(text, sizeof(text),
                   "user_map = %s/wipe/users\njwt_key = %s/hs256.key\njwt_alg = HS256\n"
                   "kakao_app_id = 1234567\nkakao_api_url = https://127.0.0.1:%s\nca_file = %s\n"
                   "require_email = verified\n",
                   dir, keys, port, ca);
    write_text(path, text);

    (void)snprintf(claims, sizeof(claims), "{\"kakao_id\":3095134389,\"exp\":%lld}",
                   (long long)now + 600);
    (void)snprintf(path, sizeof(path), "%s/hs256.key", keys);
    hs_key = read_text(path, &hs_len);
    if (hs_len > 0 && hs_key[hs_len - 1] == '\n')
        hs_key[--hs_len] = '\0';
    hs_token = pk_jwt_sign("{\"alg\":\"HS256\"}", claims, PK_ALG_HS256, (unsigned char *)hs_key,
                           hs_len, err, sizeof(err));
    (void)snprintf(path, sizeof(path), "%s/rsa.pem", keys);
    rs_key = read_text(path, &rs_len);
    rs_token = pk_jwt_sign("{\"alg\":\"RS256\"}", claims, PK_ALG_RS256, (unsigned char *)rs_key,
                           rs_len, err, sizeof(err));
    if (hs_token == NULL || rs_token == NULL)
        die(err);
    if (pk_b64url_decode(strrchr(hs_token, '.') + 1, strlen(strrchr(hs_token, '.') + 1), &hs_sig,
                         &hs_sig_len) != PK_ST_OK ||
        pk_b64url_decode(strrchr(rs_token, '.') + 1, strlen(strrchr(rs_token, '.') + 1), &rs_sig,
                         &rs_sig_len) != PK_ST_OK)
        die("decoding signatures");

    add_secret("HS256 JWT", hs_token, strlen(hs_token));
    add_secret("HS256 JWT signature", strrchr(hs_token, '.') + 1,
               strlen(strrchr(hs_token, '.') + 1));
    /* The first 28 bytes: the last ones change with the mistyped character below. */
    add_secret("HS256 JWT signature (decoded)", hs_sig, 28);
    add_secret("HMAC key", hs_key, hs_len);
    add_secret("RS256 JWT", rs_token, strlen(rs_token));
    add_secret("RS256 JWT signature (decoded)", rs_sig, rs_sig_len);
    add_secret("Kakao access token", kakao_token, strlen(kakao_token));
    add_secret("token info body", body_info, sizeof(body_info) - 1);
    add_secret("user/me body", body_me, sizeof(body_me) - 1);

    ia_arm(0); /* nothing fails; blocks are tracked to name who allocated them */
    ia_fill_new_blocks(true);
    ia_set_free_hook(on_free);

    current_path = "self-check";
    copy = strdup(hs_token);
    free(copy);
    failed += check("self-check: an unwiped copy of the token is seen when freed",
                    nfindings == 1 && findings[0].ours);
    nfindings = 0;

    current_path = "direct HS256 JWT";
    failed += check("pk_auth HS256 JWT accepted", auth_direct(hs_conf, hs_token) == PK_OK);
    current_path = "direct HS256 JWT, last character mistyped";
    typo = strdup(hs_token);
    if (typo == NULL)
        die("out of memory");
    /* A character whose unused low bits are set: the decoder gets through
     * the whole signature before refusing it. */
    typo[strlen(typo) - 1] = typo[strlen(typo) - 1] == 'B' ? 'C' : 'B';
    failed += check("pk_auth mistyped HS256 JWT refused",
                    auth_direct(hs_conf, typo) == PK_JWT_BAD_SIGNATURE);
    current_path = "direct RS256 JWT";
    failed += check("pk_auth RS256 JWT accepted", auth_direct(rs_conf, rs_token) == PK_OK);
    current_path = "direct Kakao token";
    failed += check("pk_auth Kakao token accepted", auth_direct(kakao_conf, kakao_token) == PK_OK);
    current_path = "PAM HS256 JWT";
    failed += check("pam_authenticate HS256 JWT", auth_pam(hs_token) == PAM_SUCCESS);
    current_path = "PAM Kakao token";
    failed += check("pam_authenticate Kakao token", auth_pam(kakao_token) == PAM_SUCCESS);

    ia_set_free_hook(NULL);
    (void)ia_disarm();

    for (int i = 0; i < nfindings; i++) {
        const struct finding *f = &findings[i];
        printf("%s %s: %s left in a %zu-byte block allocated in %s, freed in %s\n",
               f->ours ? "OURS   " : "library", f->path, f->secret, f->size, f->alloc_obj,
               f->free_obj);
        ours += f->ours;
    }
    if (dropped != 0)
        printf("(%lu more findings not listed)\n", dropped);
    failed +=
        check("frees inside libraries are seen too (libjwt's copy of the token)", nfindings > ours);
    failed +=
        check("no secret left in memory our code allocated or released", ours == 0 && dropped == 0);
    free(typo);
    free(hs_sig);
    free(rs_sig);
    free(hs_token);
    free(rs_token);
    free(hs_key);
    free(rs_key);
    printf("alloc_wipe: %d problems\n", failed);
    return failed == 0 ? 0 : 1;
}
