/* kakao-pam verify: the module's own decision for a token and a user,
 * without PAM: pk_auth_prepare + pk_auth_decide, and the log line the module
 * would write (pk_verdict_line) on stdout. */
#include <errno.h>
#include <getopt.h>
#include <security/_pam_types.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "src/auth.h"
#include "src/secure.h"
#include "src/token.h"

#define PK_VERIFY_INPUT_MAX PK_CLI_TOKEN_INPUT_MAX

static void usage_verify(FILE *out)
{
    fputs("usage: kakao-pam verify [--config FILE] [KEY=VALUE ...] --user USER [TOKEN | -]\n"
          "\n"
          "Runs the module's own validation and user-map check for TOKEN and USER, without\n"
          "PAM, and prints the decision as the module would log it:\n"
          "  accepted jwt kakao_id=3095134389 user=alice\n"
          "  rejected jwt for user=alice: expired (exp=1697167622 now=1697170000)\n"
          "\n"
          "  --config FILE  the config file (default /etc/security/pam_kakao.conf); the same\n"
          "                 as the module argument config=FILE\n"
          "  KEY=VALUE      a config key, as a module argument: overrides the file (debug\n"
          "                 is taken too; the token stands for PAM_AUTHTOK)\n"
          "  --user USER    the account being logged into (PAM_USER)\n"
          "  TOKEN          the token; \"-\" or none with stdin not a terminal: read stdin;\n"
          "                 none on a terminal: asked for without echo. Put \"--\" before a\n"
          "                 token that starts with \"-\".\n"
          "\n"
          "Kakao access tokens are checked online against the Kakao API, as the module does.\n"
          "Exit status: 0 accepted, 1 refused (bad token, not mapped, no user map entry),\n"
          "2 usage error, unusable config, key or file, Kakao API unavailable.\n",
          out);
}

/* The signal only has to interrupt read(2) so the terminal can be restored. */
static void pk_verify_interrupt(int sig)
{
    (void)sig;
}

int pk_cli_read_bounded(int fd, char *buf, size_t cap, size_t *len, bool *more, bool one_line)
{
    *len = 0;
    *more = false;
    for (;;) {
        char c;
        ssize_t n;

        if (*len == cap) {
            n = read(fd, &c, 1);
            if (n < 0 && errno == EINTR)
                return -1;
            *more = n > 0;
            break;
        }
        n = read(fd, buf + *len, one_line ? 1 : cap - *len);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        *len += (size_t)n;
        if (one_line && buf[*len - 1] == '\n')
            break;
    }
    buf[*len] = '\0';
    return 0;
}

int pk_cli_prompt_tty(const char *prompt, char *buf, size_t cap, size_t *len, bool *more)
{
    struct termios old, quiet;
    struct sigaction sa, old_int, old_term, old_hup;
    int rc;

    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = pk_verify_interrupt;
    if (sigemptyset(&sa.sa_mask) != 0 || sigaction(SIGINT, &sa, &old_int) != 0 ||
        sigaction(SIGTERM, &sa, &old_term) != 0 || sigaction(SIGHUP, &sa, &old_hup) != 0)
        return -1;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    (void)fputs(prompt, stderr);
    (void)fflush(stderr);
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
        rc = -1;
    } else {
        rc = pk_cli_read_bounded(STDIN_FILENO, buf, cap, len, more, true);
        (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    }
    (void)fputc('\n', stderr);
    (void)sigaction(SIGINT, &old_int, NULL);
    (void)sigaction(SIGTERM, &old_term, NULL);
    (void)sigaction(SIGHUP, &old_hup, NULL);
    return rc;
}

int pk_cli_read_token(const char *cmd, int fd, bool tty, const char *prompt, char *input,
                      size_t cap, size_t *len, bool *more)
{
    int rc = tty ? pk_cli_prompt_tty(prompt, input, cap, len, more)
                 : pk_cli_read_bounded(fd, input, cap, len, more, false);

    if (rc != 0) {
        fprintf(stderr, "kakao-pam %s: cannot read the token: %s\n", cmd,
                errno == EINTR ? "interrupted" : strerror(errno));
        return PK_EXIT_USAGE;
    }
    if (memchr(input, '\0', *len) != NULL) {
        /* A C string would end there; say so rather than judge a prefix. */
        fprintf(stderr, "kakao-pam %s: the token contains a NUL byte\n", cmd);
        return PK_EXIT_REFUSED;
    }
    return PK_EXIT_OK;
}

int pk_cli_outcome_exit(enum pk_outcome out)
{
    switch (pk_outcome_pam_code(out)) {
    case PAM_SUCCESS:
        return PK_EXIT_OK;
    case PAM_AUTH_ERR:
    case PAM_USER_UNKNOWN:
        return PK_EXIT_REFUSED;
    default:
        return PK_EXIT_USAGE;
    }
}

int pk_cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"user", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct pk_logger log = {pk_cli_stderr_emit, (void *)"verify", false};
    struct pk_cli_args args;
    struct pk_auth auth;
    struct pk_result res;
    const char *config = NULL, *user = NULL, *token_arg = NULL;
    char *input = NULL;
    char line[768];
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
        case 'h':
            usage_verify(stdout);
            return PK_EXIT_OK;
        default:
            usage_verify(stderr);
            return PK_EXIT_USAGE;
        }
    }
    if (!pk_cli_args_init(&args, argc, "verify"))
        return PK_EXIT_USAGE;
    for (int i = optind; i < argc; i++) {
        /* A token never contains '=': a word with one is a config key. */
        if (pk_cli_is_module_arg(argv[i])) {
            if (!pk_cli_args_add(&args, argv[i])) {
                pk_cli_args_free(&args);
                return PK_EXIT_USAGE;
            }
        } else if (token_arg == NULL) {
            token_arg = argv[i];
        } else {
            fputs("kakao-pam verify: more than one token given\n", stderr);
            pk_cli_args_free(&args);
            return PK_EXIT_USAGE;
        }
    }
    if (user == NULL || user[0] == '\0') {
        fputs("kakao-pam verify: --user USER is required\n", stderr);
        usage_verify(stderr);
        pk_cli_args_free(&args);
        return PK_EXIT_USAGE;
    }
    if (!pk_cli_args_set_config(&args, config)) {
        pk_cli_args_free(&args);
        return PK_EXIT_USAGE;
    }

    out = pk_auth_prepare(&auth, args.argc, args.argv, NULL, user, &log, &res);
    log.debug = auth.cfg_loaded && auth.cfg.debug;
    /* verify judges a token; using up a one-time token's mark is a login's
     * business, so the store is not touched (kakao-pam(1)). */
    auth.keep_marks = true;
    if (out == PK_OK && auth.cfg.one_time)
        fputs("kakao-pam verify: one_time = yes: the one-time store is not consulted; a token "
              "accepted here may already be used\n",
              stderr);
    if (out == PK_OK && (token_arg == NULL || strcmp(token_arg, "-") == 0)) {
        size_t len = 0;
        bool more = false;
        bool tty = token_arg == NULL && isatty(STDIN_FILENO) == 1;

        input = malloc(PK_VERIFY_INPUT_MAX + 1);
        if (input == NULL) {
            out = pk_result_set(&res, PK_NO_MEMORY, "reading the token");
        } else {
            rc = pk_cli_read_token("verify", STDIN_FILENO, tty, auth.cfg.prompt, input,
                                   PK_VERIFY_INPUT_MAX, &len, &more);
            if (rc != PK_EXIT_OK) {
                pk_free_secret(input, PK_VERIFY_INPUT_MAX + 1);
                pk_auth_free(&auth);
                pk_cli_args_free(&args);
                return rc;
            }
            if (more)
                fprintf(stderr,
                        "kakao-pam verify: input longer than %d bytes; judging the "
                        "first %d\n",
                        PK_VERIFY_INPUT_MAX, PK_VERIFY_INPUT_MAX);
        }
    }
    if (out == PK_OK && (pk_config_kinds(&auth.cfg) & PK_KIND_RELAY) != 0) {
        char code[PK_RELAY_CODE_LEN + 1];
        /* As in the module, a code never reaches another kind; and a code
         * means nothing without the login's session. */
        if (pk_relay_code_parse(input != NULL ? input : token_arg, code)) {
            explicit_bzero(code, sizeof(code));
            fprintf(stderr, "kakao-pam verify: a 6-digit relay code is redeemed only within the "
                            "login that showed it; verify takes a token\n");
            pk_free_secret(input, input != NULL ? PK_VERIFY_INPUT_MAX + 1 : 0);
            pk_auth_free(&auth);
            pk_cli_args_free(&args);
            return PK_EXIT_USAGE;
        }
    }
    if (out == PK_OK)
        out = pk_auth_decide(&auth, input != NULL ? input : token_arg, time(NULL), &res);
    pk_free_secret(input, input != NULL ? PK_VERIFY_INPUT_MAX + 1 : 0);

    pk_verdict_line(line, sizeof(line), &res, user);
    rc = pk_cli_outcome_exit(out);
    if (puts(line) == EOF || fflush(stdout) != 0)
        rc = PK_EXIT_USAGE;
    if (res.user_hint != NULL)
        fprintf(stderr, "kakao-pam verify: hint: %s\n", res.user_hint);
    pk_auth_free(&auth);
    pk_cli_args_free(&args);
    return rc;
}
