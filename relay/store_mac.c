#include "relay/store_mac.h"

#include <stdint.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "relay/store_backend.h"
#include "src/jwt_sign.h"
#include "src/secure.h"

static const char pk_mac_label[] = "kakao-pam-relay store mac v1";

bool pk_relay_mac_key(const char *signing_key_pem, unsigned char key[PK_RELAY_MAC_KEY_LEN])
{
    unsigned char scalar[32];
    char err[128];
    EVP_PKEY *pkey = pk_private_key_from_pem((const unsigned char *)signing_key_pem,
                                             strlen(signing_key_pem), err, sizeof(err));
    BIGNUM *d = NULL;
    size_t len = 0;
    bool ok = false;

    if (pkey != NULL && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC &&
        EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 &&
        BN_bn2binpad(d, scalar, (int)sizeof(scalar)) == (int)sizeof(scalar))
        ok = EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, scalar, sizeof(scalar),
                       (const unsigned char *)pk_mac_label, sizeof(pk_mac_label) - 1, key,
                       PK_RELAY_MAC_KEY_LEN, &len) != NULL &&
             len == PK_RELAY_MAC_KEY_LEN;
    pk_wipe(scalar, sizeof(scalar));
    BN_clear_free(d);
    EVP_PKEY_free(pkey);
    if (!ok) {
        pk_wipe(key, PK_RELAY_MAC_KEY_LEN);
        ERR_clear_error(); /* not left for the next OpenSSL caller of this thread */
    }
    return ok;
}

static bool pk_mac_update(EVP_MAC_CTX *ctx, const char *p, size_t len)
{
    unsigned char prefix[8];

    for (size_t i = 0; i < sizeof(prefix); i++)
        prefix[i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    return EVP_MAC_update(ctx, prefix, sizeof(prefix)) == 1 &&
           (len == 0 || EVP_MAC_update(ctx, (const unsigned char *)p, len) == 1);
}

bool pk_relay_mac(EVP_MAC *hmac, const unsigned char key[PK_RELAY_MAC_KEY_LEN], const char *label,
                  const struct pk_relay_mac_field *fields, size_t n,
                  char hex[PK_RELAY_MAC_HEX_LEN + 1])
{
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_end(),
    };
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac);
    unsigned char md[32];
    size_t md_len = 0;
    bool ok = ctx != NULL && EVP_MAC_init(ctx, key, PK_RELAY_MAC_KEY_LEN, params) == 1 &&
              pk_mac_update(ctx, label, strlen(label));

    for (size_t i = 0; ok && i < n; i++)
        ok = pk_mac_update(ctx, fields[i].p, fields[i].len);
    ok = ok && EVP_MAC_final(ctx, md, &md_len, sizeof(md)) == 1 && md_len == sizeof(md);
    EVP_MAC_CTX_free(ctx);
    if (ok)
        pk_relay_hex(md, sizeof(md), hex);
    else
        ERR_clear_error();
    pk_wipe(md, sizeof(md));
    return ok;
}
