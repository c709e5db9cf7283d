#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

bool pk_cli_is_module_arg(const char *word)
{
    return strchr(word, '=') != NULL || strcmp(word, "debug") == 0 ||
           strcmp(word, "use_first_pass") == 0 || strcmp(word, "try_first_pass") == 0;
}

bool pk_cli_args_init(struct pk_cli_args *a, int max)
{
    memset(a, 0, sizeof(*a));
    /* One slot more for config=F, which goes first. */
    a->argv = calloc((size_t)max + 1, sizeof(*a->argv));
    return a->argv != NULL;
}

bool pk_cli_args_set_config(struct pk_cli_args *a, const char *path)
{
    size_t n = strlen(path) + sizeof("config=");

    a->config_arg = malloc(n);
    if (a->config_arg == NULL)
        return false;
    (void)snprintf(a->config_arg, n, "config=%s", path);
    memmove(a->argv + 1, a->argv, (size_t)a->argc * sizeof(*a->argv));
    a->argv[0] = a->config_arg;
    a->argc++;
    return true;
}

void pk_cli_args_add(struct pk_cli_args *a, const char *word)
{
    a->argv[a->argc++] = word;
}

void pk_cli_args_free(struct pk_cli_args *a)
{
    free(a->argv);
    free(a->config_arg);
    memset(a, 0, sizeof(*a));
}

void pk_cli_stderr_emit(void *ctx, int priority, const char *msg)
{
    const char *what = priority <= LOG_ERR       ? "error: "
                       : priority == LOG_WARNING ? "warning: "
                       : priority == LOG_DEBUG   ? "debug: "
                                                 : "";

    (void)fprintf(stderr, "kakao-pam %s: %s%s\n", (const char *)ctx, what, msg);
}
