/* Replays inputs through a harness without libFuzzer: each argument is a
 * file or a directory of files (not recursive). Used by make check, with
 * any compiler, plain or under the sanitizers or valgrind. Prints how many
 * inputs ran; a broken invariant aborts. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    for (;;) {
        size_t n;
        if (cap - len < 4096) {
            unsigned char *nbuf = realloc(buf, cap + 65536);
            if (nbuf == NULL) {
                fclose(f);
                free(buf);
                return -1;
            }
            buf = nbuf;
            cap += 65536;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        perror(path);
        fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    (void)LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long inputs = 0;
    int failed = 0;

    (void)LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        struct dirent **names;
        int n;

        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            failed = 1;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            failed |= run_file(argv[i]) != 0;
            inputs++;
            continue;
        }
        n = scandir(argv[i], &names, NULL, alphasort);
        if (n < 0) {
            perror(argv[i]);
            failed = 1;
            continue;
        }
        for (int j = 0; j < n; j++) {
            char path[4096];
            if (names[j]->d_name[0] != '.') {
                (void)snprintf(path, sizeof(path), "%s/%s", argv[i], names[j]->d_name);
                if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                    failed |= run_file(path) != 0;
                    inputs++;
                }
            }
            free(names[j]);
        }
        free(names);
    }
    printf("%lu inputs replayed\n", inputs);
    return failed;
}
