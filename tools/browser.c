/* xdg-open for `kakao-pam login` (browser.h). */
#include "browser.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

#include "login.h"

extern char **environ;

pid_t pk_browser_open(const char *url)
{
    posix_spawn_file_actions_t fa;
    char *argv[] = {(char *)"xdg-open", (char *)url, NULL};
    pid_t pid = 0;
    int rc;

    if (posix_spawn_file_actions_init(&fa) != 0)
        return 0;
    rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (rc == 0)
        rc = posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (rc == 0)
        rc = posix_spawnp(&pid, "xdg-open", &fa, NULL, argv, environ);
    (void)posix_spawn_file_actions_destroy(&fa);
    if (rc == ENOENT) {
        pk_login_err("xdg-open not found: open the URL above in a browser");
        return 0;
    }
    if (rc != 0) {
        pk_login_err("cannot run xdg-open (%s): open the URL above in a browser", strerror(rc));
        return 0;
    }
    return pid;
}

void pk_browser_reap(pid_t *pid)
{
    int status;

    if (*pid <= 0 || waitpid(*pid, &status, WNOHANG) != *pid)
        return;
    *pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        pk_login_err("xdg-open failed: open the URL above in a browser");
}
