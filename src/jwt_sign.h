/* JWT signing with OpenSSL for `kakao-pam mint` and for the test suite,
 * which forges tokens with any header and payload. Only the key's fit to
 * the algorithm is checked here; what is signed is the caller's choice. */
#ifndef PK_JWT_SIGN_H
#define PK_JWT_SIGN_H

#include <stddef.h>

#include <openssl/evp.h>

#include "config.h"

/* Signs header_json.payload_json (both taken verbatim, base64url-encoded
 * here) with alg and key; returns a new NUL-terminated token or NULL with
 * err set. key is the HMAC secret bytes (HS*) or PEM private key text
 * (RS*: RSA PKCS#1 v1.5; ES*: ECDSA, signature converted from DER to raw
 * R||S of the curve's size: 64/96/132 bytes). */
char *pk_jwt_sign(const char *header_json, const char *payload_json, enum pk_alg alg,
                  const unsigned char *key, size_t key_len, char *err, size_t err_len);

/* Same, but signs an arbitrary signing input string (for forging tokens whose
 * segments are not JSON) and returns only the base64url signature. */
char *pk_jwt_sign_input(const char *signing_input, size_t len, enum pk_alg alg,
                        const unsigned char *key, size_t key_len, char *err, size_t err_len);

/* The PEM private key text key (key_len bytes) as an EVP_PKEY, or NULL with
 * err set. An encrypted key is refused, never prompted for: no passphrase
 * callback reaches a terminal (the relay's signing key, mint's keys). */
EVP_PKEY *pk_private_key_from_pem(const unsigned char *key, size_t key_len, char *err,
                                  size_t err_len);

#endif
