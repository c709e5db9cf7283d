/* The relay's sessions in Redis (store = redis://… or unix:…), so that
 * several instances behind a load balancer serve one fleet
 * (docs/DESIGN.md §13.3, kakao-pam-relay(8)).
 *
 * Keys (every one with a TTL: the session's life plus its grace):
 *   pk:relay:s:<SHA-256(S) hex>     hash: the session (S itself is never stored)
 *   pk:relay:a:<short id>           -> SHA-256(S) hex
 *   pk:relay:k:<SHA-256(state) hex> -> SHA-256(S) hex, while a Kakao login is out
 *   pk:relay:r:<minute>:<client>    rate_limit counter (INCR, PEXPIRE)
 *   pk:relay:live                   sorted set of sessions held, for max_sessions
 * Every change is one Lua script (EVAL), which Redis runs atomically; a
 * step whose MAC covers what it reads first (begin, approve, redeem) reads
 * with one script and changes with a second that is a compare-and-set on
 * what it read: a right code consumes the session exactly once however
 * many instances race, a wrong one takes one attempt. The code is kept as
 * its MAC (with SHA-256(S)) under the store key and compared by the relay,
 * in constant time, so neither what Redis holds nor what it is sent says
 * anything about the code, and whoever can only write to Redis cannot set
 * one. Every record carries MACs over what the relay trusts it for, checked
 * whenever one is read back, and the pointers to it (short id, state) are
 * checked against it (relay/store_mac.h). Scripts name keys they derive
 * (the session behind a short id), so one Redis server or a primary, not a
 * cluster.
 *
 * Connections: libmicrohttpd runs each client connection in its own thread
 * (relay/server.c), so a Redis connection is never shared between two
 * requests at once: a step takes an idle connection from a small pool (or
 * opens one), and gives it back only when the step went well. A failed or
 * timed-out connection is closed, so the next step reconnects by itself;
 * an idle one is checked before it is used, and a command that reached the
 * socket is never sent twice (docs/DESIGN.md §13.3.1). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "relay/store_backend.h"
#include "relay/store_mac.h"
#include "src/redis.h"
#include "src/secure.h"

#define PK_REDIS_POOL 8
#define PK_REDIS_FIELDS 16
#define PK_REDIS_MAX_ARGS 20 /* a command's words, EVAL's included */
/* The labels of the MACs a session record carries: over what the relay
 * trusts it for at creation, while a Kakao login is out, and once approved;
 * and of its code's. */
#define PK_RS_MAC_CREATE "create"
#define PK_RS_MAC_BEGIN "begin"
#define PK_RS_MAC_APPROVE "approve"
#define PK_RS_MAC_CODE "code"

struct pk_redis_store {
    struct pk_relay_store_conf conf;
    struct pk_redis_target target;
    char *password;                              /* NULL: no AUTH; wiped on free */
    unsigned char mac_key[PK_RELAY_MAC_KEY_LEN]; /* from the signing key; wiped on free */
    EVP_MAC *hmac;                               /* fetched once */
    long timeout;                                /* seconds, each step */
    const struct pk_logger *log;
    char where[300]; /* the target, for the log */
    pthread_mutex_t lock;
    struct pk_redis *idle[PK_REDIS_POOL];
    size_t idle_count;
};

/* Shared by the scripts: the session's fields in one order (pk_fill_out
 * reads them so), and where a session found by short id stands. */
#define PK_LUA_PRELUDE                                                                             \
    "local function fields(k) return redis.call('HMGET', k, 'u', 'sv', 'h', 'rh', 'short', "       \
    "'att', 'exp', 'kid', 'at', 'n', 'v', 'm', 'ma', 'code', 'stk', 'bm') end\n"                   \
    "local function page(k, now)\n"                                                                \
    "  local f = redis.call('HMGET', k, 'st', 'exp')\n"                                            \
    "  if not f[1] then return 'unknown' end\n"                                                    \
    "  if now >= tonumber(f[2]) then return 'expired' end\n"                                       \
    "  if f[1] == 'u' then return 'used' end\n"                                                    \
    "  if f[1] == 'a' then return 'approved' end\n"                                                \
    "  return 'ok'\n"                                                                              \
    "end\n"

/* KEYS: rate key. ARGV: limit. */
static const char pk_lua_rate[] = "local n = redis.call('INCR', KEYS[1])\n"
                                  "if n == 1 then redis.call('PEXPIRE', KEYS[1], 61000) end\n"
                                  "if n > tonumber(ARGV[1]) then return {'rate'} end\n"
                                  "return {'ok'}\n";

/* KEYS: session, short, live. ARGV: now, keep_ms, max_sessions, expires,
 * attempts, user, service, host, rhost, short id, SHA-256(S), swept_at,
 * the create MAC. */
static const char pk_lua_create[] =
    "redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])\n"
    "if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[3]) then return {'full'} end\n"
    "if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return {'again'} end\n"
    "redis.call('HSET', KEYS[1], 'st', 'p', 'exp', ARGV[4], 'att', ARGV[5], 'u', ARGV[6], "
    "'sv', ARGV[7], 'h', ARGV[8], 'rh', ARGV[9], 'short', ARGV[10], 'm', ARGV[13])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "redis.call('SET', KEYS[2], ARGV[11], 'PX', ARGV[2])\n"
    "redis.call('ZADD', KEYS[3], ARGV[12], ARGV[11])\n"
    "redis.call('PEXPIRE', KEYS[3], ARGV[2])\n"
    "return {'ok'}\n";

/* KEYS: short. ARGV: now. */
static const char pk_lua_view[] = PK_LUA_PRELUDE "local h = redis.call('GET', KEYS[1])\n"
                                                 "if not h then return {'unknown'} end\n"
                                                 "local k = 'pk:relay:s:' .. h\n"
                                                 "local rc = page(k, tonumber(ARGV[1]))\n"
                                                 "if rc == 'unknown' then return {rc} end\n"
                                                 "return {rc, h, fields(k)}\n";

/* KEYS: short. ARGV: now, SHA-256(state), nonce, verifier, the SHA-256(S)
 * the relay read behind the short id, the begin MAC. A short id that now
 * leads elsewhere is not written: "changed". A second press replaces the
 * first, whose state then dies. */
static const char pk_lua_begin[] = PK_LUA_PRELUDE
    "local h = redis.call('GET', KEYS[1])\n"
    "if not h then return {'unknown'} end\n"
    "local k = 'pk:relay:s:' .. h\n"
    "local rc = page(k, tonumber(ARGV[1]))\n"
    "if rc == 'unknown' then return {rc} end\n"
    "if h ~= ARGV[5] then return {'changed', h, fields(k)} end\n"
    "if rc == 'ok' then\n"
    "  local old = redis.call('HGET', k, 'stk')\n"
    "  if old then redis.call('DEL', 'pk:relay:k:' .. old) end\n"
    "  local ttl = redis.call('PTTL', k)\n"
    "  if ttl < 1 then ttl = 1 end\n"
    "  redis.call('HSET', k, 'st', 'k', 'stk', ARGV[2], 'n', ARGV[3], 'v', ARGV[4], 'bm', "
    "ARGV[6])\n"
    "  redis.call('SET', 'pk:relay:k:' .. ARGV[2], h, 'PX', ttl)\n"
    "end\n"
    "return {rc, h, fields(k)}\n";

/* KEYS: state. ARGV: now. The state is single use; the Kakao leg's secrets
 * and their MAC leave the session with it (the answer holds them). */
static const char pk_lua_take_state[] =
    PK_LUA_PRELUDE "local h = redis.call('GET', KEYS[1])\n"
                   "if not h then return {'unknown'} end\n"
                   "redis.call('DEL', KEYS[1])\n"
                   "local k = 'pk:relay:s:' .. h\n"
                   "local rc = page(k, tonumber(ARGV[1]))\n"
                   "if rc == 'unknown' then return {rc} end\n"
                   "local f = fields(k)\n"
                   "redis.call('HDEL', k, 'stk', 'n', 'v', 'bm')\n"
                   "if rc == 'ok' then redis.call('HSET', k, 'st', 'p') end\n"
                   "return {rc, h, f}\n";

/* KEYS: short. ARGV: now, kakao_id, auth_time, the code's MAC, the create
 * MAC the approval MAC was made over, the approval MAC, the SHA-256(S) the
 * relay read behind the short id. A short id that now leads elsewhere, or
 * a record whose create MAC is not that one, is not written: "changed". */
static const char pk_lua_approve[] =
    PK_LUA_PRELUDE "local h = redis.call('GET', KEYS[1])\n"
                   "if not h then return {'unknown'} end\n"
                   "local k = 'pk:relay:s:' .. h\n"
                   "local rc = page(k, tonumber(ARGV[1]))\n"
                   "if rc == 'unknown' then return {rc} end\n"
                   "if h ~= ARGV[7] or redis.call('HGET', k, 'm') ~= ARGV[5] then\n"
                   "  return {'changed', h, fields(k)}\n"
                   "end\n"
                   "if rc == 'ok' then\n"
                   "  redis.call('HSET', k, 'st', 'a', 'kid', ARGV[2], 'at', ARGV[3], 'code', "
                   "ARGV[4], 'ma', ARGV[6])\n"
                   "end\n"
                   "return {rc, h, fields(k)}\n";

/* KEYS: session. ARGV: now, SHA-256(S). Reads only: the relay checks the
 * record and compares the code's MAC itself, then runs pk_lua_use or
 * pk_lua_miss. */
static const char pk_lua_redeem[] =
    PK_LUA_PRELUDE "local k = KEYS[1]\n"
                   "local f = redis.call('HMGET', k, 'st', 'exp')\n"
                   "if not f[1] then return {'unknown'} end\n"
                   "local rc = 'ok'\n"
                   "if f[1] == 'u' then rc = 'used'\n"
                   "elseif tonumber(ARGV[1]) >= tonumber(f[2]) then rc = 'expired'\n"
                   "elseif f[1] ~= 'a' then rc = 'not_approved' end\n"
                   "return {rc, ARGV[2], fields(k)}\n";

/* What pk_lua_use and pk_lua_miss share: the session is still approved,
 * unexpired and holds the code's MAC the relay compared with (ARGV: now,
 * that MAC, SHA-256(S)); else "used", "expired", or "changed". */
#define PK_LUA_STILL                                                                               \
    "local k = KEYS[1]\n"                                                                          \
    "local f = redis.call('HMGET', k, 'st', 'exp', 'code')\n"                                      \
    "if not f[1] then return {'unknown'} end\n"                                                    \
    "if f[1] == 'u' then return {'used'} end\n"                                                    \
    "if tonumber(ARGV[1]) >= tonumber(f[2]) then return {'expired'} end\n"                         \
    "if f[1] ~= 'a' or f[3] ~= ARGV[2] then return {'changed', ARGV[3], fields(k)} end\n"

/* The right code: the session is used (once, however many relays race). */
static const char pk_lua_use[] = PK_LUA_PRELUDE PK_LUA_STILL "redis.call('HSET', k, 'st', 'u')\n"
                                                             "return {'ok', ARGV[3], fields(k)}\n";

/* A wrong code: one attempt; the last makes the session used. */
static const char pk_lua_miss[] = PK_LUA_PRELUDE PK_LUA_STILL
    "if redis.call('HINCRBY', k, 'att', -1) <= 0 then redis.call('HSET', k, 'att', 0, 'st', "
    "'u') end\n"
    "return {'wrong_code', ARGV[3], fields(k)}\n";

static void pk_rs_free(void *be)
{
    struct pk_redis_store *rs = be;

    if (rs == NULL)
        return;
    for (size_t i = 0; i < rs->idle_count; i++)
        pk_redis_close(rs->idle[i]);
    pk_free_secret_str(rs->password);
    pk_wipe(rs->mac_key, sizeof(rs->mac_key));
    EVP_MAC_free(rs->hmac);
    (void)pthread_mutex_destroy(&rs->lock);
    free(rs);
}

/* An idle connection that is still usable (*pooled), or a new one within
 * deadline. An idle one the server closed (a restart), or that holds bytes
 * no command asked for, is closed here, before anything is sent on it. */
static enum pk_status pk_rs_get(struct pk_redis_store *rs, long long deadline, bool *pooled,
                                struct pk_redis **out, char *problem, size_t len)
{
    for (;;) {
        struct pk_redis *c = NULL;

        (void)pthread_mutex_lock(&rs->lock);
        if (rs->idle_count > 0)
            c = rs->idle[--rs->idle_count];
        (void)pthread_mutex_unlock(&rs->lock);
        if (c == NULL)
            break;
        if (pk_redis_idle_usable(c)) {
            *pooled = true;
            *out = c;
            return PK_ST_OK;
        }
        pk_redis_close(c);
    }
    *pooled = false;
    return pk_redis_connect(&rs->target, rs->password, deadline, out, problem, len);
}

static void pk_rs_put(struct pk_redis_store *rs, struct pk_redis *c)
{
    (void)pthread_mutex_lock(&rs->lock);
    if (rs->idle_count < PK_REDIS_POOL) {
        rs->idle[rs->idle_count++] = c;
        c = NULL;
    }
    (void)pthread_mutex_unlock(&rs->lock);
    if (c != NULL)
        pk_redis_close(c);
}

/* After a failure the idle connections are likely dead too (a restarted
 * server): closed, so the next steps start afresh. */
static void pk_rs_flush(struct pk_redis_store *rs)
{
    struct pk_redis *dead[PK_REDIS_POOL];
    size_t n;

    (void)pthread_mutex_lock(&rs->lock);
    n = rs->idle_count;
    for (size_t i = 0; i < n; i++)
        dead[i] = rs->idle[i];
    rs->idle_count = 0;
    (void)pthread_mutex_unlock(&rs->lock);
    for (size_t i = 0; i < n; i++)
        pk_redis_close(dead[i]);
}

/* One command within timeout: PK_RS_OK with *out (a reply that is not a
 * Redis error), or PK_RS_UNAVAILABLE / PK_RS_NOMEM, logged once (the
 * layer's problems are escaped already). Once a byte of the command was
 * handed to the socket, a failure is final: Redis may have run it (a
 * connection dropped before the reply), and a second run would take a
 * second attempt of a wrong code. Only a pooled connection that failed
 * before sending anything is replaced by a new one (same deadline). */
static enum pk_relay_store_rc pk_rs_command(struct pk_redis_store *rs, const char *step, int argc,
                                            const char *const *argv, struct pk_redis_reply **out)
{
    long long deadline = pk_redis_now_ms() + rs->timeout * 1000;
    size_t lens[PK_REDIS_MAX_ARGS];
    char problem[512] = "";
    enum pk_status st = PK_ST_UNAVAILABLE;
    bool retry = true;

    *out = NULL;
    if (argc < 1 || argc > PK_REDIS_MAX_ARGS) {
        pk_log(rs->log, LOG_ERR, "store unavailable (%s): %d words in one command", step, argc);
        return PK_RS_UNAVAILABLE;
    }
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    while (retry) {
        struct pk_redis *c;
        bool pooled, sent;
        st = pk_rs_get(rs, deadline, &pooled, &c, problem, sizeof(problem));
        if (st != PK_ST_OK)
            break;
        st = pk_redis_command(c, deadline, argc, argv, lens, out, problem, sizeof(problem));
        if (st == PK_ST_OK && (*out)->type == PK_REDIS_ERROR) {
            char msg[160];
            pk_log_text(msg, sizeof(msg), (*out)->str != NULL ? (*out)->str : "");
            (void)snprintf(problem, sizeof(problem), "redis %s: error reply \"%s\"", rs->where,
                           msg);
            pk_redis_reply_free(*out);
            *out = NULL;
            pk_rs_put(rs, c); /* the connection itself is fine */
            st = PK_ST_REFUSED;
            break;
        }
        if (st == PK_ST_OK) {
            pk_rs_put(rs, c);
            return PK_RS_OK;
        }
        sent = pk_redis_command_sent(c);
        pk_redis_close(c);
        if (st == PK_ST_UNAVAILABLE)
            pk_rs_flush(rs);
        retry = pooled && !sent && st == PK_ST_UNAVAILABLE && pk_redis_now_ms() < deadline;
    }
    pk_log(rs->log, LOG_ERR, "store unavailable (%s): %s", step,
           st == PK_ST_NOMEM ? "out of memory" : problem);
    return st == PK_ST_NOMEM ? PK_RS_NOMEM : PK_RS_UNAVAILABLE;
}

/* EVAL script with keys then args (at most 17 in all). */
static enum pk_relay_store_rc pk_rs_eval(struct pk_redis_store *rs, const char *step,
                                         const char *script, int nkeys, int nargs,
                                         const char *const *keys_args, struct pk_redis_reply **out)
{
    const char *argv[PK_REDIS_MAX_ARGS];
    char nk[12];

    *out = NULL;
    if (nkeys < 0 || nargs < 0 || nkeys + nargs > PK_REDIS_MAX_ARGS - 3) {
        pk_log(rs->log, LOG_ERR, "store unavailable (%s): %d words in one command", step,
               3 + nkeys + nargs);
        return PK_RS_UNAVAILABLE;
    }
    (void)snprintf(nk, sizeof(nk), "%d", nkeys);
    argv[0] = "EVAL";
    argv[1] = script;
    argv[2] = nk;
    for (int i = 0; i < nkeys + nargs; i++)
        argv[3 + i] = keys_args[i];
    return pk_rs_command(rs, step, 3 + nkeys + nargs, argv, out);
}

static bool pk_rs_is(const struct pk_redis_reply *r, const char *text)
{
    return r != NULL && (r->type == PK_REDIS_STR || r->type == PK_REDIS_STATUS) &&
           r->len == strlen(text) && memcmp(r->str, text, r->len) == 0;
}

static long long pk_rs_number(const struct pk_redis_reply *r)
{
    char buf[24];

    if (r->type == PK_REDIS_INT)
        return r->integer;
    if (r->type != PK_REDIS_STR || r->len == 0 || r->len >= sizeof(buf))
        return 0;
    memcpy(buf, r->str, r->len);
    buf[r->len] = '\0';
    return strtoll(buf, NULL, 10);
}

static void pk_rs_text(char *dst, size_t size, const struct pk_redis_reply *r)
{
    size_t n = r->type == PK_REDIS_STR ? r->len : 0;

    if (n >= size)
        n = size - 1;
    if (n > 0)
        memcpy(dst, r->str, n);
    dst[n] = '\0';
}

/* What a step wants of a script's answer besides its status. */
struct pk_rs_want {
    struct pk_relay_session_out *out; /* NULL: nothing */
    struct pk_relay_pkce *pkce;       /* NULL: nothing */
    bool approval;        /* an "ok" or "wrong_code" stands on an approval: its MAC must be there */
    const char *short_id; /* NULL, or the short id the record must carry (it was found by it) */
    const char *khash;    /* NULL, or SHA-256(state) hex the record's begin MAC must cover */
    const char *expect_h; /* NULL, or the SHA-256(S) hex the answer must name (the session the
                           * step is about: from S, or what the step's first script read) */
    char *seen_h;         /* NULL, or 65 bytes: SHA-256(S) hex of the record, once checked */
    char *seen_m;         /* NULL, or 65 bytes: its create MAC, once checked */
    char *seen_code;      /* NULL, or 65 bytes: its code's MAC, once checked */
};

/* Whether field mac_ix of the fields f is the MAC (label) of SHA-256(S) hex
 * h and the fields ix, in that order; a field that is not there fails. */
static bool pk_rs_mac_ok(const struct pk_redis_store *rs, const char *label,
                         const struct pk_redis_reply *h, const struct pk_redis_reply *f,
                         const int *ix, size_t n, int mac_ix)
{
    struct pk_relay_mac_field in[8];
    char want[PK_RELAY_MAC_HEX_LEN + 1];
    const struct pk_redis_reply *got = &f->element[mac_ix];

    if (n + 1 > sizeof(in) / sizeof(in[0]) || got->type != PK_REDIS_STR ||
        got->len != PK_RELAY_MAC_HEX_LEN)
        return false;
    in[0] = (struct pk_relay_mac_field){h->str, h->len};
    for (size_t i = 0; i < n; i++) {
        const struct pk_redis_reply *x = &f->element[ix[i]];
        if (x->type != PK_REDIS_STR)
            return false;
        in[i + 1] = (struct pk_relay_mac_field){x->str, x->len};
    }
    return pk_relay_mac(rs->hmac, rs->mac_key, label, in, n + 1, want) &&
           CRYPTO_memcmp(want, got->str, PK_RELAY_MAC_HEX_LEN) == 0;
}

/* Whether the record in the fields f is one this fleet wrote: its create
 * MAC over who, where and until when, and when it holds an approval (or
 * the step stands on one), the approval's MAC over the kakao_id, the
 * auth_time, the create MAC and the code's MAC. want: the short id it
 * must carry, and the state its begin MAC must cover (the state's
 * SHA-256 kept beside it, stk, must be that one too). */
static bool pk_rs_record_ok(const struct pk_redis_store *rs, const struct pk_redis_reply *h,
                            const struct pk_redis_reply *f, bool approval,
                            const struct pk_rs_want *want)
{
    /* u, sv, h, rh, exp, short; kid, at, m, code; stk, n, v (PK_LUA_PRELUDE's order). */
    static const int create_ix[] = {0, 1, 2, 3, 6, 4};
    static const int approve_ix[] = {7, 8, 11, 13};
    static const int begin_ix[] = {14, 9, 10};
    const struct pk_redis_reply *short_id = &f->element[4], *stk = &f->element[14];

    if (!pk_rs_mac_ok(rs, PK_RS_MAC_CREATE, h, f, create_ix, 6, 11))
        return false;
    if (want != NULL && want->short_id != NULL &&
        (short_id->len != strlen(want->short_id) ||
         memcmp(short_id->str, want->short_id, short_id->len) != 0))
        return false;
    if (want != NULL && want->khash != NULL &&
        (stk->type != PK_REDIS_STR || stk->len != PK_RELAY_MAC_HEX_LEN ||
         CRYPTO_memcmp(stk->str, want->khash, PK_RELAY_MAC_HEX_LEN) != 0 ||
         !pk_rs_mac_ok(rs, PK_RS_MAC_BEGIN, h, f, begin_ix, 3, 15)))
        return false;
    if (!approval && f->element[7].type == PK_REDIS_NIL && f->element[8].type == PK_REDIS_NIL &&
        f->element[12].type == PK_REDIS_NIL && f->element[13].type == PK_REDIS_NIL)
        return true;
    return pk_rs_mac_ok(rs, PK_RS_MAC_APPROVE, h, f, approve_ix, 4, 12);
}

/* Whether r is 64 lowercase hex digits (SHA-256(S) as the relay writes it),
 * the only shape in which a value read from Redis may name a record, in a
 * key or in the log. */
static bool pk_rs_is_hash(const struct pk_redis_reply *r)
{
    if (r->type != PK_REDIS_STR || r->len != PK_RELAY_MAC_HEX_LEN)
        return false;
    for (size_t i = 0; i < r->len; i++) {
        char ch = r->str[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
            return false;
    }
    return true;
}

/* A script's answer {status[, SHA-256(S), fields]}: the status as a store
 * result, want's out and pkce filled from the fields when they are there.
 * A reply of another shape is a broken store, a record that fails its MAC
 * (or changed under an approval) a forged one: PK_RS_UNAVAILABLE, logged. */
static enum pk_relay_store_rc pk_rs_answer(struct pk_redis_store *rs, const char *step,
                                           const struct pk_redis_reply *r, time_t now,
                                           const struct pk_rs_want *want)
{
    static const struct {
        const char *name;
        enum pk_relay_store_rc rc;
    } names[] = {
        {"ok", PK_RS_OK},
        {"unknown", PK_RS_UNKNOWN},
        {"expired", PK_RS_EXPIRED},
        {"used", PK_RS_USED},
        {"approved", PK_RS_APPROVED},
        {"not_approved", PK_RS_NOT_APPROVED},
        {"wrong_code", PK_RS_WRONG_CODE},
        {"full", PK_RS_FULL},
        {"rate", PK_RS_RATE},
        {"again", PK_RS_RANDOM},
        {"changed", PK_RS_UNAVAILABLE},
    };
    struct pk_relay_session_out *out = want != NULL ? want->out : NULL;
    const struct pk_redis_reply *f, *h;
    enum pk_relay_store_rc rc = PK_RS_UNAVAILABLE;
    bool known = false, approval, fields;
    long long expires;

    if (r->type != PK_REDIS_ARRAY || (r->elements != 1 && r->elements != 3))
        goto broken;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (pk_rs_is(&r->element[0], names[i].name)) {
            rc = names[i].rc;
            known = true;
        }
    }
    if (!known)
        goto broken;
    /* Whether the step reads the record's fields: then only "unknown",
     * "used" and "expired" may come without them. */
    fields = want != NULL && (out != NULL || want->pkce != NULL || want->seen_h != NULL ||
                              want->seen_code != NULL || want->expect_h != NULL);
    if (r->elements == 1) {
        if (rc == PK_RS_UNAVAILABLE ||
            (fields && rc != PK_RS_UNKNOWN && rc != PK_RS_USED && rc != PK_RS_EXPIRED))
            goto broken;
        return rc;
    }
    /* Steps without a record to read (rate, create) never get one. */
    if (want == NULL)
        goto broken;
    h = &r->element[1];
    f = &r->element[2];
    if (!pk_rs_is_hash(h) || f->type != PK_REDIS_ARRAY || f->elements != PK_REDIS_FIELDS)
        goto broken;
    approval =
        rc == PK_RS_APPROVED || (want->approval && (rc == PK_RS_OK || rc == PK_RS_WRONG_CODE));
    /* The answer must be about the session the step is about (public
     * hashes: a plain comparison; a "changed" found by short id may name
     * the record the short id leads to now), and a record this fleet wrote. */
    if ((want->expect_h != NULL && (rc != PK_RS_UNAVAILABLE || want->short_id == NULL) &&
         memcmp(h->str, want->expect_h, PK_RELAY_MAC_HEX_LEN) != 0) ||
        !pk_rs_record_ok(rs, h, f, approval, want)) {
        pk_log(rs->log, LOG_ERR, "store record fails its MAC (tag=%.8s): refused", h->str);
        return PK_RS_UNAVAILABLE;
    }
    if (rc == PK_RS_UNAVAILABLE) {
        pk_log(rs->log, LOG_ERR, "store record changed during the step (tag=%.8s): refused",
               h->str);
        return PK_RS_UNAVAILABLE;
    }
    /* The expiry Redis judged, judged again from the checked exp. */
    expires = pk_rs_number(&f->element[6]);
    if ((long long)now >= expires && rc != PK_RS_UNKNOWN && rc != PK_RS_USED)
        rc = PK_RS_EXPIRED;
    if (out != NULL) {
        memset(out, 0, sizeof(*out));
        pk_rs_text(out->user, sizeof(out->user), &f->element[0]);
        pk_rs_text(out->service, sizeof(out->service), &f->element[1]);
        pk_rs_text(out->host, sizeof(out->host), &f->element[2]);
        pk_rs_text(out->rhost, sizeof(out->rhost), &f->element[3]);
        pk_rs_text(out->short_id, sizeof(out->short_id), &f->element[4]);
        out->attempts_left = (int)pk_rs_number(&f->element[5]);
        out->seconds_left = expires > (long long)now ? (long)(expires - (long long)now) : 0;
        pk_rs_text(out->kakao_id, sizeof(out->kakao_id), &f->element[7]);
        out->auth_time = pk_rs_number(&f->element[8]);
        memcpy(out->s_tag, h->str, 8);
        out->s_tag[8] = '\0';
    }
    if (want->pkce != NULL) {
        pk_rs_text(want->pkce->nonce, sizeof(want->pkce->nonce), &f->element[9]);
        pk_rs_text(want->pkce->verifier, sizeof(want->pkce->verifier), &f->element[10]);
    }
    if (want->seen_h != NULL && want->seen_m != NULL) {
        pk_rs_text(want->seen_h, PK_RELAY_MAC_HEX_LEN + 1, h);
        pk_rs_text(want->seen_m, PK_RELAY_MAC_HEX_LEN + 1, &f->element[11]);
    }
    if (want->seen_code != NULL)
        pk_rs_text(want->seen_code, PK_RELAY_MAC_HEX_LEN + 1, &f->element[13]);
    return rc;
broken:
    pk_log(rs->log, LOG_ERR, "store unavailable (%s): redis %s: unexpected reply", step, rs->where);
    return PK_RS_UNAVAILABLE;
}

/* Runs one script and reads its answer (want may be NULL). */
static enum pk_relay_store_rc pk_rs_step(struct pk_redis_store *rs, const char *step,
                                         const char *script, int nkeys, int nargs,
                                         const char *const *keys_args, time_t now,
                                         const struct pk_rs_want *want)
{
    struct pk_redis_reply *reply;
    enum pk_relay_store_rc rc = pk_rs_eval(rs, step, script, nkeys, nargs, keys_args, &reply);

    if (rc != PK_RS_OK)
        return rc;
    rc = pk_rs_answer(rs, step, reply, now, want);
    pk_redis_reply_free(reply);
    return rc;
}

/* A MAC under the store key; false (logged as the step's failure) when
 * OpenSSL fails. */
static bool pk_rs_mac(struct pk_redis_store *rs, const char *step, const char *label,
                      const struct pk_relay_mac_field *covered, size_t n,
                      char hex[PK_RELAY_MAC_HEX_LEN + 1])
{
    if (pk_relay_mac(rs->hmac, rs->mac_key, label, covered, n, hex))
        return true;
    pk_log(rs->log, LOG_ERR, "store unavailable (%s): no MAC (OpenSSL failed)", step);
    return false;
}

/* SHA-256 hex of s; false (logged as the step's failure) when OpenSSL fails. */
static bool pk_rs_sha256(struct pk_redis_store *rs, const char *step, const char *s, size_t len,
                         char hex[65])
{
    if (pk_relay_sha256_hex(s, len, hex))
        return true;
    pk_log(rs->log, LOG_ERR, "store unavailable (%s): no SHA-256 (OpenSSL failed)", step);
    return false;
}

/* The code as Redis keeps and compares it: its MAC with SHA-256(S) hex h. */
static bool pk_rs_code_mac(struct pk_redis_store *rs, const char *step, const char *h,
                           const char *code, char cm[PK_RELAY_MAC_HEX_LEN + 1])
{
    const struct pk_relay_mac_field covered[2] = {{h, PK_RELAY_MAC_HEX_LEN}, {code, strlen(code)}};

    return pk_rs_mac(rs, step, PK_RS_MAC_CODE, covered, 2, cm);
}

static enum pk_relay_store_rc pk_rs_rate(void *be, const char *client, time_t now)
{
    struct pk_redis_store *rs = be;
    char key[128], limit[24];
    const char *ka[2] = {key, limit};

    (void)snprintf(key, sizeof(key), "pk:relay:r:%lld:%s", (long long)now / 60, client);
    (void)snprintf(limit, sizeof(limit), "%ld", rs->conf.rate_limit);
    return pk_rs_step(rs, "rate", pk_lua_rate, 1, 1, ka, now, NULL);
}

static enum pk_relay_store_rc pk_rs_create(void *be, const struct pk_relay_session_in *in,
                                           time_t now, char s_out[PK_RELAY_S_LEN + 1],
                                           char short_out[PK_RELAY_SHORT_LEN + 1], char tag_out[9])
{
    struct pk_redis_store *rs = be;
    long keep = rs->conf.ttl + PK_RELAY_STORE_GRACE;
    char s[PK_RELAY_S_LEN + 1], shash[65], skey[80], akey[40], tnow[24], keep_ms[24], max[24];
    char expires[24], attempts[24], swept[24], mac[PK_RELAY_MAC_HEX_LEN + 1];
    enum pk_relay_store_rc rc = PK_RS_RANDOM;

    (void)snprintf(tnow, sizeof(tnow), "%lld", (long long)now);
    (void)snprintf(keep_ms, sizeof(keep_ms), "%ld", keep * 1000);
    (void)snprintf(max, sizeof(max), "%ld", rs->conf.max_sessions);
    (void)snprintf(expires, sizeof(expires), "%lld", (long long)now + rs->conf.ttl);
    (void)snprintf(attempts, sizeof(attempts), "%ld", rs->conf.attempts);
    (void)snprintf(swept, sizeof(swept), "%lld", (long long)now + keep);
    /* 256 and 54 random bits: a collision is a broken CSPRNG, but cheap to rule out. */
    for (int tries = 0; tries < 3; tries++) {
        const char *ka[16] = {
            skey,     akey,        "pk:relay:live", tnow,      keep_ms,   max,   expires, attempts,
            in->user, in->service, in->host,        in->rhost, short_out, shash, swept,   mac};
        /* What the create MAC covers, in pk_rs_record_ok's order. */
        const struct pk_relay_mac_field covered[7] = {
            {shash, PK_RELAY_MAC_HEX_LEN},      {in->user, strlen(in->user)},
            {in->service, strlen(in->service)}, {in->host, strlen(in->host)},
            {in->rhost, strlen(in->rhost)},     {expires, strlen(expires)},
            {short_out, PK_RELAY_SHORT_LEN},
        };
        if (!pk_relay_new_s(s) || !pk_relay_new_short(short_out)) {
            rc = PK_RS_RANDOM;
            break;
        }
        if (!pk_rs_sha256(rs, "create", s, PK_RELAY_S_LEN, shash)) {
            rc = PK_RS_UNAVAILABLE;
            break;
        }
        (void)snprintf(skey, sizeof(skey), "pk:relay:s:%s", shash);
        (void)snprintf(akey, sizeof(akey), "pk:relay:a:%s", short_out);
        if (!pk_rs_mac(rs, "create", PK_RS_MAC_CREATE, covered, 7, mac)) {
            rc = PK_RS_UNAVAILABLE;
            break;
        }
        rc = pk_rs_step(rs, "create", pk_lua_create, 3, 13, ka, now, NULL);
        if (rc != PK_RS_RANDOM) /* "again": S or the short id is taken */
            break;
    }
    if (rc == PK_RS_OK) {
        memcpy(s_out, s, sizeof(s));
        memcpy(tag_out, shash, 8);
        tag_out[8] = '\0';
    }
    pk_wipe(s, sizeof(s));
    return rc;
}

static enum pk_relay_store_rc pk_rs_view(void *be, const char *short_id, time_t now,
                                         struct pk_relay_session_out *out)
{
    char akey[64], tnow[24];
    const char *ka[2] = {akey, tnow};
    const struct pk_rs_want want = {.out = out, .short_id = short_id};

    (void)snprintf(akey, sizeof(akey), "pk:relay:a:%s", short_id);
    (void)snprintf(tnow, sizeof(tnow), "%lld", (long long)now);
    return pk_rs_step(be, "view", pk_lua_view, 1, 1, ka, now, &want);
}

/* Two scripts: the begin MAC covers SHA-256(S) of the record behind the
 * short id, so the record is read (and checked) first; the second script
 * writes only if the short id still leads to it. */
static enum pk_relay_store_rc pk_rs_begin(void *be, const char *short_id, time_t now,
                                          const struct pk_relay_pkce *pkce,
                                          struct pk_relay_session_out *out)
{
    struct pk_redis_store *rs = be;
    char akey[64], tnow[24], khash[65];
    char h[PK_RELAY_MAC_HEX_LEN + 1] = "", m[PK_RELAY_MAC_HEX_LEN + 1] = "";
    char bm[PK_RELAY_MAC_HEX_LEN + 1];
    const char *ka[7] = {akey, tnow, khash, pkce->nonce, pkce->verifier, h, bm};
    const struct pk_rs_want seen = {.out = out, .short_id = short_id, .seen_h = h, .seen_m = m};
    const struct pk_rs_want want = {.out = out, .short_id = short_id, .expect_h = h};
    /* What the begin MAC covers, in pk_rs_record_ok's order. */
    const struct pk_relay_mac_field covered[4] = {{h, PK_RELAY_MAC_HEX_LEN},
                                                  {khash, PK_RELAY_MAC_HEX_LEN},
                                                  {pkce->nonce, strlen(pkce->nonce)},
                                                  {pkce->verifier, strlen(pkce->verifier)}};
    enum pk_relay_store_rc rc;

    (void)snprintf(akey, sizeof(akey), "pk:relay:a:%s", short_id);
    (void)snprintf(tnow, sizeof(tnow), "%lld", (long long)now);
    if (!pk_rs_sha256(rs, "begin", pkce->state, strlen(pkce->state), khash))
        return PK_RS_UNAVAILABLE;
    rc = pk_rs_step(rs, "begin", pk_lua_view, 1, 1, ka, now, &seen);
    if (rc != PK_RS_OK)
        return rc;
    if (!pk_rs_mac(rs, "begin", PK_RS_MAC_BEGIN, covered, 4, bm))
        return PK_RS_UNAVAILABLE;
    return pk_rs_step(rs, "begin", pk_lua_begin, 1, 6, ka, now, &want);
}

static enum pk_relay_store_rc pk_rs_take_state(void *be, const char *state, time_t now,
                                               struct pk_relay_pkce *pkce,
                                               struct pk_relay_session_out *out)
{
    char kkey[80], tnow[24], khash[65];
    const char *ka[2] = {kkey, tnow};
    const struct pk_rs_want want = {.out = out, .pkce = pkce, .khash = khash};
    enum pk_relay_store_rc rc;

    memset(pkce, 0, sizeof(*pkce));
    if (!pk_rs_sha256(be, "take_state", state, strlen(state), khash))
        return PK_RS_UNAVAILABLE;
    (void)snprintf(kkey, sizeof(kkey), "pk:relay:k:%s", khash);
    (void)snprintf(tnow, sizeof(tnow), "%lld", (long long)now);
    rc = pk_rs_step(be, "take_state", pk_lua_take_state, 1, 1, ka, now, &want);
    if (rc != PK_RS_UNKNOWN && rc != PK_RS_UNAVAILABLE && rc != PK_RS_NOMEM)
        (void)snprintf(pkce->state, sizeof(pkce->state), "%s", state);
    return rc;
}

/* Two scripts: the approval's MAC covers the record's create MAC, so the
 * record is read (and checked) first; the second script writes only if
 * the short id still leads to it and it still carries that create MAC. */
static enum pk_relay_store_rc pk_rs_approve(void *be, const char *short_id, time_t now,
                                            const char *kakao_id, long long auth_time,
                                            char code_out[7], struct pk_relay_session_out *out)
{
    struct pk_redis_store *rs = be;
    char akey[64], tnow[24], at[24], code[7], cm[PK_RELAY_MAC_HEX_LEN + 1];
    char h[PK_RELAY_MAC_HEX_LEN + 1] = "", m[PK_RELAY_MAC_HEX_LEN + 1] = "";
    char am[PK_RELAY_MAC_HEX_LEN + 1];
    const char *ka[8] = {akey, tnow, kakao_id, at, cm, m, am, h};
    const struct pk_rs_want seen = {.out = out, .short_id = short_id, .seen_h = h, .seen_m = m};
    const struct pk_rs_want want = {
        .out = out, .approval = true, .short_id = short_id, .expect_h = h};
    /* What the approval MAC covers, in pk_rs_record_ok's order. */
    struct pk_relay_mac_field covered[5] = {{h, PK_RELAY_MAC_HEX_LEN},
                                            {kakao_id, strlen(kakao_id)},
                                            {at, 0},
                                            {m, PK_RELAY_MAC_HEX_LEN},
                                            {cm, PK_RELAY_MAC_HEX_LEN}};
    enum pk_relay_store_rc rc;

    (void)snprintf(akey, sizeof(akey), "pk:relay:a:%s", short_id);
    (void)snprintf(tnow, sizeof(tnow), "%lld", (long long)now);
    (void)snprintf(at, sizeof(at), "%lld", auth_time);
    covered[2].len = strlen(at);
    rc = pk_rs_step(rs, "approve", pk_lua_view, 1, 1, ka, now, &seen);
    if (rc != PK_RS_OK)
        return rc;
    if (!pk_relay_new_code(code))
        return PK_RS_RANDOM;
    if (!pk_rs_code_mac(rs, "approve", h, code, cm) ||
        !pk_rs_mac(rs, "approve", PK_RS_MAC_APPROVE, covered, 5, am)) {
        pk_wipe(code, sizeof(code));
        return PK_RS_UNAVAILABLE;
    }
    rc = pk_rs_step(rs, "approve", pk_lua_approve, 1, 7, ka, now, &want);
    if (rc == PK_RS_OK)
        memcpy(code_out, code, sizeof(code));
    pk_wipe(code, sizeof(code));
    pk_wipe(cm, sizeof(cm));
    return rc;
}

/* Three steps, two scripts: the record is read and checked (its approval
 * MAC covers the code's MAC), the relay compares the MAC of the code given
 * with the one kept, in constant time, and the second script uses the
 * session (right) or takes one attempt (wrong) only if the record is still
 * approved with that code's MAC. The MAC of the code given never reaches
 * Redis unless it is the one Redis keeps. */
static enum pk_relay_store_rc pk_rs_redeem(void *be, const char *s, const char *code, time_t now,
                                           struct pk_relay_session_out *out)
{
    struct pk_redis_store *rs = be;
    char skey[80], tnow[24], shash[65], cm[PK_RELAY_MAC_HEX_LEN + 1];
    char kept[PK_RELAY_MAC_HEX_LEN + 1] = "";
    const char *ka[4] = {skey, tnow, kept, shash};
    const char *ka_read[3] = {skey, tnow, shash};
    const struct pk_rs_want seen = {
        .out = out, .approval = true, .seen_code = kept, .expect_h = shash};
    const struct pk_rs_want want = {.out = out, .approval = true, .expect_h = shash};
    enum pk_relay_store_rc rc;
    bool right;

    if (!pk_rs_sha256(rs, "redeem", s, strlen(s), shash))
        return PK_RS_UNAVAILABLE;
    (void)snprintf(skey, sizeof(skey), "pk:relay:s:%s", shash);
    (void)snprintf(tnow, sizeof(tnow), "%lld", (long long)now);
    rc = pk_rs_step(rs, "redeem", pk_lua_redeem, 1, 2, ka_read, now, &seen);
    if (rc != PK_RS_OK)
        return rc;
    if (!pk_rs_code_mac(rs, "redeem", shash, code, cm))
        return PK_RS_UNAVAILABLE;
    right =
        strlen(kept) == PK_RELAY_MAC_HEX_LEN && CRYPTO_memcmp(cm, kept, PK_RELAY_MAC_HEX_LEN) == 0;
    pk_wipe(cm, sizeof(cm));
    return pk_rs_step(rs, "redeem", right ? pk_lua_use : pk_lua_miss, 1, 3, ka, now, &want);
}

/* Keys expire by themselves. */
static size_t pk_rs_sweep(void *be, time_t now)
{
    (void)be;
    (void)now;
    return 0;
}

static enum pk_relay_store_rc pk_rs_ping(void *be)
{
    struct pk_redis_store *rs = be;
    const char *argv[1] = {"PING"};
    struct pk_redis_reply *reply;
    enum pk_relay_store_rc rc = pk_rs_command(rs, "ping", 1, argv, &reply);

    if (rc != PK_RS_OK)
        return rc;
    if (!pk_rs_is(reply, "PONG")) {
        pk_log(rs->log, LOG_ERR, "store unavailable (ping): redis %s: unexpected reply", rs->where);
        rc = PK_RS_UNAVAILABLE;
    }
    pk_redis_reply_free(reply);
    return rc;
}

static const struct pk_relay_store_ops pk_redis_ops = {
    pk_rs_rate,    pk_rs_create, pk_rs_view,  pk_rs_begin, pk_rs_take_state,
    pk_rs_approve, pk_rs_redeem, pk_rs_sweep, pk_rs_ping,  pk_rs_free,
};

enum pk_status pk_relay_store_new_redis(const struct pk_relay_store_conf *conf,
                                        const struct pk_redis_target *target, const char *password,
                                        const char *signing_key_pem, long timeout,
                                        const struct pk_logger *log, struct pk_relay_store **out,
                                        char *problem, size_t problem_len)
{
    struct pk_redis_store *rs = calloc(1, sizeof(*rs));
    struct pk_redis *c = NULL;
    enum pk_status st;

    *out = NULL;
    if (rs == NULL)
        return PK_ST_NOMEM;
    if (pthread_mutex_init(&rs->lock, NULL) != 0) {
        free(rs);
        return PK_ST_NOMEM;
    }
    rs->conf = *conf;
    rs->target = *target;
    rs->timeout = timeout;
    rs->log = log;
    pk_redis_target_describe(target, rs->where, sizeof(rs->where));
    if (password != NULL && (rs->password = strdup(password)) == NULL) {
        pk_rs_free(rs);
        return PK_ST_NOMEM;
    }
    if (!pk_relay_mac_key(signing_key_pem, rs->mac_key) ||
        (rs->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL) {
        ERR_clear_error();
        pk_problem_printf(problem, problem_len, "no MAC key from signing_key (OpenSSL failed)");
        pk_rs_free(rs);
        return PK_ST_REFUSED;
    }
    st = pk_redis_connect(target, rs->password, pk_redis_now_ms() + timeout * 1000, &c, problem,
                          problem_len);
    if (st == PK_ST_OK)
        pk_rs_put(rs, c);
    if (st != PK_ST_OK && st != PK_ST_UNAVAILABLE) {
        pk_rs_free(rs);
        return st;
    }
    *out = pk_relay_store_wrap(&pk_redis_ops, rs);
    if (*out == NULL) {
        pk_rs_free(rs);
        return PK_ST_NOMEM;
    }
    return st;
}
