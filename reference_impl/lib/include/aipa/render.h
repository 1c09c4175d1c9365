/*
 * aipa/render.h: XML and JSON response bodies.
 *
 * One writer emits either format from the same calls, so the two always
 * carry the same values. JSON member "X": [a, b] is XML <X>a</X><X>b</X>;
 * an object member "X": {...} is <X>...</X>, matching the Alibaba shapes
 * (e.g. "PublicIpAddress": {"IpAddress": [..]}).
 *
 * Text is made safe before it is written: invalid UTF-8 sequences and
 * control characters other than TAB, LF and CR become U+FFFD in both formats,
 * so the XML is always well-formed 1.0 and the JSON always valid, and both
 * parse back to the same string.
 */
#ifndef AIPA_RENDER_H
#define AIPA_RENDER_H

#include "aipa/common.h"
#include "aipa/model.h"

enum aipa_format { AIPA_FMT_XML = 0, AIPA_FMT_JSON = 1 };

#define AIPA_CT_XML  "text/xml;charset=utf-8"
#define AIPA_CT_JSON "application/json;charset=utf-8"
AIPA_API const char *aipa_content_type(enum aipa_format f);

#define AIPA_W_MAX_DEPTH 16

struct aipa_writer {
    struct aipa_buf *out;
    enum aipa_format fmt;
    aipa_err err; /* first failure; later calls do nothing */
    size_t depth;
    struct {
        const char *array_name; /* non-NULL inside an array: the XML item name */
        size_t count;           /* members written so far (JSON commas) */
        const char *elem_name;  /* XML element this level closes (root, object, item) */
    } stack[AIPA_W_MAX_DEPTH];
};

/*
 * Starts a document whose root element is root (XML: an XML declaration and
 * <root>; JSON: "{"). Errors are sticky: check w->err (or the return of
 * aipa_w_end) once at the end.
 */
AIPA_API void aipa_w_begin(struct aipa_writer *w, struct aipa_buf *out, enum aipa_format fmt,
                           const char *root);
AIPA_API aipa_err aipa_w_end(struct aipa_writer *w);
/* Members of the current object. value is (ptr, len), any bytes. */
AIPA_API void aipa_w_str(struct aipa_writer *w, const char *name, const char *value, size_t len);
AIPA_API void aipa_w_cstr(struct aipa_writer *w, const char *name, const char *value);
AIPA_API void aipa_w_int(struct aipa_writer *w, const char *name, int64_t v);
AIPA_API void aipa_w_bool(struct aipa_writer *w, const char *name, bool v);
AIPA_API void aipa_w_obj_begin(struct aipa_writer *w, const char *name);
AIPA_API void aipa_w_obj_end(struct aipa_writer *w);
/* An array member; its items are written with the aipa_w_item_* calls. */
AIPA_API void aipa_w_arr_begin(struct aipa_writer *w, const char *name);
AIPA_API void aipa_w_arr_end(struct aipa_writer *w);
AIPA_API void aipa_w_item_str(struct aipa_writer *w, const char *value, size_t len);
AIPA_API void aipa_w_item_obj_begin(struct aipa_writer *w);
AIPA_API void aipa_w_item_obj_end(struct aipa_writer *w);

/* ---- the bodies the server sends ---- */

/* <Error> / {...} with RequestId, HostId, Code, Message, Recommend (spec/wire.md §4.1). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_render_error(enum aipa_format f, const char *request_id,
                                                    const char *host_id, const char *code,
                                                    const char *message, const char *recommend,
                                                    struct aipa_buf *out);
/* AllocatePublicIpAddressResponse: RequestId, IpAddress (spec/wire.md §1.2). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_render_allocate(enum aipa_format f, const char *request_id,
                                                       const char *ip_address,
                                                       struct aipa_buf *out);
/* <{action}Response> with RequestId only (StartInstance, StopInstance, ...). */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_render_simple(enum aipa_format f, const char *action,
                                                     const char *request_id, struct aipa_buf *out);
/* DescribeInstancesResponse (spec/wire.md §5.2): RequestId, TotalCount, PageNumber, PageSize,
 * Instances. */
AIPA_API AIPA_MUST_CHECK aipa_err aipa_render_describe(enum aipa_format f, const char *request_id,
                                                       const struct aipa_instance_view *views,
                                                       size_t count, size_t total,
                                                       size_t page_number, size_t page_size,
                                                       struct aipa_buf *out);

#endif /* AIPA_RENDER_H */
