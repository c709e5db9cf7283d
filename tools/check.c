/* kakao-pam check: every problem in the config (file and KEY=VALUE
 * arguments), the user map, the jwt key, the CA bundle and the JWKS file,
 * found with the module's own loaders; one finding per line on stdout.
 * check grants nothing, so it reads on where the module stops: a file that
 * breaks a trust rule is still read for syntax, and a config with problems
 * still leads to the files it names. */
#include <errno.h>
#include <getopt.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "src/config.h"
#include "src/jwks.h"
#include "src/keys.h"
#include "src/safe_file.h"
#include "src/secure.h"
#include "src/user_map.h"
#include "src/verdict.h"

struct pk_check {
    unsigned long problems;
    bool nomem;
};

static void usage_check(FILE *out)
{
    fputs("usage: kakao-pam check [--config FILE] [KEY=VALUE ...]\n"
          "\n"
          "Checks what the module would read: the config file and KEY=VALUE arguments\n"
          "(every problem, as PATH:LINE: problem or argument: problem), the trust rules\n"
          "for each file (owner, mode, no symbolic link, size), every malformed user-map\n"
          "line, the jwt_key against jwt_alg, the ca_file and the jwks_file. Prints one\n"
          "line per finding: \"ok WHAT ...\" or the problem. A file that breaks a trust\n"
          "rule is still read for its syntax, and a config with problems still leads to\n"
          "the files it names: one run shows every problem.\n"
          "\n"
          "  --config FILE  the config file (default /etc/security/pam_kakao.conf); the same\n"
          "                 as the module argument config=FILE\n"
          "  KEY=VALUE      a config key, as a module argument: overrides the file\n"
          "Relative paths in --config FILE and KEY=VALUE are taken from the current\n"
          "directory; paths inside the config file must be absolute, as for the module.\n"
          "\n"
          "Run it as the user the module runs as (root for sshd and sudo): file ownership\n"
          "is judged against the running uid.\n"
          "Exit status: 0 no problems, 1 problems found, 2 usage error or the config file\n"
          "missing or unreadable.\n",
          out);
}

static void pk_check_problem(struct pk_check *ck, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void pk_check_problem(struct pk_check *ck, const char *fmt, ...)
{
    va_list ap;

    ck->problems++;
    va_start(ap, fmt);
    (void)vprintf(fmt, ap);
    va_end(ap);
    (void)putchar('\n');
}

/* where is "PATH:LINE", "argument" or "config" (whole-file and cross-key
 * problems; a file problem already starts with its path). */
static void pk_check_config_report(void *ctx, const char *where, const char *problem)
{
    struct pk_check *ck = ctx;

    if (strcmp(where, "config") == 0 && problem[0] == '/')
        pk_check_problem(ck, "%s", problem);
    else
        pk_check_problem(ck, "%s: %s", where, problem);
}

/* line 0: the trust rules the file breaks, "PATH: rule". */
static void pk_check_map_report(void *ctx, const char *path, unsigned long line,
                                const char *problem)
{
    if (line == 0)
        pk_check_problem(ctx, "%s", problem);
    else
        pk_check_problem(ctx, "%s:%lu: malformed line ignored: %s", path, line, problem);
}

static void pk_check_user_map(struct pk_check *ck, const char *path)
{
    char problem[512];
    unsigned long entries = 0, before = ck->problems;

    switch (pk_user_map_scan(path, geteuid(), pk_check_map_report, ck, &entries, problem,
                             sizeof(problem))) {
    case PK_MAP_OK:
        if (ck->problems == before)
            printf("ok user_map %s (%lu entr%s)\n", path, entries, entries == 1 ? "y" : "ies");
        if (entries == 0)
            pk_check_problem(ck, "%s: no valid entries: nobody can log in", path);
        break;
    case PK_MAP_NOMEM:
        ck->nomem = true;
        break;
    case PK_MAP_FILE_ERROR:
        pk_check_problem(ck, "%s", problem);
        break;
    }
}

/* Read past a broken trust rule; without jwt_alg (a config problem
 * already) only the file itself can be judged. */
static void pk_check_jwt_key(struct pk_check *ck, const struct pk_config *cfg)
{
    struct pk_jwt_key key;
    char problem[512], trust[512];
    char *data;
    size_t len;
    enum pk_file_status st = pk_check_read(cfg->jwt_key, PK_FILE_KEY, geteuid(), &data, &len,
                                           trust, sizeof(trust), problem, sizeof(problem));

    if (st == PK_FILE_NOMEM) {
        ck->nomem = true;
        return;
    }
    if (st != PK_FILE_OK) {
        pk_check_problem(ck, "%s", problem);
        return;
    }
    if (trust[0] != '\0')
        pk_check_problem(ck, "%s", trust);
    if (cfg->jwt_alg == PK_ALG_NONE) {
        pk_free_secret(data, len);
        return;
    }
    switch (pk_jwt_key_parse(cfg->jwt_key, data, len, cfg->jwt_alg, &key, problem,
                             sizeof(problem))) {
    case PK_KEY_OK:
        if (trust[0] == '\0')
            printf("ok jwt_key %s (%s)\n", cfg->jwt_key, pk_alg_name(cfg->jwt_alg));
        pk_jwt_key_free(&key);
        break;
    case PK_KEY_NOMEM:
        ck->nomem = true;
        break;
    case PK_KEY_BAD:
        pk_check_problem(ck, "%s", problem);
        break;
    }
}

/* The trust rules the module applies, then: does it hold certificates? */
static void pk_check_ca_file(struct pk_check *ck, const char *path)
{
    char problem[512], trust[512];
    unsigned long certs = 0;
    X509 *x;
    FILE *fp;
    int fd;
    enum pk_file_status st = pk_check_open(path, PK_FILE_USER_MAP, geteuid(), &fd, trust,
                                           sizeof(trust), problem, sizeof(problem));

    if (st == PK_FILE_NOMEM) {
        ck->nomem = true;
        return;
    }
    if (st != PK_FILE_OK) {
        pk_check_problem(ck, "%s", problem);
        return;
    }
    if (trust[0] != '\0')
        pk_check_problem(ck, "%s", trust);
    fp = fdopen(fd, "re");
    if (fp == NULL) {
        pk_check_problem(ck, "%s: fdopen: %s", path, strerror(errno));
        (void)close(fd);
        return;
    }
    while ((x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
        certs++;
        X509_free(x);
    }
    ERR_clear_error();
    (void)fclose(fp);
    if (certs == 0)
        pk_check_problem(ck, "%s: no PEM certificate in the CA bundle", path);
    else if (trust[0] == '\0')
        printf("ok ca_file %s (%lu certificate%s)\n", path, certs, certs == 1 ? "" : "s");
}

/* A JWKS problem the parser logs (a skipped key, an ambiguous kid). */
static void pk_check_jwks_emit(void *ctx, int priority, const char *msg)
{
    if (priority <= LOG_WARNING)
        pk_check_problem(ctx, "%s", msg);
}

/* Trusted like a config file (docs/DESIGN.md §6.1), then read by the module's JWKS
 * parser: every key it would skip is a problem. */
static void pk_check_jwks_file(struct pk_check *ck, const char *path)
{
    struct pk_logger log = {pk_check_jwks_emit, ck, false};
    struct pk_jwks set;
    char problem[512], trust[512];
    char *data;
    size_t len;
    enum pk_jwks_status js;
    enum pk_file_status st = pk_check_read(path, PK_FILE_CONFIG, geteuid(), &data, &len, trust,
                                           sizeof(trust), problem, sizeof(problem));

    if (st == PK_FILE_NOMEM) {
        ck->nomem = true;
        return;
    }
    if (st != PK_FILE_OK) {
        pk_check_problem(ck, "%s", problem);
        return;
    }
    if (trust[0] != '\0')
        pk_check_problem(ck, "%s", trust);
    memset(&set, 0, sizeof(set));
    js = pk_jwks_parse(data, len, path, &log, &set, problem, sizeof(problem));
    pk_free_secret(data, len);
    if (js == PK_JWKS_NOMEM) {
        ck->nomem = true;
        return;
    }
    if (js != PK_JWKS_OK)
        pk_check_problem(ck, "%s: %s", path, problem);
    else if (set.count == 0)
        pk_check_problem(ck, "%s: no usable key (RSA, at least 2048 bits)", path);
    else if (trust[0] == '\0')
        printf("ok jwks_file %s (%zu usable key%s)\n", path, set.count,
               set.count == 1 ? "" : "s");
    pk_jwks_free(&set);
}

static void pk_check_accept(const struct pk_config *cfg)
{
    static const enum pk_kind kinds[] = {PK_KIND_JWT, PK_KIND_KAKAO, PK_KIND_ID_TOKEN};
    unsigned accepted = pk_config_kinds(cfg);
    const char *sep = "";

    printf("ok accept ");
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if ((accepted & (unsigned)kinds[i]) == 0)
            continue;
        printf("%s%s", sep, pk_kind_name(kinds[i]));
        sep = ",";
    }
    if ((accepted & PK_KIND_KAKAO) != 0)
        printf(" (kakao_app_id=%lld, %s)", (long long)cfg->kakao_app_id, cfg->kakao_api_url);
    putchar('\n');
}

/* Which config file the module would read: config=F (the last word wins
 * here; twice is reported by the loader) or the default. */
static const char *pk_check_config_path(const struct pk_cli_args *args, bool *explicit_path)
{
    const char *path = PK_DEFAULT_CONFIG;

    *explicit_path = false;
    for (int i = 0; i < args->argc; i++) {
        if (strncmp(args->argv[i], "config=", 7) == 0) {
            path = args->argv[i] + 7;
            *explicit_path = true;
        }
    }
    return path;
}

/* 0: go on; otherwise the exit status (the file cannot be checked at all). */
static int pk_check_config_readable(const struct pk_cli_args *args)
{
    char problem[512];
    bool explicit_path;
    const char *path = pk_check_config_path(args, &explicit_path);
    int fd;
    enum pk_file_status st = pk_safe_open(path, PK_FILE_CONFIG, geteuid(), &fd, problem,
                                          sizeof(problem));

    switch (st) {
    case PK_FILE_OK:
        (void)close(fd);
        return 0;
    case PK_FILE_UNSAFE:
        return 0; /* a trust-rule problem: the loader reports it */
    case PK_FILE_MISSING:
        if (explicit_path)
            break;
        if (args->argc > 0) {
            fprintf(stderr, "kakao-pam check: %s does not exist: checking the arguments alone\n",
                    path);
            return 0;
        }
        fprintf(stderr, "kakao-pam check: %s does not exist and no KEY=VALUE arguments were "
                        "given: nothing to check\n", path);
        return PK_EXIT_USAGE;
    case PK_FILE_IO:
    case PK_FILE_NOMEM:
        break;
    }
    fprintf(stderr, "kakao-pam check: %s\n", problem);
    return PK_EXIT_USAGE;
}

int pk_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct pk_check ck = {0, false};
    struct pk_cli_args args;
    struct pk_config cfg;
    const char *config = NULL;
    bool explicit_path;
    int c, rv;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'h':
            usage_check(stdout);
            return PK_EXIT_OK;
        default:
            usage_check(stderr);
            return PK_EXIT_USAGE;
        }
    }
    if (!pk_cli_args_init(&args, argc, "check")) {
        pk_cli_args_free(&args);
        return PK_EXIT_USAGE;
    }
    for (int i = optind; i < argc; i++) {
        if (!pk_cli_is_module_arg(argv[i])) {
            fprintf(stderr, "kakao-pam check: \"%s\" is not KEY=VALUE\n", argv[i]);
            usage_check(stderr);
            pk_cli_args_free(&args);
            return PK_EXIT_USAGE;
        }
        if (!pk_cli_args_add(&args, argv[i])) {
            pk_cli_args_free(&args);
            return PK_EXIT_USAGE;
        }
    }
    if (config != NULL && !pk_cli_args_set_config(&args, config)) {
        pk_cli_args_free(&args);
        return PK_EXIT_USAGE;
    }
    rv = pk_check_config_readable(&args);
    if (rv != 0) {
        pk_cli_args_free(&args);
        return rv;
    }

    rv = pk_config_load_check(&cfg, args.argc, args.argv, pk_check_config_report, &ck);
    if (rv == -2) {
        ck.nomem = true;
    } else {
        /* With problems too: the files named are checked as far as known. */
        if (rv == 0) {
            const char *path = pk_check_config_path(&args, &explicit_path);
            printf("ok config %s%s\n", path,
                   cfg.config_explicit || access(path, F_OK) == 0 ? ""
                                                                   : " (absent: arguments only)");
            pk_check_accept(&cfg);
        }
        if (cfg.user_map != NULL)
            pk_check_user_map(&ck, cfg.user_map);
        if (cfg.jwt_key != NULL)
            pk_check_jwt_key(&ck, &cfg);
        if (cfg.ca_file != NULL)
            pk_check_ca_file(&ck, cfg.ca_file);
        if (cfg.jwks_file != NULL)
            pk_check_jwks_file(&ck, cfg.jwks_file);
        pk_config_free(&cfg);
    }
    pk_cli_args_free(&args);
    if (ck.nomem) {
        fputs("kakao-pam check: out of memory\n", stderr);
        return PK_EXIT_USAGE;
    }
    if (ck.problems == 0) {
        puts("no problems found");
        return fflush(stdout) == 0 ? PK_EXIT_OK : PK_EXIT_USAGE;
    }
    printf("%lu problem%s found\n", ck.problems, ck.problems == 1 ? "" : "s");
    (void)fflush(stdout);
    return PK_EXIT_REFUSED;
}
