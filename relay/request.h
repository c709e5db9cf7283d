/* The relay's request parsers, apart from the HTTP server so that a fuzz
 * harness (tests/fuzz/fuzz_relay_request.c) reaches them directly: the JSON
 * bodies of POST /v1/sessions and of redeem, and X-Forwarded-For. */
#ifndef PK_RELAY_REQUEST_H
#define PK_RELAY_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "relay/relay_config.h"

struct pk_relay_create_req {
    const char *user, *service, *host, *rhost; /* into obj; rhost "" when absent */
    void *obj;                                 /* the parsed JSON (json_t) */
};

/* {"user", "service", "host"[, "rhost"]}: an object with no other key and no
 * key twice; strings of printable ASCII, user 1-32 bytes, service 1-64,
 * host 1-255, rhost 0-255. false with *why (a fixed one-line reason) on any
 * other body. pk_relay_create_req_free releases a true result. */
bool pk_relay_parse_create(const char *body, size_t len, struct pk_relay_create_req *out,
                           const char **why);
void pk_relay_create_req_free(struct pk_relay_create_req *req);

/* {"code": "DDDDDD"}: exactly six ASCII digits, copied to code. */
bool pk_relay_parse_redeem(const char *body, size_t len, char code[7], const char **why);

/* The client address for rate_limit: peer itself, or, when peer is one of
 * trusted_proxies and xff is given, the right-most X-Forwarded-For entry that
 * is not a trusted proxy (entries further left are the client's to write;
 * a malformed entry leaves the peer). Written as text into buf. */
void pk_relay_client_address(const struct pk_relay_config *cfg, const struct sockaddr *peer,
                             const char *xff, char *buf, size_t len);

/* An IPv4 or IPv6 address as text ("unknown" when neither). */
void pk_relay_addr_text(const struct sockaddr *sa, char *buf, size_t len);

#endif
