/* pk_jwt_key_load: every algorithm with a fitting key and with misfits
 * (wrong key type, wrong curve, short RSA, private key, short HMAC secret),
 * the HMAC trailing-newline rule, the signature lengths, and the key-file
 * trust rules. Keys are made with the openssl CLI in a temp dir. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/config.h"
#include "src/keys.h"

static char tmpdir[64];
static char pbuf[4][PATH_MAX];
static unsigned pbuf_next;

static const char *at(const char *name)
{
    char *p = pbuf[pbuf_next++ % 4];
    int n = snprintf(p, PATH_MAX, "%s/%s", tmpdir, name);

    assert_true(n > 0 && n < PATH_MAX);
    return p;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(cmd))
        return -1;
    return system(cmd);
}

/* NAME.pem (private) and NAME.pub.pem (SPKI public) from genpkey args. */
static int pair(const char *name, const char *genpkey_args)
{
    if (run("cd '%s' && openssl genpkey %s -out %s.pem 2>/dev/null && "
            "openssl pkey -in %s.pem -pubout -out %s.pub.pem 2>/dev/null && "
            "chmod 600 %s.pem %s.pub.pem",
            tmpdir, genpkey_args, name, name, name, name, name) != 0) {
        fprintf(stderr, "cannot make key %s\n", name);
        return -1;
    }
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    (void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/pk_keys.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    if (pair("rsa2048", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048") != 0 ||
        pair("rsa3072", "-algorithm RSA -pkeyopt rsa_keygen_bits:3072") != 0 ||
        pair("rsa1024", "-algorithm RSA -pkeyopt rsa_keygen_bits:1024") != 0 ||
        pair("rsapss", "-algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048") != 0 ||
        pair("p256", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256") != 0 ||
        pair("p384", "-algorithm EC -pkeyopt ec_paramgen_curve:P-384") != 0 ||
        pair("p521", "-algorithm EC -pkeyopt ec_paramgen_curve:P-521") != 0 ||
        pair("k256", "-algorithm EC -pkeyopt ec_paramgen_curve:secp256k1") != 0 ||
        pair("ed25519", "-algorithm ED25519") != 0)
        return -1;
    if (run("cd '%s' && openssl rsa -in rsa2048.pem -RSAPublicKey_out -out rsa2048.pkcs1.pem "
            "2>/dev/null && chmod 600 rsa2048.pkcs1.pem",
            tmpdir) != 0)
        return -1;
    if (run("cd '%s' && openssl req -x509 -new -key p256.pem -subj /CN=test -days 1 "
            "-out cert.pem 2>/dev/null && chmod 600 cert.pem",
            tmpdir) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *write_file(const char *name, const void *data, size_t len, mode_t mode)
{
    const char *path = at(name);
    int fd;

    (void)unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

/* The whole file, for comparing with key->bytes. */
static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "re");
    char *buf = malloc(65536);
    size_t n;

    assert_non_null(fp);
    assert_non_null(buf);
    n = fread(buf, 1, 65535, fp);
    assert_int_equal(fclose(fp), 0);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void expect_ok(const char *path, enum pk_alg alg, size_t sig_len)
{
    struct pk_jwt_key key;
    char problem[512] = "";

    if (pk_jwt_key_load(path, alg, geteuid(), &key, problem, sizeof(problem)) != PK_ST_OK)
        fail_msg("%s refused for %s: %s", path, pk_alg_name(alg), problem);
    assert_int_equal(key.alg, alg);
    assert_int_equal(key.sig_len, sig_len);
    assert_non_null(key.bytes);
    assert_true(key.len > 0);
    pk_jwt_key_free(&key);
    assert_null(key.bytes);
    assert_int_equal(key.len, 0);
}

/* Refused as PK_ST_REFUSED with problem "<path>: <rest>". */
static void expect_bad(const char *path, enum pk_alg alg, const char *rest)
{
    struct pk_jwt_key key;
    char problem[512] = "";
    char want[PATH_MAX + 256];
    int n = snprintf(want, sizeof(want), "%s: %s", path, rest);

    assert_true(n > 0 && (size_t)n < sizeof(want));
    memset(&key, 0x5a, sizeof(key));
    if (pk_jwt_key_load(path, alg, geteuid(), &key, problem, sizeof(problem)) != PK_ST_REFUSED)
        fail_msg("%s accepted for %s, wanted \"%s\"", path, pk_alg_name(alg), want);
    assert_string_equal(problem, want);
    /* nothing usable is left behind */
    assert_null(key.bytes);
    assert_int_equal(key.len, 0);
    assert_int_equal(key.alg, PK_ALG_NONE);
}

/* ---- HMAC ----------------------------------------------------------- */

static void test_hmac_lengths(void **state)
{
    const char *p31 = write_file("hs31", "0123456789abcdef0123456789abcde", 31, 0600);
    const char *p32 = write_file("hs32", "0123456789abcdef0123456789abcdef", 32, 0600);
    struct pk_jwt_key key;
    char problem[256];

    (void)state;
    expect_bad(p31, PK_ALG_HS256, "HMAC secret of 31 bytes, at least 32 needed");
    expect_bad(p31, PK_ALG_HS384, "HMAC secret of 31 bytes, at least 32 needed");
    expect_bad(p31, PK_ALG_HS512, "HMAC secret of 31 bytes, at least 32 needed");
    expect_ok(p32, PK_ALG_HS256, 32);
    expect_ok(p32, PK_ALG_HS384, 48);
    expect_ok(p32, PK_ALG_HS512, 64);

    assert_int_equal(pk_jwt_key_load(p32, PK_ALG_HS256, geteuid(), &key, problem, sizeof(problem)),
                     PK_ST_OK);
    assert_int_equal(key.len, 32);
    assert_memory_equal(key.bytes, "0123456789abcdef0123456789abcdef", 32);
    pk_jwt_key_free(&key);
}

/* The secret is the file's bytes less one trailing newline. */
static void test_hmac_trailing_newline(void **state)
{
    struct pk_jwt_key key;
    char problem[256];
    const char *p;

    (void)state;
    /* 31 bytes and a newline: 31 bytes of secret, refused */
    p = write_file("hs", "0123456789abcdef0123456789abcde\n", 32, 0600);
    expect_bad(p, PK_ALG_HS256, "HMAC secret of 31 bytes, at least 32 needed");

    /* 32 bytes and a newline: the newline is not part of the secret */
    p = write_file("hs", "0123456789abcdef0123456789abcdef\n", 33, 0600);
    assert_int_equal(pk_jwt_key_load(p, PK_ALG_HS256, geteuid(), &key, problem, sizeof(problem)),
                     PK_ST_OK);
    assert_int_equal(key.len, 32);
    assert_memory_equal(key.bytes, "0123456789abcdef0123456789abcdef", 32);
    pk_jwt_key_free(&key);

    /* only one newline is stripped */
    p = write_file("hs", "0123456789abcdef0123456789abcdef\n\n", 34, 0600);
    assert_int_equal(pk_jwt_key_load(p, PK_ALG_HS384, geteuid(), &key, problem, sizeof(problem)),
                     PK_ST_OK);
    assert_int_equal(key.len, 33);
    assert_memory_equal(key.bytes, "0123456789abcdef0123456789abcdef\n", 33);
    pk_jwt_key_free(&key);
    p = write_file("hs", "0123456789abcdef0123456789abcde\n\n", 33, 0600);
    assert_int_equal(pk_jwt_key_load(p, PK_ALG_HS256, geteuid(), &key, problem, sizeof(problem)),
                     PK_ST_OK);
    assert_int_equal(key.len, 32);
    assert_int_equal(key.bytes[31], '\n');
    pk_jwt_key_free(&key);

    /* a CR is kept: only "\n" is stripped */
    p = write_file("hs", "0123456789abcdef0123456789abcde\r\n", 33, 0600);
    assert_int_equal(pk_jwt_key_load(p, PK_ALG_HS256, geteuid(), &key, problem, sizeof(problem)),
                     PK_ST_OK);
    assert_int_equal(key.len, 32);
    assert_int_equal(key.bytes[31], '\r');
    pk_jwt_key_free(&key);

    /* empty, or just a newline */
    p = write_file("hs", "", 0, 0600);
    expect_bad(p, PK_ALG_HS256, "HMAC secret of 0 bytes, at least 32 needed");
    p = write_file("hs", "\n", 1, 0600);
    expect_bad(p, PK_ALG_HS512, "HMAC secret of 0 bytes, at least 32 needed");
}

/* A binary secret is taken byte for byte, NUL bytes included. */
static void test_hmac_binary_secret(void **state)
{
    unsigned char secret[40];
    struct pk_jwt_key key;
    char problem[256];
    const char *p;

    (void)state;
    for (size_t i = 0; i < sizeof(secret); i++)
        secret[i] = (unsigned char)(i * 37u);
    secret[5] = 0;
    p = write_file("hsbin", secret, sizeof(secret), 0600);
    assert_int_equal(pk_jwt_key_load(p, PK_ALG_HS512, geteuid(), &key, problem, sizeof(problem)),
                     PK_ST_OK);
    assert_int_equal(key.len, sizeof(secret));
    assert_memory_equal(key.bytes, secret, sizeof(secret));
    assert_int_equal(key.sig_len, 64);
    pk_jwt_key_free(&key);
}

/* ---- RSA ------------------------------------------------------------ */

static void test_rsa_keys(void **state)
{
    struct pk_jwt_key key;
    char problem[256];
    char *pem;
    size_t pem_len;

    (void)state;
    expect_ok(at("rsa2048.pub.pem"), PK_ALG_RS256, 256);
    expect_ok(at("rsa2048.pub.pem"), PK_ALG_RS384, 256);
    expect_ok(at("rsa2048.pub.pem"), PK_ALG_RS512, 256);
    expect_ok(at("rsa3072.pub.pem"), PK_ALG_RS256, 384);
    /* "BEGIN RSA PUBLIC KEY" (PKCS#1) is read as well as SPKI */
    expect_ok(at("rsa2048.pkcs1.pem"), PK_ALG_RS256, 256);

    /* libjwt gets the PEM text itself */
    pem = slurp(at("rsa2048.pub.pem"), &pem_len);
    assert_int_equal(pk_jwt_key_load(at("rsa2048.pub.pem"), PK_ALG_RS256, geteuid(), &key, problem,
                                     sizeof(problem)),
                     PK_ST_OK);
    assert_int_equal(key.len, pem_len);
    assert_memory_equal(key.bytes, pem, pem_len);
    pk_jwt_key_free(&key);
    free(pem);
}

static void test_rsa_1024_refused(void **state)
{
    (void)state;
    expect_bad(at("rsa1024.pub.pem"), PK_ALG_RS256, "RSA key of 1024 bits, at least 2048 needed");
    expect_bad(at("rsa1024.pub.pem"), PK_ALG_RS512, "RSA key of 1024 bits, at least 2048 needed");
}

static void test_rs_needs_rsa_key(void **state)
{
    (void)state;
    expect_bad(at("p256.pub.pem"), PK_ALG_RS256, "RS256 needs an RSA key");
    expect_bad(at("p384.pub.pem"), PK_ALG_RS384, "RS384 needs an RSA key");
    expect_bad(at("ed25519.pub.pem"), PK_ALG_RS512, "RS512 needs an RSA key");
    /* RSA-PSS keys are not for RS* (PKCS#1 v1.5) */
    expect_bad(at("rsapss.pub.pem"), PK_ALG_RS256, "RS256 needs an RSA key");
}

/* A public key PEM configured as an HS* secret would let anyone who has the
 * public key MAC tokens (algorithm confusion by configuration). */
static void test_pem_as_hmac_secret_refused(void **state)
{
    (void)state;
    expect_bad(at("rsa2048.pub.pem"), PK_ALG_HS256, "a PEM key cannot be an HS256 secret");
    expect_bad(at("p256.pub.pem"), PK_ALG_HS512, "a PEM key cannot be an HS512 secret");
}

/* ---- EC ------------------------------------------------------------- */

static void test_ec_keys(void **state)
{
    (void)state;
    expect_ok(at("p256.pub.pem"), PK_ALG_ES256, 64);
    expect_ok(at("p384.pub.pem"), PK_ALG_ES384, 96);
    expect_ok(at("p521.pub.pem"), PK_ALG_ES512, 132);
}

static void test_ec_curve_mismatch(void **state)
{
    (void)state;
    expect_bad(at("p384.pub.pem"), PK_ALG_ES256, "ES256 needs an EC key on curve prime256v1");
    expect_bad(at("p521.pub.pem"), PK_ALG_ES256, "ES256 needs an EC key on curve prime256v1");
    expect_bad(at("k256.pub.pem"), PK_ALG_ES256, "ES256 needs an EC key on curve prime256v1");
    expect_bad(at("p256.pub.pem"), PK_ALG_ES384, "ES384 needs an EC key on curve secp384r1");
    expect_bad(at("p521.pub.pem"), PK_ALG_ES384, "ES384 needs an EC key on curve secp384r1");
    expect_bad(at("p256.pub.pem"), PK_ALG_ES512, "ES512 needs an EC key on curve secp521r1");
    expect_bad(at("p384.pub.pem"), PK_ALG_ES512, "ES512 needs an EC key on curve secp521r1");
}

static void test_es_needs_ec_key(void **state)
{
    (void)state;
    expect_bad(at("rsa2048.pub.pem"), PK_ALG_ES256, "ES256 needs an EC key");
    expect_bad(at("rsa2048.pub.pem"), PK_ALG_ES512, "ES512 needs an EC key");
    expect_bad(at("ed25519.pub.pem"), PK_ALG_ES256, "ES256 needs an EC key");
}

/* ---- not a public key ---------------------------------------------- */

static void test_private_key_refused(void **state)
{
    (void)state;
    expect_bad(at("rsa2048.pem"), PK_ALG_RS256, "not a PEM public key (needed for RS256)");
    expect_bad(at("p256.pem"), PK_ALG_ES256, "not a PEM public key (needed for ES256)");
    expect_bad(at("p521.pem"), PK_ALG_ES512, "not a PEM public key (needed for ES512)");
}

static void test_not_a_pem_public_key(void **state)
{
    const char *junk = write_file("junk.pem", "hello, world\n", 13, 0600);
    const char *empty = write_file("empty.pem", "", 0, 0600);
    const char *secret = write_file("secret", "0123456789abcdef0123456789abcdef\n", 33, 0600);

    (void)state;
    expect_bad(junk, PK_ALG_RS256, "not a PEM public key (needed for RS256)");
    expect_bad(empty, PK_ALG_ES384, "not a PEM public key (needed for ES384)");
    expect_bad(secret, PK_ALG_RS256, "not a PEM public key (needed for RS256)");
    /* a certificate is not a bare public key */
    expect_bad(at("cert.pem"), PK_ALG_ES256, "not a PEM public key (needed for ES256)");
}

/* No algorithm: refused whatever the key. */
static void test_no_alg_refused(void **state)
{
    struct pk_jwt_key key;
    char problem[256];

    (void)state;
    assert_int_equal(pk_jwt_key_load(at("rsa2048.pub.pem"), PK_ALG_NONE, geteuid(), &key, problem,
                                     sizeof(problem)),
                     PK_ST_REFUSED);
    assert_null(key.bytes);
    assert_int_equal(
        pk_jwt_key_load(at("p256.pub.pem"), PK_ALG_NONE, geteuid(), &key, problem, sizeof(problem)),
        PK_ST_REFUSED);
    assert_null(key.bytes);
}

/* ---- file trust ---------------------------------------------------- */

static void test_key_file_trust(void **state)
{
    char *pem;
    size_t pem_len;
    const char *p;
    char link[PATH_MAX];

    (void)state;
    pem = slurp(at("rsa2048.pub.pem"), &pem_len);

    p = write_file("pub", pem, pem_len, 0644);
    expect_bad(p, PK_ALG_RS256, "key file readable by others (mode 0644)");
    p = write_file("pub", pem, pem_len, 0604);
    expect_bad(p, PK_ALG_RS256, "key file readable by others (mode 0604)");
    p = write_file("pub", pem, pem_len, 0660);
    expect_bad(p, PK_ALG_RS256, "writable by group or others (mode 0660)");
    p = write_file("pub", pem, pem_len, 0640);
    expect_ok(p, PK_ALG_RS256, 256);
    p = write_file("pub", pem, pem_len, 0400);
    expect_ok(p, PK_ALG_RS256, 256);

    p = write_file("hs", "0123456789abcdef0123456789abcdef", 32, 0604);
    expect_bad(p, PK_ALG_HS256, "key file readable by others (mode 0604)");
    p = write_file("hs", "0123456789abcdef0123456789abcdef", 32, 0602);
    expect_bad(p, PK_ALG_HS256, "writable by group or others (mode 0602)");

    (void)snprintf(link, sizeof(link), "%s", at("pub.link"));
    assert_int_equal(symlink(at("pub"), link), 0);
    expect_bad(link, PK_ALG_RS256, "is a symbolic link (not followed)");
    assert_int_equal(unlink(link), 0);

    expect_bad(at("no-such.key"), PK_ALG_HS256, "does not exist");

    if (geteuid() == 0) {
        char rest[64];
        p = write_file("pub", pem, pem_len, 0600);
        assert_int_equal(chown(p, 12345, 12345), 0);
        (void)snprintf(rest, sizeof(rest), "owned by uid 12345, not root or uid %u",
                       (unsigned)geteuid());
        expect_bad(p, PK_ALG_RS256, rest);
    }
    free(pem);
}

static void test_key_size_cap(void **state)
{
    char *big = malloc(65537);
    const char *p;

    (void)state;
    assert_non_null(big);
    memset(big, 's', 65537);
    p = write_file("hsbig", big, 65537, 0600);
    expect_bad(p, PK_ALG_HS256, "larger than 65536 bytes");
    p = write_file("hsbig", big, 65536, 0600);
    expect_ok(p, PK_ALG_HS256, 32);
    free(big);
}

static void test_alg_is_hmac(void **state)
{
    (void)state;
    assert_true(pk_alg_is_hmac(PK_ALG_HS256));
    assert_true(pk_alg_is_hmac(PK_ALG_HS384));
    assert_true(pk_alg_is_hmac(PK_ALG_HS512));
    assert_false(pk_alg_is_hmac(PK_ALG_NONE));
    assert_false(pk_alg_is_hmac(PK_ALG_RS256));
    assert_false(pk_alg_is_hmac(PK_ALG_ES512));
}

static void test_key_free_twice(void **state)
{
    struct pk_jwt_key key;
    char problem[256];
    const char *p = write_file("hs32", "0123456789abcdef0123456789abcdef", 32, 0600);

    (void)state;
    assert_int_equal(pk_jwt_key_load(p, PK_ALG_HS256, geteuid(), &key, problem, sizeof(problem)),
                     PK_ST_OK);
    pk_jwt_key_free(&key);
    assert_int_equal(key.alg, PK_ALG_NONE);
    assert_int_equal(key.sig_len, 0);
    pk_jwt_key_free(&key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hmac_lengths),
        cmocka_unit_test(test_hmac_trailing_newline),
        cmocka_unit_test(test_hmac_binary_secret),
        cmocka_unit_test(test_rsa_keys),
        cmocka_unit_test(test_rsa_1024_refused),
        cmocka_unit_test(test_rs_needs_rsa_key),
        cmocka_unit_test(test_pem_as_hmac_secret_refused),
        cmocka_unit_test(test_ec_keys),
        cmocka_unit_test(test_ec_curve_mismatch),
        cmocka_unit_test(test_es_needs_ec_key),
        cmocka_unit_test(test_private_key_refused),
        cmocka_unit_test(test_not_a_pem_public_key),
        cmocka_unit_test(test_no_alg_refused),
        cmocka_unit_test(test_key_file_trust),
        cmocka_unit_test(test_key_size_cap),
        cmocka_unit_test(test_alg_is_hmac),
        cmocka_unit_test(test_key_free_twice),
    };
    return cmocka_run_group_tests_name("keys", tests, group_setup, group_teardown);
}
