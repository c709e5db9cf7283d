/* What the two session stores share (relay/store.c, relay/store_redis.c):
 * one table of steps per backend, and the ids, codes and tags they make. */
#ifndef PK_RELAY_STORE_BACKEND_H
#define PK_RELAY_STORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "relay/store.h"

struct pk_relay_store_ops {
    enum pk_relay_store_rc (*rate)(void *be, const char *client, time_t now);
    enum pk_relay_store_rc (*create)(void *be, const struct pk_relay_session_in *in, time_t now,
                                     char s_out[PK_RELAY_S_LEN + 1],
                                     char short_out[PK_RELAY_SHORT_LEN + 1], char tag_out[9]);
    enum pk_relay_store_rc (*view)(void *be, const char *short_id, time_t now,
                                   struct pk_relay_session_out *out);
    enum pk_relay_store_rc (*begin)(void *be, const char *short_id, time_t now,
                                    const struct pk_relay_pkce *pkce,
                                    struct pk_relay_session_out *out);
    enum pk_relay_store_rc (*take_state)(void *be, const char *state, time_t now,
                                         struct pk_relay_pkce *pkce,
                                         struct pk_relay_session_out *out);
    enum pk_relay_store_rc (*approve)(void *be, const char *short_id, time_t now,
                                      const char *kakao_id, long long auth_time, char code_out[7],
                                      struct pk_relay_session_out *out);
    enum pk_relay_store_rc (*redeem)(void *be, const char *s, const char *code, time_t now,
                                     struct pk_relay_session_out *out);
    size_t (*sweep)(void *be, time_t now);
    enum pk_relay_store_rc (*ping)(void *be);
    void (*free)(void *be);
};

/* A store of one backend; be is released with ops->free. NULL: no memory. */
struct pk_relay_store *pk_relay_store_wrap(const struct pk_relay_store_ops *ops, void *be);

bool pk_relay_new_short(char out[PK_RELAY_SHORT_LEN + 1]);
bool pk_relay_new_s(char out[PK_RELAY_S_LEN + 1]);
bool pk_relay_new_code(char out[7]);

/* n bytes as 2n lowercase hex digits and a NUL. */
void pk_relay_hex(const unsigned char *in, size_t n, char *hex);

/* SHA-256 of s as 64 lowercase hex digits (the tag is its first 8); false
 * (hex empty) when OpenSSL fails. */
bool pk_relay_sha256_hex(const char *s, size_t len, char hex[65]);

#endif
