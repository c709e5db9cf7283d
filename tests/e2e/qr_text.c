/* The QR code the module draws for a URL (pk_qr_text, src/qr.c), printed
 * as it is: tests/e2e/relay_cases.py compares it byte for byte with the
 * lines the ssh client received before the relay prompt (relay_qr = yes).
 * Usage: e2e_qr_text URL. Exit status 0 drawn, 1 not (the reason on
 * stderr), 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/qr.h"

int main(int argc, char **argv)
{
    char problem[256];
    char *text = NULL;
    size_t lines = 0;
    enum pk_status st;
    size_t n;

    if (argc != 2) {
        (void)fputs("usage: e2e_qr_text URL\n", stderr);
        return 2;
    }
    st = pk_qr_text(argv[1], &text, &lines, problem, sizeof(problem));
    if (st != PK_ST_OK) {
        (void)fprintf(stderr, "e2e_qr_text: %s\n", problem);
        return 1;
    }
    n = strlen(text);
    if (fwrite(text, 1, n, stdout) != n || fflush(stdout) != 0) {
        free(text);
        (void)fputs("e2e_qr_text: write error\n", stderr);
        return 1;
    }
    free(text);
    return 0;
}
