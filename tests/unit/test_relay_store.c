/* relay/store.c: the relay's in-memory sessions, with the clock injected:
 * expiry and its grace, attempts, single use, state single use, limits.
 * relay/store_mac.c: the Redis store's MAC key and MAC input format. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "relay/store.h"
#include "relay/store_mac.h"

#define T0 1700000000

static const struct pk_relay_store_conf conf = {120, 3, 5, 4};
static const struct pk_relay_session_in alice = {"alice", "sudo", "bastion", "203.0.113.5"};

struct made {
    char s[PK_RELAY_S_LEN + 1];
    char short_id[PK_RELAY_SHORT_LEN + 1];
    char tag[9];
    char code[7];
};

static void make(struct pk_relay_store *st, time_t now, struct made *m)
{
    assert_int_equal(pk_relay_store_create(st, &alice, now, m->s, m->short_id, m->tag), PK_RS_OK);
}

/* Button, callback, approval: what the server does for a "yes" at Kakao. */
static void make_approved(struct pk_relay_store *st, time_t now, struct made *m)
{
    struct pk_relay_pkce p, got;
    struct pk_relay_session_out out;

    make(st, now, m);
    memset(&p, 0, sizeof(p));
    (void)snprintf(p.state, sizeof(p.state), "state-%s", m->short_id);
    (void)snprintf(p.nonce, sizeof(p.nonce), "nonce");
    assert_int_equal(pk_relay_store_begin(st, m->short_id, now, &p, &out), PK_RS_OK);
    assert_int_equal(pk_relay_store_take_state(st, p.state, now, &got, &out), PK_RS_OK);
    assert_string_equal(got.nonce, "nonce");
    assert_int_equal(
        pk_relay_store_approve(st, m->short_id, now, "3095134389", now - 5, m->code, &out),
        PK_RS_OK);
    assert_int_equal(strlen(m->code), 6);
    assert_int_equal(strspn(m->code, "0123456789"), 6);
}

/* A code that is not this one: its first digit changed. */
static void wrong_of(const char *code, char out[7])
{
    memcpy(out, code, 7);
    out[0] = out[0] == '9' ? '0' : (char)(out[0] + 1);
}

static void test_create_ids(void **state)
{
    struct pk_relay_store *st = pk_relay_store_new(&conf);
    struct made a, b;
    struct pk_relay_session_out out;

    (void)state;
    assert_non_null(st);
    make(st, T0, &a);
    make(st, T0, &b);
    assert_int_equal(strlen(a.s), 43);
    assert_int_equal(
        strspn(a.s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
    assert_int_equal(strlen(a.short_id), 11);
    assert_int_equal(strspn(a.short_id, "23456789ABCDEFGHJKMNPQRSTUVWXYZ"), 11);
    assert_string_not_equal(a.s, b.s);
    assert_string_not_equal(a.short_id, b.short_id);
    assert_int_equal(pk_relay_store_view(st, a.short_id, T0 + 20, &out), PK_RS_OK);
    assert_string_equal(out.user, "alice");
    assert_string_equal(out.service, "sudo");
    assert_string_equal(out.host, "bastion");
    assert_string_equal(out.rhost, "203.0.113.5");
    assert_int_equal(out.seconds_left, 100);
    assert_string_equal(out.s_tag, a.tag);
    pk_relay_store_free(st);
}

static void test_redeem_paths(void **state)
{
    struct pk_relay_store *st = pk_relay_store_new(&conf);
    struct made m;
    struct pk_relay_session_out out;
    char wrong[7];

    (void)state;
    make(st, T0, &m);
    assert_int_equal(pk_relay_store_redeem(st, m.s, "123456", T0, &out), PK_RS_NOT_APPROVED);
    assert_int_equal(pk_relay_store_redeem(st, m.s, "123456", T0, &out), PK_RS_NOT_APPROVED);
    pk_relay_store_free(st);

    st = pk_relay_store_new(&conf);
    make_approved(st, T0, &m);
    wrong_of(m.code, wrong);
    assert_int_equal(pk_relay_store_redeem(st, m.s, wrong, T0, &out), PK_RS_WRONG_CODE);
    assert_int_equal(out.attempts_left, 2);
    assert_int_equal(pk_relay_store_redeem(st, m.s, m.code, T0 + 1, &out), PK_RS_OK);
    assert_string_equal(out.kakao_id, "3095134389");
    assert_string_equal(out.host, "bastion");
    assert_int_equal(out.auth_time, T0 - 5);
    assert_int_equal(pk_relay_store_redeem(st, m.s, m.code, T0 + 2, &out), PK_RS_USED);
    assert_int_equal(pk_relay_store_redeem(st, "nosuchsession", m.code, T0, &out), PK_RS_UNKNOWN);
    pk_relay_store_free(st);
}

static void test_attempts_run_out(void **state)
{
    struct pk_relay_store *st = pk_relay_store_new(&conf);
    struct made m;
    struct pk_relay_session_out out;
    char wrong[7];

    (void)state;
    make_approved(st, T0, &m);
    wrong_of(m.code, wrong);
    for (int left = 2; left >= 0; left--) {
        assert_int_equal(pk_relay_store_redeem(st, m.s, wrong, T0, &out), PK_RS_WRONG_CODE);
        assert_int_equal(out.attempts_left, left);
    }
    assert_int_equal(pk_relay_store_redeem(st, m.s, m.code, T0, &out), PK_RS_USED);
    pk_relay_store_free(st);
}

static void test_expiry_and_sweep(void **state)
{
    struct pk_relay_store *st = pk_relay_store_new(&conf);
    struct made m;
    struct pk_relay_session_out out;

    (void)state;
    make_approved(st, T0, &m);
    assert_int_equal(pk_relay_store_redeem(st, m.s, "000000", T0 + 120, &out), PK_RS_EXPIRED);
    assert_int_equal(pk_relay_store_view(st, m.short_id, T0 + 120, &out), PK_RS_EXPIRED);
    assert_int_equal(pk_relay_store_sweep(st, T0 + 120 + PK_RELAY_STORE_GRACE - 1), 1);
    assert_int_equal(pk_relay_store_redeem(st, m.s, m.code, T0 + 179, &out), PK_RS_EXPIRED);
    assert_int_equal(pk_relay_store_sweep(st, T0 + 120 + PK_RELAY_STORE_GRACE), 0);
    assert_int_equal(pk_relay_store_redeem(st, m.s, m.code, T0 + 180, &out), PK_RS_UNKNOWN);
    /* Just before expiry it still works. */
    make_approved(st, T0 + 200, &m);
    assert_int_equal(pk_relay_store_redeem(st, m.s, m.code, T0 + 319, &out), PK_RS_OK);
    pk_relay_store_free(st);
}

static void test_state_single_use(void **state)
{
    struct pk_relay_store *st = pk_relay_store_new(&conf);
    struct made m;
    struct pk_relay_pkce p1, p2, got;
    struct pk_relay_session_out out;

    (void)state;
    make(st, T0, &m);
    memset(&p1, 0, sizeof(p1));
    memset(&p2, 0, sizeof(p2));
    strcpy(p1.state, "first");
    strcpy(p2.state, "second");
    assert_int_equal(pk_relay_store_begin(st, m.short_id, T0, &p1, &out), PK_RS_OK);
    /* A second press replaces the first state. */
    assert_int_equal(pk_relay_store_begin(st, m.short_id, T0, &p2, &out), PK_RS_OK);
    assert_int_equal(pk_relay_store_take_state(st, "first", T0, &got, &out), PK_RS_UNKNOWN);
    assert_int_equal(pk_relay_store_take_state(st, "second", T0, &got, &out), PK_RS_OK);
    assert_int_equal(pk_relay_store_take_state(st, "second", T0, &got, &out), PK_RS_UNKNOWN);
    assert_int_equal(pk_relay_store_approve(st, m.short_id, T0, "1", T0, m.code, &out), PK_RS_OK);
    /* Approved: the page is not shown again, and no new login starts. */
    assert_int_equal(pk_relay_store_view(st, m.short_id, T0, &out), PK_RS_APPROVED);
    assert_int_equal(pk_relay_store_begin(st, m.short_id, T0, &p1, &out), PK_RS_APPROVED);
    assert_int_equal(pk_relay_store_approve(st, m.short_id, T0, "1", T0, m.code, &out),
                     PK_RS_APPROVED);
    pk_relay_store_free(st);
}

static void test_max_sessions(void **state)
{
    struct pk_relay_store *st = pk_relay_store_new(&conf);
    struct made m;

    (void)state;
    for (int i = 0; i < 5; i++)
        make(st, T0, &m);
    assert_int_equal(pk_relay_store_create(st, &alice, T0, m.s, m.short_id, m.tag), PK_RS_FULL);
    /* Once the old ones are swept, there is room again. */
    assert_int_equal(pk_relay_store_create(st, &alice, T0 + 180, m.s, m.short_id, m.tag), PK_RS_OK);
    pk_relay_store_free(st);
}

static void test_rate_limit(void **state)
{
    struct pk_relay_store *st = pk_relay_store_new(&conf);

    (void)state;
    for (int i = 0; i < 4; i++)
        assert_int_equal(pk_relay_store_rate(st, "192.0.2.1", T0 - T0 % 60), PK_RS_OK);
    assert_int_equal(pk_relay_store_rate(st, "192.0.2.1", T0 - T0 % 60 + 59), PK_RS_RATE);
    assert_int_equal(pk_relay_store_rate(st, "192.0.2.2", T0 - T0 % 60 + 59), PK_RS_OK);
    assert_int_equal(pk_relay_store_rate(st, "192.0.2.1", T0 - T0 % 60 + 60), PK_RS_OK);
    pk_relay_store_free(st);
}

static void test_tag(void **state)
{
    char tag[9];

    (void)state;
    pk_relay_tag("abc", tag); /* SHA-256("abc") = ba7816bf... */
    assert_string_equal(tag, "ba7816bf");
}

/* A new P-256 key as PEM: PKCS#8 (traditional false) or SEC1. */
static char *ec_pem(EVP_PKEY *pkey, bool traditional)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL, *out;
    long n;

    assert_non_null(bio);
    assert_int_equal(
        traditional ? PEM_write_bio_PrivateKey_traditional(bio, pkey, NULL, NULL, 0, NULL, NULL)
                    : PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL),
        1);
    n = BIO_get_mem_data(bio, &data);
    assert_true(n > 0);
    out = calloc(1, (size_t)n + 1);
    assert_non_null(out);
    memcpy(out, data, (size_t)n);
    BIO_free(bio);
    return out;
}

/* One key per signing key, however its PEM is written; another key, another. */
static void test_mac_key(void **state)
{
    EVP_PKEY *k1 = EVP_EC_gen("P-256"), *k2 = EVP_EC_gen("P-256");
    char *pkcs8, *sec1, *other;
    unsigned char a[PK_RELAY_MAC_KEY_LEN], b[PK_RELAY_MAC_KEY_LEN], c[PK_RELAY_MAC_KEY_LEN];

    (void)state;
    assert_non_null(k1);
    assert_non_null(k2);
    pkcs8 = ec_pem(k1, false);
    sec1 = ec_pem(k1, true);
    other = ec_pem(k2, false);
    assert_string_not_equal(pkcs8, sec1);
    assert_true(pk_relay_mac_key(pkcs8, a));
    assert_true(pk_relay_mac_key(sec1, b));
    assert_true(pk_relay_mac_key(other, c));
    assert_memory_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, c, sizeof(a));
    assert_false(
        pk_relay_mac_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", c));
    free(pkcs8);
    free(sec1);
    free(other);
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
}

/* HMAC-SHA256 over label and fields, each behind its 8-byte length: the
 * same bytes built by hand give the same MAC, and moving a byte from one
 * field to the next, or changing the label, gives another. */
static void test_mac_input(void **state)
{
    unsigned char key[PK_RELAY_MAC_KEY_LEN];
    const struct pk_relay_mac_field ab_c[2] = {{"ab", 2}, {"c", 1}};
    const struct pk_relay_mac_field a_bc[2] = {{"a", 1}, {"bc", 2}};
    const struct pk_relay_mac_field empty[1] = {{NULL, 0}};
    static const unsigned char by_hand[] = {0,   0,   0,   0, 0, 0, 0, 6, 'c', 'r', 'e',
                                            'a', 't', 'e', 0, 0, 0, 0, 0, 0,   0,   2,
                                            'a', 'b', 0,   0, 0, 0, 0, 0, 0,   1,   'c'};
    unsigned char md[32];
    size_t md_len = 0;
    char x[PK_RELAY_MAC_HEX_LEN + 1], y[PK_RELAY_MAC_HEX_LEN + 1], want[PK_RELAY_MAC_HEX_LEN + 1];
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);

    (void)state;
    assert_non_null(hmac);
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (unsigned char)(i * 7 + 1);
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, sizeof(key), by_hand,
                              sizeof(by_hand), md, sizeof(md), &md_len));
    assert_int_equal(md_len, 32);
    for (size_t i = 0; i < 32; i++)
        (void)snprintf(want + 2 * i, 3, "%02x", md[i]);
    assert_true(pk_relay_mac(hmac, key, "create", ab_c, 2, x));
    assert_string_equal(x, want);
    assert_true(pk_relay_mac(hmac, key, "create", a_bc, 2, y));
    assert_string_not_equal(x, y);
    assert_true(pk_relay_mac(hmac, key, "approve", ab_c, 2, y));
    assert_string_not_equal(x, y);
    assert_true(pk_relay_mac(hmac, key, "create", empty, 1, y));
    assert_int_equal(strlen(y), PK_RELAY_MAC_HEX_LEN);
    EVP_MAC_free(hmac);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_ids),       cmocka_unit_test(test_redeem_paths),
        cmocka_unit_test(test_attempts_run_out), cmocka_unit_test(test_expiry_and_sweep),
        cmocka_unit_test(test_state_single_use), cmocka_unit_test(test_max_sessions),
        cmocka_unit_test(test_rate_limit),       cmocka_unit_test(test_tag),
        cmocka_unit_test(test_mac_key),          cmocka_unit_test(test_mac_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
