/* kakao-pam-relay [--config FILE]: the relay that turns "approve on your
 * phone with Kakao" into a 6-digit code and a signed assertion
 * (kakao-pam-relay(8)). Runs in the foreground; SIGTERM or SIGINT stops it. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <microhttpd.h>

#include "relay/relay.h"

/* stderr only, never syslog(3) as well: under systemd stderr already goes
 * to the journal as ident kakao-pam-relay, facility daemon (the unit's
 * defaults), where a syslog daemon on the host picks it up; a second copy
 * through /dev/log would put every line there twice. Other supervisors
 * collect stderr too, terminal or not. */
static void pk_relay_emit(void *ctx, int priority, const char *msg)
{
    const char *what = priority <= LOG_ERR ? "error: " : priority == LOG_WARNING ? "warning: " : "";

    (void)ctx;
    (void)fprintf(stderr, "kakao-pam-relay: %s%s\n", what, msg);
}

static void pk_config_problem(void *ctx, const char *where, const char *problem)
{
    /* where is "file:line", or "config" for the file as a whole */
    if (strcmp(where, "config") == 0)
        pk_log(ctx, LOG_ERR, "config: %s", problem);
    else
        pk_log(ctx, LOG_ERR, "config: %s: %s", where, problem);
}

/* The store that relay.conf names. A Redis server that cannot be used now
 * (down, or refusing the password) does not stop the start: the relay logs
 * why, answers 503 (and /healthz 503, so a load balancer passes it by) and
 * uses the server as soon as it can (kakao-pam-relay(8)). */
static enum pk_status pk_relay_open_store(struct pk_relay *r, const struct pk_relay_store_conf *sc)
{
    char problem[512] = "";
    enum pk_status st;

    if (!r->cfg.store_redis) {
        r->store = pk_relay_store_new(sc);
        if (r->store == NULL)
            pk_log(&r->log, LOG_ERR, "out of memory");
        return r->store != NULL ? PK_ST_OK : PK_ST_NOMEM;
    }
    st = pk_relay_store_new_redis(sc, &r->cfg.redis_target, r->cfg.redis_password,
                                  r->cfg.signing_key_pem, r->cfg.timeout, &r->log, &r->store,
                                  problem, sizeof(problem));
    if (st == PK_ST_UNAVAILABLE) { /* the layer's problems are escaped already */
        pk_log(&r->log, LOG_WARNING, "store not usable yet: %s; answering 503 until it is",
               problem);
        return PK_ST_OK;
    }
    if (st != PK_ST_OK)
        pk_log(&r->log, LOG_ERR, "store %s refused: %s; not started", r->cfg.store,
               st == PK_ST_NOMEM ? "out of memory" : problem);
    return st;
}

static void pk_usage(FILE *f)
{
    (void)fprintf(f, "usage: kakao-pam-relay [--config FILE] [--check]\n"
                     "  --config FILE  relay configuration (default " PK_RELAY_DEFAULT_CONFIG ")\n"
                     "  --check        read and check the configuration, then exit\n");
}

int main(int argc, char **argv)
{
    struct pk_relay r;
    const char *path = PK_RELAY_DEFAULT_CONFIG;
    bool check_only = false;
    sigset_t set;
    int sig = 0;
    enum pk_status st;
    int rc;

    memset(&r, 0, sizeof(r));
    r.log.emit = pk_relay_emit;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--check") == 0) {
            check_only = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            pk_usage(stdout);
            return 0;
        } else {
            pk_usage(stderr);
            return 2;
        }
    }
    /* Only this thread takes the stop signals (sigwait below): every thread
     * started later inherits the mask. A peer that closes early is an
     * error on write, never a SIGPIPE. */
    (void)sigemptyset(&set);
    (void)sigaddset(&set, SIGTERM);
    (void)sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        pk_log(&r.log, LOG_ERR, "cannot set up signals");
        return 1;
    }
    st = pk_relay_config_load(&r.cfg, path, geteuid(), pk_config_problem, &r.log);
    if (st != PK_ST_OK) {
        pk_log(&r.log, LOG_ERR, "%s: %s", path,
               st == PK_ST_NOMEM ? "out of memory" : "configuration refused, not started");
        return 1;
    }
    if (check_only) {
        pk_log(&r.log, LOG_INFO, "%s: configuration ok", path);
        pk_relay_config_free(&r.cfg);
        return 0;
    }
    {
        struct pk_relay_store_conf sc = {r.cfg.session_ttl, r.cfg.code_attempts, r.cfg.max_sessions,
                                         r.cfg.rate_limit};
        struct pk_relay_kakao_conf kc = {r.cfg.kakao_auth_url, r.cfg.kakao_rest_api_key,
                                         r.cfg.client_secret,  r.cfg.redirect_uri,
                                         r.cfg.ca_file,        r.cfg.proxy,
                                         r.cfg.timeout};
        char err[256] = "";

        if (pk_relay_open_store(&r, &sc) != PK_ST_OK) {
            pk_relay_config_free(&r.cfg);
            return 1;
        }
        r.kakao = pk_relay_kakao_new(&kc, err, sizeof(err));
        if (r.kakao == NULL) {
            pk_log(&r.log, LOG_ERR, "kakao client not set up: %s", err);
            pk_relay_store_free(r.store);
            pk_relay_config_free(&r.cfg);
            return 1;
        }
    }
    rc = 1;
    if (pthread_mutex_init(&r.lock, NULL) != 0)
        goto out;
    if (pthread_cond_init(&r.cond, NULL) != 0) {
        (void)pthread_mutex_destroy(&r.lock);
        goto out;
    }
    if (pk_relay_server_start(&r) == PK_ST_OK) {
        while (sigwait(&set, &sig) != 0)
            ;
        pk_relay_server_stop(&r, sig == SIGINT ? "SIGINT" : "SIGTERM");
        pk_log(&r.log, LOG_INFO, "stopped");
        rc = 0;
    }
    (void)pthread_cond_destroy(&r.cond);
    (void)pthread_mutex_destroy(&r.lock);
out:
    pk_relay_kakao_free(r.kakao);
    pk_relay_store_free(r.store);
    pk_relay_config_free(&r.cfg);
    return rc;
}
