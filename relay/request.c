#include "relay/request.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "src/secure.h"

void pk_relay_addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
    const void *a = NULL;

    if (sa != NULL && sa->sa_family == AF_INET)
        a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    else if (sa != NULL && sa->sa_family == AF_INET6)
        a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (a == NULL || inet_ntop(sa->sa_family, a, buf, (socklen_t)len) == NULL)
        (void)snprintf(buf, len, "unknown");
}

void pk_relay_client_address(const struct pk_relay_config *cfg, const struct sockaddr *peer,
                             const char *xff, char *buf, size_t len)
{
    char tmp[1024];

    pk_relay_addr_text(peer, buf, len);
    if (peer == NULL || xff == NULL || !pk_relay_config_trusted_proxy(cfg, peer) ||
        strlen(xff) >= sizeof(tmp))
        return;
    memcpy(tmp, xff, strlen(xff) + 1);
    for (;;) {
        char *comma = strrchr(tmp, ',');
        char *item = comma != NULL ? comma + 1 : tmp;
        struct sockaddr_storage ss;
        size_t n;

        while (*item == ' ')
            item++;
        n = strlen(item);
        while (n > 0 && item[n - 1] == ' ')
            item[--n] = '\0';
        memset(&ss, 0, sizeof(ss));
        if (inet_pton(AF_INET, item, &((struct sockaddr_in *)(void *)&ss)->sin_addr) == 1)
            ss.ss_family = AF_INET;
        else if (inet_pton(AF_INET6, item, &((struct sockaddr_in6 *)(void *)&ss)->sin6_addr) == 1)
            ss.ss_family = AF_INET6;
        else
            return; /* malformed: the proxy itself is the client */
        if (!pk_relay_config_trusted_proxy(cfg, (const struct sockaddr *)&ss) || comma == NULL) {
            pk_relay_addr_text((const struct sockaddr *)&ss, buf, len);
            return;
        }
        *comma = '\0';
    }
}

/* A JSON object whose keys are all among allowed (NULL-terminated). */
static json_t *pk_parse_object(const char *body, size_t len, const char *const *allowed,
                               const char **why)
{
    json_error_t jerr;
    json_t *obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *key;
    json_t *val;

    if (obj == NULL) {
        *why = "body is not JSON";
        return NULL;
    }
    if (!json_is_object(obj)) {
        *why = "body is not a JSON object";
        json_decref(obj);
        return NULL;
    }
    json_object_foreach(obj, key, val)
    {
        bool ok = false;
        (void)val;
        for (size_t i = 0; allowed[i] != NULL; i++)
            ok = ok || strcmp(allowed[i], key) == 0;
        if (!ok) {
            *why = "unknown field";
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

/* A string field of printable ASCII within [min, max] bytes; an absent one
 * is "" when min is 0. */
static const char *pk_field(json_t *obj, const char *name, size_t min, size_t max, const char **why)
{
    json_t *v = json_object_get(obj, name);
    const char *s;
    size_t n;

    if (v == NULL) {
        if (min == 0)
            return "";
        *why = "missing field";
        return NULL;
    }
    if (!json_is_string(v)) {
        *why = "a field is not a string";
        return NULL;
    }
    s = json_string_value(v);
    n = json_string_length(v);
    if (strlen(s) != n || n < min || n > max) {
        *why = "a field is empty or too long";
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
            *why = "a field has bytes outside printable ASCII";
            return NULL;
        }
    }
    return s;
}

bool pk_relay_parse_create(const char *body, size_t len, struct pk_relay_create_req *out,
                           const char **why)
{
    static const char *const allowed[] = {"user", "service", "host", "rhost", NULL};
    json_t *obj = pk_parse_object(body, len, allowed, why);

    memset(out, 0, sizeof(*out));
    if (obj == NULL)
        return false;
    out->user = pk_field(obj, "user", 1, 32, why);
    out->service = out->user != NULL ? pk_field(obj, "service", 1, 64, why) : NULL;
    out->host = out->service != NULL ? pk_field(obj, "host", 1, 255, why) : NULL;
    out->rhost = out->host != NULL ? pk_field(obj, "rhost", 0, 255, why) : NULL;
    if (out->rhost == NULL) {
        json_decref(obj);
        memset(out, 0, sizeof(*out));
        return false;
    }
    out->obj = obj;
    return true;
}

void pk_relay_create_req_free(struct pk_relay_create_req *req)
{
    json_decref(req->obj);
    memset(req, 0, sizeof(*req));
}

bool pk_relay_parse_redeem(const char *body, size_t len, char code[7], const char **why)
{
    static const char *const allowed[] = {"code", NULL};
    json_t *obj = pk_parse_object(body, len, allowed, why);
    json_t *v;
    bool ok;

    if (obj == NULL)
        return false;
    v = json_object_get(obj, "code");
    ok = json_is_string(v) && json_string_length(v) == 6 &&
         strspn(json_string_value(v), "0123456789") == 6;
    if (ok)
        memcpy(code, json_string_value(v), 7);
    else
        *why = "code must be a string of 6 digits";
    json_decref(obj);
    return ok;
}
