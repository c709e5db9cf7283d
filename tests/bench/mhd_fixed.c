/* tests/bench/mhd_fixed.c — the floor for the relay's POST /v1/sessions figure in make bench:
 * a minimal libmicrohttpd server that reads the request body and answers every request with
 * one fixed 201 JSON of the size the relay sends. It runs with the daemon settings given on
 * the command line, which bench.sh sets to the relay's (thread model, connection limit,
 * connection timeout), so the ratio measures what the relay adds on top of libmicrohttpd.
 *
 *   mhd_fixed [--threads N] [--per-connection] [--limit N] [--timeout S] [--memory BYTES]
 *             [--stack BYTES] PORT_FILE
 *
 * Listens on 127.0.0.1 on an ephemeral port, writes the port to PORT_FILE once it accepts,
 * stops on SIGTERM or SIGINT. --threads N: an epoll thread pool of N threads (default: one
 * per CPU); --per-connection: a thread per connection under one polling thread instead (the
 * relay's model); --memory: the memory limit of a connection; --stack: the stack size of the
 * daemon's threads (libmicrohttpd's defaults when not given). */
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

/* What a 201 of the relay looks like: S is 43 base64url characters, the short id 11. */
static const char fixed_body[] =
    "{\"session\":\"q0C3uM5Vw9kX2b7nY4rT1aE8pL6sD0fG3hJ5kZ9xWcB\","
    "\"url\":\"https://relay.bench.invalid/a/K7F3Q9ZT2MH\",\"expires_in\":120}";

struct request_state {
    size_t body_bytes;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct MHD_Response *resp = cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload;
    struct request_state *st = *con_cls;
    if (st == NULL) {
        st = calloc(1, sizeof(*st));
        if (st == NULL)
            return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size != 0) {
        /* Consumed like the relay consumes a body, capped at the relay's 4 KiB. */
        st->body_bytes += *upload_size;
        *upload_size = 0;
        return st->body_bytes <= 4096 ? MHD_YES : MHD_NO;
    }
    return MHD_queue_response(conn, 201, resp);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static bool parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

/* Written to a temporary name and renamed, so a reader never sees half a number. */
static bool write_port(const char *path, uint16_t port)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return false;
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return false;
    bool ok = fprintf(f, "%u\n", (unsigned)port) > 0;
    ok = fclose(f) == 0 && ok;
    return ok && rename(tmp, path) == 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: mhd_fixed [--threads N] [--per-connection] [--limit N] "
                    "[--timeout S] [--memory BYTES] [--stack BYTES] PORT_FILE\n");
    return 2;
}

int main(int argc, char **argv)
{
    unsigned threads = (unsigned)get_nprocs();
    unsigned limit = 1024;
    unsigned timeout = 10;
    unsigned memory = 0; /* 0: libmicrohttpd's default */
    unsigned stack = 0;
    bool per_connection = false;
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        bool ok = true;
        if (strcmp(argv[i], "--per-connection") == 0)
            per_connection = true;
        else if (i + 1 < argc && strcmp(argv[i], "--threads") == 0)
            ok = parse_uint(argv[++i], 1024, &threads);
        else if (i + 1 < argc && strcmp(argv[i], "--limit") == 0)
            ok = parse_uint(argv[++i], 1000000, &limit);
        else if (i + 1 < argc && strcmp(argv[i], "--timeout") == 0)
            ok = parse_uint(argv[++i], 3600, &timeout);
        else if (i + 1 < argc && strcmp(argv[i], "--memory") == 0)
            ok = parse_uint(argv[++i], 64u << 20, &memory);
        else if (i + 1 < argc && strcmp(argv[i], "--stack") == 0)
            ok = parse_uint(argv[++i], 64u << 20, &stack);
        else
            ok = false;
        if (!ok)
            return usage();
    }
    if (i + 1 != argc || threads == 0 || limit == 0 || timeout == 0)
        return usage();
    const char *port_file = argv[i];

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    /* Blocked before the daemon starts its threads, so they inherit the mask. */
    if (pthread_sigmask(SIG_BLOCK, &stop, NULL) != 0)
        return 1;

    struct MHD_Response *resp = MHD_create_response_from_buffer(
        sizeof(fixed_body) - 1, (void *)(uintptr_t)fixed_body, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL ||
        MHD_add_response_header(resp, "Content-Type", "application/json") != MHD_YES ||
        MHD_add_response_header(resp, "Cache-Control", "no-store") != MHD_YES) {
        fprintf(stderr, "mhd_fixed: cannot build the response\n");
        return 1;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = MHD_USE_ERROR_LOG;
    if (per_connection)
        flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                 MHD_USE_ITC;
    else
        flags |= MHD_USE_EPOLL_INTERNAL_THREAD;
    /* The optional settings, as an array: an entry whose option is MHD_OPTION_END ends it. */
    struct MHD_OptionItem opts[] = {
        {per_connection ? MHD_OPTION_END : MHD_OPTION_THREAD_POOL_SIZE, threads, NULL},
        {MHD_OPTION_END, 0, NULL},
        {MHD_OPTION_END, 0, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    size_t n = per_connection ? 0 : 1;
    if (memory != 0)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory, NULL};
    if (stack != 0)
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_STACK_SIZE, stack, NULL};
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, answer, resp, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT, timeout,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "mhd_fixed: MHD_start_daemon failed\n");
        MHD_destroy_response(resp);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL || !write_port(port_file, info->port)) {
        fprintf(stderr, "mhd_fixed: cannot write %s\n", port_file);
        MHD_stop_daemon(d);
        MHD_destroy_response(resp);
        return 1;
    }
    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    MHD_stop_daemon(d);
    MHD_destroy_response(resp);
    return 0;
}
