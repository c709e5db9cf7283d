/* A QR code of a short text (the relay's login URL) drawn as UTF-8 half
 * blocks for a terminal: two QR rows per text line, no escape sequences, so
 * it survives any channel that carries plain text (PAM_TEXT_INFO through
 * sshd's keyboard-interactive, which mangles escapes). libqrencode is
 * dlopen()ed from its absolute path only when a code is drawn. */
#ifndef PK_QR_H
#define PK_QR_H

#include <stddef.h>

#include "status.h"

/* The longest text drawn: a login URL is far shorter. */
#define PK_QR_TEXT_MAX 256
/* Modules of light margin around the code (the standard's quiet zone). */
#define PK_QR_QUIET 4
/* No line is wider than this many columns (characters, not bytes). */
#define PK_QR_MAX_COLUMNS 80

/* Draws text (printable ASCII, no space, 1..PK_QR_TEXT_MAX bytes) as lines
 * of the four characters " ", "▀", "▄", "█", each line ending in '\n'.
 * Light modules, quiet zone included, are the blocks (see qr.c for why).
 * On PK_ST_OK *out is a new string (free()) and *lines_out (if not NULL) its
 * number of lines; otherwise *out is NULL and problem says why:
 * PK_ST_REFUSED (bad text, or too long for PK_QR_MAX_COLUMNS),
 * PK_ST_UNAVAILABLE (libqrencode cannot be loaded), PK_ST_NOMEM. */
enum pk_status pk_qr_text(const char *text, char **out, size_t *lines_out, char *problem,
                          size_t problem_len);

#endif
