#include "relay/assertion.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "relay/store.h"
#include "src/b64url.h"
#include "src/jwt_sign.h"
#include "src/secure.h"

char *pk_relay_assertion(const struct pk_relay_claims *c, const char *key_pem, char *err,
                         size_t err_len)
{
    static const char header[] = "{\"alg\":\"ES256\",\"typ\":\"kakao-pam-login+jwt\"}";
    unsigned char raw[16];
    char *jti, *payload, *token = NULL;
    json_t *claims;
    long long id;
    char *end;

    errno = 0;
    id = strtoll(c->kakao_id, &end, 10);
    if (errno != 0 || *end != '\0' || id <= 0) {
        (void)snprintf(err, err_len, "kakao_id is not a positive number");
        return NULL;
    }
    if (!pk_relay_random(raw, sizeof(raw))) {
        (void)snprintf(err, err_len, "no random bytes for jti");
        return NULL;
    }
    jti = pk_b64url_encode(raw, sizeof(raw));
    if (jti == NULL) {
        (void)snprintf(err, err_len, "out of memory");
        return NULL;
    }
    claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s}", "iss", c->iss, "aud", c->aud,
                       "nonce", c->nonce, "kakao_id", (json_int_t)id, "iat", (json_int_t)c->iat,
                       "exp", (json_int_t)(c->iat + PK_RELAY_ASSERTION_TTL), "auth_time",
                       (json_int_t)c->auth_time, "jti", jti);
    free(jti);
    if (claims == NULL) {
        (void)snprintf(err, err_len, "out of memory");
        return NULL;
    }
    payload = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(claims);
    if (payload == NULL) {
        (void)snprintf(err, err_len, "out of memory");
        return NULL;
    }
    token = pk_jwt_sign(header, payload, PK_ALG_ES256, (const unsigned char *)key_pem,
                        strlen(key_pem), err, err_len);
    pk_free_secret_str(payload);
    return token;
}
