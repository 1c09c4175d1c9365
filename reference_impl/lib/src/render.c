/*
 * render.c: the streaming XML/JSON writer and the response bodies of the
 * reference server (aipa/render.h, docs/internals/render.md).
 *
 * Hot path: a body is written straight into the caller's buffer; text is
 * sanitised and escaped in runs, with no allocation beyond the buffer.
 */
#include "aipa/render.h"

#include "aipa/wire.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *aipa_content_type(enum aipa_format f)
{
    switch (f) {
    case AIPA_FMT_XML:
        return AIPA_CT_XML;
    case AIPA_FMT_JSON:
        return AIPA_CT_JSON;
    }
    return AIPA_CT_XML;
}

/* ---- UTF-8 sanitising ---- */

static const char REPLACEMENT[3] = {(char)0xEF, (char)0xBF, (char)0xBD}; /* U+FFFD */

/*
 * Code points that neither format may carry as they are: C0 controls other
 * than TAB, LF and CR, DEL, C1 controls, and U+FFFE/U+FFFF (not XML chars).
 */
static bool is_unsafe_cp(uint32_t cp)
{
    if (cp < 0x20) {
        return cp != '\t' && cp != '\n' && cp != '\r';
    }
    if (cp >= 0x7F && cp <= 0x9F) {
        return true;
    }
    return cp == 0xFFFE || cp == 0xFFFF;
}

static void put(struct aipa_writer *w, const void *p, size_t n)
{
    if (w->err == AIPA_OK) {
        w->err = aipa_buf_append(w->out, p, n);
    }
}

static void puts_(struct aipa_writer *w, const char *s)
{
    put(w, s, strlen(s));
}

/* The escape of an ASCII byte in the writer's format, or NULL if it goes as is. */
static const char *ascii_escape(enum aipa_format fmt, uint8_t c)
{
    if (fmt == AIPA_FMT_XML) {
        switch (c) {
        case '&':
            return "&amp;";
        case '<':
            return "&lt;";
        case '>':
            return "&gt;";
        case '"':
            return "&quot;";
        case '\'':
            return "&apos;";
        case '\r':
            return "&#13;"; /* a raw CR would be normalised away by parsers */
        default:
            return NULL;
        }
    }
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    default:
        return NULL;
    }
}

/* Writes value sanitised and escaped; safe bytes go out in runs. */
static void put_text(struct aipa_writer *w, const char *value, size_t len)
{
    const uint8_t *s = (const uint8_t *)value;
    size_t run = 0; /* start of the pending run of bytes that go as they are */
    size_t i = 0;

    if (w->err != AIPA_OK) {
        return;
    }
    if (len > 0 && value == NULL) {
        w->err = AIPA_EINVAL;
        return;
    }
    while (i < len) {
        uint8_t c = s[i];
        if (c >= 0x20 && c < 0x7F) {
            const char *esc = ascii_escape(w->fmt, c);
            if (esc != NULL) {
                put(w, s + run, i - run);
                puts_(w, esc);
                run = i + 1;
            }
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = aipa_utf8_decode(s + i, len - i, &cp);
        if (cp == AIPA_UTF8_INVALID || is_unsafe_cp(cp)) {
            put(w, s + run, i - run);
            put(w, REPLACEMENT, sizeof(REPLACEMENT));
            i += n;
            run = i;
            continue;
        }
        if (cp < 0x80) {
            /* TAB, LF, CR */
            const char *esc = ascii_escape(w->fmt, c);
            if (esc != NULL) {
                put(w, s + run, i - run);
                puts_(w, esc);
                run = i + 1;
            }
        }
        i += n;
    }
    put(w, s + run, len - run);
}

/* ---- the writer ---- */

static bool in_array(const struct aipa_writer *w)
{
    return w->stack[w->depth].array_name != NULL;
}

/* JSON: the comma before a member or item after the first. */
static void json_sep(struct aipa_writer *w)
{
    if (w->stack[w->depth].count++ > 0) {
        put(w, ",", 1);
    }
}

static void json_name(struct aipa_writer *w, const char *name)
{
    json_sep(w);
    put(w, "\"", 1);
    puts_(w, name);
    put(w, "\":", 2);
}

static void xml_open(struct aipa_writer *w, const char *name)
{
    put(w, "<", 1);
    puts_(w, name);
    put(w, ">", 1);
}

static void xml_close(struct aipa_writer *w, const char *name)
{
    put(w, "</", 2);
    puts_(w, name);
    put(w, ">", 1);
}

/* A member call needs an object level; an item call needs an array level. */
static bool member_ok(struct aipa_writer *w, const char *name)
{
    if (w->err != AIPA_OK) {
        return false;
    }
    if (w->out == NULL || name == NULL || in_array(w)) {
        w->err = AIPA_EINVAL;
        return false;
    }
    return true;
}

static bool item_ok(struct aipa_writer *w)
{
    if (w->err != AIPA_OK) {
        return false;
    }
    if (w->out == NULL || !in_array(w)) {
        w->err = AIPA_EINVAL;
        return false;
    }
    return true;
}

static void push(struct aipa_writer *w, const char *array_name, const char *elem_name)
{
    if (w->depth + 1 >= AIPA_W_MAX_DEPTH) {
        w->err = AIPA_ETOOBIG;
        return;
    }
    w->depth++;
    w->stack[w->depth].array_name = array_name;
    w->stack[w->depth].count = 0;
    w->stack[w->depth].elem_name = elem_name;
}

void aipa_w_begin(struct aipa_writer *w, struct aipa_buf *out, enum aipa_format fmt,
                  const char *root)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    w->fmt = fmt;
    w->err = AIPA_OK;
    w->depth = 0;
    w->stack[0].elem_name = root;
    if (out == NULL || root == NULL) {
        w->err = AIPA_EINVAL;
        return;
    }
    if (fmt == AIPA_FMT_XML) {
        puts_(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        xml_open(w, root);
    } else {
        put(w, "{", 1);
    }
}

aipa_err aipa_w_end(struct aipa_writer *w)
{
    if (w->err != AIPA_OK) {
        return w->err;
    }
    if (w->depth != 0 || w->out == NULL) {
        w->err = AIPA_EINVAL; /* an object or array is still open */
        return w->err;
    }
    if (w->fmt == AIPA_FMT_XML) {
        xml_close(w, w->stack[0].elem_name);
    } else {
        put(w, "}", 1);
    }
    return w->err;
}

void aipa_w_str(struct aipa_writer *w, const char *name, const char *value, size_t len)
{
    if (!member_ok(w, name)) {
        return;
    }
    if (w->fmt == AIPA_FMT_XML) {
        xml_open(w, name);
        put_text(w, value, len);
        xml_close(w, name);
    } else {
        json_name(w, name);
        put(w, "\"", 1);
        put_text(w, value, len);
        put(w, "\"", 1);
    }
}

void aipa_w_cstr(struct aipa_writer *w, const char *name, const char *value)
{
    if (value == NULL) {
        value = "";
    }
    aipa_w_str(w, name, value, strlen(value));
}

/* A member whose JSON form is the raw token text. */
static void raw_member(struct aipa_writer *w, const char *name, const char *text)
{
    if (!member_ok(w, name)) {
        return;
    }
    if (w->fmt == AIPA_FMT_XML) {
        xml_open(w, name);
        puts_(w, text);
        xml_close(w, name);
    } else {
        json_name(w, name);
        puts_(w, text);
    }
}

void aipa_w_int(struct aipa_writer *w, const char *name, int64_t v)
{
    char num[24];

    (void)snprintf(num, sizeof(num), "%" PRId64, v);
    raw_member(w, name, num);
}

void aipa_w_bool(struct aipa_writer *w, const char *name, bool v)
{
    raw_member(w, name, v ? "true" : "false");
}

void aipa_w_obj_begin(struct aipa_writer *w, const char *name)
{
    if (!member_ok(w, name)) {
        return;
    }
    if (w->fmt == AIPA_FMT_XML) {
        xml_open(w, name);
    } else {
        json_name(w, name);
        put(w, "{", 1);
    }
    push(w, NULL, name);
}

/* Closes an object level (member or item). */
static void obj_end(struct aipa_writer *w)
{
    if (w->err != AIPA_OK) {
        return;
    }
    if (w->depth == 0 || in_array(w)) {
        w->err = AIPA_EINVAL;
        return;
    }
    const char *name = w->stack[w->depth].elem_name;
    w->depth--;
    if (w->fmt == AIPA_FMT_XML) {
        xml_close(w, name);
    } else {
        put(w, "}", 1);
    }
}

void aipa_w_obj_end(struct aipa_writer *w)
{
    obj_end(w);
}

void aipa_w_arr_begin(struct aipa_writer *w, const char *name)
{
    if (!member_ok(w, name)) {
        return;
    }
    /* XML has no array element: the items repeat the member name. */
    if (w->fmt == AIPA_FMT_JSON) {
        json_name(w, name);
        put(w, "[", 1);
    }
    push(w, name, NULL);
}

void aipa_w_arr_end(struct aipa_writer *w)
{
    if (w->err != AIPA_OK) {
        return;
    }
    if (w->depth == 0 || !in_array(w)) {
        w->err = AIPA_EINVAL;
        return;
    }
    w->depth--;
    if (w->fmt == AIPA_FMT_JSON) {
        put(w, "]", 1);
    }
}

void aipa_w_item_str(struct aipa_writer *w, const char *value, size_t len)
{
    if (!item_ok(w)) {
        return;
    }
    if (w->fmt == AIPA_FMT_XML) {
        const char *name = w->stack[w->depth].array_name;
        xml_open(w, name);
        put_text(w, value, len);
        xml_close(w, name);
    } else {
        json_sep(w);
        put(w, "\"", 1);
        put_text(w, value, len);
        put(w, "\"", 1);
    }
}

void aipa_w_item_obj_begin(struct aipa_writer *w)
{
    if (!item_ok(w)) {
        return;
    }
    const char *name = w->stack[w->depth].array_name;
    if (w->fmt == AIPA_FMT_XML) {
        xml_open(w, name);
    } else {
        json_sep(w);
        put(w, "{", 1);
    }
    push(w, NULL, name);
}

void aipa_w_item_obj_end(struct aipa_writer *w)
{
    obj_end(w);
}

/* ---- bodies ---- */

aipa_err aipa_render_error(enum aipa_format f, const char *request_id, const char *host_id,
                           const char *code, const char *message, const char *recommend,
                           struct aipa_buf *out)
{
    struct aipa_writer w;

    aipa_w_begin(&w, out, f, "Error");
    aipa_w_cstr(&w, "RequestId", request_id);
    aipa_w_cstr(&w, "HostId", host_id);
    aipa_w_cstr(&w, "Code", code);
    aipa_w_cstr(&w, "Message", message);
    if (recommend != NULL) {
        aipa_w_cstr(&w, "Recommend", recommend);
    }
    return aipa_w_end(&w);
}

aipa_err aipa_render_allocate(enum aipa_format f, const char *request_id, const char *ip_address,
                              struct aipa_buf *out)
{
    struct aipa_writer w;

    aipa_w_begin(&w, out, f, "AllocatePublicIpAddressResponse");
    aipa_w_cstr(&w, "RequestId", request_id);
    aipa_w_cstr(&w, "IpAddress", ip_address);
    return aipa_w_end(&w);
}

/* Action names become element names: ASCII letters and digits only, at least one. */
static bool action_name_ok(const char *action)
{
    size_t n = 0;

    for (; action[n] != '\0'; n++) {
        char c = action[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            return false;
        }
    }
    return n > 0;
}

aipa_err aipa_render_simple(enum aipa_format f, const char *action, const char *request_id,
                            struct aipa_buf *out)
{
    struct aipa_writer w;

    if (action == NULL || !action_name_ok(action)) {
        return AIPA_EINVAL;
    }
    if (f == AIPA_FMT_JSON) {
        aipa_w_begin(&w, out, f, action); /* JSON has no root name */
        aipa_w_cstr(&w, "RequestId", request_id);
        return aipa_w_end(&w);
    }
    /*
     * XML: the root is the action name and "Response". Written here rather
     * than through aipa_w_begin, which would need the joined name in storage
     * of some fixed size; this way any action name the caller has fits.
     */
    memset(&w, 0, sizeof(w));
    w.out = out;
    w.fmt = AIPA_FMT_XML;
    w.err = out != NULL ? AIPA_OK : AIPA_EINVAL;
    puts_(&w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><");
    puts_(&w, action);
    puts_(&w, "Response>");
    aipa_w_cstr(&w, "RequestId", request_id);
    put(&w, "</", 2);
    puts_(&w, action);
    puts_(&w, "Response>");
    return w.err;
}

static const struct {
    unsigned bit;
    const char *name;
} lock_names[] = {
    {AIPA_LOCK_FINANCIAL, "financial"},
    {AIPA_LOCK_SECURITY, "security"},
    {AIPA_LOCK_RECYCLING, "recycling"},
    {AIPA_LOCK_DEDICATEDHOSTFINANCIAL, "dedicatedhostfinancial"},
    {AIPA_LOCK_REFUNDED, "refunded"},
};

/* Kept here rather than calling the model, so rendering links on its own. */
static const char *status_name(enum aipa_status s)
{
    switch (s) {
    case AIPA_ST_PENDING:
        return "Pending";
    case AIPA_ST_RUNNING:
        return "Running";
    case AIPA_ST_STARTING:
        return "Starting";
    case AIPA_ST_STOPPING:
        return "Stopping";
    case AIPA_ST_STOPPED:
        return "Stopped";
    }
    return "Pending";
}

static int64_t clamp_i64(size_t v)
{
    return v > (size_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static void write_instance(struct aipa_writer *w, const struct aipa_instance_view *v)
{
    aipa_w_item_obj_begin(w);
    aipa_w_cstr(w, "InstanceId", v->instance_id);
    aipa_w_cstr(w, "RegionId", v->region_id);
    aipa_w_cstr(w, "Status", status_name(v->status));
    aipa_w_cstr(w, "InstanceNetworkType", v->vpc ? "vpc" : "classic");
    aipa_w_int(w, "InternetMaxBandwidthOut", v->internet_max_bandwidth_out);

    aipa_w_obj_begin(w, "PublicIpAddress");
    aipa_w_arr_begin(w, "IpAddress");
    if (v->public_ip[0] != '\0' && v->public_ip_effective) {
        aipa_w_item_str(w, v->public_ip, strnlen(v->public_ip, sizeof(v->public_ip)));
    }
    aipa_w_arr_end(w);
    aipa_w_obj_end(w);

    /* Always present, as on the real API; empty strings when there is no EIP. */
    bool eip = v->eip_address[0] != '\0';
    aipa_w_obj_begin(w, "EipAddress");
    aipa_w_str(w, "AllocationId", v->eip_allocation_id,
               strnlen(v->eip_allocation_id, sizeof(v->eip_allocation_id)));
    aipa_w_str(w, "IpAddress", v->eip_address, strnlen(v->eip_address, sizeof(v->eip_address)));
    aipa_w_cstr(w, "InternetChargeType", eip ? "PayByTraffic" : "");
    aipa_w_obj_end(w);

    aipa_w_obj_begin(w, "OperationLocks");
    aipa_w_arr_begin(w, "LockReason");
    for (size_t i = 0; i < AIPA_ARRAY_LEN(lock_names); i++) {
        if ((v->locks & lock_names[i].bit) != 0) {
            aipa_w_item_obj_begin(w);
            aipa_w_cstr(w, "LockReason", lock_names[i].name);
            aipa_w_item_obj_end(w);
        }
    }
    aipa_w_arr_end(w);
    aipa_w_obj_end(w);

    if (v->vlan_id[0] != '\0') {
        aipa_w_str(w, "VlanId", v->vlan_id, strnlen(v->vlan_id, sizeof(v->vlan_id)));
    }
    aipa_w_item_obj_end(w);
}

aipa_err aipa_render_describe(enum aipa_format f, const char *request_id,
                              const struct aipa_instance_view *views, size_t count, size_t total,
                              size_t page_number, size_t page_size, struct aipa_buf *out)
{
    struct aipa_writer w;

    if (count > 0 && views == NULL) {
        return AIPA_EINVAL;
    }
    aipa_w_begin(&w, out, f, "DescribeInstancesResponse");
    aipa_w_cstr(&w, "RequestId", request_id);
    aipa_w_int(&w, "TotalCount", clamp_i64(total));
    aipa_w_int(&w, "PageNumber", clamp_i64(page_number));
    aipa_w_int(&w, "PageSize", clamp_i64(page_size));
    aipa_w_obj_begin(&w, "Instances");
    aipa_w_arr_begin(&w, "Instance");
    for (size_t i = 0; i < count && w.err == AIPA_OK; i++) {
        write_instance(&w, &views[i]);
    }
    aipa_w_arr_end(&w);
    aipa_w_obj_end(&w);
    return aipa_w_end(&w);
}
