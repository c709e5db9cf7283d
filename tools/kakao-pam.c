/* kakao-pam: the terminal user's and the administrator's tool (kakao-pam(1)).
 * Exit status: 0 success, 1 refused, 2 usage, unusable config/key, or
 * service unavailable. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cli.h"
#include "src/b64url.h"
#include "src/config.h"
#include "src/jwt_sign.h"
#include "src/keys.h"
#include "src/safe_file.h"
#include "src/secure.h"
#include "src/token.h"

#define EXIT_USAGE PK_EXIT_USAGE

static void usage_main(FILE *out)
{
    fputs("usage: kakao-pam COMMAND [OPTIONS]\n"
          "\n"
          "commands:\n"
          "  login    log in with Kakao in the browser and print the access token\n"
          "  verify   the module's decision for a token and a user, without PAM\n"
          "  check    every problem in the config, user map, key, CA and JWKS files\n"
          "  mint     issue an app JWT as the site's back end does\n"
          "  enroll   check your token and print your line for the user map\n"
          "\n"
          "kakao-pam COMMAND --help shows a command's options; man kakao-pam has them all.\n"
          "Exit status: 0 success, 1 refused or problems found, 2 usage error, unusable\n"
          "config or key, or service unavailable.\n",
          out);
}

static void usage_mint(FILE *out)
{
    fputs("usage: kakao-pam mint --key FILE --alg ALG --kakao-id N [--ttl SECONDS]\n"
          "                      [--iss ISSUER] [--aud AUDIENCE] [--jti ID | --one-time]\n"
          "\n"
          "Prints an app JWT on stdout: header {\"alg\":ALG,\"typ\":\"JWT\"}, claims kakao_id,\n"
          "iat, exp = iat + TTL (default 300), and iss/aud/jti when given. --one-time sets\n"
          "jti to 128 random bits (base64url), for a module with one_time = yes.\n"
          "FILE is the HMAC secret (HS*: one trailing newline stripped, at least 32 bytes)\n"
          "or a PEM private key (RS*: RSA of at least 2048 bits; ES256/384/512: P-256/384/521).\n"
          "It must be a regular file owned by root or you, not writable by group or others,\n"
          "not readable by others.\n",
          out);
}

/* JSON string body with quotes and backslashes escaped; printable ASCII only. */
static int json_quote(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c > 0x7e)
            return -1;
        if (o + 3 >= cap)
            return -1;
        if (c == '"' || c == '\\')
            out[o++] = '\\';
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

static bool rsa_too_weak(const char *pem, size_t len)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pkey = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    bool weak = pkey != NULL && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA &&
                EVP_PKEY_get_bits(pkey) < PK_RSA_MIN_BITS;

    EVP_PKEY_free(pkey);
    BIO_free(bio);
    ERR_clear_error();
    return weak;
}

int pk_cmd_mint(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},      {"alg", required_argument, NULL, 'a'},
        {"kakao-id", required_argument, NULL, 'i'}, {"ttl", required_argument, NULL, 't'},
        {"iss", required_argument, NULL, 's'},      {"aud", required_argument, NULL, 'u'},
        {"jti", required_argument, NULL, 'j'},      {"one-time", no_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *key_arg = NULL, *alg_name = NULL, *id_text = NULL, *iss = NULL, *aud = NULL;
    const char *jti = NULL;
    bool one_time = false;
    long ttl = 300;
    int64_t kakao_id = 0;
    enum pk_alg alg;
    char problem[512], header[64], payload[2048], iss_q[600], aud_q[600], jti_q[300];
    char random_jti[32];
    char *key = NULL, *key_path, *token;
    enum pk_status st;
    size_t key_len = 0;
    long long now;
    int c, n;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            key_arg = optarg;
            break;
        case 'a':
            alg_name = optarg;
            break;
        case 'i':
            id_text = optarg;
            break;
        case 't': {
            char *end;
            errno = 0;
            ttl = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || *optarg == '\0' || ttl < -31536000 ||
                ttl > 31536000) {
                fprintf(stderr, "kakao-pam mint: --ttl must be a whole number of seconds "
                                "(at most one year)\n");
                return EXIT_USAGE;
            }
            break;
        }
        case 's':
            iss = optarg;
            break;
        case 'u':
            aud = optarg;
            break;
        case 'j':
            jti = optarg;
            break;
        case 'o':
            one_time = true;
            break;
        case 'h':
            usage_mint(stdout);
            return 0;
        default:
            usage_mint(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc || key_arg == NULL || alg_name == NULL || id_text == NULL) {
        usage_mint(stderr);
        return EXIT_USAGE;
    }
    alg = pk_alg_from_name(alg_name);
    if (alg == PK_ALG_NONE) {
        fprintf(stderr, "kakao-pam mint: --alg must be one of HS256 HS384 HS512 RS256 RS384 "
                        "RS512 ES256 ES384 ES512\n");
        return EXIT_USAGE;
    }
    if (!pk_valid_kakao_id_text(id_text, strlen(id_text), &kakao_id)) {
        fprintf(stderr, "kakao-pam mint: --kakao-id must be 1-19 decimal digits without a "
                        "leading zero, at most 9223372036854775807\n");
        return EXIT_USAGE;
    }
    if ((iss != NULL && json_quote(iss_q, sizeof(iss_q), iss) != 0) ||
        (aud != NULL && json_quote(aud_q, sizeof(aud_q), aud) != 0)) {
        fprintf(stderr, "kakao-pam mint: --iss and --aud must be printable ASCII, at most "
                        "256 characters\n");
        return EXIT_USAGE;
    }
    if (jti != NULL && one_time) {
        fprintf(stderr, "kakao-pam mint: --jti and --one-time do not go together\n");
        return EXIT_USAGE;
    }
    /* 16 random bytes: 22 base64url characters. */
    if (one_time && !pk_random_b64url(random_jti, sizeof(random_jti), 16)) {
        fprintf(stderr, "kakao-pam mint: cannot read random bytes\n");
        return EXIT_USAGE;
    }
    if (one_time)
        jti = random_jti;
    /* What the module takes with one_time = yes: 1-128 printable bytes. */
    if (jti != NULL &&
        (jti[0] == '\0' || strlen(jti) > 128 || json_quote(jti_q, sizeof(jti_q), jti) != 0)) {
        fprintf(stderr, "kakao-pam mint: --jti must be 1-128 printable ASCII characters\n");
        return EXIT_USAGE;
    }
    /* --key jwt.key names a file where the user is, as a shell user expects. */
    key_path = pk_cli_path("mint", key_arg);
    if (key_path == NULL)
        return EXIT_USAGE;
    st = pk_safe_read(key_path, PK_FILE_KEY, geteuid(), &key, &key_len, problem, sizeof(problem));
    free(key_path);
    if (st != PK_ST_OK) {
        fprintf(stderr, "kakao-pam mint: key refused: %s\n", problem);
        return EXIT_USAGE;
    }
    if (pk_alg_is_hmac(alg)) {
        if (key_len > 0 && key[key_len - 1] == '\n')
            key[--key_len] = '\0';
        if (key_len < PK_HMAC_MIN) {
            fprintf(stderr, "kakao-pam mint: %s: HMAC secret of %zu bytes, at least %d needed\n",
                    key_arg, key_len, PK_HMAC_MIN);
            pk_free_secret(key, key_len + 1);
            return EXIT_USAGE;
        }
    }
    now = (long long)time(NULL);
    (void)snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", pk_alg_name(alg));
    n = snprintf(payload, sizeof(payload),
                 "{\"kakao_id\":%lld,\"iat\":%lld,\"exp\":%lld%s%s%s%s%s%s%s%s%s}",
                 (long long)kakao_id, now, now + ttl, iss ? ",\"iss\":\"" : "", iss ? iss_q : "",
                 iss ? "\"" : "", aud ? ",\"aud\":\"" : "", aud ? aud_q : "", aud ? "\"" : "",
                 jti ? ",\"jti\":\"" : "", jti ? jti_q : "", jti ? "\"" : "");
    if (n < 0 || (size_t)n >= sizeof(payload)) {
        pk_free_secret(key, key_len);
        return EXIT_USAGE;
    }
    if (!pk_alg_is_hmac(alg) && rsa_too_weak(key, key_len)) {
        /* The module refuses such verification keys; do not mint for them. */
        fprintf(stderr, "kakao-pam mint: %s: RSA key shorter than %d bits\n", key_arg,
                PK_RSA_MIN_BITS);
        pk_free_secret(key, key_len);
        return EXIT_USAGE;
    }
    token = pk_jwt_sign(header, payload, alg, (const unsigned char *)key, key_len, problem,
                        sizeof(problem));
    pk_free_secret(key, key_len);
    if (token == NULL) {
        fprintf(stderr, "kakao-pam mint: %s: %s\n", key_arg, problem);
        return EXIT_USAGE;
    }
    if (strlen(token) >= 512)
        fprintf(stderr,
                "kakao-pam mint: warning: token is %zu bytes: sudo refuses answers of "
                "512 bytes or more\n",
                strlen(token));
    if (strlen(token) > 1023)
        fprintf(stderr,
                "kakao-pam mint: warning: token is %zu bytes: the OpenSSH client cuts "
                "answers at 1023 bytes\n",
                strlen(token));
    if (ttl <= 0)
        fprintf(stderr, "kakao-pam mint: warning: --ttl %ld: the token is already expired\n", ttl);
    if (puts(token) == EOF || fflush(stdout) != 0) {
        pk_free_secret_str(token);
        return EXIT_USAGE;
    }
    pk_free_secret_str(token);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage_main(stdout);
        return 0;
    }
    if (strcmp(argv[1], "login") == 0)
        return pk_cmd_login(argc - 1, argv + 1);
    if (strcmp(argv[1], "verify") == 0)
        return pk_cmd_verify(argc - 1, argv + 1);
    if (strcmp(argv[1], "check") == 0)
        return pk_cmd_check(argc - 1, argv + 1);
    if (strcmp(argv[1], "mint") == 0)
        return pk_cmd_mint(argc - 1, argv + 1);
    if (strcmp(argv[1], "enroll") == 0)
        return pk_cmd_enroll(argc - 1, argv + 1);
    fprintf(stderr, "kakao-pam: unknown command \"%s\"\n", argv[1]);
    usage_main(stderr);
    return EXIT_USAGE;
}
