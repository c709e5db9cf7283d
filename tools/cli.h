/* kakao-pam subcommands and what they share (kakao-pam(1)). Exit status: 0
 * success, 1 refused or problems found, 2 usage error, unusable config or
 * key, service unavailable. */
#ifndef PK_CLI_H
#define PK_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "src/log.h"
#include "src/verdict.h"

#define PK_EXIT_OK 0
#define PK_EXIT_REFUSED 1
#define PK_EXIT_USAGE 2

int pk_cmd_mint(int argc, char **argv);
int pk_cmd_verify(int argc, char **argv);
int pk_cmd_check(int argc, char **argv);
int pk_cmd_login(int argc, char **argv);
int pk_cmd_enroll(int argc, char **argv);

/* Reading a token (verify, enroll): stdin or a file is read up to this
 * much; anything longer is refused as too long, as the module refuses it
 * (it is far over PK_TOKEN_MAX). */
#define PK_CLI_TOKEN_INPUT_MAX (16 * 1024)

/* Reads at most cap bytes of fd into buf (cap + 1 bytes); *more is set when
 * there was more; one_line stops after a newline. Returns -1 on a read
 * error or an interrupt. */
int pk_cli_read_bounded(int fd, char *buf, size_t cap, size_t *len, bool *more, bool one_line);

/* Asks on the terminal (stdin) with echo off, as the module's prompt does;
 * the prompt goes to stderr. Same results as pk_cli_read_bounded. */
int pk_cli_prompt_tty(const char *prompt, char *buf, size_t cap, size_t *len, bool *more);

/* A token for `kakao-pam cmd` into input (cap + 1 bytes): from the terminal
 * after prompt when tty (pk_cli_prompt_tty), else from fd. PK_EXIT_OK with
 * *len and *more (more than cap bytes: the caller decides); after a message
 * on stderr, PK_EXIT_USAGE when it cannot be read, PK_EXIT_REFUSED when it
 * holds a NUL byte. */
int pk_cli_read_token(const char *cmd, int fd, bool tty, const char *prompt, char *input,
                      size_t cap, size_t *len, bool *more);

/* Module arguments built from `--config F` and KEY=VALUE words, handed to
 * pk_config_load exactly as the PAM line's arguments would be, except that a
 * relative path (in config= and the path keys) is made absolute against the
 * working directory: the CLI runs where its user is; the module has no such
 * place and keeps requiring absolute paths. */
struct pk_cli_args {
    const char **argv;
    int argc;
    char **owned; /* the words made here, freed with the args */
    int owned_count;
    const char *cmd; /* for messages: "kakao-pam CMD: ..." */
};

/* KEY=VALUE, or one of the module's bare options (debug, use_first_pass,
 * try_first_pass): none of them can be a token. */
bool pk_cli_is_module_arg(const char *word);

/* path itself when absolute (or empty), else the working directory joined
 * with it ("./" prefixes dropped, symbolic links left alone so that the
 * trust rules still see them): a new string, or NULL with a message on
 * stderr. */
char *pk_cli_path(const char *cmd, const char *path);

/* These return false (with a message on stderr) when out of memory or when
 * a relative path cannot be resolved. A failed init leaves nothing to free;
 * set_config with path NULL (no --config) does nothing. */
bool pk_cli_args_init(struct pk_cli_args *a, int max, const char *cmd);
bool pk_cli_args_set_config(struct pk_cli_args *a, const char *path);
bool pk_cli_args_add(struct pk_cli_args *a, const char *word);
void pk_cli_args_free(struct pk_cli_args *a);

/* The exit status for a decision: 0 accepted, 1 refused (PAM_AUTH_ERR,
 * PAM_USER_UNKNOWN), 2 anything else (config, files, outage). */
int pk_cli_outcome_exit(enum pk_outcome out);

/* A logger that writes "kakao-pam CMD: message" lines on stderr; ctx is the
 * command name. */
void pk_cli_stderr_emit(void *ctx, int priority, const char *msg);

#endif
