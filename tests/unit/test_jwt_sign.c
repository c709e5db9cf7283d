/* pk_jwt_sign / pk_jwt_sign_input: every algorithm verified by libjwt
 * 1.10.2 (the verifier the module uses), ES signatures also by OpenSSL
 * directly, and keys that do not fit the algorithm refused. Keys come
 * from tests/keys/make_keys.sh (PK_MAKE_KEYS overrides its path). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "b64url.h"
#include "jwt_sign.h"

#ifndef PK_MAKE_KEYS
#define PK_MAKE_KEYS "tests/keys/make_keys.sh"
#endif

#define KAKAO_ID 3095134389L
#define PAYLOAD "{\"kakao_id\":3095134389,\"iat\":1700000000,\"exp\":4102444800}"

/* Tests stop at a failed allocation; the compiler then knows the pointer
 * is valid (cmocka's assertions do not tell it). */
static void *xmalloc(size_t n)
{
    void *p = malloc(n);

    if (p == NULL)
        abort();
    return p;
}

struct keydir {
    char path[PATH_MAX];
};

struct blob {
    unsigned char *bytes; /* NUL-terminated */
    size_t len;
};

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int make_keys(void **state)
{
    struct keydir *kd = calloc(1, sizeof *kd);
    const char *tmpdir = getenv("TMPDIR");
    const char *script = getenv("PK_MAKE_KEYS");
    char cmd[2 * PATH_MAX + 64];
    int n;

    if (kd == NULL)
        return -1;
    if (tmpdir == NULL || *tmpdir == '\0')
        tmpdir = "/tmp";
    if (script == NULL || *script == '\0')
        script = PK_MAKE_KEYS;
    n = snprintf(kd->path, sizeof kd->path, "%s/pk_jwt_sign.XXXXXX", tmpdir);
    if (n < 0 || (size_t)n >= sizeof kd->path || mkdtemp(kd->path) == NULL ||
        strchr(script, '\'') != NULL || strchr(kd->path, '\'') != NULL) {
        free(kd);
        return -1;
    }
    n = snprintf(cmd, sizeof cmd, "sh '%s' '%s'", script, kd->path);
    if (n < 0 || (size_t)n >= sizeof cmd || system(cmd) != 0) {
        fprintf(stderr, "cannot make keys with %s\n", script);
        nftw(kd->path, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
        free(kd);
        return -1;
    }
    *state = kd;
    return 0;
}

static int remove_keys(void **state)
{
    struct keydir *kd = *state;
    int rc = nftw(kd->path, remove_entry, 8, FTW_DEPTH | FTW_PHYS);

    free(kd);
    return rc == 0 ? 0 : -1;
}

static struct blob read_blob(void **state, const char *name)
{
    const struct keydir *kd = *state;
    char path[PATH_MAX];
    struct blob b = {NULL, 0};
    FILE *f;
    long size;

    assert_true((size_t)snprintf(path, sizeof path, "%s/%s", kd->path, name) < sizeof path);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size > 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    b.len = (size_t)size;
    b.bytes = xmalloc(b.len + 1);
    assert_int_equal(fread(b.bytes, 1, b.len, f), b.len);
    b.bytes[b.len] = '\0';
    fclose(f);
    return b;
}

/* An HMAC secret file as the module reads it: one trailing newline stripped. */
static struct blob read_secret(void **state, const char *name)
{
    struct blob b = read_blob(state, name);

    if (b.len > 0 && b.bytes[b.len - 1] == '\n')
        b.bytes[--b.len] = '\0';
    return b;
}

static void free_blob(struct blob *b)
{
    free(b->bytes);
    b->bytes = NULL;
    b->len = 0;
}

/* Length of unpadded base64url for n bytes. */
static size_t b64url_len(size_t n)
{
    return (n * 4 + 2) / 3;
}

static const char *last_segment(const char *token)
{
    const char *dot = strrchr(token, '.');

    assert_non_null(dot);
    return dot + 1;
}

/* Decodes base64url with OpenSSL, independently of src/b64url.c. */
static unsigned char *b64url_decode(const char *in, size_t *out_len)
{
    size_t len = strlen(in);
    size_t padded = (len + 3) / 4 * 4;
    char *std = xmalloc(padded + 1);
    unsigned char *out = xmalloc(padded / 4 * 3 + 1);
    int n;

    for (size_t i = 0; i < len; i++) {
        if (in[i] == '-')
            std[i] = '+';
        else if (in[i] == '_')
            std[i] = '/';
        else
            std[i] = in[i];
    }
    for (size_t i = len; i < padded; i++)
        std[i] = '=';
    std[padded] = '\0';
    assert_true(padded <= INT_MAX);
    n = EVP_DecodeBlock(out, (const unsigned char *)std, (int)padded);
    assert_true(n >= 0);
    *out_len = (size_t)n - (padded - len);
    free(std);
    return out;
}

struct alg_case {
    enum pk_alg alg;
    jwt_alg_t jwt_alg;
    const char *name;
    const char *private_key;
    const char *public_key; /* the same secret for HS* */
    size_t sig_len;
};

static const struct alg_case cases[] = {
    {PK_ALG_HS256, JWT_ALG_HS256, "HS256", "hs256.key", "hs256.key", 32},
    {PK_ALG_HS384, JWT_ALG_HS384, "HS384", "hs256.key", "hs256.key", 48},
    {PK_ALG_HS512, JWT_ALG_HS512, "HS512", "hs256.key", "hs256.key", 64},
    {PK_ALG_RS256, JWT_ALG_RS256, "RS256", "rsa.pem", "rsa.pub.pem", 256},
    {PK_ALG_RS384, JWT_ALG_RS384, "RS384", "rsa.pem", "rsa.pub.pem", 256},
    {PK_ALG_RS512, JWT_ALG_RS512, "RS512", "rsa.pem", "rsa.pub.pem", 256},
    {PK_ALG_ES256, JWT_ALG_ES256, "ES256", "ec256.pem", "ec256.pub.pem", 64},
    {PK_ALG_ES384, JWT_ALG_ES384, "ES384", "ec384.pem", "ec384.pub.pem", 96},
    {PK_ALG_ES512, JWT_ALG_ES512, "ES512", "ec521.pem", "ec521.pub.pem", 132},
};

static bool is_hmac(enum pk_alg alg)
{
    return alg == PK_ALG_HS256 || alg == PK_ALG_HS384 || alg == PK_ALG_HS512;
}

static struct blob read_key(void **state, enum pk_alg alg, const char *name)
{
    return is_hmac(alg) ? read_secret(state, name) : read_blob(state, name);
}

static jwt_t *decode(const char *token, const struct blob *key)
{
    jwt_t *jwt = NULL;

    assert_true(key->len <= INT_MAX);
    if (jwt_decode(&jwt, token, key->bytes, (int)key->len) != 0)
        return NULL;
    return jwt;
}

static void check_case(void **state, size_t i)
{
    const struct alg_case *c = &cases[i];
    struct blob priv = read_key(state, c->alg, c->private_key);
    struct blob pub = read_key(state, c->alg, c->public_key);
    char header[64];
    char err[256] = "untouched";
    char prefix[512];
    char *token, *want_header, *want_payload;
    jwt_t *jwt;

    snprintf(header, sizeof header, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", c->name);
    token = pk_jwt_sign(header, PAYLOAD, c->alg, priv.bytes, priv.len, err, sizeof err);
    assert_non_null(token);
    assert_string_equal(err, "");

    /* header.payload taken verbatim */
    want_header = pk_b64url_encode((const unsigned char *)header, strlen(header));
    want_payload = pk_b64url_encode((const unsigned char *)PAYLOAD, strlen(PAYLOAD));
    assert_non_null(want_header);
    assert_non_null(want_payload);
    assert_true((size_t)snprintf(prefix, sizeof prefix, "%s.%s.", want_header, want_payload) <
                sizeof prefix);
    assert_memory_equal(token, prefix, strlen(prefix));

    assert_int_equal(strlen(last_segment(token)), b64url_len(c->sig_len));

    jwt = decode(token, &pub);
    assert_non_null(jwt);
    assert_int_equal(jwt_get_alg(jwt), c->jwt_alg);
    assert_int_equal(jwt_get_grant_int(jwt, "kakao_id"), KAKAO_ID);
    jwt_free(jwt);

    free(want_payload);
    free(want_header);
    free(token);
    free_blob(&pub);
    free_blob(&priv);
}

static void test_hs256(void **state)
{
    check_case(state, 0);
}
static void test_hs384(void **state)
{
    check_case(state, 1);
}
static void test_hs512(void **state)
{
    check_case(state, 2);
}
static void test_rs256(void **state)
{
    check_case(state, 3);
}
static void test_rs384(void **state)
{
    check_case(state, 4);
}
static void test_rs512(void **state)
{
    check_case(state, 5);
}
static void test_es256(void **state)
{
    check_case(state, 6);
}
static void test_es384(void **state)
{
    check_case(state, 7);
}
static void test_es512(void **state)
{
    check_case(state, 8);
}

static struct blob pem_of(EVP_PKEY *pkey, const EVP_CIPHER *cipher)
{
    static const unsigned char pass[] = "passphrase";
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long len;
    struct blob b;

    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PrivateKey(bio, pkey, cipher, cipher ? pass : NULL,
                                              cipher ? (int)sizeof pass - 1 : 0, NULL, NULL),
                     1);
    len = BIO_get_mem_data(bio, &data);
    assert_true(len > 0);
    b.len = (size_t)len;
    b.bytes = xmalloc(b.len + 1);
    memcpy(b.bytes, data, b.len);
    b.bytes[b.len] = '\0';
    BIO_free(bio);
    return b;
}

/* Verified with another key of the right kind, each family's token is
 * refused: the signature really depends on the key. */
static void test_other_key_refused(void **state)
{
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    struct blob ec_other;
    struct {
        enum pk_alg alg;
        const char *name;
        struct blob key, other;
    } rows[3];

    assert_non_null(ec);
    ec_other = pem_of(ec, NULL);
    EVP_PKEY_free(ec);
    rows[0].alg = PK_ALG_HS256;
    rows[0].name = "HS256";
    rows[0].key = read_secret(state, "hs256.key");
    rows[0].other = read_secret(state, "hs_short.key");
    rows[1].alg = PK_ALG_RS256;
    rows[1].name = "RS256";
    rows[1].key = read_blob(state, "rsa_other.pem");
    rows[1].other = read_blob(state, "rsa.pub.pem");
    rows[2].alg = PK_ALG_ES256;
    rows[2].name = "ES256";
    rows[2].key = ec_other;
    rows[2].other = read_blob(state, "ec256.pub.pem");

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char header[64];
        char err[256];
        char *token;

        snprintf(header, sizeof header, "{\"alg\":\"%s\"}", rows[i].name);
        token = pk_jwt_sign(header, PAYLOAD, rows[i].alg, rows[i].key.bytes, rows[i].key.len, err,
                            sizeof err);
        assert_non_null(token);
        assert_null(decode(token, &rows[i].other));
        free(token);
        free_blob(&rows[i].other);
        free_blob(&rows[i].key);
    }
}

/* Keys the module would refuse still sign: the suite forges such tokens. */
static void test_weak_keys_still_sign(void **state)
{
    struct blob rsa = read_blob(state, "rsa1024.pem");
    struct blob rsa_pub = read_blob(state, "rsa1024.pub.pem");
    struct blob hs = read_secret(state, "hs_short.key");
    char err[256];
    char *token;
    jwt_t *jwt;

    assert_int_equal(hs.len, 20);

    token = pk_jwt_sign("{\"alg\":\"RS256\"}", PAYLOAD, PK_ALG_RS256, rsa.bytes, rsa.len, err,
                        sizeof err);
    assert_non_null(token);
    assert_int_equal(strlen(last_segment(token)), b64url_len(128));
    jwt = decode(token, &rsa_pub);
    assert_non_null(jwt);
    jwt_free(jwt);
    free(token);

    token = pk_jwt_sign("{\"alg\":\"HS256\"}", PAYLOAD, PK_ALG_HS256, hs.bytes, hs.len, err,
                        sizeof err);
    assert_non_null(token);
    jwt = decode(token, &hs);
    assert_non_null(jwt);
    jwt_free(jwt);
    free(token);

    free_blob(&hs);
    free_blob(&rsa_pub);
    free_blob(&rsa);
}

/* Any header is signed as given: extra members kept, and an HS256 token
 * MACed with an RSA public key's PEM text (the algorithm confusion libjwt
 * falls for) can be forged. */
static void test_forged_headers(void **state)
{
    struct blob pub = read_blob(state, "rsa.pub.pem");
    struct blob secret = read_secret(state, "hs256.key");
    const char *header = "{ \"alg\" : \"HS256\", \"kid\": \"k1\", \"x\": [1, 2] }";
    char err[256];
    char *token;
    jwt_t *jwt;

    token = pk_jwt_sign(header, PAYLOAD, PK_ALG_HS256, secret.bytes, secret.len, err, sizeof err);
    assert_non_null(token);
    jwt = decode(token, &secret);
    assert_non_null(jwt);
    assert_string_equal(jwt_get_header(jwt, "kid"), "k1");
    jwt_free(jwt);
    free(token);

    token = pk_jwt_sign("{\"alg\":\"HS256\"}", PAYLOAD, PK_ALG_HS256, pub.bytes, pub.len, err,
                        sizeof err);
    assert_non_null(token);
    jwt = decode(token, &pub);
    assert_non_null(jwt);
    assert_int_equal(jwt_get_alg(jwt), JWT_ALG_HS256);
    jwt_free(jwt);
    free(token);

    free_blob(&secret);
    free_blob(&pub);
}

/* pk_jwt_sign_input signs exactly len bytes, and pk_jwt_sign is
 * pk_jwt_sign_input over header.payload (checked with deterministic algs). */
static void test_sign_input(void **state)
{
    const char *header = "{\"alg\":\"none\"}";

    /* HS* and RS* (PKCS#1 v1.5) signatures are deterministic. */
    for (size_t i = 0; i < 6; i++) {
        const struct alg_case *c = &cases[i];
        struct blob key = read_key(state, c->alg, c->private_key);
        char err[256];
        char input[512];
        char *token, *h, *p, *sig, *sig_prefix;
        size_t input_len;

        token = pk_jwt_sign(header, PAYLOAD, c->alg, key.bytes, key.len, err, sizeof err);
        assert_non_null(token);
        h = pk_b64url_encode((const unsigned char *)header, strlen(header));
        p = pk_b64url_encode((const unsigned char *)PAYLOAD, strlen(PAYLOAD));
        assert_non_null(h);
        assert_non_null(p);
        input_len = strlen(h) + 1 + strlen(p);
        assert_true((size_t)snprintf(input, sizeof input, "%s.%s.trailing", h, p) < sizeof input);

        sig = pk_jwt_sign_input(input, input_len, c->alg, key.bytes, key.len, err, sizeof err);
        assert_non_null(sig);
        assert_string_equal(last_segment(token), sig);

        sig_prefix =
            pk_jwt_sign_input(input, input_len - 1, c->alg, key.bytes, key.len, err, sizeof err);
        assert_non_null(sig_prefix);
        assert_string_not_equal(sig_prefix, sig);

        free(sig_prefix);
        free(sig);
        free(p);
        free(h);
        free(token);
        free_blob(&key);
    }
}

/* ES signatures over arbitrary bytes are raw R||S of the curve's size,
 * checked by OpenSSL after turning them back into DER. */
static void test_es_sign_input_raw(void **state)
{
    static const char input[] = "not json at all.\x01\xff.";

    for (size_t i = 6; i < 9; i++) {
        const struct alg_case *c = &cases[i];
        struct blob priv = read_blob(state, c->private_key);
        struct blob pub = read_blob(state, c->public_key);
        const char *md = c->alg == PK_ALG_ES256   ? "SHA256"
                         : c->alg == PK_ALG_ES384 ? "SHA384"
                                                  : "SHA512";
        size_t half = c->sig_len / 2;
        char err[256];
        char *sig;
        unsigned char *raw, *der = NULL;
        size_t raw_len = 0;
        int der_len;
        BIO *bio;
        EVP_PKEY *pkey;
        EVP_MD_CTX *ctx;
        ECDSA_SIG *ecsig;
        BIGNUM *r, *s;

        sig = pk_jwt_sign_input(input, sizeof input - 1, c->alg, priv.bytes, priv.len, err,
                                sizeof err);
        assert_non_null(sig);
        raw = b64url_decode(sig, &raw_len);
        assert_int_equal(raw_len, c->sig_len);

        r = BN_bin2bn(raw, (int)half, NULL);
        s = BN_bin2bn(raw + half, (int)half, NULL);
        assert_non_null(r);
        assert_non_null(s);
        ecsig = ECDSA_SIG_new();
        assert_non_null(ecsig);
        assert_int_equal(ECDSA_SIG_set0(ecsig, r, s), 1);
        der_len = i2d_ECDSA_SIG(ecsig, &der);
        assert_true(der_len > 0);

        bio = BIO_new_mem_buf(pub.bytes, (int)pub.len);
        assert_non_null(bio);
        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        assert_non_null(pkey);
        ctx = EVP_MD_CTX_new();
        assert_non_null(ctx);
        assert_int_equal(EVP_DigestVerifyInit_ex(ctx, NULL, md, NULL, NULL, pkey, NULL), 1);
        assert_int_equal(EVP_DigestVerify(ctx, der, (size_t)der_len, (const unsigned char *)input,
                                          sizeof input - 1),
                         1);

        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(pkey);
        BIO_free(bio);
        OPENSSL_free(der);
        ECDSA_SIG_free(ecsig);
        free(raw);
        free(sig);
        free_blob(&pub);
        free_blob(&priv);
    }
}

static void expect_refused(enum pk_alg alg, const struct blob *key)
{
    char err[256] = "";
    char *token;
    char *sig;

    token = pk_jwt_sign("{\"alg\":\"X\"}", "{}", alg, key->bytes, key->len, err, sizeof err);
    assert_null(token);
    assert_true(strlen(err) > 0);
    err[0] = '\0';
    sig = pk_jwt_sign_input("a.b", 3, alg, key->bytes, key->len, err, sizeof err);
    assert_null(sig);
    assert_true(strlen(err) > 0);
}

static void test_wrong_key_files(void **state)
{
    static const struct {
        enum pk_alg alg;
        const char *file;
    } rows[] = {
        {PK_ALG_RS256, "ec256.pem"},     {PK_ALG_RS512, "ec521.pem"}, {PK_ALG_ES256, "rsa.pem"},
        {PK_ALG_ES256, "ec384.pem"},     {PK_ALG_ES256, "ec521.pem"}, {PK_ALG_ES384, "ec256.pem"},
        {PK_ALG_ES384, "ec521.pem"},     {PK_ALG_ES512, "ec384.pem"}, {PK_ALG_ES512, "rsa.pem"},
        {PK_ALG_RS256, "hs256.key"},     {PK_ALG_ES256, "hs256.key"}, {PK_ALG_RS256, "rsa.pub.pem"},
        {PK_ALG_ES256, "ec256.pub.pem"},
    };

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct blob key = read_blob(state, rows[i].file);

        expect_refused(rows[i].alg, &key);
        free_blob(&key);
    }
}

static EVP_PKEY *rsa_pss_key(void)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
    EVP_PKEY *pkey = NULL;

    assert_non_null(ctx);
    assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
    assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048), 1);
    assert_int_equal(EVP_PKEY_keygen(ctx, &pkey), 1);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* Key types no JWS alg here takes, and an encrypted key (refused, never
 * prompted for). */
static void test_wrong_key_types(void **state)
{
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    EVP_PKEY *pss = rsa_pss_key();
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    struct blob key;

    (void)state;
    assert_non_null(ed);
    assert_non_null(pss);
    assert_non_null(ec);
    assert_non_null(k1);

    key = pem_of(ed, NULL);
    expect_refused(PK_ALG_RS256, &key);
    expect_refused(PK_ALG_ES256, &key);
    free_blob(&key);

    key = pem_of(pss, NULL);
    expect_refused(PK_ALG_RS256, &key);
    free_blob(&key);

    key = pem_of(k1, NULL);
    expect_refused(PK_ALG_ES256, &key);
    free_blob(&key);

    key = pem_of(ec, EVP_aes_256_cbc());
    expect_refused(PK_ALG_ES256, &key);
    free_blob(&key);

    key = pem_of(ec, NULL);
    {
        char err[256];
        char *sig = pk_jwt_sign_input("a.b", 3, PK_ALG_ES256, key.bytes, key.len, err, sizeof err);
        assert_non_null(sig);
        free(sig);
    }
    free_blob(&key);

    EVP_PKEY_free(k1);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(pss);
    EVP_PKEY_free(ed);
}

static void test_bad_arguments(void **state)
{
    struct blob secret = read_secret(state, "hs256.key");
    char err[256];

    assert_null(pk_jwt_sign(NULL, "{}", PK_ALG_HS256, secret.bytes, secret.len, err, sizeof err));
    assert_true(strlen(err) > 0);
    assert_null(pk_jwt_sign("{}", NULL, PK_ALG_HS256, secret.bytes, secret.len, err, sizeof err));
    assert_true(strlen(err) > 0);
    assert_null(pk_jwt_sign("{}", "{}", PK_ALG_HS256, NULL, 32, err, sizeof err));
    assert_true(strlen(err) > 0);
    assert_null(pk_jwt_sign("{}", "{}", PK_ALG_HS256, secret.bytes, 0, err, sizeof err));
    assert_true(strlen(err) > 0);
    assert_null(pk_jwt_sign("{}", "{}", PK_ALG_NONE, secret.bytes, secret.len, err, sizeof err));
    assert_true(strlen(err) > 0);
    assert_null(
        pk_jwt_sign("{}", "{}", (enum pk_alg)99, secret.bytes, secret.len, err, sizeof err));
    assert_true(strlen(err) > 0);
    assert_null(
        pk_jwt_sign_input(NULL, 0, PK_ALG_HS256, secret.bytes, secret.len, err, sizeof err));
    assert_true(strlen(err) > 0);

    /* No error buffer is fine, and a short one is truncated, not overrun. */
    assert_null(pk_jwt_sign("{}", "{}", PK_ALG_NONE, secret.bytes, secret.len, NULL, 0));
    memset(err, 'x', sizeof err);
    assert_null(pk_jwt_sign("{}", "{}", PK_ALG_NONE, secret.bytes, secret.len, err, 4));
    assert_int_equal(strlen(err), 3);
    assert_int_equal(err[4], 'x');

    free_blob(&secret);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hs256),
        cmocka_unit_test(test_hs384),
        cmocka_unit_test(test_hs512),
        cmocka_unit_test(test_rs256),
        cmocka_unit_test(test_rs384),
        cmocka_unit_test(test_rs512),
        cmocka_unit_test(test_es256),
        cmocka_unit_test(test_es384),
        cmocka_unit_test(test_es512),
        cmocka_unit_test(test_other_key_refused),
        cmocka_unit_test(test_weak_keys_still_sign),
        cmocka_unit_test(test_forged_headers),
        cmocka_unit_test(test_sign_input),
        cmocka_unit_test(test_es_sign_input_raw),
        cmocka_unit_test(test_wrong_key_files),
        cmocka_unit_test(test_wrong_key_types),
        cmocka_unit_test(test_bad_arguments),
    };

    return cmocka_run_group_tests(tests, make_keys, remove_keys);
}
