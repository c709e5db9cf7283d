/* The relay's pending sessions, behind one interface with two backends
 * (docs/DESIGN.md §13.3): in memory (store = memory: one mutex) or in Redis
 * (store = redis://… or unix:…, relay/store_redis.c). The clock is passed in
 * by the caller (so expiry is testable), ids and codes come from the kernel
 * CSPRNG. A session goes pending -> authorizing (a Kakao `state`
 * is out) -> approved (a code exists) -> used (redeemed, or out of
 * attempts); it lives session_ttl seconds, then answers "expired" for
 * PK_RELAY_STORE_GRACE seconds more before it is swept and is unknown. */
#ifndef PK_RELAY_STORE_H
#define PK_RELAY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "relay/kakao_leg.h"
#include "src/log.h"
#include "src/status.h"

struct pk_redis_target; /* src/redis.h */

#define PK_RELAY_STORE_GRACE 60
#define PK_RELAY_S_LEN 43     /* 256 bits, base64url */
#define PK_RELAY_SHORT_LEN 11 /* 11 symbols of 31: 54 bits */

struct pk_relay_store_conf {
    long ttl;
    long attempts;
    long max_sessions;
    long rate_limit; /* sessions per client address per minute */
};

struct pk_relay_store;

enum pk_relay_store_rc {
    PK_RS_OK = 0,
    PK_RS_UNKNOWN,
    PK_RS_EXPIRED,
    PK_RS_USED,
    PK_RS_NOT_APPROVED,
    PK_RS_WRONG_CODE,
    PK_RS_APPROVED, /* view/begin: the code was already shown */
    PK_RS_FULL,     /* max_sessions */
    PK_RS_RATE,     /* rate_limit */
    PK_RS_NOMEM,
    PK_RS_RANDOM,      /* the CSPRNG failed */
    PK_RS_UNAVAILABLE, /* the store did not answer in time (Redis down or slow): logged */
};

struct pk_relay_session_in {
    const char *user, *service, *host, *rhost;
};

/* What the approval page and the assertion need of a session. */
struct pk_relay_session_out {
    char user[33], service[65], host[256], rhost[256];
    char kakao_id[21];
    long long auth_time;
    long seconds_left;
    int attempts_left;
    char s_tag[9]; /* first 8 hex digits of SHA-256(S): the only name logs use */
    char short_id[PK_RELAY_SHORT_LEN + 1];
};

/* The memory store. NULL: no memory. */
struct pk_relay_store *pk_relay_store_new(const struct pk_relay_store_conf *conf);

/* The Redis store (relay/store_redis.c): every step is one command (a Lua
 * script where a step reads and changes), each bounded by timeout seconds;
 * a failed step is PK_RS_UNAVAILABLE, logged to log (which must outlive the
 * store), and the next step connects afresh. A record read back that fails
 * its MAC (a key derived from signing_key_pem, the PEM EC private key) is
 * PK_RS_UNAVAILABLE too, logged. One connection is tried now: PK_ST_OK
 * (connected) or PK_ST_UNAVAILABLE (down, or it refused the password:
 * problem says which; *out is set all the same), PK_ST_REFUSED (a target
 * pk_redis_target_parse would not produce, or no MAC key from the signing
 * key) or PK_ST_NOMEM. password may be NULL; it is copied and wiped on free. */
enum pk_status pk_relay_store_new_redis(const struct pk_relay_store_conf *conf,
                                        const struct pk_redis_target *target, const char *password,
                                        const char *signing_key_pem, long timeout,
                                        const struct pk_logger *log, struct pk_relay_store **out,
                                        char *problem, size_t problem_len);
void pk_relay_store_free(struct pk_relay_store *st);

/* Counts one session for client in this minute: PK_RS_RATE beyond rate_limit. */
enum pk_relay_store_rc pk_relay_store_rate(struct pk_relay_store *st, const char *client,
                                           time_t now);

/* A new pending session: S and the short id are written out. */
enum pk_relay_store_rc pk_relay_store_create(struct pk_relay_store *st,
                                             const struct pk_relay_session_in *in, time_t now,
                                             char s_out[PK_RELAY_S_LEN + 1],
                                             char short_out[PK_RELAY_SHORT_LEN + 1],
                                             char tag_out[9]);

/* The session behind /a/{short}: OK when pending or authorizing. */
enum pk_relay_store_rc pk_relay_store_view(struct pk_relay_store *st, const char *short_id,
                                           time_t now, struct pk_relay_session_out *out);

/* The button was pressed: keeps the Kakao leg's state, nonce and verifier
 * (a second press replaces the first, whose state then dies). */
enum pk_relay_store_rc pk_relay_store_begin(struct pk_relay_store *st, const char *short_id,
                                            time_t now, const struct pk_relay_pkce *pkce,
                                            struct pk_relay_session_out *out);

/* The callback: finds the session by state and takes the state (single use);
 * its secrets are copied to pkce. */
enum pk_relay_store_rc pk_relay_store_take_state(struct pk_relay_store *st, const char *state,
                                                 time_t now, struct pk_relay_pkce *pkce,
                                                 struct pk_relay_session_out *out);

/* Kakao said yes: the session (by short id) is approved for kakao_id and
 * gets its code, written to code_out (the only time it leaves the store). */
enum pk_relay_store_rc pk_relay_store_approve(struct pk_relay_store *st, const char *short_id,
                                              time_t now, const char *kakao_id, long long auth_time,
                                              char code_out[7], struct pk_relay_session_out *out);

/* The host's redeem: OK consumes the session (once); WRONG_CODE counts an
 * attempt (out->attempts_left; the last makes the session used);
 * NOT_APPROVED uses none. */
enum pk_relay_store_rc pk_relay_store_redeem(struct pk_relay_store *st, const char *s,
                                             const char *code, time_t now,
                                             struct pk_relay_session_out *out);

/* Drops sessions past their grace; returns how many are still held (the
 * Redis store's keys expire by themselves: 0). */
size_t pk_relay_store_sweep(struct pk_relay_store *st, time_t now);

/* Whether the store answers (/healthz): PK_RS_OK or PK_RS_UNAVAILABLE. */
enum pk_relay_store_rc pk_relay_store_ping(struct pk_relay_store *st);

/* The tag of a session id (first 8 hex digits of its SHA-256). */
void pk_relay_tag(const char *s, char tag[9]);

/* n bytes from the kernel CSPRNG. */
bool pk_relay_random(void *buf, size_t n);

#endif
