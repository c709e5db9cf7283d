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

void pk_fuzz_user(const uint8_t *data, size_t size, char out[25])
{
    size_t n = size < 24 ? size : 24;

    for (size_t i = 0; i < n; i++)
        out[i] = data[size - n + i] != 0 ? (char)data[size - n + i] : ' ';
    out[n] = '\0';
}

static int pk_fuzz_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

void pk_fuzz_check_decision(const struct pk_result *res, const char *user)
{
    char line[1024];
    const char *p;
    const char *end;
    size_t ulen = strlen(user);
    size_t u = 0;

    pk_verdict_line(line, sizeof(line), res, user);
    PK_FUZZ_CHECK(pk_fuzz_printable(line), "decision line not printable");
    if (pk_outcome_wording(res->outcome) == PK_WORD_SERVICE)
        return;
    /* The words before the first user= are ours: it is the user field. */
    p = strstr(line, "user=");
    PK_FUZZ_CHECK(p != NULL, "decision line without user=");
    p += 5;
    end = strchr(p, ' ');
    if (end == NULL)
        end = p + strlen(p);
    while (p < end) {
        unsigned char c;
        if (*p == '\\') {
            PK_FUZZ_CHECK(end - p >= 4 && p[1] == 'x' && pk_fuzz_hex(p[2]) >= 0 &&
                              pk_fuzz_hex(p[3]) >= 0,
                          "half an escape in user=");
            c = (unsigned char)(pk_fuzz_hex(p[2]) * 16 + pk_fuzz_hex(p[3]));
            p += 4;
        } else {
            PK_FUZZ_CHECK(*p != '"' && *p > 0x20 && *p < 0x7f, "raw byte in user=");
            c = (unsigned char)*p++;
        }
        if (u < ulen) {
            PK_FUZZ_CHECK(c == (unsigned char)user[u], "user= differs from the user name");
            u++;
        } else {
            /* only the ':' that ends "for user=U: reason" may follow */
            PK_FUZZ_CHECK(c == ':' && p == end, "user= longer than the user name");
        }
    }
    PK_FUZZ_CHECK(u == ulen, "user= shorter than the user name");
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
        fprintf(stderr, "outcome %d: %s\n", (int)outcome, detail);
}
