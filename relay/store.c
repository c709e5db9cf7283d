#include "relay/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/err.h>

#include "relay/store_backend.h"
#include "src/cache_dir.h"
#include "src/b64url.h"
#include "src/secure.h"

/* Unambiguous symbols for the short id a person may type: no 0/O, 1/I/L. */
static const char pk_short_alphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
#define PK_SHORT_SYMBOLS (sizeof(pk_short_alphabet) - 1)

enum pk_sess_state { PK_SS_PENDING, PK_SS_AUTHORIZING, PK_SS_APPROVED, PK_SS_USED };

enum { PK_IX_S, PK_IX_SHORT, PK_IX_STATE, PK_IX_COUNT };

struct pk_sess {
    struct pk_sess *chain[PK_IX_COUNT]; /* hash chains */
    struct pk_sess *older, *newer;      /* creation order = expiry order */
    time_t expires;
    long long auth_time;
    enum pk_sess_state state;
    int attempts_left;
    bool has_state;
    char s[PK_RELAY_S_LEN + 1];
    char short_id[PK_RELAY_SHORT_LEN + 1];
    char code[7];
    char kakao_id[21];
    struct pk_relay_pkce pkce;
    size_t off_service_at, off_host, off_rhost; /* into text */
    char text[];                                /* user \0 service \0 host \0 rhost \0 */
};

struct pk_rate {
    struct pk_rate *next;
    long count;
    char addr[]; /* NUL-terminated */
};

struct pk_mem_store {
    pthread_mutex_t lock;
    struct pk_relay_store_conf conf;
    struct pk_sess **ix[PK_IX_COUNT];
    size_t buckets; /* a power of two */
    struct pk_sess *oldest, *newest;
    size_t held;
    struct pk_rate **rate;
    size_t rate_buckets;
    size_t rate_held;
    long rate_window; /* now / 60 of the counts in rate */
};

bool pk_relay_random(void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t got = 0;

    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        got += (size_t)r;
    }
    return true;
}

void pk_relay_hex(const unsigned char *in, size_t n, char *hex)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[in[i] >> 4];
        hex[2 * i + 1] = digits[in[i] & 15];
    }
    hex[2 * n] = '\0';
}

/* The module's SHA-256 hex (src/cache_dir.c), OpenSSL's error queue left
 * empty when it fails. */
bool pk_relay_sha256_hex(const char *s, size_t len, char hex[65])
{
    if (!pk_sha256_hex(s, len, hex)) {
        ERR_clear_error();
        hex[0] = '\0';
        return false;
    }
    return true;
}

/* Only the log's tag: when OpenSSL fails, one that names no session. */
void pk_relay_tag(const char *s, char tag[9])
{
    char hex[65];

    if (!pk_relay_sha256_hex(s, strlen(s), hex)) {
        memcpy(tag, "--------", 9);
        return;
    }
    memcpy(tag, hex, 8);
    tag[8] = '\0';
}

static size_t pk_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

static const char *pk_key(const struct pk_sess *x, int ix)
{
    return ix == PK_IX_S ? x->s : ix == PK_IX_SHORT ? x->short_id : x->pkce.state;
}

static void pk_ix_add(struct pk_mem_store *st, int ix, struct pk_sess *x)
{
    size_t b = pk_hash(pk_key(x, ix)) & (st->buckets - 1);

    x->chain[ix] = st->ix[ix][b];
    st->ix[ix][b] = x;
}

static void pk_ix_del(struct pk_mem_store *st, int ix, struct pk_sess *x)
{
    struct pk_sess **pp = &st->ix[ix][pk_hash(pk_key(x, ix)) & (st->buckets - 1)];

    for (; *pp != NULL; pp = &(*pp)->chain[ix]) {
        if (*pp == x) {
            *pp = x->chain[ix];
            x->chain[ix] = NULL;
            return;
        }
    }
}

/* Secrets are compared in constant time (their lengths are public). */
static struct pk_sess *pk_ix_find(struct pk_mem_store *st, int ix, const char *key)
{
    size_t len = strlen(key);
    struct pk_sess *x = st->ix[ix][pk_hash(key) & (st->buckets - 1)];

    for (; x != NULL; x = x->chain[ix]) {
        const char *k = pk_key(x, ix);
        if (pk_ct_equal(k, strlen(k), key, len))
            return x;
    }
    return NULL;
}

static void pk_mem_free(void *be);

static struct pk_mem_store *pk_mem_new(const struct pk_relay_store_conf *conf)
{
    struct pk_mem_store *st = calloc(1, sizeof(*st));
    size_t want = conf->max_sessions > 65536 ? 65536 : (size_t)conf->max_sessions;

    if (st == NULL)
        return NULL;
    st->conf = *conf;
    st->buckets = 16;
    while (st->buckets < want)
        st->buckets <<= 1;
    st->rate_buckets = 1024;
    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        free(st);
        return NULL;
    }
    for (int i = 0; i < PK_IX_COUNT; i++) {
        st->ix[i] = calloc(st->buckets, sizeof(struct pk_sess *));
        if (st->ix[i] == NULL)
            goto fail;
    }
    st->rate = calloc(st->rate_buckets, sizeof(struct pk_rate *));
    if (st->rate == NULL)
        goto fail;
    return st;
fail:
    pk_mem_free(st);
    return NULL;
}

static void pk_sess_free(struct pk_sess *x)
{
    size_t n = sizeof(*x) + x->off_rhost + strlen(x->text + x->off_rhost) + 1;
    pk_free_secret(x, n);
}

static void pk_rate_clear(struct pk_mem_store *st)
{
    for (size_t i = 0; i < st->rate_buckets; i++) {
        while (st->rate[i] != NULL) {
            struct pk_rate *r = st->rate[i];
            st->rate[i] = r->next;
            free(r);
        }
    }
    st->rate_held = 0;
}

static void pk_mem_free(void *be)
{
    struct pk_mem_store *st = be;

    if (st == NULL)
        return;
    while (st->oldest != NULL) {
        struct pk_sess *x = st->oldest;
        st->oldest = x->newer;
        pk_sess_free(x);
    }
    if (st->rate != NULL)
        pk_rate_clear(st);
    free(st->rate);
    for (int i = 0; i < PK_IX_COUNT; i++)
        free(st->ix[i]);
    (void)pthread_mutex_destroy(&st->lock);
    free(st);
}

static void pk_unlink(struct pk_mem_store *st, struct pk_sess *x)
{
    pk_ix_del(st, PK_IX_S, x);
    pk_ix_del(st, PK_IX_SHORT, x);
    if (x->has_state)
        pk_ix_del(st, PK_IX_STATE, x);
    if (x->older != NULL)
        x->older->newer = x->newer;
    else
        st->oldest = x->newer;
    if (x->newer != NULL)
        x->newer->older = x->older;
    else
        st->newest = x->older;
    st->held--;
    pk_sess_free(x);
}

static void pk_sweep_locked(struct pk_mem_store *st, time_t now)
{
    while (st->oldest != NULL && st->oldest->expires + PK_RELAY_STORE_GRACE <= now)
        pk_unlink(st, st->oldest);
}

static size_t pk_mem_sweep(void *be, time_t now)
{
    struct pk_mem_store *st = be;
    size_t held;

    (void)pthread_mutex_lock(&st->lock);
    pk_sweep_locked(st, now);
    if (now / 60 != st->rate_window) {
        pk_rate_clear(st);
        st->rate_window = now / 60;
    }
    held = st->held;
    (void)pthread_mutex_unlock(&st->lock);
    return held;
}

static enum pk_relay_store_rc pk_mem_rate(void *be, const char *client, time_t now)
{
    struct pk_mem_store *st = be;
    enum pk_relay_store_rc rc = PK_RS_OK;
    size_t b = pk_hash(client) & (st->rate_buckets - 1);
    struct pk_rate *r;

    (void)pthread_mutex_lock(&st->lock);
    if (now / 60 != st->rate_window) {
        pk_rate_clear(st);
        st->rate_window = now / 60;
    }
    for (r = st->rate[b]; r != NULL; r = r->next)
        if (strcmp(r->addr, client) == 0)
            break;
    if (r == NULL) {
        /* Past this many addresses in one minute, refuse (fail closed). */
        if (st->rate_held >= (size_t)st->conf.max_sessions + 1024) {
            rc = PK_RS_RATE;
            goto out;
        }
        r = malloc(sizeof(*r) + strlen(client) + 1);
        if (r == NULL) {
            rc = PK_RS_NOMEM;
            goto out;
        }
        r->count = 0;
        memcpy(r->addr, client, strlen(client) + 1);
        r->next = st->rate[b];
        st->rate[b] = r;
        st->rate_held++;
    }
    if (r->count >= st->conf.rate_limit)
        rc = PK_RS_RATE;
    else
        r->count++;
out:
    (void)pthread_mutex_unlock(&st->lock);
    return rc;
}

bool pk_relay_new_short(char out[PK_RELAY_SHORT_LEN + 1])
{
    size_t i = 0;

    while (i < PK_RELAY_SHORT_LEN) {
        unsigned char b[16];
        if (!pk_relay_random(b, sizeof(b)))
            return false;
        /* Rejection sampling keeps every symbol equally likely. */
        for (size_t j = 0; j < sizeof(b) && i < PK_RELAY_SHORT_LEN; j++)
            if (b[j] < 256 - 256 % PK_SHORT_SYMBOLS)
                out[i++] = pk_short_alphabet[b[j] % PK_SHORT_SYMBOLS];
    }
    out[i] = '\0';
    return true;
}

bool pk_relay_new_s(char out[PK_RELAY_S_LEN + 1])
{
    unsigned char raw[32];
    char *enc;
    bool ok = false;

    if (!pk_relay_random(raw, sizeof(raw)))
        return false;
    enc = pk_b64url_encode(raw, sizeof(raw));
    if (enc != NULL && strlen(enc) == PK_RELAY_S_LEN) {
        memcpy(out, enc, PK_RELAY_S_LEN + 1);
        ok = true;
    }
    pk_wipe(raw, sizeof(raw));
    pk_free_secret_str(enc);
    return ok;
}

bool pk_relay_new_code(char out[7])
{
    uint32_t v;

    do {
        if (!pk_relay_random(&v, sizeof(v)))
            return false;
    } while (v >= 4294000000u); /* the largest multiple of 10^6 below 2^32 */
    (void)snprintf(out, 7, "%06u", (unsigned)(v % 1000000u));
    pk_wipe(&v, sizeof(v));
    return true;
}

static void pk_fill_out(const struct pk_sess *x, time_t now, struct pk_relay_session_out *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof(*out));
    (void)snprintf(out->user, sizeof(out->user), "%s", x->text);
    (void)snprintf(out->service, sizeof(out->service), "%s", x->text + x->off_service_at);
    (void)snprintf(out->host, sizeof(out->host), "%s", x->text + x->off_host);
    (void)snprintf(out->rhost, sizeof(out->rhost), "%s", x->text + x->off_rhost);
    memcpy(out->kakao_id, x->kakao_id, sizeof(out->kakao_id));
    memcpy(out->short_id, x->short_id, sizeof(out->short_id));
    out->auth_time = x->auth_time;
    out->seconds_left = x->expires > now ? (long)(x->expires - now) : 0;
    out->attempts_left = x->attempts_left;
    pk_relay_tag(x->s, out->s_tag);
}

static enum pk_relay_store_rc pk_mem_create(void *be, const struct pk_relay_session_in *in,
                                            time_t now, char s_out[PK_RELAY_S_LEN + 1],
                                            char short_out[PK_RELAY_SHORT_LEN + 1], char tag_out[9])
{
    struct pk_mem_store *st = be;
    size_t lu = strlen(in->user), ls = strlen(in->service), lh = strlen(in->host);
    size_t lr = strlen(in->rhost);
    struct pk_sess *x = calloc(1, sizeof(*x) + lu + ls + lh + lr + 4);
    enum pk_relay_store_rc rc = PK_RS_OK;

    if (x == NULL)
        return PK_RS_NOMEM;
    x->off_service_at = lu + 1;
    x->off_host = x->off_service_at + ls + 1;
    x->off_rhost = x->off_host + lh + 1;
    memcpy(x->text, in->user, lu + 1);
    memcpy(x->text + x->off_service_at, in->service, ls + 1);
    memcpy(x->text + x->off_host, in->host, lh + 1);
    memcpy(x->text + x->off_rhost, in->rhost, lr + 1);
    x->expires = now + st->conf.ttl;
    x->attempts_left = (int)st->conf.attempts;
    x->state = PK_SS_PENDING;
    (void)pthread_mutex_lock(&st->lock);
    pk_sweep_locked(st, now);
    if (st->held >= (size_t)st->conf.max_sessions) {
        rc = PK_RS_FULL;
        goto out;
    }
    /* 256 and 54 random bits: a collision is a broken CSPRNG, but cheap to rule out. */
    do {
        if (!pk_relay_new_s(x->s) || !pk_relay_new_short(x->short_id)) {
            rc = PK_RS_RANDOM;
            goto out;
        }
    } while (pk_ix_find(st, PK_IX_S, x->s) != NULL || pk_ix_find(st, PK_IX_SHORT, x->short_id));
    pk_ix_add(st, PK_IX_S, x);
    pk_ix_add(st, PK_IX_SHORT, x);
    x->older = st->newest;
    if (st->newest != NULL)
        st->newest->newer = x;
    else
        st->oldest = x;
    st->newest = x;
    st->held++;
    memcpy(s_out, x->s, PK_RELAY_S_LEN + 1);
    memcpy(short_out, x->short_id, PK_RELAY_SHORT_LEN + 1);
    pk_relay_tag(x->s, tag_out);
    x = NULL;
out:
    (void)pthread_mutex_unlock(&st->lock);
    if (x != NULL)
        pk_sess_free(x);
    return rc;
}

/* The state of a session found by short id, for the approval page. */
static enum pk_relay_store_rc pk_page_state(const struct pk_sess *x, time_t now)
{
    if (x == NULL)
        return PK_RS_UNKNOWN;
    if (now >= x->expires)
        return PK_RS_EXPIRED;
    if (x->state == PK_SS_USED)
        return PK_RS_USED;
    if (x->state == PK_SS_APPROVED)
        return PK_RS_APPROVED;
    return PK_RS_OK;
}

static enum pk_relay_store_rc pk_mem_view(void *be, const char *short_id, time_t now,
                                          struct pk_relay_session_out *out)
{
    struct pk_mem_store *st = be;
    struct pk_sess *x;
    enum pk_relay_store_rc rc;

    (void)pthread_mutex_lock(&st->lock);
    x = pk_ix_find(st, PK_IX_SHORT, short_id);
    rc = pk_page_state(x, now);
    if (x != NULL)
        pk_fill_out(x, now, out);
    (void)pthread_mutex_unlock(&st->lock);
    return rc;
}

static enum pk_relay_store_rc pk_mem_begin(void *be, const char *short_id, time_t now,
                                           const struct pk_relay_pkce *pkce,
                                           struct pk_relay_session_out *out)
{
    struct pk_mem_store *st = be;
    struct pk_sess *x;
    enum pk_relay_store_rc rc;

    (void)pthread_mutex_lock(&st->lock);
    x = pk_ix_find(st, PK_IX_SHORT, short_id);
    rc = pk_page_state(x, now);
    if (rc == PK_RS_OK) {
        if (x->has_state)
            pk_ix_del(st, PK_IX_STATE, x);
        x->pkce = *pkce;
        x->has_state = true;
        x->state = PK_SS_AUTHORIZING;
        pk_ix_add(st, PK_IX_STATE, x);
    }
    if (x != NULL)
        pk_fill_out(x, now, out);
    (void)pthread_mutex_unlock(&st->lock);
    return rc;
}

static enum pk_relay_store_rc pk_mem_take_state(void *be, const char *state, time_t now,
                                                struct pk_relay_pkce *pkce,
                                                struct pk_relay_session_out *out)
{
    struct pk_mem_store *st = be;
    struct pk_sess *x;
    enum pk_relay_store_rc rc = PK_RS_UNKNOWN;

    (void)pthread_mutex_lock(&st->lock);
    x = pk_ix_find(st, PK_IX_STATE, state);
    if (x != NULL) {
        pk_ix_del(st, PK_IX_STATE, x);
        x->has_state = false;
        *pkce = x->pkce;
        pk_wipe(&x->pkce, sizeof(x->pkce));
        pk_fill_out(x, now, out);
        rc = pk_page_state(x, now);
        if (rc == PK_RS_OK)
            x->state = PK_SS_PENDING;
    }
    (void)pthread_mutex_unlock(&st->lock);
    return rc;
}

static enum pk_relay_store_rc pk_mem_approve(void *be, const char *short_id, time_t now,
                                             const char *kakao_id, long long auth_time,
                                             char code_out[7], struct pk_relay_session_out *out)
{
    struct pk_mem_store *st = be;
    struct pk_sess *x;
    enum pk_relay_store_rc rc;

    (void)pthread_mutex_lock(&st->lock);
    x = pk_ix_find(st, PK_IX_SHORT, short_id);
    rc = pk_page_state(x, now);
    if (rc == PK_RS_OK) {
        if (!pk_relay_new_code(x->code)) {
            rc = PK_RS_RANDOM;
        } else {
            (void)snprintf(x->kakao_id, sizeof(x->kakao_id), "%s", kakao_id);
            x->auth_time = auth_time;
            x->state = PK_SS_APPROVED;
            memcpy(code_out, x->code, 7);
        }
    }
    if (x != NULL)
        pk_fill_out(x, now, out);
    (void)pthread_mutex_unlock(&st->lock);
    return rc;
}

static enum pk_relay_store_rc pk_mem_redeem(void *be, const char *s, const char *code, time_t now,
                                            struct pk_relay_session_out *out)
{
    struct pk_mem_store *st = be;
    struct pk_sess *x;
    enum pk_relay_store_rc rc;

    (void)pthread_mutex_lock(&st->lock);
    x = pk_ix_find(st, PK_IX_S, s);
    if (x == NULL) {
        rc = PK_RS_UNKNOWN;
    } else if (x->state == PK_SS_USED) {
        rc = PK_RS_USED;
    } else if (now >= x->expires) {
        rc = PK_RS_EXPIRED;
    } else if (x->state != PK_SS_APPROVED) {
        rc = PK_RS_NOT_APPROVED;
    } else if (pk_ct_equal(x->code, 6, code, strlen(code))) {
        rc = PK_RS_OK;
        x->state = PK_SS_USED;
    } else {
        rc = PK_RS_WRONG_CODE;
        if (--x->attempts_left <= 0) {
            x->attempts_left = 0;
            x->state = PK_SS_USED;
        }
    }
    if (x != NULL) {
        pk_fill_out(x, now, out);
        if (x->state == PK_SS_USED)
            pk_wipe(x->code, sizeof(x->code));
    }
    (void)pthread_mutex_unlock(&st->lock);
    return rc;
}

static enum pk_relay_store_rc pk_mem_ping(void *be)
{
    (void)be;
    return PK_RS_OK;
}

static const struct pk_relay_store_ops pk_mem_ops = {
    pk_mem_rate,    pk_mem_create, pk_mem_view,  pk_mem_begin, pk_mem_take_state,
    pk_mem_approve, pk_mem_redeem, pk_mem_sweep, pk_mem_ping,  pk_mem_free,
};

struct pk_relay_store *pk_relay_store_new(const struct pk_relay_store_conf *conf)
{
    struct pk_mem_store *be = pk_mem_new(conf);
    struct pk_relay_store *st;

    if (be == NULL)
        return NULL;
    st = pk_relay_store_wrap(&pk_mem_ops, be);
    if (st == NULL)
        pk_mem_free(be);
    return st;
}

/* The interface: each step goes to the backend's row. */
struct pk_relay_store {
    const struct pk_relay_store_ops *ops;
    void *be;
};

struct pk_relay_store *pk_relay_store_wrap(const struct pk_relay_store_ops *ops, void *be)
{
    struct pk_relay_store *st = malloc(sizeof(*st));

    if (st != NULL)
        *st = (struct pk_relay_store){ops, be};
    return st;
}

void pk_relay_store_free(struct pk_relay_store *st)
{
    if (st == NULL)
        return;
    st->ops->free(st->be);
    free(st);
}

enum pk_relay_store_rc pk_relay_store_rate(struct pk_relay_store *st, const char *client,
                                           time_t now)
{
    return st->ops->rate(st->be, client, now);
}

enum pk_relay_store_rc pk_relay_store_create(struct pk_relay_store *st,
                                             const struct pk_relay_session_in *in, time_t now,
                                             char s_out[PK_RELAY_S_LEN + 1],
                                             char short_out[PK_RELAY_SHORT_LEN + 1],
                                             char tag_out[9])
{
    return st->ops->create(st->be, in, now, s_out, short_out, tag_out);
}

enum pk_relay_store_rc pk_relay_store_view(struct pk_relay_store *st, const char *short_id,
                                           time_t now, struct pk_relay_session_out *out)
{
    return st->ops->view(st->be, short_id, now, out);
}

enum pk_relay_store_rc pk_relay_store_begin(struct pk_relay_store *st, const char *short_id,
                                            time_t now, const struct pk_relay_pkce *pkce,
                                            struct pk_relay_session_out *out)
{
    return st->ops->begin(st->be, short_id, now, pkce, out);
}

enum pk_relay_store_rc pk_relay_store_take_state(struct pk_relay_store *st, const char *state,
                                                 time_t now, struct pk_relay_pkce *pkce,
                                                 struct pk_relay_session_out *out)
{
    return st->ops->take_state(st->be, state, now, pkce, out);
}

enum pk_relay_store_rc pk_relay_store_approve(struct pk_relay_store *st, const char *short_id,
                                              time_t now, const char *kakao_id, long long auth_time,
                                              char code_out[7], struct pk_relay_session_out *out)
{
    return st->ops->approve(st->be, short_id, now, kakao_id, auth_time, code_out, out);
}

enum pk_relay_store_rc pk_relay_store_redeem(struct pk_relay_store *st, const char *s,
                                             const char *code, time_t now,
                                             struct pk_relay_session_out *out)
{
    return st->ops->redeem(st->be, s, code, now, out);
}

size_t pk_relay_store_sweep(struct pk_relay_store *st, time_t now)
{
    return st->ops->sweep(st->be, now);
}

enum pk_relay_store_rc pk_relay_store_ping(struct pk_relay_store *st)
{
    return st->ops->ping(st->be);
}
