#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "src/config.h"

bool pk_cli_is_module_arg(const char *word)
{
    return strchr(word, '=') != NULL || strcmp(word, "debug") == 0 ||
           strcmp(word, "use_first_pass") == 0 || strcmp(word, "try_first_pass") == 0;
}

char *pk_cli_path(const char *cmd, const char *path)
{
    char *cwd, *out;
    size_t n;

    if (path[0] == '/' || path[0] == '\0') {
        out = strdup(path);
        if (out == NULL)
            (void)fprintf(stderr, "kakao-pam %s: out of memory\n", cmd);
        return out;
    }
    while (path[0] == '.' && path[1] == '/') {
        path += 2;
        while (path[0] == '/')
            path++;
    }
    cwd = getcwd(NULL, 0);
    if (cwd == NULL) {
        (void)fprintf(stderr, "kakao-pam %s: cannot make \"%s\" absolute: current directory: %s\n",
                      cmd, path, strerror(errno));
        return NULL;
    }
    n = strlen(cwd) + strlen(path) + 2;
    out = malloc(n);
    if (out == NULL)
        (void)fprintf(stderr, "kakao-pam %s: out of memory\n", cmd);
    else
        (void)snprintf(out, n, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", path);
    free(cwd);
    return out;
}

bool pk_cli_args_init(struct pk_cli_args *a, int max, const char *cmd)
{
    memset(a, 0, sizeof(*a));
    a->cmd = cmd;
    /* One slot more for config=F, which goes first. */
    a->argv = calloc((size_t)max + 1, sizeof(*a->argv));
    a->owned = calloc((size_t)max + 1, sizeof(*a->owned));
    if (a->argv == NULL || a->owned == NULL) {
        (void)fprintf(stderr, "kakao-pam %s: out of memory\n", cmd);
        pk_cli_args_free(a);
        return false;
    }
    return true;
}

/* "KEY=" followed by the absolute form of path; NULL after a message. */
static char *pk_cli_key_path(const char *cmd, const char *key, size_t key_len, const char *path)
{
    char *abs = pk_cli_path(cmd, path);
    char *word;
    size_t n;

    if (abs == NULL)
        return NULL;
    n = key_len + strlen(abs) + 2;
    word = malloc(n);
    if (word == NULL)
        (void)fprintf(stderr, "kakao-pam %s: out of memory\n", cmd);
    else
        (void)snprintf(word, n, "%.*s=%s", (int)key_len, key, abs);
    free(abs);
    return word;
}

bool pk_cli_args_set_config(struct pk_cli_args *a, const char *path)
{
    char *word;

    if (path == NULL)
        return true;
    word = pk_cli_key_path(a->cmd, "config", 6, path);
    if (word == NULL)
        return false;
    a->owned[a->owned_count++] = word;
    memmove(a->argv + 1, a->argv, (size_t)a->argc * sizeof(*a->argv));
    a->argv[0] = word;
    a->argc++;
    return true;
}

bool pk_cli_args_add(struct pk_cli_args *a, const char *word)
{
    const char *eq = strchr(word, '=');
    char *made;

    /* A quoted value is passed on as written: the loader judges it. */
    if (eq == NULL || eq[1] == '/' || eq[1] == '"' || eq[1] == '\0' ||
        !pk_config_key_is_path(word, (size_t)(eq - word))) {
        a->argv[a->argc++] = word;
        return true;
    }
    made = pk_cli_key_path(a->cmd, word, (size_t)(eq - word), eq + 1);
    if (made == NULL)
        return false;
    a->owned[a->owned_count++] = made;
    a->argv[a->argc++] = made;
    return true;
}

void pk_cli_args_free(struct pk_cli_args *a)
{
    if (a->owned != NULL)
        for (int i = 0; i < a->owned_count; i++)
            free(a->owned[i]);
    free(a->owned);
    free(a->argv);
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
