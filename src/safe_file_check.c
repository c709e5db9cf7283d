/* pk_check_open, for `kakao-pam check` only: kept apart so that
 * pam_kakao.so does not carry it (docs/DESIGN.md §3.4). */
#include "safe_file.h"

#include "safe_file_rules.h"

enum pk_status pk_check_open(const char *path, enum pk_file_kind kind, uid_t uid, int *fd_out,
                             char *trust, size_t trust_len, char *problem, size_t problem_len)
{
    return pk_open_rules(path, kind, uid, fd_out, trust, trust_len, problem, problem_len);
}
