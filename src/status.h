/* The one status below the PAM layer (docs/DESIGN.md §11): what a lower
 * function (files, keys, the user map, the JWKS, HTTP, the caches, config)
 * returns. The why goes into a problem buffer the caller supplies; the upper
 * layer turns a status into an outcome (verdict.h). */
#ifndef PK_STATUS_H
#define PK_STATUS_H

enum pk_status {
    PK_ST_OK = 0,
    PK_ST_REFUSED,     /* the input, file or answer breaks a rule: the problem says which */
    PK_ST_MISSING,     /* the file, or the key asked for, does not exist */
    PK_ST_UNAVAILABLE, /* could not be done now: I/O error, network, outage */
    PK_ST_NOMEM,       /* out of memory: never folded into another value */
};

#endif
