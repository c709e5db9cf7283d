#include "qr.h"

#include <dlfcn.h>
#include <errno.h>
#include <qrencode.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dl.h"

#ifndef PK_LIBQRENCODE_PATH
#define PK_LIBQRENCODE_PATH "/usr/lib/x86_64-linux-gnu/libqrencode.so.4"
#endif

/* Colours: a terminal draws a block in its foreground colour and a space in
 * its background colour, and we may not send escapes to choose them. Most
 * terminals people log in from are light text on a dark background, so the
 * LIGHT modules (and the quiet zone) are drawn as blocks and the dark ones
 * as spaces: on a dark terminal the code is dark-on-light as printed codes
 * are. On a light terminal the same text shows an inverted code (light on
 * dark), which most phone camera apps also read; the URL is always printed
 * beside it. pam_kakao.conf(5), QR CODE, says what the user sees.
 *
 * Error correction L: the code is read off a screen, not a worn label, and L
 * keeps a ~40-byte login URL at version 3 (29 modules): 37 columns and 19
 * lines with the 4-module quiet zone, which leaves room for the prompt on an
 * 80x24 terminal. */

static const char pk_qr_full[] = "\xe2\x96\x88";  /* U+2588 FULL BLOCK */
static const char pk_qr_upper[] = "\xe2\x96\x80"; /* U+2580 UPPER HALF BLOCK */
static const char pk_qr_lower[] = "\xe2\x96\x84"; /* U+2584 LOWER HALF BLOCK */
#define PK_QR_CHAR_BYTES 3

/* The two libqrencode functions we use, resolved per call (nothing global). */
struct pk_qr_api {
    void *dl;
    QRcode *(*encode)(const char *, int, QRecLevel, QRencodeMode, int);
    void (*free)(QRcode *);
};

static void pk_qr_problem(char *problem, size_t problem_len, const char *msg)
{
    if (problem != NULL && problem_len > 0)
        (void)snprintf(problem, problem_len, "%s", msg);
}

static bool pk_qr_load(struct pk_qr_api *api)
{
    const struct pk_dl_sym syms[] = {
        {"QRcode_encodeString", &api->encode},
        {"QRcode_free", &api->free},
    };
    bool missing = false;

    memset(api, 0, sizeof(*api));
    api->dl = pk_dl_load(PK_LIBQRENCODE_PATH, syms, sizeof(syms) / sizeof(syms[0]), &missing);
    return api->dl != NULL;
}

/* Whether the module at (x, y) of the drawing, quiet zone included, is light;
 * rows past the bottom (the half line under an odd count) are not drawn. */
static bool pk_qr_light(const QRcode *qr, int x, int y)
{
    int w = qr->width;

    x -= PK_QR_QUIET;
    y -= PK_QR_QUIET;
    if (x < 0 || y < 0 || x >= w || y >= w)
        return true;
    return (qr->data[(size_t)y * (size_t)w + (size_t)x] & 1) == 0;
}

static char *pk_qr_draw(const QRcode *qr, size_t *lines_out)
{
    int side = qr->width + 2 * PK_QR_QUIET;
    int lines = (side + 1) / 2;
    size_t line_bytes = (size_t)side * PK_QR_CHAR_BYTES + 1;
    char *out = malloc((size_t)lines * line_bytes + 1);
    char *p = out;

    if (out == NULL)
        return NULL;
    for (int l = 0; l < lines; l++) {
        for (int x = 0; x < side; x++) {
            bool top = pk_qr_light(qr, x, 2 * l);
            bool bottom = 2 * l + 1 < side && pk_qr_light(qr, x, 2 * l + 1);

            if (top || bottom) {
                memcpy(p,
                       top && bottom ? pk_qr_full
                       : top         ? pk_qr_upper
                                     : pk_qr_lower,
                       PK_QR_CHAR_BYTES);
                p += PK_QR_CHAR_BYTES;
            } else {
                *p++ = ' ';
            }
        }
        *p++ = '\n';
    }
    *p = '\0';
    if (lines_out != NULL)
        *lines_out = (size_t)lines;
    return out;
}

enum pk_status pk_qr_text(const char *text, char **out, size_t *lines_out, char *problem,
                          size_t problem_len)
{
    struct pk_qr_api api;
    QRcode *qr;
    size_t n;
    enum pk_status st = PK_ST_OK;

    if (out != NULL)
        *out = NULL;
    if (lines_out != NULL)
        *lines_out = 0;
    pk_qr_problem(problem, problem_len, "");
    if (out == NULL || text == NULL) {
        pk_qr_problem(problem, problem_len, "no text");
        return PK_ST_REFUSED;
    }
    n = strnlen(text, PK_QR_TEXT_MAX + 1);
    if (n == 0 || n > PK_QR_TEXT_MAX) {
        if (problem != NULL && problem_len > 0)
            (void)snprintf(problem, problem_len,
                           n == 0 ? "empty text" : "text longer than %d bytes", PK_QR_TEXT_MAX);
        return PK_ST_REFUSED;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];

        if (c <= 0x20 || c >= 0x7f) {
            pk_qr_problem(problem, problem_len, "text is not printable ASCII without spaces");
            return PK_ST_REFUSED;
        }
    }
    if (!pk_qr_load(&api)) {
        pk_qr_problem(problem, problem_len, "cannot load " PK_LIBQRENCODE_PATH);
        return PK_ST_UNAVAILABLE;
    }
    errno = 0;
    /* Version 0: the smallest that holds the text; case kept (byte mode). */
    qr = api.encode(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
    if (qr == NULL) {
        if (errno == ENOMEM) {
            pk_qr_problem(problem, problem_len, "out of memory");
            st = PK_ST_NOMEM;
        } else {
            pk_qr_problem(problem, problem_len, "libqrencode cannot encode the text");
            st = PK_ST_REFUSED;
        }
    } else if (qr->width <= 0 || qr->width + 2 * PK_QR_QUIET > PK_QR_MAX_COLUMNS) {
        pk_qr_problem(problem, problem_len, "text too long for a code 80 columns wide");
        st = PK_ST_REFUSED;
    } else {
        *out = pk_qr_draw(qr, lines_out);
        if (*out == NULL) {
            pk_qr_problem(problem, problem_len, "out of memory");
            st = PK_ST_NOMEM;
        }
    }
    if (qr != NULL)
        api.free(qr);
    (void)dlclose(api.dl);
    return st;
}
