/* A counting, failing and inspecting allocator for the tests in tests/alloc.
 *
 * The test executable defines malloc, calloc, realloc, free, the aligned
 * allocators, strdup and strndup; by ELF symbol interposition every
 * allocation in the process goes through them: our code, libcurl, OpenSSL,
 * jansson, libjwt, libc's own (fdopen, getaddrinfo), and a PAM module the
 * process loads. Each forwards to the next definition (libc's, or the
 * sanitizer's), so the test still runs under ASan or valgrind. */
#ifndef PK_INTERPOSE_H
#define PK_INTERPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Counts allocations from now on and fails the nth one (0: none fails). */
void ia_arm(unsigned long nth);
/* Stops counting; returns whether a failure was injected since ia_arm. */
bool ia_disarm(void);
/* Allocations counted since the last ia_arm. */
unsigned long ia_counted(void);

/* Blocks allocated while armed and not freed since ia_clear_tracked: their
 * number, less those whose allocating object `ignore` accepts (counted in
 * *ignored); each is printed on out (if not NULL) with the object and
 * function that allocated it. */
unsigned long ia_leftovers(FILE *out, bool (*ignore)(const char *object), unsigned long *ignored);
void ia_clear_tracked(void);
/* Where a block still allocated was allocated from (NULL: not tracked), and
 * the file name of the object that holds a code address. */
const void *ia_allocated_by(const void *p);
const char *ia_object_of(const void *addr);

/* Called for every block before it is freed, with its usable size and the
 * address free() was called from. Must not allocate. */
typedef void (*ia_free_hook)(const void *p, size_t size, const void *caller);
void ia_set_free_hook(ia_free_hook hook);

/* Fills every new block (malloc, realloc's new part, aligned allocators)
 * with 0xa5, so a block holds only what was written into it since: stale
 * bytes of blocks freed earlier never show up as its content. */
void ia_fill_new_blocks(bool on);

/* False when this build cannot interpose (clang links its ASan runtime into
 * the executable, where its malloc and ours would collide). */
bool ia_available(void);

#endif
