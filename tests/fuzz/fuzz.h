/* Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c) and by driver.c,
 * the plain main() that replays a corpus when libFuzzer is not linked in
 * (make check). A harness aborts on a broken invariant: libFuzzer and the
 * driver both report that as a crash. */
#ifndef PK_FUZZ_H
#define PK_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verdict.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with a message when cond is false. */
#define PK_FUZZ_CHECK(cond, what)                                                                  \
    do {                                                                                           \
        if (!(cond))                                                                               \
            pk_fuzz_fail(__FILE__, __LINE__, (what));                                              \
    } while (0)

__attribute__((noreturn)) void pk_fuzz_fail(const char *file, int line, const char *what);

/* Log and detail text must stay printable ASCII (no log injection). */
bool pk_fuzz_printable(const char *s);

/* A private directory for the harness's files, removed at exit. */
const char *pk_fuzz_tmpdir(void);

/* Replaces path's content with data (mode 0600, owned by us). */
void pk_fuzz_write_file(const char *path, const uint8_t *data, size_t size);

/* With PK_FUZZ_TRACE set in the environment, prints each outcome (to see
 * what a corpus reaches). */
void pk_fuzz_trace(enum pk_outcome outcome, const char *detail);

/* A user name made of the last (up to 24) bytes of data, NUL bytes read as
 * spaces, so crafted names reach the decision line. */
void pk_fuzz_user(const uint8_t *data, size_t size, char out[25]);

/* Formats the decision line for res and user and checks it: printable, and
 * its user= field holds no raw space or quote, never half an escape, and
 * decodes back to exactly user (no field or decision can be forged). */
void pk_fuzz_check_decision(const struct pk_result *res, const char *user);

/* A logger that checks every message is printable and drops it. */
struct pk_logger;
const struct pk_logger *pk_fuzz_logger(void);

#endif
