/*
 * Target: aipa_lf_state_equal (harness/lf/livefuzz_oracle.c), the
 * state-effect oracle of `aipa fuzz`. Its first document is the target's
 * GET /_aipa/state, which the harness does not trust.
 *
 * Input: two documents separated by the first NUL byte (none: the input is
 * both). Oracles:
 *   - no crash, and a verdict with a non-empty kind and reason whenever the
 *     documents differ;
 *   - symmetry: comparing (a, b) and (b, a) gives the same verdict;
 *   - reflexivity: a document compared with itself is equal exactly when it
 *     has a numeric Pool.FreeCount and every instance compared is in it.
 */
#include "aipa/livefuzz.h"
#include "fuzz_common.h"

#include <cjson/cJSON.h>

static const char *const ids[] = {"i-a", "i-b"};

/* What reflexivity requires of one document. */
static bool self_comparable(const char *s, size_t n)
{
    cJSON *doc = cJSON_ParseWithLength(s, n);
    const cJSON *pool = cJSON_GetObjectItemCaseSensitive(doc, "Pool");
    const cJSON *free_count = cJSON_GetObjectItemCaseSensitive(pool, "FreeCount");
    bool ok = cJSON_IsObject(doc) && cJSON_IsNumber(free_count);

    for (size_t i = 0; ok && i < 2; i++) {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "Instances");
        const cJSON *it;
        bool found = false;

        cJSON_ArrayForEach(it, list)
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "InstanceId");
            found = found || (cJSON_IsString(id) && strcmp(id->valuestring, ids[i]) == 0);
        }
        ok = found;
    }
    cJSON_Delete(doc);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const uint8_t *nul = memchr(data, 0, size);
    size_t alen = nul != NULL ? (size_t)(nul - data) : size;
    const char *b = nul != NULL ? s + alen + 1 : s;
    size_t blen = nul != NULL ? size - alen - 1 : size;
    char k1[32], k2[32], w1[200], w2[200];
    bool ab, ba, aa;

    if (size > 64 * 1024) {
        return 0;
    }
    k1[0] = k2[0] = w1[0] = w2[0] = '\0';
    ab = aipa_lf_state_equal(s, alen, b, blen, ids, ids, 2, k1, sizeof(k1), w1, sizeof(w1));
    ba = aipa_lf_state_equal(b, blen, s, alen, ids, ids, 2, k2, sizeof(k2), w2, sizeof(w2));
    FUZZ_CHECK(ab == ba, "(a, b) %s but (b, a) %s", ab ? "equal" : k1, ba ? "equal" : k2);
    FUZZ_CHECK(ab || (k1[0] != '\0' && w1[0] != '\0'), "a difference without kind or reason");
    aa = aipa_lf_state_equal(s, alen, s, alen, ids, ids, 2, k1, sizeof(k1), w1, sizeof(w1));
    FUZZ_CHECK(aa == self_comparable(s, alen), "a document against itself: %s", aa ? "equal" : w1);
    return 0;
}
