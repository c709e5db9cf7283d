/* Strict base64url (RFC 4648 §5, no padding): only [A-Za-z0-9_-], no
 * impossible lengths, zero unused bits, so one text has one meaning. */
#ifndef PK_B64URL_H
#define PK_B64URL_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

/* Decodes into a new NUL-terminated buffer *out (*out_len bytes; the caller
 * frees it): PK_ST_OK, PK_ST_REFUSED for input that is not strict
 * base64url, PK_ST_NOMEM. */
enum pk_status pk_b64url_decode(const char *in, size_t len, unsigned char **out, size_t *out_len);

/* Encodes into a new NUL-terminated string, NULL when out of memory.
 * Signer and CLI only (src/b64url_encode.c): not in the module. */
char *pk_b64url_encode(const unsigned char *in, size_t len);

/* n (at most 64) random bytes from the kernel as base64url, NUL-terminated,
 * into out (RFC 7636: 32 bytes -> 43 characters); false when the kernel fails
 * or out is too small. CLI and relay only, like the encoder. */
bool pk_random_b64url(char *out, size_t out_len, size_t n);

#endif
