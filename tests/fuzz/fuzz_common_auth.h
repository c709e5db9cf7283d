/* A struct pk_auth built without a user map or a prompt: the config comes
 * from module arguments (pk_config_load), the key from a file written at
 * init (pk_jwt_key_load), the user's map lines are fixed. Shared by the
 * token and JWT harnesses. */
#ifndef PK_FUZZ_AUTH_H
#define PK_FUZZ_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"

#define PK_FUZZ_NOW ((time_t)1700000000)
#define PK_FUZZ_ALICE 3095134389LL
#define PK_FUZZ_BOB 1122334455LL

/* The HMAC secret of the HS256 configurations (>= 32 bytes). */
#define PK_FUZZ_HMAC_SECRET "pam_kakao fuzzing HMAC secret, 44 bytes long"

/* RSA-2048 and P-256 public keys of throwaway pairs; the signed seeds in
 * corpus/token were made with their private halves, which were discarded. */
extern const char pk_fuzz_rsa_pub[];
extern const char pk_fuzz_ec_pub[];

/* Sets up a with the given arguments (NULL-terminated) and a key file
 * holding key_text; aborts on any failure. The user maps to alice and bob. */
void pk_fuzz_auth_init(struct pk_auth *a, const char *const *args, const char *key_name,
                       const char *key_text);

#endif
