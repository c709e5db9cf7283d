/* JSON Web Key Sets: pk_jwks_parse, then pk_jwks_find for every kid the
 * input names (and one it cannot name). The input is the JWKS text, handed
 * over in a buffer of exactly its size (no NUL) so that any read past it is
 * caught.
 *
 * Invariants: a set that parses holds at most 64 keys, each an RSA public
 * key of 2048 to 8192 bits whose PEM reads back with OpenSSL as that key,
 * with a non-empty kid that exactly one entry of the input carries (as a
 * JSON string without NUL), of kty "RSA", use absent or "sig", alg absent or
 * "RS256"; kids are unique among keys and never also listed as unusable;
 * pk_jwks_find returns the key for its kid, the reason for an unusable kid
 * and "missing" for any other; a refused text leaves an empty set and says
 * why; problems, reasons and log lines are printable. */
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "jwks.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

/* The key's PEM, read by OpenSSL as libjwt will, is an RSA key of its bits. */
static void check_pem(const struct pk_jwk *k)
{
    BIO *bio;
    EVP_PKEY *pkey;

    PK_FUZZ_CHECK(k->pem != NULL && k->pem_len == strlen((const char *)k->pem),
                  "PEM missing or its length wrong");
    PK_FUZZ_CHECK(strncmp((const char *)k->pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0,
                  "PEM is not SPKI");
    bio = BIO_new_mem_buf(k->pem, (int)k->pem_len);
    if (bio == NULL)
        return;
    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    PK_FUZZ_CHECK(pkey != NULL, "PEM does not read back");
    PK_FUZZ_CHECK(EVP_PKEY_is_a(pkey, "RSA"), "PEM key is not RSA");
    PK_FUZZ_CHECK(EVP_PKEY_get_bits(pkey) == k->bits, "PEM key size differs");
    PK_FUZZ_CHECK((size_t)EVP_PKEY_get_size(pkey) == k->sig_len, "signature length differs");
    EVP_PKEY_free(pkey);
}

/* An independent reading of the input: the one entry whose kid is kid. */
static json_t *entry_for(json_t *keys, const char *kid)
{
    json_t *found = NULL, *entry;
    size_t i, n = 0;

    json_array_foreach(keys, i, entry)
    {
        json_t *k = json_object_get(entry, "kid");
        if (json_is_string(k) && json_string_length(k) == strlen(kid) &&
            memcmp(json_string_value(k), kid, strlen(kid)) == 0) {
            found = entry;
            n++;
        }
    }
    PK_FUZZ_CHECK(n == 1, "a key's kid is not carried by exactly one entry");
    return found;
}

static void oracle(const char *json, size_t len, const struct pk_jwks *set)
{
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *keys = json_object_get(root, "keys");

    PK_FUZZ_CHECK(json_is_array(keys), "accepted a text without a \"keys\" array");
    PK_FUZZ_CHECK(set->count + set->unusable_count <= json_array_size(keys),
                  "more keys and reasons than entries");
    for (size_t i = 0; i < set->count; i++) {
        json_t *e = entry_for(keys, set->keys[i].kid);
        json_t *use = json_object_get(e, "use");
        json_t *alg = json_object_get(e, "alg");

        PK_FUZZ_CHECK(json_is_string(json_object_get(e, "kty")) &&
                          strcmp(json_string_value(json_object_get(e, "kty")), "RSA") == 0,
                      "accepted a key whose kty is not RSA");
        PK_FUZZ_CHECK(use == NULL ||
                          (json_is_string(use) && strcmp(json_string_value(use), "sig") == 0),
                      "accepted a key not for signatures");
        PK_FUZZ_CHECK(alg == NULL ||
                          (json_is_string(alg) && strcmp(json_string_value(alg), "RS256") == 0),
                      "accepted a key for another algorithm");
    }
    json_decref(root);
}

static void check_set(const char *json, size_t len, const struct pk_jwks *set)
{
    const struct pk_jwk *key;
    const char *why;

    PK_FUZZ_CHECK(set->count <= 64, "more than 64 keys");
    for (size_t i = 0; i < set->count; i++) {
        const struct pk_jwk *k = &set->keys[i];
        size_t kid_len = strnlen(k->kid, sizeof(k->kid));

        PK_FUZZ_CHECK(kid_len > 0 && kid_len < sizeof(k->kid), "key without a kid");
        PK_FUZZ_CHECK(k->bits >= 2048 && k->bits <= PK_JWK_MAX_BITS, "key size out of range");
        PK_FUZZ_CHECK(k->sig_len == ((size_t)k->bits + 7) / 8, "signature length not the size");
        check_pem(k);
        for (size_t j = 0; j < i; j++)
            PK_FUZZ_CHECK(strcmp(set->keys[j].kid, k->kid) != 0, "two keys share a kid");
        PK_FUZZ_CHECK(pk_jwks_find(set, k->kid, &key, &why) == PK_ST_OK && key == k && why == NULL,
                      "a key is not found by its kid");
    }
    for (size_t i = 0; i < set->unusable_count; i++) {
        const struct pk_jwk_unusable *u = &set->unusable[i];

        PK_FUZZ_CHECK(u->kid[0] != '\0', "an unusable entry without a kid");
        PK_FUZZ_CHECK(u->why[0] != '\0' && pk_fuzz_printable(u->why), "reason empty or raw");
        for (size_t j = 0; j < set->count; j++)
            PK_FUZZ_CHECK(strcmp(set->keys[j].kid, u->kid) != 0, "a kid both usable and not");
        PK_FUZZ_CHECK(pk_jwks_find(set, u->kid, &key, &why) == PK_ST_REFUSED && key == NULL &&
                          why != NULL && why[0] != '\0',
                      "an unusable kid is not reported with its reason");
    }
    /* pk_entry_kid never accepts an empty kid, so "" names nothing. */
    PK_FUZZ_CHECK(pk_jwks_find(set, "", &key, &why) == PK_ST_MISSING && key == NULL && why == NULL,
                  "the empty kid names something");
    oracle(json, len, set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pk_jwks set;
    enum pk_status st;
    char problem[128] = "";
    char *json = malloc(size != 0 ? size : 1);

    if (json == NULL)
        return 0;
    memcpy(json, data, size);
    st = pk_jwks_parse(json, size, "fuzz", pk_fuzz_logger(), &set, problem, sizeof(problem));
    PK_FUZZ_CHECK(st == PK_ST_OK || st == PK_ST_REFUSED || st == PK_ST_NOMEM, "unknown status");
    PK_FUZZ_CHECK(pk_fuzz_printable(problem), "problem not printable");
    if (st == PK_ST_OK) {
        PK_FUZZ_CHECK(problem[0] == '\0', "a problem with a set that parsed");
        check_set(json, size, &set);
    } else {
        PK_FUZZ_CHECK(problem[0] != '\0', "refused without a reason");
        PK_FUZZ_CHECK(set.keys == NULL && set.count == 0 && set.unusable == NULL &&
                          set.unusable_count == 0,
                      "a refused set is not empty");
    }
    pk_jwks_free(&set);
    free(json);
    return 0;
}
