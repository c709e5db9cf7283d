/* kakao-pam login: the authorization code flow of Kakao Login for a terminal
 * user (RFC 6749 with PKCE S256, RFC 7636; loopback redirect, RFC 8252).
 *
 * The authorize URL goes to the browser (xdg-open) and always to stderr; a
 * listener on 127.0.0.1 at the redirect URI's port waits for the one callback
 * on the redirect URI's path, checks `state` in constant time, and the code is
 * exchanged at the token endpoint by a form POST over verified TLS. Only the
 * token(s) go to stdout. Codes, verifiers, secrets and tokens are never
 * printed elsewhere and are wiped after use.
 *
 * This file is the flow; the listener is loopback.c and the browser launch
 * browser.c. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "browser.h"
#include "cli.h"
#include "login.h"
#include "loopback.h"
#include "src/b64url.h"
#include "src/http.h"
#include "src/safe_file.h"
#include "src/secure.h"
#include "src/text_buf.h"

#define PK_LOGIN_AUTH_URL "https://kauth.kakao.com/oauth/authorize"
#define PK_LOGIN_TOKEN_URL "https://kauth.kakao.com/oauth/token"
#define PK_LOGIN_TIMEOUT 120L
#define PK_LOGIN_TIMEOUT_MAX 3600L
#define PK_LOGIN_ANSWER_MAX (64 * 1024)
#define PK_LOGIN_ARG_MAX 2048
#define PK_LOGIN_TOKEN_MAX 16384
#define PK_LOGIN_SHOWN 200
/* Stray requests told on stderr; more are ignored silently. */
#define PK_LOGIN_STRAY_NOTES 10

struct pk_login_opts {
    const char *client_id;
    const char *redirect_uri;
    const char *secret_file;
    const char *scope;
    const char *auth_url;
    const char *token_url;
    const char *ca_file;
    bool id_token;
    bool no_browser;
    long timeout_s;
    unsigned short port;
    const char *path; /* into redirect_uri: from the first '/' after host:port */
};

enum pk_cb {
    PK_CB_WAIT = 0, /* not this login's callback (no or wrong state): keep waiting */
    PK_CB_CODE,     /* a code with the right state */
    PK_CB_REFUSED,  /* the right state with an error, or without a usable code: exit 1 */
};

struct pk_login {
    struct pk_login_opts o;
    char state[64];
    char verifier[96];
    char challenge[64];
    struct pk_loopback *listener;
    pid_t browser;
    long long deadline_ms;
    struct pk_loopback_req req; /* the browser's callback, answered once the code is exchanged */
    char *code;
    unsigned long strays; /* requests to the redirect path without this login's state */
    char *ca_file;        /* --ca-file and --client-secret-file made absolute */
    char *secret_file;
};

static void usage_login(FILE *out)
{
    fputs("usage: kakao-pam login --client-id KEY --redirect-uri http://localhost:PORT/PATH\n"
          "                       [--client-secret-file FILE] [--scope SCOPES] [--id-token]\n"
          "                       [--no-browser] [--timeout SECONDS] [--auth-url URL]\n"
          "                       [--token-url URL] [--ca-file FILE]\n"
          "\n"
          "Logs in with Kakao in the browser and prints the access token on stdout (with\n"
          "--id-token, the ID token on a second line). Authorization code flow with state\n"
          "and PKCE S256; the browser comes back to the redirect URI, on which kakao-pam\n"
          "listens (127.0.0.1 only).\n"
          "\n"
          "  --client-id KEY       the app's REST API key\n"
          "  --redirect-uri URI    registered for the app, exactly: http://localhost:PORT/PATH\n"
          "  --client-secret-file FILE\n"
          "                        the client secret, when the app requires one (never on the\n"
          "                        command line); owned by you or root, mode 0600\n"
          "  --scope SCOPES        comma-separated Kakao scopes (e.g. account_email)\n"
          "  --id-token            add the openid scope and print the ID token too\n"
          "  --no-browser          do not run xdg-open; open the printed URL yourself\n"
          "  --timeout SECONDS     for the whole login (default 120, at most 3600)\n"
          "  --auth-url URL        default " PK_LOGIN_AUTH_URL "\n"
          "  --token-url URL       default " PK_LOGIN_TOKEN_URL "\n"
          "  --ca-file FILE        CA bundle for the token endpoint (default: system store)\n"
          "\n"
          "The authorize URL is always printed on stderr. A request to the redirect URI\n"
          "without this login's state (another program, a web page) is answered 400 and\n"
          "ignored; the login goes on waiting. Relative FILEs are taken from the current\n"
          "directory. Exit status: 0 token printed, 1 login refused (denied, error from\n"
          "Kakao), 2 usage error, timeout, or the token endpoint unreachable.\n",
          out);
}

void pk_login_err(const char *fmt, ...)
{
    va_list ap;

    (void)fputs("kakao-pam login: ", stderr);
    va_start(ap, fmt);
    (void)vfprintf(stderr, fmt, ap);
    va_end(ap);
    (void)fputc('\n', stderr);
}

long long pk_now_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (long long)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000L;
}

/* ---- strings ------------------------------------------------------------ */

static bool pk_printable_word(const char *s, size_t max)
{
    size_t n = 0;

    for (; *s != '\0'; s++, n++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || n >= max)
            return false;
    return n > 0;
}

/* ---- options ------------------------------------------------------------ */

static bool pk_path_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           strchr("-._~!$&'()*+,;=:@/%", c) != NULL;
}

/* http://localhost:PORT/PATH (or 127.0.0.1): the port is required, the
 * path is matched exactly. */
static bool pk_parse_redirect(struct pk_login_opts *o)
{
    const char *u = o->redirect_uri, *p;
    unsigned long port = 0;

    if (strncmp(u, "http://localhost:", 17) == 0)
        p = u + 17;
    else if (strncmp(u, "http://127.0.0.1:", 17) == 0)
        p = u + 17;
    else
        return false;
    if (*p < '1' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        port = port * 10 + (unsigned long)(*p - '0');
        if (port > 65535)
            return false;
    }
    if (*p != '/' || strlen(p) > 1024)
        return false;
    o->path = p;
    for (; *p != '\0'; p++)
        if (!pk_path_char(*p))
            return false;
    o->port = (unsigned short)port;
    return true;
}

static bool pk_https_url(const char *u)
{
    return strncmp(u, "https://", 8) == 0 && u[8] != '\0' && u[8] != '/' &&
           pk_printable_word(u, PK_LOGIN_ARG_MAX) && strchr(u, '#') == NULL;
}

static int pk_login_parse(int argc, char **argv, struct pk_login_opts *o)
{
    static const struct option opts[] = {
        {"client-id", required_argument, NULL, 'i'},
        {"redirect-uri", required_argument, NULL, 'r'},
        {"client-secret-file", required_argument, NULL, 's'},
        {"scope", required_argument, NULL, 'S'},
        {"id-token", no_argument, NULL, 'I'},
        {"no-browser", no_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 't'},
        {"auth-url", required_argument, NULL, 'a'},
        {"token-url", required_argument, NULL, 'T'},
        {"ca-file", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(o, 0, sizeof(*o));
    /* getopt_long takes any unambiguous prefix: "--client-secret S" would
     * name a file. Say plainly that a secret is never an argument. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strncmp(argv[i], "--client-s", 10) == 0 &&
            strncmp(argv[i], "--client-secret-file", 20) != 0) {
            pk_login_err("a client secret is never taken from the command line: use "
                         "--client-secret-file FILE");
            return PK_EXIT_USAGE;
        }
    }
    o->auth_url = PK_LOGIN_AUTH_URL;
    o->token_url = PK_LOGIN_TOKEN_URL;
    o->timeout_s = PK_LOGIN_TIMEOUT;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'i':
            o->client_id = optarg;
            break;
        case 'r':
            o->redirect_uri = optarg;
            break;
        case 's':
            o->secret_file = optarg;
            break;
        case 'S':
            o->scope = optarg;
            break;
        case 'I':
            o->id_token = true;
            break;
        case 'n':
            o->no_browser = true;
            break;
        case 't': {
            char *end;
            errno = 0;
            o->timeout_s = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || *optarg < '0' || *optarg > '9' || o->timeout_s < 1 ||
                o->timeout_s > PK_LOGIN_TIMEOUT_MAX) {
                pk_login_err("--timeout must be 1 to %ld seconds", PK_LOGIN_TIMEOUT_MAX);
                return PK_EXIT_USAGE;
            }
            break;
        }
        case 'a':
            o->auth_url = optarg;
            break;
        case 'T':
            o->token_url = optarg;
            break;
        case 'c':
            o->ca_file = optarg;
            break;
        case 'h':
            usage_login(stdout);
            return -1;
        default:
            usage_login(stderr);
            return PK_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        pk_login_err("unexpected argument \"%s\"", argv[optind]);
        return PK_EXIT_USAGE;
    }
    if (o->client_id == NULL || o->redirect_uri == NULL) {
        pk_login_err("--client-id and --redirect-uri are required");
        usage_login(stderr);
        return PK_EXIT_USAGE;
    }
    if (!pk_printable_word(o->client_id, 256)) {
        pk_login_err("--client-id must be printable ASCII without spaces");
        return PK_EXIT_USAGE;
    }
    if (!pk_parse_redirect(o)) {
        pk_login_err("--redirect-uri must be http://localhost:PORT/PATH (RFC 8252 loopback "
                     "redirect, port 1-65535, as registered for the app)");
        return PK_EXIT_USAGE;
    }
    if (o->scope != NULL && !pk_printable_word(o->scope, 1024)) {
        pk_login_err("--scope must be a comma-separated list without spaces");
        return PK_EXIT_USAGE;
    }
    if (!pk_https_url(o->auth_url)) {
        pk_login_err("--auth-url must be an https:// URL");
        return PK_EXIT_USAGE;
    }
    if (!pk_https_url(o->token_url)) {
        pk_login_err("--token-url must be an https:// URL");
        return PK_EXIT_USAGE;
    }
    return 0;
}

/* ---- secrets ------------------------------------------------------------ */

static bool pk_make_secrets(struct pk_login *l)
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    char *enc;

    /* 256 bits each: state well over the 128 asked for; the verifier is 43
     * characters of [A-Za-z0-9_-], within RFC 7636's 43-128. */
    if (!pk_random_b64url(l->state, sizeof(l->state), 32) ||
        !pk_random_b64url(l->verifier, sizeof(l->verifier), 32))
        return false;
    if (SHA256((const unsigned char *)l->verifier, strlen(l->verifier), digest) == NULL)
        return false;
    enc = pk_b64url_encode(digest, sizeof(digest));
    pk_wipe(digest, sizeof(digest));
    if (enc == NULL || strlen(enc) >= sizeof(l->challenge)) {
        pk_free_secret_str(enc);
        return false;
    }
    memcpy(l->challenge, enc, strlen(enc) + 1);
    pk_free_secret_str(enc);
    return true;
}

/* The client secret: a key file under the key-file trust rules, one
 * trailing newline stripped. */
static int pk_read_client_secret(const char *path, char **secret)
{
    char problem[512];
    size_t len;
    enum pk_status st =
        pk_safe_read(path, PK_FILE_KEY, geteuid(), secret, &len, problem, sizeof(problem));

    if (st != PK_ST_OK) {
        pk_login_err("client secret file refused: %s", problem);
        return PK_EXIT_USAGE;
    }
    if (len > 0 && (*secret)[len - 1] == '\n')
        (*secret)[--len] = '\0';
    if (len > 0 && (*secret)[len - 1] == '\r')
        (*secret)[--len] = '\0';
    if (!pk_printable_word(*secret, 1024)) {
        pk_login_err("%s: the client secret must be one line of printable ASCII", path);
        pk_free_secret(*secret, len + 1);
        *secret = NULL;
        return PK_EXIT_USAGE;
    }
    return 0;
}

/* ---- the authorize URL -------------------------------------------------- */

static bool pk_scope_has(const char *scope, const char *want)
{
    size_t n = strlen(want);

    for (const char *p = scope; p != NULL; p = strchr(p, ',')) {
        if (*p == ',')
            p++;
        if (strncmp(p, want, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return true;
    }
    return false;
}

static void pk_authorize_url(const struct pk_login *l, struct pk_text_buf *u)
{
    const struct pk_login_opts *o = &l->o;

    pk_text_buf_add(u, o->auth_url);
    pk_text_buf_add(u, strchr(o->auth_url, '?') != NULL ? "&" : "?");
    pk_text_buf_add(u, "response_type=code&client_id=");
    pk_text_buf_add_enc(u, o->client_id);
    pk_text_buf_add(u, "&redirect_uri=");
    pk_text_buf_add_enc(u, o->redirect_uri);
    pk_text_buf_add(u, "&state=");
    pk_text_buf_add(u, l->state);
    pk_text_buf_add(u, "&code_challenge=");
    pk_text_buf_add(u, l->challenge);
    pk_text_buf_add(u, "&code_challenge_method=S256");
    if (o->scope != NULL || o->id_token) {
        pk_text_buf_add(u, "&scope=");
        if (o->scope != NULL)
            pk_text_buf_add_enc(u, o->scope);
        if (o->id_token && (o->scope == NULL || !pk_scope_has(o->scope, "openid")))
            pk_text_buf_add(u, o->scope != NULL ? "%2Copenid" : "openid");
    }
}

static int pk_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes a query value (percent escapes, '+' as space) into a new string;
 * NULL when malformed (bad escape, NUL) or out of memory. */
static char *pk_query_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t o = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < n ? pk_hex(s[i + 1]) : -1;
            int lo = i + 2 < n ? pk_hex(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                pk_free_secret(out, n + 1);
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = c == '+' ? ' ' : c;
        }
    }
    out[o] = '\0';
    return out;
}

struct pk_callback {
    char *code;
    char *state;
    char *error;
    char *error_description;
    bool malformed;
};

static void pk_callback_free(struct pk_callback *cb)
{
    pk_free_secret_str(cb->code);
    pk_free_secret_str(cb->state);
    pk_free_secret_str(cb->error);
    pk_free_secret_str(cb->error_description);
    memset(cb, 0, sizeof(*cb));
}

/* code, state, error, error_description; each at most once. */
static void pk_parse_query(const char *q, size_t n, struct pk_callback *cb)
{
    size_t i = 0;

    while (i < n) {
        size_t end = i, eq;
        char **slot = NULL;

        while (end < n && q[end] != '&')
            end++;
        for (eq = i; eq < end && q[eq] != '='; eq++)
            ;
#define PK_KEY_IS(name) (eq - i == sizeof(name) - 1 && memcmp(q + i, name, eq - i) == 0)
        if (PK_KEY_IS("code"))
            slot = &cb->code;
        else if (PK_KEY_IS("state"))
            slot = &cb->state;
        else if (PK_KEY_IS("error"))
            slot = &cb->error;
        else if (PK_KEY_IS("error_description"))
            slot = &cb->error_description;
#undef PK_KEY_IS
        if (slot != NULL) {
            if (*slot != NULL || eq == end) {
                cb->malformed = true;
                return;
            }
            *slot = pk_query_decode(q + eq + 1, end - eq - 1);
            if (*slot == NULL) {
                cb->malformed = true;
                return;
            }
        }
        i = end + 1;
    }
}

static const char pk_page_failed[] = "Kakao login failed";
static const char pk_page_see_terminal[] =
    "See the terminal for the reason. You may close this tab.";
static const char pk_page_stray[] = "Not this login";
static const char pk_page_stray_text[] =
    "This request does not carry the state of the login in progress and was ignored.";

/* Tells the terminal user about a stray request, escaped and bounded: at
 * most PK_LOGIN_STRAY_NOTES lines, whoever keeps sending them. */
static void pk_note_stray(struct pk_login *l, const struct pk_callback *cb)
{
    char shown[PK_LOGIN_SHOWN];

    l->strays++;
    if (l->strays > PK_LOGIN_STRAY_NOTES) {
        if (l->strays == PK_LOGIN_STRAY_NOTES + 1)
            pk_login_err("more requests without this login's state: ignored without notice");
        return;
    }
    if (cb->malformed) {
        pk_login_err("ignored a malformed redirect (a parameter repeated or badly encoded); "
                     "still waiting");
        return;
    }
    pk_log_field(shown, sizeof(shown), cb->error != NULL ? cb->error : "");
    pk_login_err("ignored a redirect %s%s%s%s: not from this login; still waiting",
                 cb->state == NULL ? "without state" : "with a wrong state",
                 cb->error != NULL ? " (error=" : "", shown, cb->error != NULL ? ")" : "");
}

/* One request from the listener, in l->req: answered here, except the
 * callback with a code, which stays held in l->req until the exchange. */
static enum pk_cb pk_handle_request(struct pk_login *l)
{
    struct pk_loopback_req *req = &l->req;
    char shown[PK_LOGIN_SHOWN], shown2[PK_LOGIN_SHOWN];
    struct pk_callback cb;
    const char *q = strchr(req->target, '?');
    size_t path_len = q != NULL ? (size_t)(q - req->target) : strlen(req->target);
    enum pk_cb out = PK_CB_REFUSED;

    /* favicon.ico and the like: not ours. */
    if (path_len != strlen(l->o.path) || memcmp(req->target, l->o.path, path_len) != 0) {
        pk_loopback_answer(req, 404, "Not found", "");
        return PK_CB_WAIT;
    }
    if (strcmp(req->method, "GET") != 0) {
        pk_loopback_answer(req, 405, "Method not allowed", "");
        return PK_CB_WAIT;
    }

    memset(&cb, 0, sizeof(cb));
    if (q != NULL)
        pk_parse_query(q + 1, strlen(q + 1), &cb);
    /* Only this login's browser holds the state. Without it the request may
     * come from any local program or web page (an <img> pointed at the
     * loopback port): it must not end the login, whatever it carries. A
     * malformed query cannot show its state either. */
    if (cb.malformed || cb.state == NULL ||
        !pk_ct_equal(cb.state, strlen(cb.state), l->state, strlen(l->state))) {
        pk_note_stray(l, &cb);
        pk_loopback_answer(req, 400, pk_page_stray, pk_page_stray_text);
        pk_callback_free(&cb);
        return PK_CB_WAIT;
    }
    /* The right state: this is the one redirect of this login, so an error,
     * or no usable code, ends it now (Kakao will not send another). */
    if (cb.error != NULL) {
        /* Kakao's text, or an attacker's: escaped and short on the terminal,
         * the free-text description inside quotes. */
        pk_log_field(shown, sizeof(shown), cb.error);
        pk_log_text(shown2, sizeof(shown2),
                    cb.error_description != NULL ? cb.error_description : "");
        pk_login_err("login refused: %s%s%s%s", shown, shown2[0] != '\0' ? ": \"" : "", shown2,
                     shown2[0] != '\0' ? "\"" : "");
    } else if (cb.code == NULL || !pk_printable_word(cb.code, PK_LOGIN_ARG_MAX)) {
        pk_login_err("the redirect carries no usable code: login aborted");
    } else {
        /* The browser waits for its page until the code is exchanged. */
        out = PK_CB_CODE;
        l->code = cb.code;
        cb.code = NULL;
    }
    if (out != PK_CB_CODE)
        pk_loopback_answer(req, 400, pk_page_failed, pk_page_see_terminal);
    pk_callback_free(&cb);
    return out;
}

/* Waits for the callback until the flow's deadline. Returns 0 with l->code
 * set (and the callback held in l->req), or the exit status. */
static int pk_wait_callback(struct pk_login *l)
{
    for (;;) {
        long long now = pk_now_ms(), until = l->deadline_ms;

        pk_browser_reap(&l->browser);
        if (until - now <= 0) {
            pk_login_err("timed out: no redirect from the browser within %ld s", l->o.timeout_s);
            return PK_EXIT_USAGE;
        }
        /* Wake now and then to notice xdg-open's end. */
        if (l->browser > 0 && until - now > 500)
            until = now + 500;
        switch (pk_loopback_wait(l->listener, until, &l->req)) {
        case PK_LOOPBACK_TIMEOUT:
            continue;
        case PK_LOOPBACK_ERROR:
            return PK_EXIT_USAGE;
        case PK_LOOPBACK_REQUEST:
            break;
        }
        switch (pk_handle_request(l)) {
        case PK_CB_WAIT:
            break;
        case PK_CB_CODE:
            return 0;
        case PK_CB_REFUSED:
            return PK_EXIT_REFUSED;
        }
    }
}

/* ---- the token endpoint ------------------------------------------------- */

static const char *pk_json_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A KOE error answer: {"error", "error_description", "error_code"}. */
static int pk_token_error(long status, json_t *doc)
{
    char e[PK_LOGIN_SHOWN], d[PK_LOGIN_SHOWN], k[64];
    const char *error = doc != NULL ? pk_json_str(doc, "error") : NULL;
    bool client_side = status == 400 || status == 401 || status == 403;

    if (error == NULL) {
        pk_login_err("token endpoint answered HTTP %ld without an OAuth error", status);
        return client_side ? PK_EXIT_REFUSED : PK_EXIT_USAGE;
    }
    pk_log_field(e, sizeof(e), error);
    pk_log_text(d, sizeof(d), pk_json_str(doc, "error_description"));
    pk_log_field(k, sizeof(k), pk_json_str(doc, "error_code"));
    pk_login_err("token request refused (HTTP %ld): %s%s%s%s%s%s", status, e,
                 k[0] != '\0' ? " " : "", k, d[0] != '\0' ? ": \"" : "", d,
                 d[0] != '\0' ? "\"" : "");
    return status >= 500 || status == 429 ? PK_EXIT_USAGE : PK_EXIT_REFUSED;
}

static bool pk_token_text_ok(const char *s)
{
    return s != NULL && pk_printable_word(s, PK_LOGIN_TOKEN_MAX);
}

/* A 200 answer: prints the token(s). */
static int pk_token_success(const struct pk_login *l, json_t *doc)
{
    const char *access = pk_json_str(doc, "access_token");
    const char *id = pk_json_str(doc, "id_token");
    const char *type = pk_json_str(doc, "token_type");
    json_t *expires = json_object_get(doc, "expires_in");

    if (!pk_token_text_ok(access)) {
        pk_login_err("the token endpoint's answer has no usable access_token");
        return PK_EXIT_USAGE;
    }
    if (type != NULL && strcasecmp(type, "bearer") != 0)
        pk_login_err("warning: token_type is not bearer");
    if (l->o.id_token && !pk_token_text_ok(id)) {
        pk_login_err("no id_token in the answer: is OpenID Connect enabled for the app?");
        return PK_EXIT_REFUSED;
    }
    if (json_is_integer(expires))
        pk_login_err("logged in; the access token expires in %lld s",
                     (long long)json_integer_value(expires));
    else
        pk_login_err("logged in");
    if (puts(access) == EOF || (l->o.id_token && puts(id) == EOF) || fflush(stdout) != 0) {
        pk_login_err("cannot write the token: %s", strerror(errno));
        return PK_EXIT_USAGE;
    }
    return PK_EXIT_OK;
}

static int pk_exchange(const struct pk_login *l, const char *secret)
{
    struct pk_text_buf form = {0};
    struct pk_http_form_request req;
    struct pk_http_response resp;
    char err[256];
    long long left = l->deadline_ms - pk_now_ms();
    enum pk_status st;
    json_error_t jerr;
    json_t *doc;
    int rc;

    if (left <= 0) {
        pk_login_err("timed out before the code could be exchanged (%ld s)", l->o.timeout_s);
        return PK_EXIT_USAGE;
    }
    pk_text_buf_add(&form, "grant_type=authorization_code&client_id=");
    pk_text_buf_add_enc(&form, l->o.client_id);
    pk_text_buf_add(&form, "&redirect_uri=");
    pk_text_buf_add_enc(&form, l->o.redirect_uri);
    pk_text_buf_add(&form, "&code=");
    pk_text_buf_add_enc(&form, l->code);
    pk_text_buf_add(&form, "&code_verifier=");
    pk_text_buf_add(&form, l->verifier);
    if (secret != NULL) {
        pk_text_buf_add(&form, "&client_secret=");
        pk_text_buf_add_enc(&form, secret);
    }
    if (form.oom) {
        pk_text_buf_free(&form);
        pk_login_err("out of memory");
        return PK_EXIT_USAGE;
    }
    memset(&req, 0, sizeof(req));
    req.url = l->o.token_url;
    req.body = form.buf;
    req.body_len = form.len;
    req.ca_file = l->o.ca_file;
    req.timeout_ms = (long)left;
    req.max_body = PK_LOGIN_ANSWER_MAX;
    st = pk_http_post_form(&req, &resp, err, sizeof(err));
    pk_text_buf_free(&form);
    if (st == PK_ST_UNAVAILABLE && resp.failure == PK_HTTP_TIMEOUT) {
        pk_login_err("timed out: the token endpoint did not answer within the %ld s of the "
                     "login",
                     l->o.timeout_s);
        return PK_EXIT_USAGE;
    }
    if (st != PK_ST_OK) {
        pk_login_err("token endpoint unavailable: %s", err);
        return PK_EXIT_USAGE;
    }
    doc = json_loadb(resp.body, resp.len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc != NULL && !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
    }
    if (resp.status == 200 && doc != NULL)
        rc = pk_token_success(l, doc);
    else if (resp.status == 200)
        rc = (pk_login_err("the token endpoint's answer is not a JSON object"), PK_EXIT_USAGE);
    else if (resp.status >= 400)
        rc = pk_token_error(resp.status, doc);
    else
        rc = (pk_login_err("token endpoint answered HTTP %ld", resp.status), PK_EXIT_USAGE);
    /* jansson's copies of the tokens go with the document; wipe them first. */
    if (doc != NULL) {
        const char *key;
        json_t *v;
        json_object_foreach(doc, key, v)
        {
            if (json_is_string(v))
                pk_wipe((void *)(uintptr_t)json_string_value(v), json_string_length(v));
        }
        json_decref(doc);
    }
    pk_http_response_free(&resp);
    return rc;
}

/* ---- the command -------------------------------------------------------- */

static void pk_login_free(struct pk_login *l)
{
    pk_loopback_stop(l->listener);
    pk_loopback_drop(&l->req);
    pk_free_secret_str(l->code);
    free(l->ca_file);
    free(l->secret_file);
    pk_wipe(l->state, sizeof(l->state));
    pk_wipe(l->verifier, sizeof(l->verifier));
    l->listener = NULL;
    l->code = NULL;
    l->ca_file = NULL;
    l->secret_file = NULL;
}

int pk_cmd_login(int argc, char **argv)
{
    struct pk_login l;
    struct pk_text_buf url = {0};
    char *secret = NULL;
    int rc;

    memset(&l, 0, sizeof(l));
    rc = pk_login_parse(argc, argv, &l.o);
    if (rc != 0)
        return rc < 0 ? PK_EXIT_OK : rc;
    l.deadline_ms = pk_now_ms() + l.o.timeout_s * 1000LL;
    /* Relative file names are the user's, from where kakao-pam runs. */
    if ((l.o.ca_file != NULL && (l.ca_file = pk_cli_path("login", l.o.ca_file)) == NULL) ||
        (l.o.secret_file != NULL &&
         (l.secret_file = pk_cli_path("login", l.o.secret_file)) == NULL)) {
        rc = PK_EXIT_USAGE;
        goto out;
    }
    l.o.ca_file = l.ca_file;
    l.o.secret_file = l.secret_file;
    if (l.o.ca_file != NULL) {
        /* It decides whom the token exchange trusts: the module's rules. */
        char problem[512];
        int fd;
        if (pk_safe_open(l.o.ca_file, PK_FILE_CA, geteuid(), &fd, problem, sizeof(problem)) !=
            PK_ST_OK) {
            pk_login_err("--ca-file refused: %s", problem);
            rc = PK_EXIT_USAGE;
            goto out;
        }
        (void)close(fd);
    }
    if (l.o.secret_file != NULL) {
        rc = pk_read_client_secret(l.o.secret_file, &secret);
        if (rc != 0)
            goto out;
    }
    if (!pk_make_secrets(&l)) {
        pk_login_err("cannot make state and PKCE verifier");
        rc = PK_EXIT_USAGE;
        goto out;
    }
    /* Listening before the browser is sent off: the redirect cannot race us. */
    l.listener = pk_loopback_start(l.o.port);
    if (l.listener == NULL) {
        rc = PK_EXIT_USAGE;
        goto out;
    }
    pk_authorize_url(&l, &url);
    if (url.oom) {
        pk_login_err("out of memory");
        rc = PK_EXIT_USAGE;
        goto out;
    }
    (void)fprintf(stderr,
                  "kakao-pam login: open this URL in a browser to log in with "
                  "Kakao:\n\n  %s\n\n",
                  url.buf);
    (void)fprintf(stderr, "kakao-pam login: waiting up to %ld s for the redirect to %s\n",
                  l.o.timeout_s, l.o.redirect_uri);
    (void)fflush(stderr);
    if (!l.o.no_browser)
        l.browser = pk_browser_open(url.buf);
    rc = pk_wait_callback(&l);
    /* The listener is not needed past the callback; the callback is held. */
    pk_loopback_stop(l.listener);
    l.listener = NULL;
    if (rc == 0) {
        rc = pk_exchange(&l, secret);
        if (rc == PK_EXIT_OK)
            pk_loopback_answer(&l.req, 200, "Kakao login complete",
                               "You may close this tab and return to the terminal.");
        else
            pk_loopback_answer(&l.req, 502, pk_page_failed, pk_page_see_terminal);
    }
out:
    pk_text_buf_free(&url);
    if (secret != NULL)
        pk_free_secret_str(secret);
    pk_login_free(&l);
    return rc;
}
