/* kakao-pam-relay: what its threads share. One struct pk_relay lives in
 * main()'s frame; nothing here is global (kakao-pam-relay(8)). */
#ifndef PK_RELAY_H
#define PK_RELAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "relay/kakao_leg.h"
#include "relay/relay_config.h"
#include "relay/store.h"
#include "src/log.h"
#include "src/status.h"

#define PK_RELAY_BODY_MAX 4096      /* request bodies; beyond: 413 */
#define PK_RELAY_REQUEST_SECONDS 10 /* a whole request must arrive within this */
#define PK_RELAY_DRAIN_SECONDS 5    /* in-flight requests get this long at SIGTERM */
#define PK_RELAY_MAX_CONNECTIONS 512

#define PK_RELAY_BUCKETS 11

/* Prometheus counters (kakao_pam_relay_*). */
enum pk_relay_redeem_result {
    PK_RR_OK,
    PK_RR_WRONG_CODE,
    PK_RR_NOT_APPROVED,
    PK_RR_EXPIRED,
    PK_RR_USED,
    PK_RR_UNKNOWN,
    PK_RR_COUNT
};

struct pk_relay_metrics {
    atomic_ulong sessions_created;
    atomic_ulong approvals;
    atomic_ulong redeems[PK_RR_COUNT];
    atomic_ulong store_errors;
    atomic_ulong duration_bucket[PK_RELAY_BUCKETS]; /* non-cumulative; +Inf is count */
    atomic_ulong duration_count;
    atomic_ullong duration_sum_us;
};

/* A client connection, for the reaper that drops slow senders. */
struct pk_relay_conn {
    struct pk_relay_conn *next, *prev;
    int fd;
    double started; /* CLOCK_MONOTONIC seconds of the current request's first byte */
    bool complete;  /* the whole request has arrived */
    bool served;    /* one request was answered: an idle keep-alive close is routine */
    bool dropped;
    char client[64];
};

struct pk_relay {
    struct pk_relay_config cfg;
    struct pk_relay_store *store;
    struct pk_relay_kakao *kakao;
    struct pk_logger log;
    struct pk_relay_metrics metrics;
    struct MHD_Daemon *daemon;

    pthread_mutex_t lock; /* conns, in_flight, stopping */
    pthread_cond_t cond;  /* in_flight reached 0, or stopping */
    struct pk_relay_conn *conns;
    unsigned in_flight;
    bool stopping;
    pthread_t reaper;
    bool reaper_started;
};

/* Starts the HTTP(S) server and the reaper; logs the bound address.
 * PK_ST_OK, or PK_ST_UNAVAILABLE (logged) when it cannot listen or start
 * the reaper. */
enum pk_status pk_relay_server_start(struct pk_relay *r);
/* Stops accepting, lets requests in flight finish (at most
 * PK_RELAY_DRAIN_SECONDS), then stops everything; why names the signal. */
void pk_relay_server_stop(struct pk_relay *r, const char *why);

double pk_relay_monotonic(void);

#endif
