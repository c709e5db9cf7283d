/* Module arguments and the config file (pk_config_load). The input's lines
 * up to the first empty line are module arguments (at most 16); the rest is
 * the config file, written to a private file named as the default config.
 * Each input is loaded twice: stopping at the first problem (the module)
 * and with keep_going (kakao-pam check).
 *
 * Invariants: every reported problem is printable and names where it is;
 * a config that loads has at least one usable token kind and every value
 * within the ranges of pam_kakao.conf(5) (pk_keys[] in src/config.c); a config that fails to load
 * reported why. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "verdict.h"

#define MAX_ARGS 16

static char conf_path[128];

struct reports {
    unsigned count;
};

static void report(void *ctx, const char *where, const char *problem)
{
    struct reports *r = ctx;

    r->count++;
    PK_FUZZ_CHECK(where != NULL && where[0] != '\0', "problem without a place");
    PK_FUZZ_CHECK(pk_fuzz_printable(where), "place not printable");
    PK_FUZZ_CHECK(pk_fuzz_printable(problem), "problem not printable");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    (void)snprintf(conf_path, sizeof(conf_path), "%s/pam_kakao.conf", pk_fuzz_tmpdir());
    return 0;
}

static bool str_ok(const char *s)
{
    return s == NULL || (pk_fuzz_printable(s) && strlen(s) <= 1024);
}

static void check_loaded(const struct pk_config *cfg)
{
    unsigned kinds = pk_config_kinds(cfg);

    PK_FUZZ_CHECK(kinds != 0, "loaded with no token kind");
    PK_FUZZ_CHECK((kinds & ~(unsigned)(PK_KIND_KAKAO | PK_KIND_JWT | PK_KIND_ID_TOKEN)) == 0,
                  "unknown kind bits");
    PK_FUZZ_CHECK((kinds & PK_KIND_KAKAO) == 0 || (cfg->has_app_id && cfg->kakao_app_id > 0),
                  "kakao without an app id");
    PK_FUZZ_CHECK((kinds & PK_KIND_JWT) == 0 || (cfg->jwt_key != NULL && cfg->jwt_key[0] == '/' &&
                                                 cfg->jwt_alg != PK_ALG_NONE),
                  "jwt without key and alg");
    PK_FUZZ_CHECK(cfg->timeout >= 1 && cfg->timeout <= 60, "timeout out of range");
    PK_FUZZ_CHECK(cfg->leeway >= 0 && cfg->leeway <= 600, "leeway out of range");
    PK_FUZZ_CHECK(cfg->max_token_age >= 0 && cfg->max_token_age <= 31536000,
                  "max_token_age out of range");
    PK_FUZZ_CHECK(cfg->kakao_api_url != NULL && strncmp(cfg->kakao_api_url, "https://", 8) == 0,
                  "kakao_api_url not https");
    PK_FUZZ_CHECK(cfg->user_map != NULL && cfg->user_map[0] == '/', "user_map not absolute");
    PK_FUZZ_CHECK(cfg->ca_file == NULL || cfg->ca_file[0] == '/', "ca_file not absolute");
    PK_FUZZ_CHECK(cfg->proxy == NULL || strncmp(cfg->proxy, "http://", 7) == 0 ||
                      strncmp(cfg->proxy, "https://", 8) == 0,
                  "proxy scheme");
    PK_FUZZ_CHECK(cfg->jwt_id_claim != NULL && cfg->jwt_id_claim[0] != '\0', "empty jwt_id_claim");
    PK_FUZZ_CHECK(str_ok(cfg->prompt) && str_ok(cfg->jwt_issuer) && str_ok(cfg->jwt_audience) &&
                      str_ok(cfg->jwt_id_claim) && str_ok(cfg->kakao_api_url) &&
                      str_ok(cfg->user_map) && str_ok(cfg->jwt_key) && str_ok(cfg->ca_file) &&
                      str_ok(cfg->proxy),
                  "stored value not printable or too long");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    const char *argv[MAX_ARGS];
    int argc = 0;
    const char *file;
    size_t file_len;
    char *sep;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    /* Arguments are C strings: a NUL ends the argument section too. */
    sep = strstr(text, "\n\n");
    if (sep != NULL) {
        char *p = text;
        *sep = '\0';
        while (p != NULL && argc < MAX_ARGS) {
            char *nl = strchr(p, '\n');
            if (nl != NULL)
                *nl++ = '\0';
            argv[argc++] = p;
            p = nl;
        }
        file = (const char *)data + (sep - text) + 2;
        file_len = size - (size_t)(sep - text) - 2;
    } else {
        file = (const char *)data;
        file_len = size;
    }
    pk_fuzz_write_file(conf_path, (const uint8_t *)file, file_len);

    for (int keep_going = 0; keep_going < 2; keep_going++) {
        struct pk_config cfg;
        struct reports r = {0};
        enum pk_status rc =
            pk_config_load(&cfg, argc, argv, conf_path, geteuid(), keep_going != 0, report, &r);

        PK_FUZZ_CHECK(rc == PK_ST_OK || rc == PK_ST_REFUSED || rc == PK_ST_NOMEM,
                      "unexpected return");
        if (rc == PK_ST_OK) {
            PK_FUZZ_CHECK(r.count == 0, "loaded although a problem was reported");
            check_loaded(&cfg);
            pk_config_free(&cfg);
        } else if (rc == PK_ST_REFUSED) {
            PK_FUZZ_CHECK(r.count > 0, "refused without saying why");
        }
    }
    free(text);
    return 0;
}
