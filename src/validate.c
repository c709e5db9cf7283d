#include "validate.h"

#include "token.h"

/* The kind that claims tok most strongly: a specific match (an opaque
 * token, an ID token's iss) beats a fallback (any other JWT). */
static const struct pk_kind_ops *pk_route(const struct pk_config *cfg, const struct pk_token *tok)
{
    const struct pk_kind_ops *best = NULL;
    enum pk_kind_claim best_claim = PK_CLAIM_NO;

    for (size_t i = 0; i < pk_kind_count; i++) {
        enum pk_kind_claim c = pk_kinds[i].claims(cfg, tok);
        if (c > best_claim) {
            best = &pk_kinds[i];
            best_claim = c;
        }
    }
    return best;
}

enum pk_outcome pk_validate_token(const struct pk_validator *v, const char *raw,
                                  struct pk_result *res)
{
    const struct pk_kind_ops *kind;
    struct pk_token tok;
    enum pk_outcome out;

    res->kind = PK_KIND_NONE;
    res->kakao_id = 0;
    out = pk_token_parse(raw, &tok, res);
    if (v->first_pass && (out != PK_OK || tok.shape != PK_SHAPE_JWT))
        /* No detail: its length or bytes would say something of a password. */
        return pk_result_set(res, PK_AUTHTOK_NOT_JWT, NULL);
    if (out != PK_OK)
        return out;
    kind = pk_route(v->cfg, &tok);
    if (kind == NULL) /* every shape has a kind today; fail closed if not */
        return pk_result_set(res, PK_TOKEN_MALFORMED, "no token kind takes this token");
    res->kind = kind->bit;
    if ((pk_config_kinds(v->cfg) & (unsigned)kind->bit) == 0)
        return pk_result_set(res, PK_KIND_NOT_ACCEPTED, "%s", kind->not_accepted);
    out = kind->validate(v, &tok, res);
    res->kind = kind->bit;
    return out;
}
