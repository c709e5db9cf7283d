/* Kakao check-cache entries: pk_kakao_entry_parse, both ways.
 *
 * Inputs starting with 'p' (as every entry does: "pam_kakao kakao check 1")
 * are entry text, handed over in a buffer of exactly its size (no NUL) so
 * that any read past it is caught. An accepted entry must have every field
 * within its rules by an independent reading of the text (each number 1-19
 * digits without sign or leading zero, positive, within int64; api 32
 * lower-case hex digits; require_email one of no/yes/verified; expires after
 * created; the lines in order, nothing more) and must format back to exactly
 * the same bytes.
 *
 * Any other input is an entry built from its bytes (fields in order: email
 * byte, kakao_id, app_id, created, expires as 8 little-endian bytes each,
 * then up to 32 api characters): once formatted, the text must parse back to
 * the same entry when every field is within those rules, and be refused
 * otherwise. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kakao_cache.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static const char *const email_names[] = {"no", "yes", "verified"};

/* "name=" and a number spelt as a kakao_id, then a newline; advances *p. */
static bool read_number(const char **p, const char *end, const char *name, int64_t *out)
{
    size_t nlen = strlen(name), digits = 0;
    const char *s = *p;
    char buf[24];
    char *stop;
    long long v;

    if ((size_t)(end - s) <= nlen || strncmp(s, name, nlen) != 0 || s[nlen] != '=')
        return false;
    s += nlen + 1;
    while (s + digits < end && s[digits] >= '0' && s[digits] <= '9')
        digits++;
    if (digits == 0 || digits > 19 || s[0] == '0' || s + digits >= end || s[digits] != '\n')
        return false;
    memcpy(buf, s, digits);
    buf[digits] = '\0';
    errno = 0;
    v = strtoll(buf, &stop, 10);
    if (errno != 0 || *stop != '\0' || v <= 0)
        return false;
    *out = v;
    *p = s + digits + 1;
    return true;
}

/* "name=" and the rest of the line; advances *p. */
static bool read_word(const char **p, const char *end, const char *name, const char **w,
                      size_t *wlen)
{
    size_t nlen = strlen(name);
    const char *s = *p, *nl;

    if ((size_t)(end - s) <= nlen || strncmp(s, name, nlen) != 0 || s[nlen] != '=')
        return false;
    s += nlen + 1;
    nl = memchr(s, '\n', (size_t)(end - s));
    if (nl == NULL)
        return false;
    *w = s;
    *wlen = (size_t)(nl - s);
    *p = nl + 1;
    return true;
}

static bool hex32(const char *s, size_t len)
{
    if (len != 32)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* The entry that text stands for by the rules above, independently of the
 * code under test; false when the text is not a valid entry. */
static bool oracle_parse(const char *text, size_t len, struct pk_kakao_entry *e)
{
    static const char head[] = "pam_kakao kakao check 1\n";
    const char *p = text, *end = text + len, *api, *email;
    size_t api_len, email_len;
    int rule = -1;

    memset(e, 0, sizeof(*e));
    if (len > PK_KAKAO_ENTRY_MAX || len < sizeof(head) - 1 ||
        memcmp(text, head, sizeof(head) - 1) != 0)
        return false;
    p += sizeof(head) - 1;
    if (!read_number(&p, end, "kakao_id", &e->kakao_id) ||
        !read_number(&p, end, "app_id", &e->app_id) || !read_word(&p, end, "api", &api, &api_len) ||
        !read_word(&p, end, "require_email", &email, &email_len) ||
        !read_number(&p, end, "created", &e->created) ||
        !read_number(&p, end, "expires", &e->expires) || p != end)
        return false;
    for (int i = 0; i < 3; i++)
        if (email_len == strlen(email_names[i]) && memcmp(email, email_names[i], email_len) == 0)
            rule = i;
    if (rule < 0 || !hex32(api, api_len) || e->expires <= e->created)
        return false;
    memcpy(e->api, api, 32);
    e->email = (enum pk_email_rule)rule;
    return true;
}

static bool same_entry(const struct pk_kakao_entry *a, const struct pk_kakao_entry *b)
{
    return a->kakao_id == b->kakao_id && a->app_id == b->app_id && strcmp(a->api, b->api) == 0 &&
           a->email == b->email && a->created == b->created && a->expires == b->expires;
}

static void from_text(const uint8_t *data, size_t size)
{
    struct pk_kakao_entry e, want;
    char again[PK_KAKAO_ENTRY_MAX + 1];
    char *text = malloc(size != 0 ? size : 1);
    bool ok, expect;

    if (text == NULL)
        return;
    memcpy(text, data, size);
    ok = pk_kakao_entry_parse(text, size, &e);
    expect = oracle_parse(text, size, &want);
    PK_FUZZ_CHECK(ok == expect,
                  ok ? "accepted an entry outside the rules" : "refused an entry within the rules");
    if (ok) {
        PK_FUZZ_CHECK(same_entry(&e, &want), "parsed fields differ from the text");
        PK_FUZZ_CHECK(pk_kakao_entry_format(&e, again, sizeof(again)) == size &&
                          memcmp(again, text, size) == 0,
                      "an accepted entry does not format back to its text");
    }
    free(text);
}

static int64_t le64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return (int64_t)v;
}

static void from_fields(const uint8_t *data, size_t size)
{
    struct pk_kakao_entry e, back;
    char text[PK_KAKAO_ENTRY_MAX + 1];
    size_t len, api_len;
    bool valid;

    if (size < 33)
        return;
    memset(&e, 0, sizeof(e));
    e.email = (enum pk_email_rule)(data[0] % 4); /* 3: not a rule, never formatted */
    e.kakao_id = le64(data + 1);
    e.app_id = le64(data + 9);
    e.created = le64(data + 17);
    e.expires = le64(data + 25);
    api_len = size - 33 < 32 ? size - 33 : 32;
    for (size_t i = 0; i < api_len; i++)
        e.api[i] = data[33 + i] != 0 ? (char)data[33 + i] : '0';
    e.api[api_len] = '\0';
    len = pk_kakao_entry_format(&e, text, sizeof(text));
    if (e.email > PK_EMAIL_VERIFIED) {
        PK_FUZZ_CHECK(len == 0, "formatted an entry with an unknown email rule");
        return;
    }
    if (len == 0)
        return; /* cannot happen with these field sizes, but is allowed */
    valid = e.kakao_id > 0 && e.app_id > 0 && e.created > 0 && e.expires > e.created &&
            hex32(e.api, api_len);
    PK_FUZZ_CHECK(pk_kakao_entry_parse(text, len, &back) == valid,
                  valid ? "a formatted valid entry is refused" : "a formatted bad entry is read");
    if (valid)
        PK_FUZZ_CHECK(same_entry(&e, &back), "an entry does not survive format and parse");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == 'p')
        from_text(data, size);
    else
        from_fields(data, size);
    return 0;
}
