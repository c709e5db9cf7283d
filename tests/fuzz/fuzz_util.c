/* Helpers shared by the harnesses; see fuzz.h. */
#include "fuzz.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void pk_fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
    abort();
}

bool pk_fuzz_printable(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

static char pk_fuzz_dir[64];
static char pk_fuzz_files[8][128];
static int pk_fuzz_nfiles;

static void pk_fuzz_cleanup(void)
{
    for (int i = 0; i < pk_fuzz_nfiles; i++)
        (void)unlink(pk_fuzz_files[i]);
    if (pk_fuzz_dir[0] != '\0')
        (void)rmdir(pk_fuzz_dir);
}

const char *pk_fuzz_tmpdir(void)
{
    if (pk_fuzz_dir[0] == '\0') {
        const char *base = getenv("TMPDIR");
        (void)snprintf(pk_fuzz_dir, sizeof(pk_fuzz_dir), "%s/pk_fuzz.XXXXXX",
                       base != NULL && base[0] == '/' && strlen(base) < 40 ? base : "/tmp");
        if (mkdtemp(pk_fuzz_dir) == NULL) {
            perror("mkdtemp");
            abort();
        }
        (void)atexit(pk_fuzz_cleanup);
    }
    return pk_fuzz_dir;
}

void pk_fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    int fd;
    bool known = false;

    for (int i = 0; i < pk_fuzz_nfiles; i++)
        known = known || strcmp(pk_fuzz_files[i], path) == 0;
    if (!known && pk_fuzz_nfiles < 8 && strlen(path) < sizeof(pk_fuzz_files[0]))
        (void)snprintf(pk_fuzz_files[pk_fuzz_nfiles++], sizeof(pk_fuzz_files[0]), "%s", path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        perror(path);
        abort();
    }
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n <= 0) {
            perror(path);
            abort();
        }
        data += n;
        size -= (size_t)n;
    }
    if (close(fd) != 0) {
        perror(path);
        abort();
    }
}

static void pk_fuzz_emit(void *ctx, int priority, const char *msg)
{
    (void)ctx;
    (void)priority;
    PK_FUZZ_CHECK(pk_fuzz_printable(msg), "log message not printable");
}

static const struct pk_logger pk_fuzz_log = {pk_fuzz_emit, NULL, true};

const struct pk_logger *pk_fuzz_logger(void)
{
    return &pk_fuzz_log;
}

void pk_fuzz_trace(enum pk_outcome outcome, const char *detail)
{
    static int enabled = -1;

    if (enabled < 0)
        enabled = getenv("PK_FUZZ_TRACE") != NULL;
    if (enabled)
        fprintf(stderr, "outcome %d (%s): %s\n", (int)outcome, pk_outcome_reason(outcome), detail);
}
