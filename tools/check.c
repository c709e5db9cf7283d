/* kakao-pam check: every problem in the config (file and KEY=VALUE
 * arguments), the user map, the jwt key, the CA bundle and the JWKS file,
 * found with the module's own loaders; one finding per line on stdout.
 * check grants nothing, so it reads on where the module stops: a file that
 * breaks a trust rule is still read for syntax, and a config with problems
 * still leads to the files it names. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "src/config.h"
#include "src/http.h"
#include "src/kinds.h"
#include "src/kinds_check.h"
#include "src/one_time.h"
#include "src/redis.h"
#include "src/safe_file.h"
#include "src/secure.h"
#include "src/user_map.h"
#include "src/verdict.h"

struct pk_check {
    unsigned long problems;
    bool nomem;
    bool unavailable; /* --connect: the store or the relay did not answer */
};

static void usage_check(FILE *out)
{
    fputs("usage: kakao-pam check [--config FILE] [--connect] [KEY=VALUE ...]\n"
          "\n"
          "Checks what the module would read: the config file and KEY=VALUE arguments\n"
          "(every problem, as PATH:LINE: problem or argument: problem), the trust rules\n"
          "for each file (owner, mode, no symbolic link, size), every malformed user-map\n"
          "line, the jwt_key against jwt_alg, the ca_file, the jwks_file, the one-time\n"
          "store and redis_password_file. Prints one\n"
          "line per finding: \"ok WHAT ...\" or the problem. A file that breaks a trust\n"
          "rule is still read for its syntax, and a config with problems still leads to\n"
          "the files it names: one run shows every problem.\n"
          "\n"
          "  --config FILE  the config file (default /etc/security/pam_kakao.conf); the same\n"
          "                 as the module argument config=FILE\n"
          "  --connect      also check that the one-time store (with one_time = yes, or a\n"
          "                 Redis store) and the relay (relay_url) answer, within timeout\n"
          "  KEY=VALUE      a config key, as a module argument: overrides the file\n"
          "Relative paths in --config FILE and KEY=VALUE are taken from the current\n"
          "directory; paths inside the config file must be absolute, as for the module.\n"
          "\n"
          "Run it as the user the module runs as (root for sshd and sudo): file ownership\n"
          "is judged against the running uid.\n"
          "Exit status: 0 no problems, 1 problems found, 2 usage error, the config file\n"
          "missing or unreadable, or (--connect) the store or the relay not answering.\n",
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
    case PK_ST_OK:
        if (ck->problems == before)
            printf("ok user_map %s (%lu entr%s)\n", path, entries, entries == 1 ? "y" : "ies");
        if (entries == 0)
            pk_check_problem(ck, "%s: no valid entries: nobody can log in", path);
        break;
    case PK_ST_NOMEM:
        ck->nomem = true;
        break;
    case PK_ST_REFUSED:
    case PK_ST_MISSING:
    case PK_ST_UNAVAILABLE:
        pk_check_problem(ck, "%s", problem);
        break;
    }
}

static void pk_check_kind_problem(void *ctx, const char *msg)
{
    pk_check_problem(ctx, "%s", msg);
}

static void pk_check_kind_ok(void *ctx, const char *msg)
{
    (void)ctx;
    printf("ok %s\n", msg);
}

/* Every file the kinds would load (the CA bundle, jwt_key, jwks_file),
 * with every problem reported, whether or not the kind is accepted: a file
 * that is named is checked. */
static void pk_check_kinds(struct pk_check *ck, const struct pk_config *cfg)
{
    const struct pk_kind_check check = {pk_check_kind_problem, pk_check_kind_ok, ck, pk_check_open,
                                        pk_check_read};
    struct pk_result res;

    memset(&res, 0, sizeof(res));
    if (pk_kinds_check(cfg, geteuid(), &check, &res) != PK_OK)
        ck->nomem = true; /* its only outcome but PK_OK */
}

/* The one-time store's settings: the store (its URL form was checked with
 * the config), redis_password_file under the key-file trust rules. */
static void pk_check_store_settings(struct pk_check *ck, const struct pk_config *cfg)
{
    char problem[512];
    char trust[512];
    char *data = NULL;
    size_t len = 0;
    enum pk_status st;

    if (cfg->one_time || pk_config_store_is_redis(cfg))
        printf("ok store %s%s\n", cfg->store != NULL ? cfg->store : PK_STORE_LOCAL,
               cfg->one_time ? "" : " (one_time = no: not used)");
    if (cfg->redis_password_file == NULL)
        return;
    trust[0] = '\0';
    st = pk_check_read(cfg->redis_password_file, PK_FILE_KEY, geteuid(), &data, &len, trust,
                       sizeof(trust), problem, sizeof(problem));
    if (st == PK_ST_NOMEM) {
        ck->nomem = true;
        return;
    }
    if (st != PK_ST_OK) {
        pk_check_problem(ck, "%s", problem);
        return;
    }
    if (trust[0] != '\0')
        pk_check_problem(ck, "%s", trust);
    if (len > 0 && data[len - 1] == '\n')
        data[--len] = '\0';
    if (len == 0)
        pk_check_problem(ck, "%s: empty password", cfg->redis_password_file);
    else if (memchr(data, '\0', len) != NULL)
        pk_check_problem(ck, "%s: password holds a NUL byte", cfg->redis_password_file);
    else if (trust[0] == '\0')
        printf("ok redis_password_file %s\n", cfg->redis_password_file);
    pk_free_secret(data, len + 1);
}

/* --connect: the store answers as the module would use it (the module's own
 * password reader and store code, one deadline of timeout). */
static void pk_check_store_connect(struct pk_check *ck, const struct pk_config *cfg)
{
    char problem[512];
    char *password = NULL;
    enum pk_status st;

    if (!cfg->one_time && !pk_config_store_is_redis(cfg))
        return;
    st = pk_one_time_password(cfg, geteuid(), &password, problem, sizeof(problem));
    if (st == PK_ST_OK)
        st = pk_one_time_probe(cfg, geteuid(), password, pk_redis_now_ms() + cfg->timeout * 1000LL,
                               problem, sizeof(problem));
    pk_free_secret_str(password);
    if (st == PK_ST_NOMEM) {
        ck->nomem = true;
    } else if (st != PK_ST_OK) {
        ck->unavailable = true;
        printf("store %s does not answer: %s\n", cfg->store, problem);
    } else {
        printf("ok store %s answers\n", cfg->store);
    }
}

/* --connect: GET {relay_url}/healthz answers 200 within timeout. */
static void pk_check_relay_connect(struct pk_check *ck, const struct pk_config *cfg)
{
    struct pk_http_request req;
    struct pk_http_response resp;
    char url[600];
    char err[256];
    char why[300];
    enum pk_status st;

    if (cfg->relay_url == NULL)
        return;
    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    (void)snprintf(url, sizeof(url), "%s/healthz", cfg->relay_url);
    req.url = url;
    req.ca_file = cfg->ca_file;
    req.proxy = cfg->proxy;
    req.timeout_ms = cfg->timeout * 1000;
    req.max_body = 4096;
    st = pk_http_get_public(&req, &resp, err, sizeof(err));
    if (st == PK_ST_NOMEM) {
        ck->nomem = true;
        return;
    }
    if (st == PK_ST_OK && resp.status == 200) {
        printf("ok relay %s answers\n", cfg->relay_url);
    } else {
        if (st == PK_ST_OK)
            (void)snprintf(why, sizeof(why), "HTTP %ld from /healthz", resp.status);
        else
            pk_http_failure_text(st, resp.failure, err, cfg->timeout, req.max_body, why,
                                 sizeof(why));
        ck->unavailable = true;
        printf("relay %s does not answer: %s\n", cfg->relay_url, why);
    }
    pk_http_response_free(&resp);
}

static void pk_check_accept(const struct pk_config *cfg)
{
    unsigned accepted = pk_config_kinds(cfg);
    const char *sep = "";

    printf("ok accept ");
    for (size_t i = 0; i < pk_kind_count; i++) {
        if ((accepted & (unsigned)pk_kinds[i].bit) == 0)
            continue;
        printf("%s%s", sep, pk_kinds[i].name);
        sep = ",";
    }
    for (size_t i = 0; i < pk_kind_count; i++) {
        char summary[512];
        if ((accepted & (unsigned)pk_kinds[i].bit) != 0 &&
            pk_kind_summary(pk_kinds[i].bit, cfg, summary, sizeof(summary)))
            printf(" (%s)", summary);
    }
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
    enum pk_status st =
        pk_safe_open(path, PK_FILE_CONFIG, geteuid(), &fd, problem, sizeof(problem));

    switch (st) {
    case PK_ST_OK:
        (void)close(fd);
        return 0;
    case PK_ST_REFUSED:
        return 0; /* a trust-rule problem: the loader reports it */
    case PK_ST_MISSING:
        if (explicit_path)
            break;
        if (args->argc > 0) {
            fprintf(stderr, "kakao-pam check: %s does not exist: checking the arguments alone\n",
                    path);
            return 0;
        }
        fprintf(stderr,
                "kakao-pam check: %s does not exist and no KEY=VALUE arguments were "
                "given: nothing to check\n",
                path);
        return PK_EXIT_USAGE;
    case PK_ST_UNAVAILABLE:
    case PK_ST_NOMEM:
        break;
    }
    fprintf(stderr, "kakao-pam check: %s\n", problem);
    return PK_EXIT_USAGE;
}

int pk_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"connect", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct pk_check ck = {0, false, false};
    struct pk_cli_args args;
    struct pk_config cfg;
    const char *config = NULL;
    bool explicit_path;
    bool connect = false;
    enum pk_status st;
    int c, rv;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'n':
            connect = true;
            break;
        case 'h':
            usage_check(stdout);
            return PK_EXIT_OK;
        default:
            usage_check(stderr);
            return PK_EXIT_USAGE;
        }
    }
    if (!pk_cli_args_init(&args, argc, "check"))
        return PK_EXIT_USAGE;
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
    if (!pk_cli_args_set_config(&args, config)) {
        pk_cli_args_free(&args);
        return PK_EXIT_USAGE;
    }
    rv = pk_check_config_readable(&args);
    if (rv != 0) {
        pk_cli_args_free(&args);
        return rv;
    }

    st = pk_config_load_check(&cfg, args.argc, args.argv, geteuid(), pk_check_config_report, &ck);
    if (st == PK_ST_NOMEM) {
        ck.nomem = true;
    } else {
        /* With problems too: the files named are checked as far as known. */
        if (st == PK_ST_OK) {
            const char *path = pk_check_config_path(&args, &explicit_path);
            printf("ok config %s%s\n", path,
                   cfg.config_explicit || access(path, F_OK) == 0 ? ""
                                                                  : " (absent: arguments only)");
            pk_check_accept(&cfg);
        }
        if (cfg.user_map != NULL)
            pk_check_user_map(&ck, cfg.user_map);
        pk_check_kinds(&ck, &cfg);
        pk_check_store_settings(&ck, &cfg);
        /* Only a config that loaded: its values are the module's. */
        if (connect && st == PK_ST_OK) {
            pk_check_store_connect(&ck, &cfg);
            pk_check_relay_connect(&ck, &cfg);
        }
        pk_config_free(&cfg);
    }
    pk_cli_args_free(&args);
    if (ck.nomem) {
        fputs("kakao-pam check: out of memory\n", stderr);
        return PK_EXIT_USAGE;
    }
    if (ck.problems == 0 && !ck.unavailable) {
        puts("no problems found");
        return fflush(stdout) == 0 ? PK_EXIT_OK : PK_EXIT_USAGE;
    }
    if (ck.problems > 0)
        printf("%lu problem%s found\n", ck.problems, ck.problems == 1 ? "" : "s");
    (void)fflush(stdout);
    return ck.unavailable ? PK_EXIT_USAGE : PK_EXIT_REFUSED;
}
