/* See interpose.h. dlsym() may itself allocate before the next allocator
 * is known: those few blocks come from a static buffer and are never
 * freed. */
#include "interpose.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* clang links its ASan runtime into the executable, where its malloc and
 * ours would collide (the Makefile says when the tests are sanitized). */
#if defined(IA_SANITIZED) && defined(__clang__)
#define IA_STATIC_ASAN 1
#endif

/* The build hides symbols by default: these must interpose process-wide. */
#define IA_EXPORT __attribute__((visibility("default")))

#ifdef IA_STATIC_ASAN

void ia_arm(unsigned long nth)
{
    (void)nth;
}
bool ia_disarm(void)
{
    return false;
}
unsigned long ia_counted(void)
{
    return 0;
}
unsigned long ia_leftovers(FILE *out, bool (*ignore)(const char *object), unsigned long *ignored)
{
    (void)out;
    (void)ignore;
    *ignored = 0;
    return 0;
}
void ia_clear_tracked(void)
{
}
const void *ia_allocated_by(const void *p)
{
    (void)p;
    return NULL;
}
const char *ia_object_of(const void *addr)
{
    (void)addr;
    return "?";
}
void ia_set_free_hook(ia_free_hook hook)
{
    (void)hook;
}
void ia_fill_new_blocks(bool on)
{
    (void)on;
}
bool ia_available(void)
{
    return false;
}

#else

static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void (*next_free)(void *);
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);
static void *(*next_memalign)(size_t, size_t);

static alignas(max_align_t) unsigned char boot[1 << 16];
static size_t boot_used;
static int resolving;

static atomic_bool armed;
static atomic_ulong fail_at;
static atomic_ulong counted;
static atomic_bool injected;
static _Atomic(ia_free_hook) free_hook;
static atomic_bool fill_new;

/* A new block holds only what its owner writes into it (up to its usable
 * size: the slack past `to` too). */
static void *filled(void *p, size_t from, size_t to)
{
    if (p != NULL && atomic_load(&fill_new)) {
        size_t end = malloc_usable_size(p);
        if (end < to)
            end = to;
        if (end > from)
            memset((char *)p + from, 0xa5, end - from);
    }
    return p;
}

/* Blocks allocated while armed, with their caller, to name what leaked:
 * open addressing, 1 marks a freed slot. */
#define IA_TRACK_SLOTS 65536u
#define IA_TOMBSTONE ((const void *)1)
struct ia_block {
    const void *p;
    const void *caller;
};
static struct ia_block track[IA_TRACK_SLOTS];
static atomic_flag track_lock = ATOMIC_FLAG_INIT;

static size_t track_slot(const void *p)
{
    return (size_t)(((uintptr_t)p >> 4) * 2654435761u) % IA_TRACK_SLOTS;
}

/* Forgets old (if tracked) and records p (if not NULL). */
static void track_move(const void *old, const void *p, const void *caller)
{
    while (atomic_flag_test_and_set(&track_lock))
        ;
    if (old != NULL) {
        size_t i = track_slot(old);
        for (size_t k = 0; k < IA_TRACK_SLOTS && track[i].p != NULL; k++) {
            if (track[i].p == old) {
                track[i].p = IA_TOMBSTONE;
                break;
            }
            i = (i + 1) % IA_TRACK_SLOTS;
        }
    }
    if (p != NULL) {
        size_t i = track_slot(p);
        for (size_t k = 0; k < IA_TRACK_SLOTS; k++) {
            if (track[i].p == NULL || track[i].p == IA_TOMBSTONE) {
                track[i].p = p;
                track[i].caller = caller;
                break;
            }
            i = (i + 1) % IA_TRACK_SLOTS;
        }
    }
    atomic_flag_clear(&track_lock);
}

static void *boot_alloc(size_t n)
{
    void *p;

    n = (n + 15u) & ~(size_t)15u;
    if (n > sizeof(boot) - boot_used)
        abort();
    p = boot + boot_used;
    boot_used += n;
    return p;
}

static bool in_boot(const void *p)
{
    return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + sizeof(boot);
}

static void *sym(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);

    if (p == NULL)
        abort();
    return p;
}

static void resolve(void)
{
    if (next_free != NULL)
        return;
    resolving = 1;
    *(void **)&next_malloc = sym("malloc");
    *(void **)&next_calloc = sym("calloc");
    *(void **)&next_realloc = sym("realloc");
    *(void **)&next_posix_memalign = sym("posix_memalign");
    *(void **)&next_aligned_alloc = sym("aligned_alloc");
    *(void **)&next_memalign = sym("memalign");
    *(void **)&next_free = sym("free");
    resolving = 0;
}

/* One counted allocation attempt: true when it is the one to fail. */
static bool fail_this(void)
{
    if (!atomic_load(&armed))
        return false;
    if (atomic_fetch_add(&counted, 1) + 1 == atomic_load(&fail_at)) {
        atomic_store(&injected, true);
        errno = ENOMEM;
        return true;
    }
    return false;
}

static void *born_at(void *p, const void *caller)
{
    if (p != NULL && atomic_load(&armed))
        track_move(NULL, p, caller);
    return p;
}

#define born(p) born_at((p), __builtin_return_address(0))

IA_EXPORT void *malloc(size_t n)
{
    if (resolving)
        return boot_alloc(n);
    resolve();
    return fail_this() ? NULL : filled(born(next_malloc(n)), 0, n);
}

IA_EXPORT void *calloc(size_t n, size_t size)
{
    if (resolving)
        return n != 0 && size > SIZE_MAX / n ? NULL : boot_alloc(n * size);
    resolve();
    return fail_this() ? NULL : born(next_calloc(n, size));
}

IA_EXPORT void free(void *p)
{
    ia_free_hook hook;

    if (p == NULL || in_boot(p))
        return;
    resolve();
    hook = atomic_load(&free_hook);
    if (hook != NULL)
        hook(p, malloc_usable_size(p), __builtin_return_address(0));
    track_move(p, NULL, NULL);
    next_free(p);
}

IA_EXPORT void *realloc(void *p, size_t n)
{
    size_t old_size;
    void *r;

    if (p == NULL) {
        if (resolving)
            return boot_alloc(n);
        resolve();
        return fail_this() ? NULL : filled(born(next_malloc(n)), 0, n);
    }
    if (in_boot(p)) {
        size_t room = (size_t)(boot + sizeof(boot) - (unsigned char *)p);
        r = malloc(n);
        if (r != NULL)
            memcpy(r, p, n < room ? n : room);
        return r;
    }
    resolve();
    if (n == 0) {
        free(p);
        return NULL;
    }
    if (fail_this())
        return NULL;
    old_size = malloc_usable_size(p);
    r = next_realloc(p, n);
    if (r != NULL && r != p)
        track_move(p, atomic_load(&armed) ? r : NULL, __builtin_return_address(0));
    return filled(r, old_size, n);
}

IA_EXPORT void *reallocarray(void *p, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, n * size);
}

IA_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    int rc;

    resolve();
    if (fail_this())
        return ENOMEM;
    rc = next_posix_memalign(out, align, n);
    if (rc == 0)
        (void)filled(born(*out), 0, n);
    return rc;
}

IA_EXPORT void *aligned_alloc(size_t align, size_t n)
{
    resolve();
    return fail_this() ? NULL : filled(born(next_aligned_alloc(align, n)), 0, n);
}

IA_EXPORT void *memalign(size_t align, size_t n)
{
    resolve();
    return fail_this() ? NULL : filled(born(next_memalign(align, n)), 0, n);
}

/* Sanitizers intercept these with their own allocator: keep them on ours. */
IA_EXPORT char *strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p;

    resolve();
    p = fail_this() ? NULL : born(next_malloc(n));
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

IA_EXPORT char *strndup(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *p;

    resolve();
    p = fail_this() ? NULL : born(next_malloc(n + 1));
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static const char *object_of(const void *addr, const char **fn, unsigned long *off)
{
    Dl_info info;

    *fn = NULL;
    *off = 0;
    if (dladdr(addr, &info) == 0 || info.dli_fname == NULL)
        return "?";
    if (info.dli_sname != NULL) {
        *fn = info.dli_sname;
        *off = (unsigned long)((const char *)addr - (const char *)info.dli_saddr);
    } else {
        *off = (unsigned long)((const char *)addr - (const char *)info.dli_fbase);
    }
    return info.dli_fname;
}

unsigned long ia_leftovers(FILE *out, bool (*ignore)(const char *object), unsigned long *ignored)
{
    unsigned long n = 0;

    *ignored = 0;
    for (size_t i = 0; i < IA_TRACK_SLOTS; i++) {
        const char *obj, *fn;
        unsigned long off;

        if (track[i].p == NULL || track[i].p == IA_TOMBSTONE)
            continue;
        obj = object_of(track[i].caller, &fn, &off);
        if (ignore != NULL && ignore(obj)) {
            (*ignored)++;
            continue;
        }
        n++;
        if (out != NULL)
            fprintf(out, "    block %p allocated in %s (%s+%#lx)\n", track[i].p, obj,
                    fn != NULL ? fn : "?", off);
    }
    return n;
}

const void *ia_allocated_by(const void *p)
{
    const void *caller = NULL;
    size_t i = track_slot(p);

    while (atomic_flag_test_and_set(&track_lock))
        ;
    for (size_t k = 0; k < IA_TRACK_SLOTS && track[i].p != NULL; k++) {
        if (track[i].p == p) {
            caller = track[i].caller;
            break;
        }
        i = (i + 1) % IA_TRACK_SLOTS;
    }
    atomic_flag_clear(&track_lock);
    return caller;
}

const char *ia_object_of(const void *addr)
{
    const char *fn;
    unsigned long off;

    return addr != NULL ? object_of(addr, &fn, &off) : "?";
}

void ia_clear_tracked(void)
{
    while (atomic_flag_test_and_set(&track_lock))
        ;
    memset(track, 0, sizeof(track));
    atomic_flag_clear(&track_lock);
}

void ia_arm(unsigned long nth)
{
    atomic_store(&counted, 0);
    atomic_store(&injected, false);
    atomic_store(&fail_at, nth);
    atomic_store(&armed, true);
}

bool ia_disarm(void)
{
    atomic_store(&armed, false);
    return atomic_load(&injected);
}

unsigned long ia_counted(void)
{
    return atomic_load(&counted);
}

void ia_set_free_hook(ia_free_hook hook)
{
    atomic_store(&free_hook, hook);
}

void ia_fill_new_blocks(bool on)
{
    atomic_store(&fill_new, on);
}

bool ia_available(void)
{
    return true;
}

#endif
