/*
 * Target profiles (conformance/FORMAT.md "Profiles"): what a target
 * supports, how its fixtures are reached, and which environment variables
 * hold its credentials. Secrets are read from the environment only and wiped
 * on cleanup.
 */
#include "aipa/conform.h"
#include "conform_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROFILE_MAX_BYTES (64u * 1024u)

static void free_principal(struct aipa_principal *pr)
{
    aipa_free(pr->name);
    aipa_free(pr->access_key_id);
    if (pr->secret != NULL) {
        aipa_memzero(pr->secret, strlen(pr->secret));
        aipa_free(pr->secret);
    }
    if (pr->security_token != NULL) {
        aipa_memzero(pr->security_token, strlen(pr->security_token));
        aipa_free(pr->security_token);
    }
    memset(pr, 0, sizeof(*pr));
}

aipa_err aipa_profile_set_principal(struct aipa_profile *p, const char *name, const char *id,
                                    const char *secret)
{
    struct aipa_principal np = {aipa_strdup(name), aipa_strdup(id), aipa_strdup(secret), NULL};
    size_t slot = p->principal_count;

    if (np.name == NULL || np.access_key_id == NULL || np.secret == NULL) {
        free_principal(&np);
        return AIPA_ENOMEM;
    }
    for (size_t i = 0; i < p->principal_count; i++) {
        if (strcmp(p->principals[i].name, name) == 0) {
            slot = i;
        }
    }
    if (slot == AIPA_PROFILE_MAX_PRINCIPALS) {
        free_principal(&np);
        return AIPA_ETOOBIG;
    }
    if (slot < p->principal_count) {
        free_principal(&p->principals[slot]);
    } else {
        p->principal_count++;
    }
    p->principals[slot] = np;
    return AIPA_OK;
}

aipa_err aipa_profile_set_token(struct aipa_profile *p, const char *name, const char *token)
{
    struct aipa_principal *pr = NULL;
    char *copy = NULL;

    for (size_t i = 0; i < p->principal_count && pr == NULL; i++) {
        if (strcmp(p->principals[i].name, name) == 0) {
            pr = &p->principals[i];
        }
    }
    AIPA_ENSURE(pr != NULL, AIPA_EINVAL);
    if (token != NULL && (copy = aipa_strdup(token)) == NULL) {
        return AIPA_ENOMEM;
    }
    if (pr->security_token != NULL) {
        aipa_memzero(pr->security_token, strlen(pr->security_token));
        aipa_free(pr->security_token);
    }
    pr->security_token = copy;
    return AIPA_OK;
}

const struct aipa_principal *aipa_profile_principal(const struct aipa_profile *p, const char *name)
{
    for (size_t i = 0; i < p->principal_count; i++) {
        if (strcmp(p->principals[i].name, name) == 0) {
            return &p->principals[i];
        }
    }
    return NULL;
}

aipa_err aipa_profile_init(struct aipa_profile *p)
{
    const char *id = getenv("AIPA_ACCESS_KEY_ID");
    const char *secret = getenv("AIPA_ACCESS_KEY_SECRET");

    memset(p, 0, sizeof(*p));
    p->variants = (struct aipa_variant_set){AIPA_VSIG_ALL, AIPA_VSHAPE_ALL, AIPA_VFMT_ALL};
    p->region = aipa_strdup("cn-hangzhou");
    p->name = aipa_strdup("default");
    if (p->region == NULL || p->name == NULL) {
        return AIPA_ENOMEM;
    }
    if (id != NULL && secret != NULL && id[0] != '\0') {
        const char *token = getenv("AIPA_SECURITY_TOKEN");

        AIPA_TRY(aipa_profile_set_principal(p, "default", id, secret));
        return token != NULL && token[0] != '\0' ? aipa_profile_set_token(p, "default", token)
                                                 : AIPA_OK;
    }
    return AIPA_OK;
}

void aipa_profile_cleanup(struct aipa_profile *p)
{
    aipa_free(p->name);
    aipa_free(p->target);
    aipa_free(p->region);
    if (p->fixture_token != NULL) {
        aipa_memzero(p->fixture_token, strlen(p->fixture_token));
        aipa_free(p->fixture_token);
    }
    cJSON_Delete(p->static_fixtures);
    for (size_t i = 0; i < p->principal_count; i++) {
        free_principal(&p->principals[i]);
    }
    for (size_t i = 0; i < p->skip_count; i++) {
        aipa_free(p->skip[i]);
    }
    aipa_free(p->skip);
    memset(p, 0, sizeof(*p));
}

static aipa_err perr(struct aipa_buf *err, const char *origin, const char *where, const char *msg)
{
    aipa__note(err, "%s: %s: %s", origin, where, msg);
    return AIPA_EPARSE;
}

static aipa_err replace_str(char **dst, const char *s)
{
    char *d = aipa_strdup(s);

    if (d == NULL) {
        return AIPA_ENOMEM;
    }
    aipa_free(*dst);
    *dst = d;
    return AIPA_OK;
}

/* Reads one env var named by obj[key]; NULL if unset (reason in err). */
static const char *env_of(const cJSON *obj, const char *key)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!cJSON_IsString(k)) {
        return NULL;
    }
    return getenv(k->valuestring);
}

static aipa_err load_profile(struct aipa_profile *p, const cJSON *root, const char *origin,
                             struct aipa_buf *err)
{
    static const char *const keys[] = {"name",        "target",     "edition",
                                       "region",      "variants",   "fixtures",
                                       "credentials", "timeout_ms", "skip"};
    const cJSON *it;

    if (!cJSON_IsObject(root)) {
        return perr(err, origin, "(root)", "a profile is one JSON object");
    }
    cJSON_ArrayForEach(it, root)
    {
        bool ok = it->string[0] == '_';

        for (size_t i = 0; !ok && i < AIPA_ARRAY_LEN(keys); i++) {
            ok = strcmp(it->string, keys[i]) == 0;
        }
        if (!ok) {
            aipa__note(err, "%s: unknown key \"%.60s\"", origin, it->string);
            return AIPA_EPARSE;
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "name")) != NULL) {
        if (!cJSON_IsString(it)) {
            return perr(err, origin, "name", "must be a string");
        }
        AIPA_TRY(replace_str(&p->name, it->valuestring));
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "target")) != NULL) {
        if (!cJSON_IsString(it) || (strncmp(it->valuestring, "http://", 7) != 0 &&
                                    strncmp(it->valuestring, "https://", 8) != 0)) {
            return perr(err, origin, "target", "must be an http:// or https:// URL");
        }
        AIPA_TRY(replace_str(&p->target, it->valuestring));
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "region")) != NULL) {
        if (!cJSON_IsString(it) || it->valuestring[0] == '\0') {
            return perr(err, origin, "region", "must be a non-empty string");
        }
        AIPA_TRY(replace_str(&p->region, it->valuestring));
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "edition")) != NULL) {
        p->edition = cJSON_IsString(it) ? aipa_edition_parse(it->valuestring) : 0;
        if (p->edition == 0) {
            return perr(err, origin, "edition", "must be \"2018-08-02\" or \"2024-12-20\"");
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "variants")) != NULL) {
        const cJSON *a;

        if (!cJSON_IsObject(it)) {
            return perr(err, origin, "variants", "must be an object");
        }
        if ((a = cJSON_GetObjectItemCaseSensitive(it, "signature")) != NULL &&
            aipa__axis_bits(a, aipa__sig_names, 2, &p->variants.sig) != AIPA_OK) {
            return perr(err, origin, "variants.signature", "a list of \"v1\", \"v3\"");
        }
        if ((a = cJSON_GetObjectItemCaseSensitive(it, "shape")) != NULL &&
            aipa__axis_bits(a, aipa__shape_names, 3, &p->variants.shape) != AIPA_OK) {
            return perr(err, origin, "variants.shape",
                        "a list of \"get\", \"post-query\", \"post-form\"");
        }
        if ((a = cJSON_GetObjectItemCaseSensitive(it, "format")) != NULL &&
            aipa__axis_bits(a, aipa__fmt_names, 2, &p->variants.fmt) != AIPA_OK) {
            return perr(err, origin, "variants.format", "a list of \"xml\", \"json\"");
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "fixtures")) != NULL) {
        const cJSON *proto = cJSON_GetObjectItemCaseSensitive(it, "protocol");
        const cJSON *stat = cJSON_GetObjectItemCaseSensitive(it, "static");

        if (!cJSON_IsObject(it)) {
            return perr(err, origin, "fixtures", "must be an object");
        }
        if (cJSON_IsTrue(proto)) {
            const char *tok = env_of(it, "token_env");

            p->fixture_protocol = true;
            if (cJSON_GetObjectItemCaseSensitive(it, "token_env") != NULL) {
                if (tok == NULL) {
                    return perr(err, origin, "fixtures.token_env",
                                "names an environment variable that is not set");
                }
                AIPA_TRY(replace_str(&p->fixture_token, tok));
            }
        } else if (proto != NULL && !cJSON_IsFalse(proto)) {
            return perr(err, origin, "fixtures.protocol", "must be true or false");
        }
        if (stat != NULL) {
            const cJSON *e;

            if (!cJSON_IsObject(stat)) {
                return perr(err, origin, "fixtures.static", "must map names to InstanceIds");
            }
            cJSON_ArrayForEach(e, stat)
            {
                if (!cJSON_IsString(e) || e->valuestring[0] == '\0') {
                    return perr(err, origin, "fixtures.static", "values must be InstanceIds");
                }
            }
            cJSON_Delete(p->static_fixtures);
            p->static_fixtures = cJSON_Duplicate(stat, true);
            if (p->static_fixtures == NULL) {
                return AIPA_ENOMEM;
            }
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "credentials")) != NULL) {
        const cJSON *c;

        if (!cJSON_IsObject(it)) {
            return perr(err, origin, "credentials",
                        "must map principal names to "
                        "{id_env, secret_env}");
        }
        cJSON_ArrayForEach(c, it)
        {
            const char *id = env_of(c, "id_env");
            const char *secret = env_of(c, "secret_env");

            if (!cJSON_IsObject(c) || cJSON_GetObjectItemCaseSensitive(c, "id_env") == NULL ||
                cJSON_GetObjectItemCaseSensitive(c, "secret_env") == NULL) {
                aipa__note(err,
                           "%s: credentials.%.40s: needs id_env and secret_env (secrets "
                           "are only read from the environment)",
                           origin, c->string);
                return AIPA_EPARSE;
            }
            const char *token = env_of(c, "token_env");

            if (id == NULL || secret == NULL ||
                (cJSON_GetObjectItemCaseSensitive(c, "token_env") != NULL && token == NULL)) {
                continue; /* not configured here: cases needing it skip */
            }
            AIPA_TRY(aipa_profile_set_principal(p, c->string, id, secret));
            AIPA_TRY(aipa_profile_set_token(p, c->string, token));
        }
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "timeout_ms")) != NULL) {
        if (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 600000) {
            return perr(err, origin, "timeout_ms", "must be 1..600000");
        }
        p->timeout_ms = (long)it->valuedouble;
    }
    if ((it = cJSON_GetObjectItemCaseSensitive(root, "skip")) != NULL) {
        const cJSON *e;
        size_t n = cJSON_IsArray(it) ? (size_t)cJSON_GetArraySize(it) : 0;

        if (!cJSON_IsArray(it)) {
            return perr(err, origin, "skip", "must be a list of patterns");
        }
        p->skip = aipa_calloc(n, sizeof(*p->skip));
        if (p->skip == NULL) {
            return AIPA_ENOMEM;
        }
        cJSON_ArrayForEach(e, it)
        {
            if (!cJSON_IsString(e)) {
                return perr(err, origin, "skip", "must be a list of patterns");
            }
            p->skip[p->skip_count] = aipa_strdup(e->valuestring);
            if (p->skip[p->skip_count++] == NULL) {
                return AIPA_ENOMEM;
            }
        }
    }
    return AIPA_OK;
}

aipa_err aipa_profile_parse(struct aipa_profile *p, const char *json, size_t len,
                            const char *origin, struct aipa_buf *err)
{
    cJSON *root;
    aipa_err e;

    if (len > PROFILE_MAX_BYTES) {
        aipa__note(err, "%s: larger than %u bytes", origin, PROFILE_MAX_BYTES);
        return AIPA_ETOOBIG;
    }
    root = cJSON_ParseWithLength(json, len);
    if (root == NULL) {
        aipa__note(err, "%s: not valid JSON", origin);
        return AIPA_EPARSE;
    }
    e = load_profile(p, root, origin, err);
    cJSON_Delete(root);
    return e;
}

aipa_err aipa_profile_load(struct aipa_profile *p, const char *path, struct aipa_buf *err)
{
    char *data;
    size_t n;
    aipa_err e;

    /* A longer file is cut just past the limit, which aipa_profile_parse reports. */
    AIPA_TRY(aipa__read_file(path, PROFILE_MAX_BYTES, &data, &n, err));
    e = aipa_profile_parse(p, data, n, path, err);
    aipa_free(data);
    return e;
}
