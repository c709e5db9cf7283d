/* Loading an optional library at run time (docs/DESIGN.md §7.6): libcurl
 * (src/http.c), libqrencode (src/qr.c) and hiredis (src/redis.c) are
 * dlopen()ed by absolute path only when used, and their functions resolved
 * into a struct of the caller's (nothing global). */
#ifndef PK_DL_H
#define PK_DL_H

#include <stdbool.h>
#include <stddef.h>

/* One function to resolve: its name, and the address of the caller's
 * function pointer that receives it. */
struct pk_dl_sym {
    const char *name;
    void *slot;
};

/* dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE), then every symbol
 * into its slot. The handle, or NULL: *missing_sym then says whether the
 * library loaded but lacked a function (it is closed again). */
void *pk_dl_load(const char *path, const struct pk_dl_sym *syms, size_t n, bool *missing_sym);

#endif
