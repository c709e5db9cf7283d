/* The user map (pk_user_map_lookup): the input is the file, written to a
 * private file each time. The user looked up is "alice", unless the input
 * starts with '@': then the rest of its first line is the user name (as an
 * ssh client may send anything as a user name), and the file follows.
 *
 * Invariants: every id found is a valid kakao_id that appears in the file,
 * no id twice, at most PK_MAP_MAX_IDS; a user name that is not a valid
 * local user name never matches; log lines are printable. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "token.h"
#include "user_map.h"

static char map_path[128];

/* The local user name syntax, restated here as the oracle: 1 to 32 bytes,
 * [A-Za-z0-9._] then [A-Za-z0-9._-], the last byte may be '$'. */
static bool fuzz_local_user(const char *s)
{
    static const char first[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
    size_t len = strlen(s), n = len;

    if (len == 0 || len > 32)
        return false;
    if (s[len - 1] == '$')
        n--;
    if (n == 0 || strchr(first, s[0]) == NULL)
        return false;
    for (size_t i = 1; i < n; i++)
        if (s[i] != '-' && strchr(first, s[i]) == NULL)
            return false;
    return true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    (void)snprintf(map_path, sizeof(map_path), "%s/pam_kakao.users", pk_fuzz_tmpdir());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char user[256] = "alice";
    const uint8_t *file = data;
    size_t file_len = size;
    struct pk_id_list ids;
    char problem[512];
    enum pk_status st;

    if (size > 0 && data[0] == '@') {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t n = nl != NULL ? (size_t)(nl - data) - 1 : size - 1;
        if (n >= sizeof(user))
            n = sizeof(user) - 1;
        memcpy(user, data + 1, n);
        user[n] = '\0';
        file = nl != NULL ? nl + 1 : data + size;
        file_len = size - (size_t)(file - data);
    }
    pk_fuzz_write_file(map_path, file, file_len);
    st = pk_user_map_lookup(map_path, geteuid(), user, pk_fuzz_logger(), &ids, problem,
                            sizeof(problem));
    PK_FUZZ_CHECK(st == PK_ST_OK || st == PK_ST_NOMEM, "map file refused");
    if (st != PK_ST_OK)
        return 0;
    PK_FUZZ_CHECK(ids.count <= PK_MAP_MAX_IDS, "too many ids");
    PK_FUZZ_CHECK(ids.count == 0 || fuzz_local_user(user), "an invalid user name matched");
    for (size_t i = 0; i < ids.count; i++) {
        char digits[24];
        int64_t back = 0;
        (void)snprintf(digits, sizeof(digits), "%" PRId64, ids.ids[i]);
        PK_FUZZ_CHECK(pk_valid_kakao_id_text(digits, strlen(digits), &back) && back == ids.ids[i],
                      "invalid kakao_id returned");
        PK_FUZZ_CHECK(memmem(file, file_len, digits, strlen(digits)) != NULL, "id not in the file");
        for (size_t j = 0; j < i; j++)
            PK_FUZZ_CHECK(ids.ids[j] != ids.ids[i], "id returned twice");
    }
    pk_id_list_free(&ids);
    return 0;
}
