/* The relay's request parsers (relay/request.c) on what a client sends: the
 * first byte picks the parser, the rest is the input.
 *   0: POST /v1/sessions body   1: redeem body   2: X-Forwarded-For from a
 *   trusted proxy (127.0.0.1; trusted_proxies also holds 10.0.0.1 and ::1)
 * Invariants: an accepted session body has fields of printable ASCII within
 * their caps; an accepted redeem body yields exactly six digits; a refusal
 * always has a one-line printable reason; the client address is always an
 * address in text form that inet_pton reads back (or "unknown"), and never
 * one of the trusted proxies unless the header named nothing else. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "relay/request.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static void check_text(const char *s, size_t min, size_t max, const char *what)
{
    size_t n = strlen(s);
    PK_FUZZ_CHECK(n >= min && n <= max, what);
    for (size_t i = 0; i < n; i++)
        PK_FUZZ_CHECK((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] <= 0x7e, what);
}

static void set_v4(struct sockaddr_storage *ss, const char *text)
{
    memset(ss, 0, sizeof(*ss));
    ss->ss_family = AF_INET;
    PK_FUZZ_CHECK(inet_pton(AF_INET, text, &((struct sockaddr_in *)(void *)ss)->sin_addr) == 1,
                  "test address");
}

static void fuzz_xff(const char *xff)
{
    struct pk_relay_config cfg;
    struct sockaddr_storage peer;
    char buf[64];
    unsigned char bin[16];

    memset(&cfg, 0, sizeof(cfg));
    set_v4(&cfg.proxies[0], "127.0.0.1");
    set_v4(&cfg.proxies[1], "10.0.0.1");
    memset(&cfg.proxies[2], 0, sizeof(cfg.proxies[2]));
    cfg.proxies[2].ss_family = AF_INET6;
    ((struct sockaddr_in6 *)(void *)&cfg.proxies[2])->sin6_addr = in6addr_loopback;
    cfg.proxy_count = 3;
    set_v4(&peer, "127.0.0.1");
    pk_relay_client_address(&cfg, (const struct sockaddr *)&peer, xff, buf, sizeof(buf));
    PK_FUZZ_CHECK(pk_fuzz_printable(buf), "client address printable");
    PK_FUZZ_CHECK(strchr(buf, ' ') == NULL && strchr(buf, ',') == NULL, "one address");
    PK_FUZZ_CHECK(inet_pton(AF_INET, buf, bin) == 1 || inet_pton(AF_INET6, buf, bin) == 1,
                  "an address");
    /* From an untrusted peer the header is never read. */
    set_v4(&peer, "192.0.2.1");
    pk_relay_client_address(&cfg, (const struct sockaddr *)&peer, xff, buf, sizeof(buf));
    PK_FUZZ_CHECK(strcmp(buf, "192.0.2.1") == 0, "untrusted peer is the client");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;
    const char *why = NULL;

    if (size == 0)
        return 0;
    text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    switch (data[0] % 3) {
    case 0: {
        struct pk_relay_create_req req;
        if (pk_relay_parse_create(text, size - 1, &req, &why)) {
            check_text(req.user, 1, 32, "user");
            check_text(req.service, 1, 64, "service");
            check_text(req.host, 1, 255, "host");
            check_text(req.rhost, 0, 255, "rhost");
            pk_relay_create_req_free(&req);
        } else {
            PK_FUZZ_CHECK(why != NULL && pk_fuzz_printable(why), "reason");
        }
        break;
    }
    case 1: {
        char code[7];
        if (pk_relay_parse_redeem(text, size - 1, code, &why))
            PK_FUZZ_CHECK(strlen(code) == 6 && strspn(code, "0123456789") == 6, "six digits");
        else
            PK_FUZZ_CHECK(why != NULL && pk_fuzz_printable(why), "reason");
        break;
    }
    default:
        fuzz_xff(text);
        break;
    }
    free(text);
    return 0;
}
