/* A real redis-server for a test: started in a temp dir, on a unix socket and
 * on 127.0.0.1, with no persistence, and stopped by the test.
 *
 * The TCP port: redis-server cannot report an ephemeral port, so the test asks
 * the kernel for a free one (bind to port 0, read it back), releases it and
 * starts the server there; if another process took the port in between the
 * server exits, and the start is retried with a new port. Readiness is
 * polled (a connect to both sockets) with a deadline, never a fixed sleep. */
#ifndef PK_TEST_REDIS_SERVER_H
#define PK_TEST_REDIS_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PK_TEST_REDIS_START_MS 20000
#define PK_TEST_REDIS_TRIES 5

struct pk_test_redis {
    pid_t pid;
    char dir[32];
    char sock[96];
    unsigned port;
};

static long long pk_test_redis_ms(void)
{
    struct timespec t = {0, 0};

    (void)clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000LL + t.tv_nsec / 1000000L;
}

static void pk_test_redis_nap(void)
{
    struct timespec d = {0, 20 * 1000 * 1000};

    (void)nanosleep(&d, NULL);
}

/* A port on 127.0.0.1 that was free a moment ago, as the kernel chose it. */
static unsigned pk_test_redis_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = (socklen_t)sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unsigned port = 0;

    if (fd < 0)
        return 0;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, (socklen_t)sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    (void)close(fd);
    return port;
}

/* A port on 127.0.0.1 where nothing listens, kept bound (not listening) by
 * fd so no one can take it while the test runs: connects get ECONNREFUSED. */
static unsigned pk_test_redis_dead_port(int *fd_out)
{
    struct sockaddr_in a;
    socklen_t len = (socklen_t)sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    *fd_out = -1;
    if (fd < 0)
        return 0;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, (socklen_t)sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        (void)close(fd);
        return 0;
    }
    *fd_out = fd;
    return ntohs(a.sin_port);
}

static bool pk_test_redis_connects(const struct pk_test_redis *s)
{
    struct sockaddr_un un;
    struct sockaddr_in in4;
    bool ok = false;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return false;
    memset(&un, 0, sizeof(un));
    un.sun_family = AF_UNIX;
    (void)snprintf(un.sun_path, sizeof(un.sun_path), "%s", s->sock);
    ok = connect(fd, (struct sockaddr *)&un, (socklen_t)sizeof(un)) == 0;
    (void)close(fd);
    if (!ok)
        return false;
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    memset(&in4, 0, sizeof(in4));
    in4.sin_family = AF_INET;
    in4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    in4.sin_port = htons((uint16_t)s->port);
    ok = connect(fd, (struct sockaddr *)&in4, (socklen_t)sizeof(in4)) == 0;
    (void)close(fd);
    return ok;
}

/* Starts one server; password may be NULL. false: it did not come up. */
static bool pk_test_redis_try(struct pk_test_redis *s, const char *password)
{
    char port[16];
    char logfile[96];
    long long deadline;

    s->port = pk_test_redis_free_port();
    if (s->port == 0)
        return false;
    (void)snprintf(port, sizeof(port), "%u", s->port);
    (void)snprintf(logfile, sizeof(logfile), "%s/redis.log", s->dir);
    (void)unlink(s->sock);
    s->pid = fork();
    if (s->pid < 0)
        return false;
    if (s->pid == 0) {
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

        if (devnull >= 0) {
            (void)dup2(devnull, 0);
            (void)dup2(devnull, 1);
        }
        if (password != NULL)
            execlp("redis-server", "redis-server", "--bind", "127.0.0.1", "--port", port,
                   "--unixsocket", s->sock, "--unixsocketperm", "700", "--dir", s->dir, "--save",
                   "", "--appendonly", "no", "--logfile", logfile, "--daemonize", "no",
                   "--databases", "16", "--requirepass", password, (char *)NULL);
        else
            execlp("redis-server", "redis-server", "--bind", "127.0.0.1", "--port", port,
                   "--unixsocket", s->sock, "--unixsocketperm", "700", "--dir", s->dir, "--save",
                   "", "--appendonly", "no", "--logfile", logfile, "--daemonize", "no",
                   "--databases", "16", (char *)NULL);
        _exit(127);
    }
    deadline = pk_test_redis_ms() + PK_TEST_REDIS_START_MS;
    while (pk_test_redis_ms() < deadline) {
        int status;

        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = -1; /* exited: probably the port was taken */
            return false;
        }
        if (pk_test_redis_connects(s))
            return true;
        pk_test_redis_nap();
    }
    (void)kill(s->pid, SIGKILL);
    (void)waitpid(s->pid, NULL, 0);
    s->pid = -1;
    return false;
}

static bool pk_test_redis_start(struct pk_test_redis *s, const char *password)
{
    memset(s, 0, sizeof(*s));
    s->pid = -1;
    (void)snprintf(s->dir, sizeof(s->dir), "/tmp/pk-redis-XXXXXX");
    if (mkdtemp(s->dir) == NULL)
        return false;
    (void)snprintf(s->sock, sizeof(s->sock), "%s/redis.sock", s->dir);
    for (int i = 0; i < PK_TEST_REDIS_TRIES; i++) {
        if (pk_test_redis_try(s, password))
            return true;
    }
    return false;
}

static void pk_test_redis_stop(struct pk_test_redis *s)
{
    char path[192];

    if (s->pid > 0) {
        (void)kill(s->pid, SIGCONT);
        (void)kill(s->pid, SIGKILL);
        (void)waitpid(s->pid, NULL, 0);
        s->pid = -1;
    }
    if (s->dir[0] != '\0') {
        (void)unlink(s->sock);
        (void)snprintf(path, sizeof(path), "%s/redis.log", s->dir);
        (void)unlink(path);
        (void)rmdir(s->dir);
        s->dir[0] = '\0';
    }
}

#endif
