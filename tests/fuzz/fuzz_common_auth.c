#include "fuzz_common_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

const char pk_fuzz_rsa_pub[] = "-----BEGIN PUBLIC KEY-----\n"
                               "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAou7c5P/+2iPw8l6v8rQJ\n"
                               "NRKh5LePmYYnoHR8L4H1NV02PwQc25cB49Lw8b4V34/3Oiq6oKO6jArkcrTxI9be\n"
                               "JWyigOsseuZfO4l5yp12spzad/84mci3izuhmhw2ModB+Uy6OPbvrLr7RIM2bJaf\n"
                               "IzPp/HNzV3dINnYzL85B2VRj0oVAvc6s1OV7f8ZDa6tRoZm7b4dDIB58ueK5bln/\n"
                               "rjwltA53mh+/dXJ7qzDGkTQAHE7KofDSGG95i7WKx3fs2tIjlrUGPp41A+92AylU\n"
                               "hgGJlUmqHGOcnzp/tEW1380+8f1otIjEfpt6fomHUHTAlAMaTrFWdTSifcRL4Afo\n"
                               "GwIDAQAB\n"
                               "-----END PUBLIC KEY-----\n";

const char pk_fuzz_ec_pub[] = "-----BEGIN PUBLIC KEY-----\n"
                              "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE+Xn92POfEsz+2I4EMn2yqsw+0vpW\n"
                              "FcBE9thlLYpZD4EpEwRu0nu+RwFGbAIHBYcogBl9s1kXtfMobzD5eoCl+w==\n"
                              "-----END PUBLIC KEY-----\n";

static void pk_fuzz_report(void *ctx, const char *where, const char *problem)
{
    (void)ctx;
    fprintf(stderr, "fuzz setup: %s: %s\n", where, problem);
}

void pk_fuzz_auth_init(struct pk_auth *a, const char *const *args, const char *key_name,
                       const char *key_text)
{
    char key_path[256], key_arg[300], problem[512];
    const char *argv[16];
    int argc = 0;

    (void)snprintf(key_path, sizeof(key_path), "%s/%s", pk_fuzz_tmpdir(), key_name);
    pk_fuzz_write_file(key_path, (const uint8_t *)key_text, strlen(key_text));
    (void)snprintf(key_arg, sizeof(key_arg), "jwt_key=%s", key_path);
    memset(a, 0, sizeof(*a));
    argv[argc++] = "user_map=/nonexistent/pam_kakao.users";
    argv[argc++] = key_arg;
    for (; *args != NULL && argc < 15; args++)
        argv[argc++] = *args;
    argv[argc] = NULL;
    if (pk_config_load(&a->cfg, argc, argv, "/nonexistent/pam_kakao.conf", geteuid(), false,
                       pk_fuzz_report, NULL) != PK_ST_OK)
        pk_fuzz_fail(__FILE__, __LINE__, "config");
    a->cfg_loaded = true;
    a->uid = geteuid();
    a->log = pk_fuzz_logger();
    if (pk_jwt_key_load(key_path, a->cfg.jwt_alg, a->uid, &a->keys.jwt_key, problem,
                        sizeof(problem)) != PK_ST_OK) {
        fprintf(stderr, "fuzz setup: %s\n", problem);
        pk_fuzz_fail(__FILE__, __LINE__, "key");
    }
    a->keys.have_jwt_key = true;
    a->ids.ids = malloc(2 * sizeof(*a->ids.ids));
    if (a->ids.ids == NULL)
        pk_fuzz_fail(__FILE__, __LINE__, "out of memory");
    a->ids.ids[0] = PK_FUZZ_ALICE;
    a->ids.ids[1] = PK_FUZZ_BOB;
    a->ids.count = 2;
}
