/* What the Redis store keeps beside a session so that the relay can tell
 * its own records from ones written by someone else with access to Redis
 * (docs/DESIGN.md §13.3.1): an HMAC-SHA256 under a key derived from the
 * signing key, which every relay of a fleet holds and Redis never sees. */
#ifndef PK_RELAY_STORE_MAC_H
#define PK_RELAY_STORE_MAC_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/types.h>

#define PK_RELAY_MAC_KEY_LEN 32
#define PK_RELAY_MAC_HEX_LEN 64

/* One input of a MAC: len bytes at p (p may be NULL when len is 0). */
struct pk_relay_mac_field {
    const char *p;
    size_t len;
};

/* The store key of a PEM EC private key: HMAC-SHA256 keyed with its
 * private scalar (32 bytes, big-endian) over "kakao-pam-relay store mac v1",
 * so it depends on the key, not on how its PEM is written. false: not an
 * unencrypted EC private key, or OpenSSL failed. The scalar is wiped. */
bool pk_relay_mac_key(const char *signing_key_pem, unsigned char key[PK_RELAY_MAC_KEY_LEN]);

/* HMAC-SHA256 under key over label and the n fields, each preceded by its
 * length (8 bytes, big-endian), so no two lists give the same input; as 64
 * lowercase hex digits and a NUL. hmac: EVP_MAC_fetch(NULL, "HMAC", NULL),
 * fetched once by the caller. false: OpenSSL failed. */
bool pk_relay_mac(EVP_MAC *hmac, const unsigned char key[PK_RELAY_MAC_KEY_LEN], const char *label,
                  const struct pk_relay_mac_field *fields, size_t n,
                  char hex[PK_RELAY_MAC_HEX_LEN + 1]);

#endif
