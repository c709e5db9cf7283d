#ifndef PK_JSON_LOAD_H
#define PK_JSON_LOAD_H

#include <jansson.h>
#include <stddef.h>

/* json_loadb(buf, len, JSON_REJECT_DUPLICATES, err), read twice: jansson
 * 2.14's lexer ignores a failed buffer growth (lex_save) and goes on with a
 * byte missing, so out of memory a string or number can come out different
 * (a shorter jti, another kakao_id). A text whose two readings differ is
 * refused as out of memory (json_error_code(err) == json_error_out_of_memory):
 * one failed allocation can no longer change what a document says.
 * docs/DESIGN.md §11. */
json_t *pk_json_loadb(const char *buf, size_t len, json_error_t *err);

#endif
