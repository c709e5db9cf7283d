/* kakao-pam enroll: the project's pamu2fcfg. Tells a user (and so the
 * administrator) which kakao_id is theirs: a token of an accepted kind is
 * validated by the module's own code (src/auth.c, as `kakao-pam verify` and
 * the module do), or a login approved on the phone through the relay (the
 * module's relay client and assertion check); the user map is never read,
 * and the map line "KAKAO_ID NAME" is printed for
 * /etc/security/pam_kakao.users. Nothing is written (kakao-pam(1)). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "src/auth.h"
#include "src/qr.h"
#include "src/relay_client.h"
#include "src/secure.h"
#include "src/user_map_read.h"

#define PK_ENROLL_INPUT_MAX PK_CLI_TOKEN_INPUT_MAX
#define PK_ENROLL_LINE_MAX 160
/* The relay session's service: what the phone's page says this is for. */
#define PK_ENROLL_SERVICE "kakao-pam-enroll"

static void usage_enroll(FILE *out)
{
    fputs("usage: kakao-pam enroll [--config FILE] [KEY=VALUE ...] [--user NAME]\n"
          "                        [--token-file FILE | -]\n"
          "       kakao-pam enroll [--relay] [--qr] [--config FILE] [KEY=VALUE ...]\n"
          "                        [--user NAME]\n"
          "\n"
          "Tells you which Kakao account is yours, with the module's own code (the user map\n"
          "is not read), and prints the user map line for the administrator:\n"
          "  # kakao-pam enroll: jwt token checked 2026-12-02T09:30:00Z\n"
          "  3095134389 alice\n"
          "Either a token of an accepted kind is validated, or (relay accepted) you approve\n"
          "on your phone: the URL is shown, you log in with Kakao there, and type the\n"
          "6-digit code the page shows (\"# kakao-pam enroll: relay approval checked ...\").\n"
          "\n"
          "  --config FILE      the config file (default /etc/security/pam_kakao.conf)\n"
          "  KEY=VALUE          a config key, as a module argument: overrides the file\n"
          "  --user NAME        the local account of the line (default: your login name)\n"
          "  --token-file FILE  read the token from FILE; \"-\" reads stdin (on a terminal:\n"
          "                     asked for without echo). A token is never taken from the\n"
          "                     command line.\n"
          "  --relay            approve on the phone through the relay (the code is read\n"
          "                     from stdin, one line per attempt)\n"
          "  --qr               with the relay: also draw the URL as a QR code\n"
          "With neither a token source nor --relay: the relay when the config accepts it\n"
          "and stdin is a terminal (or relay is the only kind accepted); otherwise the\n"
          "token is read from stdin (on a terminal: asked for without echo).\n"
          "\n"
          "Exit status: 0 the line was printed, 1 the token or the login was refused,\n"
          "2 usage error, unusable config, key or file, Kakao API or relay unavailable.\n",
          out);
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
        tty = isatty(STDIN_FILENO) == 1;
    }
    rc = pk_cli_read_token("enroll", fd, tty, prompt, input, PK_ENROLL_INPUT_MAX, &len, &more);
    if (fd != STDIN_FILENO)
        (void)close(fd);
    if (rc != PK_EXIT_OK)
        return rc;
    if (more) {
        fprintf(stderr, "kakao-pam enroll: token longer than %d bytes\n", PK_ENROLL_INPUT_MAX);
        return PK_EXIT_REFUSED;
    }
    return PK_EXIT_OK;
}

/* Whether this enrollment goes through the relay: --relay says so; with no
 * token source named (neither "-" nor --token-file), a config that accepts
 * relay takes it when a person is at the terminal (stdin is one) or when no
 * other kind is accepted; otherwise stdin carries a token, as before. */
static bool pk_enroll_use_relay(const struct pk_config *cfg, bool relay_opt, const char *file)
{
    unsigned kinds = pk_config_kinds(cfg);

    if (relay_opt)
        return true;
    if (file != NULL || (kinds & PK_KIND_RELAY) == 0)
        return false;
    return kinds == PK_KIND_RELAY || isatty(STDIN_FILENO) == 1;
}

/* A token through the module's validator (the user map is left alone). */
static enum pk_outcome pk_enroll_token(struct pk_auth *a, const char *file, struct pk_result *res,
                                       int *read_rc)
{
    char *input = malloc(PK_ENROLL_INPUT_MAX + 1);
    enum pk_outcome out = PK_OK;

    if (input == NULL)
        return pk_result_set(res, PK_NO_MEMORY, "reading the token");
    *read_rc = pk_enroll_read(file, a->cfg.prompt, input);
    if (*read_rc == PK_EXIT_OK)
        out = pk_auth_identify(a, input, time(NULL), res);
    pk_free_secret(input, PK_ENROLL_INPUT_MAX + 1);
    return out;
}

/* --qr: the session's URL drawn by the module's renderer (src/qr.c), on
 * stderr; the prompt shows the URL anyway, so a code that cannot be drawn
 * is a notice. */
static enum pk_outcome pk_enroll_qr(const char *url, struct pk_result *res)
{
    char *qr = NULL;
    char problem[256];
    enum pk_status st = pk_qr_text(url, &qr, NULL, problem, sizeof(problem));

    if (st == PK_ST_NOMEM)
        return pk_result_set(res, PK_NO_MEMORY, "drawing the QR code");
    if (st != PK_ST_OK) {
        fprintf(stderr, "kakao-pam enroll: no QR code (%s); open the URL below\n", problem);
        return PK_OK;
    }
    (void)fputs(qr, stderr);
    free(qr);
    return PK_OK;
}

/* One answer to relay_prompt: a line of stdin (a code is no secret: echo
 * stays on), newline dropped. Returns PK_EXIT_OK or the exit status after a
 * message. */
static int pk_enroll_read_code(const char *prompt, char *answer, size_t cap)
{
    size_t len = 0;
    bool more = false;

    (void)fputs(prompt, stderr);
    (void)fflush(stderr);
    if (pk_cli_read_bounded(STDIN_FILENO, answer, cap - 1, &len, &more, true) != 0) {
        fprintf(stderr, "\nkakao-pam enroll: cannot read the code: %s\n",
                errno == EINTR ? "interrupted" : strerror(errno));
        return PK_EXIT_USAGE;
    }
    if (len == 0 && isatty(STDIN_FILENO) == 1)
        (void)fputc('\n', stderr);
    while (len > 0 && (answer[len - 1] == '\n' || answer[len - 1] == '\r'))
        answer[--len] = '\0';
    if (more || memchr(answer, '\0', len) != NULL)
        answer[0] = '\0'; /* not a code, whatever it was */
    return PK_EXIT_OK;
}

/* The relay, as the module drives it for a login (pam_kakao.c): a session
 * for service kakao-pam-enroll, the URL (and QR), the code asked for again
 * after a wrong one while attempts are left, the assertion checked by the
 * module's own code (pk_auth_relay_identify), without the user map. */
static enum pk_outcome pk_enroll_relay(struct pk_auth *a, const char *name, bool qr,
                                       struct pk_result *res, int *read_rc)
{
    struct pk_relay_session sess;
    char answer[64], code[PK_RELAY_CODE_LEN + 1];
    char *prompt;
    long left = 0;
    enum pk_outcome out;

    out = pk_auth_relay_open(a, name, PK_ENROLL_SERVICE, "", &sess, res);
    if (out != PK_OK)
        return out;
    if (qr)
        out = pk_enroll_qr(sess.url, res);
    prompt = out == PK_OK ? pk_relay_prompt_text(a->cfg.relay_prompt, sess.url) : NULL;
    if (out == PK_OK && prompt == NULL)
        out = pk_result_set(res, PK_NO_MEMORY, "building the prompt");
    while (out == PK_OK) {
        *read_rc = pk_enroll_read_code(prompt, answer, sizeof(answer));
        if (*read_rc != PK_EXIT_OK)
            break;
        if (pk_relay_code_parse(answer, code)) {
            out = pk_auth_relay_identify(a, &sess, code, time(NULL), &left, res);
            explicit_bzero(code, sizeof(code));
        } else {
            memset(res, 0, sizeof(*res));
            out = pk_result_set(res, PK_TOKEN_MALFORMED, "not a 6-digit code");
            res->kind = PK_KIND_RELAY;
        }
        explicit_bzero(answer, sizeof(answer));
        if (out != PK_RELAY_WRONG_CODE || left <= 0)
            break;
        fprintf(stderr, "kakao-pam enroll: wrong code (%ld attempt%s left); try again\n", left,
                left == 1 ? "" : "s");
        out = PK_OK;
    }
    free(prompt);
    pk_relay_session_free(&sess);
    return out;
}

/* Config and keys as the module loads them before its prompt (the user map
 * is not read), then a token or the relay: the module's own code decides. */
static enum pk_outcome pk_enroll_identify(const struct pk_cli_args *args, const char *file,
                                          bool relay_opt, bool qr, const char *name,
                                          struct pk_logger *log, struct pk_result *res,
                                          int *read_rc)
{
    struct pk_auth auth;
    enum pk_outcome out;

    *read_rc = PK_EXIT_OK;
    out = pk_auth_prepare_unmapped(&auth, args->argc, args->argv, log, res);
    log->debug = auth.cfg_loaded && auth.cfg.debug;
    if (out == PK_OK) {
        bool relay = pk_enroll_use_relay(&auth.cfg, relay_opt, file);

        if (relay && (pk_config_kinds(&auth.cfg) & PK_KIND_RELAY) == 0) {
            fputs("kakao-pam enroll: --relay: the config does not accept relay (accept, "
                  "relay_url, relay_key)\n",
                  stderr);
            *read_rc = PK_EXIT_USAGE;
        } else if (qr && !relay) {
            fputs("kakao-pam enroll: --qr goes with --relay\n", stderr);
            *read_rc = PK_EXIT_USAGE;
        } else if (relay) {
            out = pk_enroll_relay(&auth, name, qr, res, read_rc);
        } else {
            out = pk_enroll_token(&auth, file, res, read_rc);
        }
    }
    pk_auth_free(&auth);
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
    if (printf("# kakao-pam enroll: %s %s checked %s\n%s\n", pk_kind_name(res->kind),
               res->kind == PK_KIND_RELAY ? "approval" : "token", stamp, line) < 0 ||
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
    if (!pk_cli_args_init(&args, argc, "enroll"))
        return PK_EXIT_USAGE;
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
    if (rc == PK_EXIT_OK && relay && file != NULL) {
        fputs("kakao-pam enroll: --relay takes no token\n", stderr);
        rc = PK_EXIT_USAGE;
    } else if (rc == PK_EXIT_OK && qr && file != NULL) {
        fputs("kakao-pam enroll: --qr goes with --relay\n", stderr);
        rc = PK_EXIT_USAGE;
    }
    if (rc != PK_EXIT_OK || !pk_cli_args_set_config(&args, config)) {
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

    memset(&res, 0, sizeof(res));
    out = pk_enroll_identify(&args, file, relay, qr, name, &log, &res, &rc);
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
