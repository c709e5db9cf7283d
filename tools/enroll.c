/* kakao-pam enroll: the project's pamu2fcfg. Tells a user (and so the
 * administrator) which kakao_id is theirs: a token of an accepted kind is
 * validated by the module's own code (pk_kinds_load + pk_validate_token, as
 * `kakao-pam verify` and the module do), the user map is never read, and the
 * map line "KAKAO_ID NAME" is printed for /etc/security/pam_kakao.users.
 * Nothing is written. Enrolling through the relay (URL, approve on the
 * phone, code) is the other way in; until the relay client exists, --relay
 * says so. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/err.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "src/config.h"
#include "src/kinds.h"
#include "src/secure.h"
#include "src/user_map_read.h"
#include "src/validate.h"

#define PK_ENROLL_INPUT_MAX PK_CLI_TOKEN_INPUT_MAX
#define PK_ENROLL_LINE_MAX 160

static void usage_enroll(FILE *out)
{
    fputs("usage: kakao-pam enroll [--config FILE] [KEY=VALUE ...] [--user NAME]\n"
          "                        [--token-file FILE | -]\n"
          "       kakao-pam enroll --relay [--qr] [--config FILE] [--user NAME]\n"
          "\n"
          "Validates a token of an accepted kind with the module's own code (the user map\n"
          "is not read) and prints the user map line for the administrator:\n"
          "  # kakao-pam enroll: jwt token checked 2026-12-02T09:30:00Z\n"
          "  3095134389 alice\n"
          "\n"
          "  --config FILE      the config file (default /etc/security/pam_kakao.conf)\n"
          "  KEY=VALUE          a config key, as a module argument: overrides the file\n"
          "  --user NAME        the local account of the line (default: your login name)\n"
          "  --token-file FILE  read the token from FILE; \"-\" reads stdin; with neither,\n"
          "                     stdin is read, or on a terminal the token is asked for\n"
          "                     without echo. A token is never taken from the command line.\n"
          "  --relay, --qr      approve on the phone through the relay (not available yet)\n"
          "\n"
          "Exit status: 0 the line was printed, 1 the token was refused, 2 usage error,\n"
          "unusable config, key or file, Kakao API unavailable.\n",
          out);
}

/* The report of pk_config_load: the first problem, as `verify` words it. */
static void pk_enroll_config_report(void *ctx, const char *where, const char *problem)
{
    struct pk_result *res = ctx;

    if (res->outcome != PK_OK)
        return;
    if (strcmp(where, "config") == 0)
        (void)pk_result_set(res, PK_CONFIG_ERROR, "%s", problem);
    else
        (void)pk_result_set(res, PK_CONFIG_ERROR, "%s: %s", where, problem);
}

/* NAME: --user, else the login name of the real uid (who runs the command). */
static const char *pk_enroll_name(const char *given, char *buf, size_t cap)
{
    struct passwd pw, *found = NULL;
    char pwbuf[4096];

    if (given != NULL)
        return given;
    if (getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &found) != 0 || found == NULL ||
        strlen(found->pw_name) >= cap) {
        fputs("kakao-pam enroll: cannot tell your login name; give --user NAME\n", stderr);
        return NULL;
    }
    (void)snprintf(buf, cap, "%s", found->pw_name);
    return buf;
}

/* The token: from the file, stdin, or the terminal without echo. input has
 * PK_ENROLL_INPUT_MAX + 1 bytes. Returns PK_EXIT_OK or the exit status after
 * a message. */
static int pk_enroll_read(const char *file, const char *prompt, char *input)
{
    size_t len = 0;
    bool more = false, tty = false;
    int fd = STDIN_FILENO, rc;

    if (file != NULL && strcmp(file, "-") != 0) {
        /* Any readable file: a pipe too, as in --token-file <(kakao-pam login ...). */
        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            fprintf(stderr, "kakao-pam enroll: cannot open %s: %s\n", file, strerror(errno));
            return PK_EXIT_USAGE;
        }
    } else {
        tty = file == NULL && isatty(STDIN_FILENO) == 1;
    }
    rc = tty ? pk_cli_prompt_tty(prompt, input, PK_ENROLL_INPUT_MAX, &len, &more)
             : pk_cli_read_bounded(fd, input, PK_ENROLL_INPUT_MAX, &len, &more, false);
    if (fd != STDIN_FILENO)
        (void)close(fd);
    if (rc != 0) {
        fprintf(stderr, "kakao-pam enroll: cannot read the token: %s\n",
                errno == EINTR ? "interrupted" : strerror(errno));
        return PK_EXIT_USAGE;
    }
    if (memchr(input, '\0', len) != NULL) {
        fputs("kakao-pam enroll: the token contains a NUL byte\n", stderr);
        return PK_EXIT_REFUSED;
    }
    if (more) {
        fprintf(stderr, "kakao-pam enroll: token longer than %d bytes\n", PK_ENROLL_INPUT_MAX);
        return PK_EXIT_REFUSED;
    }
    return PK_EXIT_OK;
}

/* Config and keys as the module loads them before its prompt, then the
 * token through the module's validator; the user map is left alone. */
static enum pk_outcome pk_enroll_validate(const struct pk_cli_args *args, const char *file,
                                          struct pk_logger *log, struct pk_result *res,
                                          int *read_rc)
{
    struct pk_config cfg;
    struct pk_kind_state keys;
    char *input = NULL;
    enum pk_status st;
    enum pk_outcome out;
    uid_t uid = geteuid();

    memset(res, 0, sizeof(*res));
    memset(&keys, 0, sizeof(keys));
    *read_rc = PK_EXIT_OK;
    (void)ERR_set_mark(); /* OpenSSL's queue: what we add is dropped, as in src/auth.c */
    st = pk_config_load(&cfg, args->argc, args->argv, NULL, uid, false, pk_enroll_config_report,
                        res);
    if (st != PK_ST_OK) {
        (void)ERR_pop_to_mark();
        if (st == PK_ST_NOMEM)
            return pk_result_set(res, PK_NO_MEMORY, "loading config");
        return res->outcome != PK_OK ? res->outcome
                                     : pk_result_set(res, PK_CONFIG_ERROR, "invalid configuration");
    }
    log->debug = cfg.debug;
    {
        struct pk_kind_env env = {&cfg, uid, time(NULL), log};
        out = pk_kinds_load(&env, pk_config_kinds(&cfg), &keys, res);
    }
    if (out == PK_OK) {
        input = malloc(PK_ENROLL_INPUT_MAX + 1);
        if (input == NULL)
            out = pk_result_set(res, PK_NO_MEMORY, "reading the token");
        else
            *read_rc = pk_enroll_read(file, cfg.prompt, input);
    }
    if (out == PK_OK && *read_rc == PK_EXIT_OK) {
        struct pk_validator v = {
            .cfg = &cfg,
            .keys = &keys,
            .log = log,
            .now = time(NULL),
            .uid = uid,
            .first_pass = false,
        };
        memset(res, 0, sizeof(*res));
        out = pk_validate_token(&v, input, res);
    }
    (void)ERR_pop_to_mark();
    pk_free_secret(input, input != NULL ? PK_ENROLL_INPUT_MAX + 1 : 0);
    pk_kinds_free(&keys);
    pk_config_free(&cfg);
    return out;
}

/* The map line "KAKAO_ID NAME" into line, checked with the user map's own
 * line parser so that what is printed is what the module will read: NULL,
 * or why it cannot be made. */
static const char *pk_enroll_map_line(long long id, const char *name, char *line, size_t cap)
{
    const char *id_text, *nm, *why;
    size_t id_len, nm_len;
    int n = snprintf(line, cap, "%lld %s", id, name);

    if (n < 0 || (size_t)n >= cap)
        return "name too long";
    why = pk_map_parse_line(line, (size_t)n, &id_text, &id_len, &nm, &nm_len);
    if (why != NULL)
        return why[0] != '\0' ? why : "bad local user name";
    /* "a#b" parses as "a" and a comment: the whole name must come back. */
    if (nm_len != strlen(name) || memcmp(nm, name, nm_len) != 0)
        return "bad local user name";
    return NULL;
}

/* The refusal of a name, escaped: it came from the command line. */
static void pk_enroll_bad_name(const char *name, const char *why)
{
    char shown[96];

    pk_log_text(shown, sizeof(shown), name);
    fprintf(stderr, "kakao-pam enroll: cannot make a user map line for \"%s\": %s\n", shown, why);
}

static int pk_enroll_print(const struct pk_result *res, const char *name)
{
    char line[PK_ENROLL_LINE_MAX], stamp[32];
    const char *why = pk_enroll_map_line((long long)res->kakao_id, name, line, sizeof(line));
    time_t now = time(NULL);
    struct tm tm;

    if (why != NULL) {
        pk_enroll_bad_name(name, why);
        return PK_EXIT_USAGE;
    }
    if (gmtime_r(&now, &tm) == NULL ||
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        (void)snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
    if (printf("# kakao-pam enroll: %s token checked %s\n%s\n", pk_kind_name(res->kind), stamp,
               line) < 0 ||
        fflush(stdout) != 0) {
        fprintf(stderr, "kakao-pam enroll: cannot write: %s\n", strerror(errno));
        return PK_EXIT_USAGE;
    }
    return PK_EXIT_OK;
}

int pk_cmd_enroll(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"user", required_argument, NULL, 'u'},
        {"token-file", required_argument, NULL, 't'},
        {"relay", no_argument, NULL, 'r'},
        {"qr", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct pk_logger log = {pk_cli_stderr_emit, (void *)"enroll", false};
    struct pk_cli_args args;
    struct pk_result res;
    const char *config = NULL, *user = NULL, *file = NULL, *name;
    char name_buf[256], line[768];
    bool relay = false, qr = false;
    enum pk_outcome out;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'u':
            user = optarg;
            break;
        case 't':
            file = optarg;
            break;
        case 'r':
            relay = true;
            break;
        case 'q':
            qr = true;
            break;
        case 'h':
            usage_enroll(stdout);
            return PK_EXIT_OK;
        default:
            usage_enroll(stderr);
            return PK_EXIT_USAGE;
        }
    }
    if (!pk_cli_args_init(&args, argc, "enroll")) {
        pk_cli_args_free(&args);
        return PK_EXIT_USAGE;
    }
    rc = PK_EXIT_OK;
    for (int i = optind; i < argc && rc == PK_EXIT_OK; i++) {
        if (strcmp(argv[i], "-") == 0 && file == NULL) {
            file = "-";
        } else if (pk_cli_is_module_arg(argv[i])) {
            if (!pk_cli_args_add(&args, argv[i]))
                rc = PK_EXIT_USAGE;
        } else {
            /* argv is readable by every user (ps, /proc): no token there. */
            fputs("kakao-pam enroll: a token is not taken from the command line (other users "
                  "can read it there); use --token-file FILE or stdin\n",
                  stderr);
            rc = PK_EXIT_USAGE;
        }
    }
    if (rc == PK_EXIT_OK && qr && !relay) {
        fputs("kakao-pam enroll: --qr goes with --relay\n", stderr);
        rc = PK_EXIT_USAGE;
    } else if (rc == PK_EXIT_OK && relay && file != NULL) {
        fputs("kakao-pam enroll: --relay takes no token\n", stderr);
        rc = PK_EXIT_USAGE;
    } else if (rc == PK_EXIT_OK && relay) {
        fputs("kakao-pam enroll: enrolling through the relay is not available yet; give a "
              "token (--token-file FILE or stdin)\n",
              stderr);
        rc = PK_EXIT_USAGE;
    }
    if (rc != PK_EXIT_OK || (config != NULL && !pk_cli_args_set_config(&args, config))) {
        pk_cli_args_free(&args);
        return PK_EXIT_USAGE;
    }
    name = pk_enroll_name(user, name_buf, sizeof(name_buf));
    if (name != NULL) {
        /* A name the map cannot hold is refused before the token is read. */
        const char *why = pk_enroll_map_line(1, name, line, PK_ENROLL_LINE_MAX);

        if (why != NULL) {
            pk_enroll_bad_name(name, why);
            name = NULL;
        }
    }
    if (name == NULL) {
        pk_cli_args_free(&args);
        return PK_EXIT_USAGE;
    }

    out = pk_enroll_validate(&args, file, &log, &res, &rc);
    pk_cli_args_free(&args);
    if (rc != PK_EXIT_OK)
        return rc;
    if (out != PK_OK) {
        pk_verdict_line(line, sizeof(line), &res, name);
        fprintf(stderr, "kakao-pam enroll: %s\n", line);
        if (res.user_hint != NULL)
            fprintf(stderr, "kakao-pam enroll: hint: %s\n", res.user_hint);
        return pk_cli_outcome_exit(out);
    }
    return pk_enroll_print(&res, name);
}
