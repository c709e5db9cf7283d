/* relay.conf: the relay's key = value file, read with the module's parser and
 * trust rules (src/config.c) and a key table of its own (kakao-pam-relay(8)). */
#ifndef PK_RELAY_CONFIG_H
#define PK_RELAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "src/config.h"
#include "src/redis.h"

#define PK_RELAY_DEFAULT_CONFIG "/etc/kakao-pam/relay.conf"
#define PK_RELAY_MAX_PROXIES 16
#define PK_RELAY_MAX_SERVICES 32

struct pk_relay_config {
    char *listen;
    char *tls_cert; /* paths */
    char *tls_key;
    char *public_url;
    char *kakao_rest_api_key;
    char *kakao_client_secret_file;
    char *kakao_auth_url;
    char *kakao_api_url;
    char *ca_file;
    char *proxy;
    char *signing_key;
    char *prompt_login_services;
    char *store;
    char *trusted_proxies;
    char *redis_password_file;
    long timeout;
    long session_ttl;
    long code_attempts;
    long max_sessions;
    long rate_limit;

    /* Derived by pk_relay_config_load. */
    struct sockaddr_storage listen_addr;
    socklen_t listen_len;
    bool listen_loopback;
    char *signing_key_pem; /* PEM text, wiped on free */
    char *client_secret;   /* NULL when not configured; wiped on free */
    char *redis_password;  /* NULL when not configured; wiped on free */
    bool store_redis;      /* store names a Redis server: redis_target */
    struct pk_redis_target redis_target;
    char *tls_cert_pem; /* NULL unless HTTPS */
    char *tls_key_pem;  /* wiped on free */
    char *redirect_uri; /* {public_url}/callback */
    size_t proxy_count;
    struct sockaddr_storage proxies[PK_RELAY_MAX_PROXIES];
    size_t service_count;
    char *services[PK_RELAY_MAX_SERVICES]; /* point into prompt_login_services_buf */
    char *services_buf;
};

/* Reads path (relay.conf) owned by root or uid, reads the files it names
 * (signing_key, kakao_client_secret_file and tls_key under the key-file rules)
 * and checks every rule; each problem goes to report. PK_ST_OK, PK_ST_REFUSED
 * (the file is refused or unreadable, or a rule is broken: reported) or
 * PK_ST_NOMEM; cfg is freed unless PK_ST_OK. */
enum pk_status pk_relay_config_load(struct pk_relay_config *cfg, const char *path, uid_t uid,
                                    pk_config_report report, void *ctx);

/* Whether prompt=login is asked for this service. */
bool pk_relay_config_prompt_login(const struct pk_relay_config *cfg, const char *service);

/* Whether addr is one of trusted_proxies. */
bool pk_relay_config_trusted_proxy(const struct pk_relay_config *cfg, const struct sockaddr *addr);

void pk_relay_config_free(struct pk_relay_config *cfg);

#endif
