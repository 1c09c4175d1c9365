/*
 * Target: the response writer and bodies (reference_impl/lib/src/render.c).
 *
 * Input: byte 0 picks the mode.
 *   even   a writer program: each following byte is one call (member string,
 *          integer or bool, object/array begin and end, array items) with
 *          names from a fixed list and values read from the input; the same
 *          program runs against the XML and the JSON writer
 *   odd    aipa_render_error / _allocate / _simple / _describe with fields
 *          read from the input
 * Oracles: the JSON parses with cJSON to exactly the tree the program
 * describes, the XML parses with libxml2 (no network, no entities) to the
 * same leaves in the same order under the same root, so XML and JSON
 * agree (libxml2 reports elements and text as it reads, fuzz_xml.h, and
 * the leaves are collected from that: no tree is built). Strings are
 * compared after the documented repair (invalid UTF-8 and control
 * characters other than TAB, LF, CR become U+FFFD; a run of U+FFFD counts
 * as one, and DEL, C1 controls and U+FFFE/U+FFFF may be repaired or not),
 * and every parsed string must be valid UTF-8 without
 * those control characters.
 */
#include "aipa/render.h"
#include "fuzz_common.h"
#include "fuzz_xml.h"

#include <cjson/cJSON.h>

#define MAX_DEPTH 10
#define MAX_OPS   256
#define MAX_VALUE 512

static const char *const names[] = {"RequestId",  "IpAddress", "Code",      "Message",
                                    "Instances",  "Instance",  "A",         "B",
                                    "TotalCount", "Status",    "Recommend", "HostId"};

/*
 * The oracle's scratch buffers, kept across inputs (reset, not freed):
 * only the renderer's own output buffers are new for each input, so ASan
 * still sees every byte it writes past what it reserved.
 */
static struct aipa_buf scratch_tmp, scratch_path, scratch_lx, scratch_lw, scratch_text;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_xml_init();
    aipa_buf_init(&scratch_tmp, 1u << 20);
    aipa_buf_init(&scratch_path, 1u << 16);
    aipa_buf_init(&scratch_lx, 1u << 22);
    aipa_buf_init(&scratch_lw, 1u << 22);
    aipa_buf_init(&scratch_text, 1u << 22);
    return 0;
}

/* ---- string canonicalisation for comparison ---- */

static size_t utf8_seq(const uint8_t *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    for (size_t k = 2; k <= 4 && k <= n; k++) {
        if (ref_utf8_valid(s, k)) {
            uint32_t v = s[0] & (k == 2 ? 0x1Fu : k == 3 ? 0x0Fu : 0x07u);
            for (size_t i = 1; i < k; i++) {
                v = (v << 6) | (s[i] & 0x3Fu);
            }
            *cp = v;
            return k;
        }
    }
    *cp = 0xFFFD;
    return 1;
}

static void put_cp(struct aipa_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;

    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    FUZZ_CHECK(aipa_buf_append(b, u, n) == AIPA_OK, "buffer");
}

/* The repaired form of s (see the header comment); NUL-terminated in out. */
static void canon(const uint8_t *s, size_t n, struct aipa_buf *out)
{
    bool last_bad = false;

    aipa_buf_reset(out);
    FUZZ_CHECK(aipa_buf_puts(out, "") == AIPA_OK, "buffer");
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        i += utf8_seq(s + i, n - i, &cp);
        if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || (cp >= 0x7F && cp <= 0x9F) ||
            cp == 0xFFFE || cp == 0xFFFF) {
            cp = 0xFFFD;
        }
        if (cp == 0xFFFD && last_bad) {
            continue;
        }
        last_bad = cp == 0xFFFD;
        put_cp(out, cp);
    }
}

/* A string that came out of a parser must already be repaired. */
static void check_clean(const char *s)
{
    size_t n = strlen(s);

    FUZZ_CHECK(ref_utf8_valid((const uint8_t *)s, n), "a parsed string is not UTF-8");
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        FUZZ_CHECK(c >= 0x20 || c == '\t' || c == '\n' || c == '\r', "control byte 0x%02x survived",
                   c);
    }
}

/* ---- the expected tree, and the XML leaves of a JSON-shaped tree ---- */

struct leaves {
    struct aipa_buf text; /* "path\x01value\x02" per leaf */
};

static void leaf(struct leaves *l, const char *path, const char *value)
{
    FUZZ_CHECK(aipa_buf_puts(&l->text, path) == AIPA_OK && aipa_buf_putc(&l->text, 1) == AIPA_OK &&
                   aipa_buf_puts(&l->text, value) == AIPA_OK &&
                   aipa_buf_putc(&l->text, 2) == AIPA_OK,
               "buffer");
}

static void scalar_text(const cJSON *v, char *out, size_t cap)
{
    if (cJSON_IsBool(v)) {
        snprintf(out, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNumber(v)) {
        snprintf(out, cap, "%.0f", v->valuedouble);
    } else {
        snprintf(out, cap, "%s", "");
    }
}

/* The elements a JSON-shaped node stands for in XML: an array's items repeat its name. */
static size_t json_children(const cJSON *node)
{
    size_t n = 0;
    const cJSON *c;

    cJSON_ArrayForEach(c, node)
    {
        n += cJSON_IsArray(c) ? (size_t)cJSON_GetArraySize(c) : 1;
    }
    return n;
}

static void json_leaves(const cJSON *node, const char *name, struct aipa_buf *path,
                        struct leaves *l)
{
    size_t mark = path->len;
    char num[64];

    FUZZ_CHECK(aipa_buf_putc(path, '/') == AIPA_OK && aipa_buf_puts(path, name) == AIPA_OK,
               "buffer");
    if (cJSON_IsObject(node)) {
        if (json_children(node) == 0) {
            leaf(l, path->ptr, "");
        }
        const cJSON *c;
        cJSON_ArrayForEach(c, node)
        {
            if (cJSON_IsArray(c)) {
                const cJSON *it;
                cJSON_ArrayForEach(it, c)
                {
                    json_leaves(it, c->string, path, l);
                }
            } else {
                json_leaves(c, c->string, path, l);
            }
        }
    } else if (cJSON_IsString(node)) {
        leaf(l, path->ptr, node->valuestring);
    } else {
        scalar_text(node, num, sizeof(num));
        leaf(l, path->ptr, num);
    }
    path->len = mark;
    path->ptr[mark] = '\0';
}

/*
 * The XML leaves, as libxml2 walks the body (fz_xml_walk, no tree): each
 * element without element children is a leaf, its text everything inside
 * it; path is "/root/child/...".
 */
struct xml_walk {
    struct aipa_buf *path, *tmp, text;
    struct leaves *l;
    size_t depth, mark[64];
    bool has_child[64];
};

static void walk_start(void *ctx, const char *name)
{
    struct xml_walk *w = ctx;

    FUZZ_CHECK(w->depth < AIPA_ARRAY_LEN(w->mark), "XML deeper than %zu", w->depth);
    if (w->depth > 0) {
        w->has_child[w->depth - 1] = true;
    }
    w->mark[w->depth] = w->path->len;
    w->has_child[w->depth] = false;
    FUZZ_CHECK(aipa_buf_putc(w->path, '/') == AIPA_OK && aipa_buf_puts(w->path, name) == AIPA_OK,
               "buffer");
    aipa_buf_reset(&w->text);
    w->depth++;
}

static void walk_text(void *ctx, const char *s, size_t n)
{
    struct xml_walk *w = ctx;

    FUZZ_CHECK(aipa_buf_append(&w->text, s, n) == AIPA_OK, "buffer");
}

static void walk_end(void *ctx)
{
    struct xml_walk *w = ctx;
    const char *t;

    w->depth--;
    if (!w->has_child[w->depth]) {
        t = w->text.ptr != NULL ? w->text.ptr : "";
        check_clean(t);
        canon((const uint8_t *)t, strlen(t), w->tmp);
        leaf(w->l, w->path->ptr, w->tmp->ptr);
    }
    aipa_buf_reset(&w->text);
    w->path->len = w->mark[w->depth];
    w->path->ptr[w->path->len] = '\0';
}

static void canon_tree(cJSON *node, struct aipa_buf *tmp)
{
    cJSON *c;

    if (cJSON_IsString(node)) {
        check_clean(node->valuestring);
        canon((const uint8_t *)node->valuestring, strlen(node->valuestring), tmp);
        FUZZ_CHECK(cJSON_SetValuestring(node, tmp->ptr) != NULL, "cJSON");
    }
    cJSON_ArrayForEach(c, node)
    {
        canon_tree(c, tmp);
    }
}

/*
 * Parses both bodies and compares them with the expected tree (JSON shape,
 * strings already repaired); root is the XML root element.
 */
static void compare(const struct aipa_buf *xml, const struct aipa_buf *json, const char *root,
                    const cJSON *want)
{
    static struct xml_walk walk;
    static struct fz_xml_walker walker = {walk_start, walk_end, walk_text, NULL};
    struct aipa_buf *tmp = &scratch_tmp, *path = &scratch_path;
    struct leaves lx, lw;
    cJSON *got = cJSON_ParseWithLength(json->ptr, json->len);

    aipa_buf_reset(path);
    FUZZ_CHECK(aipa_buf_puts(path, "") == AIPA_OK, "buffer");
    FUZZ_CHECK(got != NULL, "JSON does not parse:\n%s", json->ptr);
    canon_tree(got, tmp);
    FUZZ_CHECK(cJSON_Compare(got, want, 1), "JSON differs from the program:\n%s\n%s", json->ptr,
               cJSON_PrintUnformatted(want));

    lx.text = scratch_lx;
    lw.text = scratch_lw;
    aipa_buf_reset(&lx.text);
    aipa_buf_reset(&lw.text);
    FUZZ_CHECK(aipa_buf_puts(&lx.text, "") == AIPA_OK && aipa_buf_puts(&lw.text, "") == AIPA_OK,
               "buffer");
    walk.path = path;
    walk.tmp = tmp;
    walk.text = scratch_text;
    walk.l = &lx;
    walk.depth = 0;
    walker.ctx = &walk;
    FUZZ_CHECK(fz_xml_walk(xml->ptr, xml->len,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING, &walker),
               "XML is not well-formed:\n%s", xml->ptr);
    FUZZ_CHECK(walk.depth == 0, "XML walk ended at depth %zu", walk.depth);
    scratch_text = walk.text;
    json_leaves(want, root, path, &lw);
    FUZZ_CHECK(lx.text.len == lw.text.len && memcmp(lx.text.ptr, lw.text.ptr, lw.text.len) == 0,
               "XML and JSON disagree:\n%s\n---\n%s", xml->ptr, json->ptr);
    scratch_lx = lx.text; /* keep what grew */
    scratch_lw = lw.text;
    cJSON_Delete(got);
}

/* ---- mode 0: writer programs ---- */

struct level {
    cJSON *node;   /* object or array in the expected tree */
    bool array;    /* items, not members */
    uint32_t used; /* member names already written (JSON forbids none, but we compare) */
};

static void run_program(struct fz *f)
{
    struct aipa_writer wx, wj;
    struct aipa_buf bx, bj, *tmp = &scratch_tmp;
    struct level st[MAX_DEPTH + 1];
    size_t depth = 0;
    char value[MAX_VALUE];
    size_t vlen;
    cJSON *want = cJSON_CreateObject();
    const char *root = names[fz_u8(f) % AIPA_ARRAY_LEN(names)];

    aipa_buf_init(&bx, 1u << 22);
    aipa_buf_init(&bj, 1u << 22);
    aipa_w_begin(&wx, &bx, AIPA_FMT_XML, root);
    aipa_w_begin(&wj, &bj, AIPA_FMT_JSON, root);
    st[0] = (struct level){want, false, 0};
    for (size_t ops = 0; ops < MAX_OPS && f->n > 0; ops++) {
        uint8_t op = fz_u8(f);
        size_t ni = (size_t)(op >> 3) % AIPA_ARRAY_LEN(names);
        const char *name = names[ni];
        struct level *cur = &st[depth];

        if (!cur->array && (cur->used & (1u << ni)) && (op & 7u) < 5) {
            continue; /* each name once per object */
        }
        switch (op & 7u) {
        case 0: /* string member, or item in an array */
        case 1:
            fz_str(f, value, sizeof(value), &vlen);
            canon((const uint8_t *)value, vlen, tmp);
            if (cur->array) {
                aipa_w_item_str(&wx, value, vlen);
                aipa_w_item_str(&wj, value, vlen);
                cJSON_AddItemToArray(cur->node, cJSON_CreateString(tmp->ptr));
            } else {
                aipa_w_str(&wx, name, value, vlen);
                aipa_w_str(&wj, name, value, vlen);
                cJSON_AddItemToObject(cur->node, name, cJSON_CreateString(tmp->ptr));
                cur->used |= 1u << ni;
            }
            break;
        case 2: /* integer or bool member */
            if (cur->array) {
                break;
            }
            if (op & 0x80u) {
                bool b = (fz_u8(f) & 1u) != 0;
                aipa_w_bool(&wx, name, b);
                aipa_w_bool(&wj, name, b);
                cJSON_AddItemToObject(cur->node, name, cJSON_CreateBool(b));
            } else {
                /* within 2^53, so the JSON number is exact */
                int64_t v = (int64_t)((uint64_t)fz_u16(f) << 16 | fz_u16(f)) - 0x7fffffff;
                aipa_w_int(&wx, name, v);
                aipa_w_int(&wj, name, v);
                cJSON_AddItemToObject(cur->node, name, cJSON_CreateNumber((double)v));
            }
            cur->used |= 1u << ni;
            break;
        case 3: /* object member, or object item */
            if (depth == MAX_DEPTH) {
                break;
            }
            {
                cJSON *o = cJSON_CreateObject();
                if (cur->array) {
                    aipa_w_item_obj_begin(&wx);
                    aipa_w_item_obj_begin(&wj);
                    cJSON_AddItemToArray(cur->node, o);
                } else {
                    aipa_w_obj_begin(&wx, name);
                    aipa_w_obj_begin(&wj, name);
                    cJSON_AddItemToObject(cur->node, name, o);
                    cur->used |= 1u << ni;
                }
                st[++depth] = (struct level){o, false, 0};
            }
            break;
        case 4: /* array member */
            if (depth == MAX_DEPTH || cur->array) {
                break;
            }
            {
                cJSON *a = cJSON_CreateArray();
                aipa_w_arr_begin(&wx, name);
                aipa_w_arr_begin(&wj, name);
                cJSON_AddItemToObject(cur->node, name, a);
                cur->used |= 1u << ni;
                st[++depth] = (struct level){a, true, 0};
            }
            break;
        default: /* close the innermost object or array */
            if (depth == 0) {
                break;
            }
            if (cur->array) {
                aipa_w_arr_end(&wx);
                aipa_w_arr_end(&wj);
            } else if (cJSON_IsArray(st[depth - 1].node)) {
                aipa_w_item_obj_end(&wx);
                aipa_w_item_obj_end(&wj);
            } else {
                aipa_w_obj_end(&wx);
                aipa_w_obj_end(&wj);
            }
            depth--;
            break;
        }
    }
    while (depth > 0) {
        if (st[depth].array) {
            aipa_w_arr_end(&wx);
            aipa_w_arr_end(&wj);
        } else if (cJSON_IsArray(st[depth - 1].node)) {
            aipa_w_item_obj_end(&wx);
            aipa_w_item_obj_end(&wj);
        } else {
            aipa_w_obj_end(&wx);
            aipa_w_obj_end(&wj);
        }
        depth--;
    }
    FUZZ_CHECK(aipa_w_end(&wx) == AIPA_OK, "XML writer failed: %s", aipa_errname(wx.err));
    FUZZ_CHECK(aipa_w_end(&wj) == AIPA_OK, "JSON writer failed: %s", aipa_errname(wj.err));
    compare(&bx, &bj, root, want);
    cJSON_Delete(want);
    aipa_buf_cleanup(&bx);
    aipa_buf_cleanup(&bj);
}

/* ---- mode 1: the server's bodies ---- */

static void add_canon(cJSON *o, const char *name, const char *s, struct aipa_buf *tmp)
{
    canon((const uint8_t *)s, strlen(s), tmp);
    cJSON_AddItemToObject(o, name, cJSON_CreateString(tmp->ptr));
}

static void run_bodies(struct fz *f)
{
    static char a[MAX_VALUE], b[MAX_VALUE], c[MAX_VALUE], d[MAX_VALUE], e[MAX_VALUE];
    static char root_name[MAX_VALUE + 16];
    struct aipa_buf bx, bj, *tmp = &scratch_tmp;
    cJSON *want = cJSON_CreateObject();
    uint8_t which = fz_u8(f);
    const char *root = "Error";

    aipa_buf_init(&bx, 1u << 22);
    aipa_buf_init(&bj, 1u << 22);
    /* strings end at a NUL: these functions take C strings */
    fz_str(f, a, sizeof(a), NULL);
    fz_str(f, b, sizeof(b), NULL);
    fz_str(f, c, sizeof(c), NULL);
    fz_str(f, d, sizeof(d), NULL);
    fz_str(f, e, sizeof(e), NULL);
    switch (which % 3) {
    case 0:
        FUZZ_CHECK(aipa_render_error(AIPA_FMT_XML, a, b, c, d, e, &bx) == AIPA_OK, "error/XML");
        FUZZ_CHECK(aipa_render_error(AIPA_FMT_JSON, a, b, c, d, e, &bj) == AIPA_OK, "error/JSON");
        add_canon(want, "RequestId", a, tmp);
        add_canon(want, "HostId", b, tmp);
        add_canon(want, "Code", c, tmp);
        add_canon(want, "Message", d, tmp);
        add_canon(want, "Recommend", e, tmp);
        break;
    case 1:
        root = "AllocatePublicIpAddressResponse";
        FUZZ_CHECK(aipa_render_allocate(AIPA_FMT_XML, a, b, &bx) == AIPA_OK, "allocate/XML");
        FUZZ_CHECK(aipa_render_allocate(AIPA_FMT_JSON, a, b, &bj) == AIPA_OK, "allocate/JSON");
        add_canon(want, "RequestId", a, tmp);
        add_canon(want, "IpAddress", b, tmp);
        break;
    default:
        /* the action names an element: keep it a valid XML name */
        for (char *p = c; *p != '\0'; p++) {
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))) {
                *p = 'X';
            }
        }
        if (c[0] == '\0') {
            snprintf(c, sizeof(c), "%s", "StartInstance");
        }
        snprintf(root_name, sizeof(root_name), "%sResponse", c);
        root = root_name;
        FUZZ_CHECK(aipa_render_simple(AIPA_FMT_XML, c, a, &bx) == AIPA_OK, "simple/XML");
        FUZZ_CHECK(aipa_render_simple(AIPA_FMT_JSON, c, a, &bj) == AIPA_OK, "simple/JSON");
        add_canon(want, "RequestId", a, tmp);
        break;
    }
    /* key order is the renderer's: compare as sets for JSON, in order for XML leaves */
    {
        cJSON *got = cJSON_ParseWithLength(bj.ptr, bj.len);
        FUZZ_CHECK(got != NULL, "JSON body does not parse:\n%s", bj.ptr);
        canon_tree(got, tmp);
        FUZZ_CHECK(cJSON_Compare(got, want, 1), "JSON body fields differ:\n%s", bj.ptr);
        cJSON_Delete(want);
        want = got; /* the XML must agree with the JSON, in the JSON's order */
    }
    compare(&bx, &bj, root, want);
    cJSON_Delete(want);
    aipa_buf_cleanup(&bx);
    aipa_buf_cleanup(&bj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f = {data, size};

    if (size < 1) {
        return 0;
    }
    if (fz_u8(&f) & 1u) {
        run_bodies(&f);
    } else {
        run_program(&f);
    }
    return 0;
}
