#include "dl.h"

#include <dlfcn.h>
#include <string.h>

void *pk_dl_load(const char *path, const struct pk_dl_sym *syms, size_t n, bool *missing_sym)
{
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);

    *missing_sym = false;
    if (dl == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        void *sym = dlsym(dl, syms[i].name);

        if (sym == NULL) {
            *missing_sym = true;
            (void)dlclose(dl);
            return NULL;
        }
        /* dlsym returns void *; POSIX guarantees it converts to a function
         * pointer, and the slot is one. */
        memcpy(syms[i].slot, &sym, sizeof(sym));
    }
    return dl;
}
