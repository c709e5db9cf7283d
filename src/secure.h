/* Small helpers for secrets: wiping and constant-time comparison. */
#ifndef PK_SECURE_H
#define PK_SECURE_H

#include <stdbool.h>
#include <stddef.h>

void pk_wipe(void *p, size_t len);
/* Wipes strlen(s) bytes and frees; NULL is fine. */
void pk_free_secret_str(char *s);
/* Wipes len bytes and frees; NULL is fine. */
void pk_free_secret(void *p, size_t len);
/* Constant time in the length of the shorter input; lengths are not secret.
 * CLI only (src/ct_equal.c): not in the module. */
bool pk_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
