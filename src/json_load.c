#include "json_load.h"

#include <string.h>

/* json_error_code() reads the code from the last byte of text (an inline
 * function of jansson.h, so part of its ABI); set it the same way. */
static void pk_json_error_nomem(json_error_t *err)
{
    memset(err, 0, sizeof(*err));
    (void)strncpy(err->text, "out of memory (two readings differ)", sizeof(err->text) - 2);
    err->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)json_error_out_of_memory;
}

json_t *pk_json_loadb(const char *buf, size_t len, json_error_t *err)
{
    json_t *first = json_loadb(buf, len, JSON_REJECT_DUPLICATES, err);
    json_t *second;

    if (first == NULL)
        return NULL;
    second = json_loadb(buf, len, JSON_REJECT_DUPLICATES, err);
    if (second == NULL || !json_equal(first, second)) {
        json_decref(first);
        json_decref(second);
        pk_json_error_nomem(err);
        return NULL;
    }
    json_decref(second);
    return first;
}
