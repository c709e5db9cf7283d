/* The rules behind pk_safe_open and pk_check_open, shared by safe_file.c
 * (in the module) and safe_file_check.c (`kakao-pam check` only). Internal
 * to those two files. */
#ifndef PK_SAFE_FILE_RULES_H
#define PK_SAFE_FILE_RULES_H

#include "safe_file.h"

/* trust == NULL: the module's rules, the first broken one refuses the file.
 * trust set: pk_check_open's rules (safe_file.h). */
enum pk_status pk_open_rules(const char *path, enum pk_file_kind kind, uid_t uid, int *fd_out,
                             char *trust, size_t trust_len, char *problem, size_t problem_len);

#endif
