/*
 * test_render.c: the XML/JSON writer and the server's bodies. Every output
 * is parsed back (libxml2 with XML_PARSE_NONET only, and cJSON) and compared
 * field by field, including for hostile values.
 */
/* cmocka needs the four headers before it. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
#include "aipa/render.h"
#include "testutil.h"

#include <cjson/cJSON.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FFFD "\xEF\xBF\xBD"

/* ---- parse-back helpers ---- */

static xmlDocPtr xml_parse(const struct aipa_buf *b)
{
    assert_true(b->len <= (size_t)INT32_MAX);
    xmlDocPtr doc = xmlReadMemory(b->ptr, (int)b->len, NULL, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    return doc;
}

static xmlNodePtr xml_child(xmlNodePtr parent, const char *name, size_t index)
{
    size_t seen = 0;
    for (xmlNodePtr n = parent->children; n != NULL; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0) {
            if (seen++ == index) {
                return n;
            }
        }
    }
    return NULL;
}

static size_t xml_child_count(xmlNodePtr parent, const char *name)
{
    size_t seen = 0;
    for (xmlNodePtr n = parent->children; n != NULL; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0) {
            seen++;
        }
    }
    return seen;
}

/* Element children of parent, whatever their names. */
static size_t xml_elem_count(xmlNodePtr parent)
{
    size_t seen = 0;
    for (xmlNodePtr n = parent->children; n != NULL; n = n->next) {
        if (n->type == XML_ELEMENT_NODE) {
            seen++;
        }
    }
    return seen;
}

/* Text of the child element name (malloc'd by libxml2, freed by the caller with xmlFree). */
static xmlChar *xml_text(xmlNodePtr parent, const char *name)
{
    xmlNodePtr n = xml_child(parent, name, 0);
    assert_non_null(n);
    return xmlNodeGetContent(n);
}

static cJSON *json_parse(const struct aipa_buf *b)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(b->ptr, b->len, &end, false);
    assert_non_null(j);
    assert_ptr_equal(end, b->ptr + b->len); /* nothing after the document */
    return j;
}

static void assert_json_str(const cJSON *obj, const char *name, const char *want, size_t want_len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    assert_non_null(v);
    assert_true(cJSON_IsString(v));
    assert_int_equal(strlen(v->valuestring), want_len);
    assert_memory_equal(v->valuestring, want, want_len);
}

/* ---- exact bytes ---- */

static void test_content_types(void **state)
{
    (void)state;
    assert_string_equal(aipa_content_type(AIPA_FMT_XML), "text/xml;charset=utf-8");
    assert_string_equal(aipa_content_type(AIPA_FMT_JSON), "application/json;charset=utf-8");
}

static void test_allocate_exact(void **state)
{
    struct aipa_buf b;
    (void)state;

    aipa_buf_init(&b, 4096);
    assert_int_equal(aipa_render_allocate(AIPA_FMT_XML, "F2EF6A3B-E345-46B9-931E-0EA094818567",
                                          "112.124.1.2", &b),
                     AIPA_OK);
    assert_string_equal(b.ptr, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                               "<AllocatePublicIpAddressResponse>"
                               "<RequestId>F2EF6A3B-E345-46B9-931E-0EA094818567</RequestId>"
                               "<IpAddress>112.124.1.2</IpAddress>"
                               "</AllocatePublicIpAddressResponse>");
    aipa_buf_reset(&b);
    assert_int_equal(aipa_render_allocate(AIPA_FMT_JSON, "F2EF6A3B-E345-46B9-931E-0EA094818567",
                                          "112.124.1.2", &b),
                     AIPA_OK);
    assert_string_equal(
        b.ptr,
        "{\"RequestId\":\"F2EF6A3B-E345-46B9-931E-0EA094818567\",\"IpAddress\":\"112.124.1.2\"}");
    aipa_buf_cleanup(&b);
}

static void test_simple_exact(void **state)
{
    struct aipa_buf b;
    (void)state;

    aipa_buf_init(&b, 4096);
    assert_int_equal(aipa_render_simple(AIPA_FMT_XML, "StartInstance", "R-1", &b), AIPA_OK);
    assert_string_equal(b.ptr, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><StartInstanceResponse>"
                               "<RequestId>R-1</RequestId></StartInstanceResponse>");
    aipa_buf_reset(&b);
    assert_int_equal(aipa_render_simple(AIPA_FMT_JSON, "StartInstance", "R-1", &b), AIPA_OK);
    assert_string_equal(b.ptr, "{\"RequestId\":\"R-1\"}");
    /* Any length of action name (it is not copied into fixed storage). */
    char longname[301];
    memset(longname, 'A', 300);
    longname[300] = '\0';
    aipa_buf_reset(&b);
    assert_int_equal(aipa_render_simple(AIPA_FMT_XML, longname, "R-1", &b), AIPA_OK);
    xmlDocPtr doc = xml_parse(&b);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    assert_int_equal(strlen((const char *)root->name), 308);
    assert_string_equal((const char *)root->name + 300, "Response");
    xmlChar *rid = xml_text(root, "RequestId");
    assert_string_equal((const char *)rid, "R-1");
    xmlFree(rid);
    xmlFreeDoc(doc);
    /* An action name is an element name: refuse anything but letters and digits. */
    aipa_buf_reset(&b);
    assert_int_equal(aipa_render_simple(AIPA_FMT_XML, "Bad<Action>", "R-1", &b), AIPA_EINVAL);
    assert_int_equal(aipa_render_simple(AIPA_FMT_XML, "", "R-1", &b), AIPA_EINVAL);
    assert_int_equal(aipa_render_simple(AIPA_FMT_XML, NULL, "R-1", &b), AIPA_EINVAL);
    aipa_buf_cleanup(&b);
}

static void test_error_body_fields(void **state)
{
    struct aipa_buf x, j;
    const char *rec = "https://api.aliyun.com/troubleshoot?q=InvalidInstanceId.NotFound&product=Ecs"
                      "&requestId=7B0A8B8C-0A3E-4C68-9B0A-1B2C3D4E5F60";
    (void)state;

    aipa_buf_init(&x, 1 << 16);
    aipa_buf_init(&j, 1 << 16);
    assert_int_equal(aipa_render_error(AIPA_FMT_XML, "7B0A8B8C-0A3E-4C68-9B0A-1B2C3D4E5F60",
                                       "ecs.aliyuncs.com", "InvalidInstanceId.NotFound",
                                       "The specified InstanceId does not exist.", rec, &x),
                     AIPA_OK);
    assert_int_equal(aipa_render_error(AIPA_FMT_JSON, "7B0A8B8C-0A3E-4C68-9B0A-1B2C3D4E5F60",
                                       "ecs.aliyuncs.com", "InvalidInstanceId.NotFound",
                                       "The specified InstanceId does not exist.", rec, &j),
                     AIPA_OK);
    assert_true(strncmp(x.ptr, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error>", 45) == 0);

    xmlDocPtr doc = xml_parse(&x);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    assert_string_equal((const char *)root->name, "Error");
    assert_int_equal(xml_elem_count(root), 5);
    cJSON *js = json_parse(&j);
    assert_int_equal(cJSON_GetArraySize(js), 5);

    static const char *const fields[] = {"RequestId", "HostId", "Code", "Message", "Recommend"};
    static const char *const values[] = {"7B0A8B8C-0A3E-4C68-9B0A-1B2C3D4E5F60", "ecs.aliyuncs.com",
                                         "InvalidInstanceId.NotFound",
                                         "The specified InstanceId does not exist.", NULL};
    for (size_t i = 0; i < 5; i++) {
        const char *want = values[i] != NULL ? values[i] : rec;
        xmlChar *t = xml_text(root, fields[i]);
        assert_string_equal((const char *)t, want);
        xmlFree(t);
        assert_json_str(js, fields[i], want, strlen(want));
    }
    /* The '&' of the URL is escaped in XML, raw in JSON. */
    assert_non_null(strstr(x.ptr, "product=Ecs&amp;requestId="));
    assert_non_null(strstr(j.ptr, "product=Ecs&requestId="));
    xmlFreeDoc(doc);
    cJSON_Delete(js);

    /* No Recommend when the caller gives none. */
    aipa_buf_reset(&j);
    assert_int_equal(aipa_render_error(AIPA_FMT_JSON, "R", "h", "Throttling", "m", NULL, &j),
                     AIPA_OK);
    js = json_parse(&j);
    assert_null(cJSON_GetObjectItemCaseSensitive(js, "Recommend"));
    assert_int_equal(cJSON_GetArraySize(js), 4);
    cJSON_Delete(js);
    aipa_buf_cleanup(&x);
    aipa_buf_cleanup(&j);
}

/* ---- hostile values ---- */

struct hostile {
    const char *name;
    const char *in;
    size_t in_len;
    const char *want; /* the value both formats must carry */
    size_t want_len;
};

#define H(n, i, w)                                                                                 \
    {                                                                                              \
        n, i, sizeof(i) - 1, w, sizeof(w) - 1                                                      \
    }

static const struct hostile hostiles[] = {
    H("markup", "<a href=\"x\">&amp;'</a>", "<a href=\"x\">&amp;'</a>"),
    H("cdata end", "]]><!--", "]]><!--"),
    H("json escapes", "\\\"\\u0000/", "\\\"\\u0000/"),
    H("tab lf cr", "a\tb\nc\rd\r\n", "a\tb\nc\rd\r\n"),
    H("nul", "a\0b", "a" FFFD "b"),
    H("del and c1", "\x7f|\xC2\x80|\xC2\x9F|\xC2\xA0", FFFD "|" FFFD "|" FFFD "|\xC2\xA0"),
    H("valid multibyte", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80",
      "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"),
    H("truncated 2", "x\xC3", "x" FFFD),
    H("truncated 3", "\xE2\x82", FFFD),
    H("truncated 4 mid", "\xF0\x9F\x98z", FFFD "z"),
    H("lone continuation", "\x80\xBF", FFFD FFFD),
    H("overlong slash", "\xC0\xAF", FFFD FFFD),
    H("overlong 3", "\xE0\x80\xAF", FFFD FFFD FFFD),
    H("overlong 4", "\xF0\x80\x80\xAF", FFFD FFFD FFFD FFFD),
    H("surrogate high", "\xED\xA0\x80", FFFD FFFD FFFD),
    H("surrogate low", "\xED\xBF\xBF", FFFD FFFD FFFD),
    H("above max", "\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD),
    H("f5..ff", "\xF5\xFE\xFF", FFFD FFFD FFFD),
    H("nonchar fffe", "\xEF\xBF\xBE\xEF\xBF\xBF", FFFD FFFD),
    H("max code point", "\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF"),
    H("bom", "\xEF\xBB\xBFx", "\xEF\xBB\xBFx"),
    H("empty", "", ""),
};

/* Renders value in both formats under a name in a one-member document and checks it reads back. */
static void roundtrip(const char *value, size_t len, const char *want, size_t want_len)
{
    struct aipa_buf x, j;
    struct aipa_writer w;

    aipa_buf_init(&x, 64u << 20);
    aipa_buf_init(&j, 64u << 20);
    aipa_w_begin(&w, &x, AIPA_FMT_XML, "Root");
    aipa_w_str(&w, "Value", value, len);
    assert_int_equal(aipa_w_end(&w), AIPA_OK);
    aipa_w_begin(&w, &j, AIPA_FMT_JSON, "Root");
    aipa_w_str(&w, "Value", value, len);
    assert_int_equal(aipa_w_end(&w), AIPA_OK);

    xmlDocPtr doc = xml_parse(&x);
    xmlChar *t = xml_text(xmlDocGetRootElement(doc), "Value");
    size_t tlen = strlen((const char *)t);
    assert_int_equal(tlen, want_len);
    assert_memory_equal(t, want, want_len);
    cJSON *js = json_parse(&j);
    assert_json_str(js, "Value", want, want_len);
    /* And the two renderings agree with each other. */
    assert_memory_equal(cJSON_GetObjectItemCaseSensitive(js, "Value")->valuestring, t, tlen);
    xmlFree(t);
    xmlFreeDoc(doc);
    cJSON_Delete(js);
    aipa_buf_cleanup(&x);
    aipa_buf_cleanup(&j);
}

static void test_hostile_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < AIPA_ARRAY_LEN(hostiles); i++) {
        print_message("  %s\n", hostiles[i].name);
        roundtrip(hostiles[i].in, hostiles[i].in_len, hostiles[i].want, hostiles[i].want_len);
    }
}

static void test_every_control_byte(void **state)
{
    (void)state;
    for (unsigned c = 0; c < 0x20; c++) {
        char in[3] = {'a', (char)c, 'b'};
        bool kept = c == '\t' || c == '\n' || c == '\r';
        char want[5];
        size_t want_len;
        if (kept) {
            memcpy(want, in, 3);
            want_len = 3;
        } else {
            memcpy(want, "a" FFFD "b", 5);
            want_len = 5;
        }
        roundtrip(in, 3, want, want_len);
    }
    roundtrip("a\x7f"
              "b",
              3, "a" FFFD "b", 5);
}

/* The raw output never carries a control byte other than TAB/LF, nor a raw CR. */
static void test_output_bytes_clean(void **state)
{
    char all[256];
    struct aipa_buf b;
    struct aipa_writer w;
    (void)state;

    for (size_t i = 0; i < sizeof(all); i++) {
        all[i] = (char)i;
    }
    for (int f = 0; f < 2; f++) {
        aipa_buf_init(&b, 1 << 16);
        aipa_w_begin(&w, &b, (enum aipa_format)f, "R");
        aipa_w_str(&w, "V", all, sizeof(all));
        assert_int_equal(aipa_w_end(&w), AIPA_OK);
        for (size_t i = 0; i < b.len; i++) {
            unsigned char c = (unsigned char)b.ptr[i];
            assert_false(c < 0x20 && c != '\t' && c != '\n');
            assert_false(c == 0x7f);
        }
        aipa_buf_cleanup(&b);
    }
}

/* Random bytes (fixed seed, bounded count): both formats parse and agree. */
static void test_random_values_agree(void **state)
{
    struct aipa_rng rng;
    (void)state;

    aipa_rng_seed(&rng, 20261127);
    for (int round = 0; round < 300; round++) {
        char v[64];
        size_t n = (size_t)aipa_rng_below(&rng, sizeof(v) + 1);
        for (size_t i = 0; i < n; i++) {
            v[i] = (char)aipa_rng_below(&rng, 256);
        }
        struct aipa_buf x, j;
        struct aipa_writer w;
        aipa_buf_init(&x, 1 << 16);
        aipa_buf_init(&j, 1 << 16);
        aipa_w_begin(&w, &x, AIPA_FMT_XML, "R");
        aipa_w_str(&w, "V", v, n);
        assert_int_equal(aipa_w_end(&w), AIPA_OK);
        aipa_w_begin(&w, &j, AIPA_FMT_JSON, "R");
        aipa_w_str(&w, "V", v, n);
        assert_int_equal(aipa_w_end(&w), AIPA_OK);
        xmlDocPtr doc = xml_parse(&x);
        xmlChar *t = xml_text(xmlDocGetRootElement(doc), "V");
        cJSON *js = json_parse(&j);
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(js, "V")->valuestring,
                            (const char *)t);
        xmlFree(t);
        xmlFreeDoc(doc);
        cJSON_Delete(js);
        aipa_buf_cleanup(&x);
        aipa_buf_cleanup(&j);
    }
}

static void test_one_mib_strings(void **state)
{
    const size_t n = 1u << 20;
    char *markup = malloc(n);
    char *bad = malloc(n);
    char *bad_want = malloc(3 * n);
    (void)state;

    assert_non_null(markup);
    assert_non_null(bad);
    assert_non_null(bad_want);
    static const char pat[] = "<&>\"'\r";
    for (size_t i = 0; i < n; i++) {
        markup[i] = pat[i % (sizeof(pat) - 1)];
        bad[i] = (char)0xFF; /* every byte becomes U+FFFD */
        memcpy(bad_want + 3 * i, FFFD, 3);
    }
    roundtrip(markup, n, markup, n);
    roundtrip(bad, n, bad_want, 3 * n);
    free(markup);
    free(bad);
    free(bad_want);
}

/* ---- DescribeInstances ---- */

static void make_views(struct aipa_instance_view v[3])
{
    memset(v, 0, 3 * sizeof(v[0]));
    snprintf(v[0].instance_id, sizeof(v[0].instance_id), "%s", "i-bp1gtjxuuvwj17zr0001");
    snprintf(v[0].region_id, sizeof(v[0].region_id), "%s", "cn-hangzhou");
    v[0].status = AIPA_ST_RUNNING;
    v[0].internet_max_bandwidth_out = 5;
    snprintf(v[0].public_ip, sizeof(v[0].public_ip), "%s", "47.96.0.7");
    v[0].public_ip_effective = true;
    v[0].locks = AIPA_LOCK_SECURITY | AIPA_LOCK_FINANCIAL;

    snprintf(v[1].instance_id, sizeof(v[1].instance_id), "%s", "i-bp1gtjxuuvwj17zr0002");
    snprintf(v[1].region_id, sizeof(v[1].region_id), "%s", "cn-hangzhou");
    v[1].status = AIPA_ST_STOPPED;
    v[1].vpc = true;
    v[1].internet_max_bandwidth_out = 0;
    snprintf(v[1].public_ip, sizeof(v[1].public_ip), "%s", "47.96.0.8"); /* allocated but not effective yet */
    v[1].public_ip_effective = false;
    snprintf(v[1].eip_address, sizeof(v[1].eip_address), "%s", "42.112.3.4");
    snprintf(v[1].eip_allocation_id, sizeof(v[1].eip_allocation_id), "%s", "eip-2ze88m67qx5z0001");
    snprintf(v[1].vlan_id, sizeof(v[1].vlan_id), "%s", "720");

    snprintf(v[2].instance_id, sizeof(v[2].instance_id), "%s", "i-<&>");
    snprintf(v[2].region_id, sizeof(v[2].region_id), "%s", "cn-beijing");
    v[2].status = AIPA_ST_STARTING;
    v[2].internet_max_bandwidth_out = -1;
}

static const char *const status_names[] = {"Running", "Stopped", "Starting"};

static void test_describe_fields(void **state)
{
    struct aipa_instance_view v[3];
    struct aipa_buf x, j;
    (void)state;

    make_views(v);
    aipa_buf_init(&x, 1 << 16);
    aipa_buf_init(&j, 1 << 16);
    assert_int_equal(aipa_render_describe(AIPA_FMT_XML, "R-DESC", v, 3, 7, 2, 3, &x), AIPA_OK);
    assert_int_equal(aipa_render_describe(AIPA_FMT_JSON, "R-DESC", v, 3, 7, 2, 3, &j), AIPA_OK);

    xmlDocPtr doc = xml_parse(&x);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    assert_string_equal((const char *)root->name, "DescribeInstancesResponse");
    cJSON *js = json_parse(&j);

    /* Top level: numbers are raw in JSON, text in XML. */
    static const char *const nums[] = {"TotalCount", "PageNumber", "PageSize"};
    static const int numv[] = {7, 2, 3};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(js, nums[i]);
        assert_true(cJSON_IsNumber(n));
        assert_int_equal(n->valueint, numv[i]);
        xmlChar *t = xml_text(root, nums[i]);
        assert_int_equal(atoi((const char *)t), numv[i]);
        xmlFree(t);
    }
    assert_json_str(js, "RequestId", "R-DESC", 6);
    assert_int_equal(xml_elem_count(root), 5);
    assert_int_equal(cJSON_GetArraySize(js), 5);

    xmlNodePtr xinst = xml_child(root, "Instances", 0);
    assert_non_null(xinst);
    assert_int_equal(xml_child_count(xinst, "Instance"), 3);
    const cJSON *jarr = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(js, "Instances"), "Instance");
    assert_true(cJSON_IsArray(jarr));
    assert_int_equal(cJSON_GetArraySize(jarr), 3);

    for (size_t i = 0; i < 3; i++) {
        xmlNodePtr xi = xml_child(xinst, "Instance", i);
        const cJSON *ji = cJSON_GetArrayItem(jarr, (int)i);
        static const char *const strf[] = {"InstanceId", "RegionId", "Status",
                                           "InstanceNetworkType"};
        const char *strv[] = {v[i].instance_id, v[i].region_id, status_names[i],
                              v[i].vpc ? "vpc" : "classic"};
        for (size_t k = 0; k < 4; k++) {
            xmlChar *t = xml_text(xi, strf[k]);
            assert_string_equal((const char *)t, strv[k]);
            xmlFree(t);
            assert_json_str(ji, strf[k], strv[k], strlen(strv[k]));
        }
        const cJSON *bw = cJSON_GetObjectItemCaseSensitive(ji, "InternetMaxBandwidthOut");
        assert_true(cJSON_IsNumber(bw));
        assert_int_equal(bw->valueint, v[i].internet_max_bandwidth_out);
        xmlChar *t = xml_text(xi, "InternetMaxBandwidthOut");
        assert_int_equal(atoi((const char *)t), v[i].internet_max_bandwidth_out);
        xmlFree(t);

        /* PublicIpAddress.IpAddress[]: only an effective address is listed. */
        size_t want_ips = (i == 0) ? 1 : 0;
        xmlNodePtr xpub = xml_child(xi, "PublicIpAddress", 0);
        assert_non_null(xpub);
        assert_int_equal(xml_child_count(xpub, "IpAddress"), want_ips);
        const cJSON *jips = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(ji, "PublicIpAddress"), "IpAddress");
        assert_true(cJSON_IsArray(jips));
        assert_int_equal(cJSON_GetArraySize(jips), want_ips);
        if (want_ips == 1) {
            xmlChar *ip = xml_text(xpub, "IpAddress");
            assert_string_equal((const char *)ip, "47.96.0.7");
            xmlFree(ip);
            assert_string_equal(cJSON_GetArrayItem(jips, 0)->valuestring, "47.96.0.7");
        }

        /* EipAddress{AllocationId, IpAddress, InternetChargeType}. */
        xmlNodePtr xeip = xml_child(xi, "EipAddress", 0);
        const cJSON *jeip = cJSON_GetObjectItemCaseSensitive(ji, "EipAddress");
        assert_non_null(xeip);
        assert_true(cJSON_IsObject(jeip));
        const char *eipv[] = {v[i].eip_allocation_id, v[i].eip_address,
                              v[i].eip_address[0] ? "PayByTraffic" : ""};
        static const char *const eipf[] = {"AllocationId", "IpAddress", "InternetChargeType"};
        for (size_t k = 0; k < 3; k++) {
            xmlChar *e = xml_text(xeip, eipf[k]);
            assert_string_equal((const char *)e, eipv[k]);
            xmlFree(e);
            assert_json_str(jeip, eipf[k], eipv[k], strlen(eipv[k]));
        }

        /* OperationLocks.LockReason[]{LockReason}, in a fixed order. */
        xmlNodePtr xlocks = xml_child(xi, "OperationLocks", 0);
        const cJSON *jlocks = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(ji, "OperationLocks"), "LockReason");
        assert_non_null(xlocks);
        assert_true(cJSON_IsArray(jlocks));
        size_t want_locks = (i == 0) ? 2 : 0;
        assert_int_equal(xml_child_count(xlocks, "LockReason"), want_locks);
        assert_int_equal(cJSON_GetArraySize(jlocks), want_locks);
        if (want_locks == 2) {
            static const char *const reasons[] = {"financial", "security"};
            for (size_t k = 0; k < 2; k++) {
                xmlChar *r = xml_text(xml_child(xlocks, "LockReason", k), "LockReason");
                assert_string_equal((const char *)r, reasons[k]);
                xmlFree(r);
                assert_json_str(cJSON_GetArrayItem(jlocks, (int)k), "LockReason", reasons[k],
                                strlen(reasons[k]));
            }
        }

        /* VlanId only when there is one. */
        if (v[i].vlan_id[0] != '\0') {
            xmlChar *vl = xml_text(xi, "VlanId");
            assert_string_equal((const char *)vl, "720");
            xmlFree(vl);
            assert_json_str(ji, "VlanId", "720", 3);
            assert_int_equal(xml_elem_count(xi), 9);
        } else {
            assert_null(xml_child(xi, "VlanId", 0));
            assert_null(cJSON_GetObjectItemCaseSensitive(ji, "VlanId"));
            assert_int_equal(xml_elem_count(xi), 8);
        }
        assert_int_equal((size_t)cJSON_GetArraySize(ji), xml_elem_count(xi));
    }
    xmlFreeDoc(doc);
    cJSON_Delete(js);

    /* No instances: an empty array, still well-formed. */
    aipa_buf_reset(&j);
    assert_int_equal(aipa_render_describe(AIPA_FMT_JSON, "R", NULL, 0, 0, 1, 10, &j), AIPA_OK);
    assert_non_null(strstr(j.ptr, "\"Instances\":{\"Instance\":[]}"));
    aipa_buf_reset(&x);
    assert_int_equal(aipa_render_describe(AIPA_FMT_XML, "R", NULL, 0, 0, 1, 10, &x), AIPA_OK);
    assert_non_null(strstr(x.ptr, "<Instances></Instances>"));
    assert_int_equal(aipa_render_describe(AIPA_FMT_XML, "R", NULL, 2, 0, 1, 10, &x), AIPA_EINVAL);
    aipa_buf_cleanup(&x);
    aipa_buf_cleanup(&j);
}

/* ---- the writer's contract ---- */

static void test_writer_misuse(void **state)
{
    struct aipa_buf b;
    struct aipa_writer w;
    (void)state;

    aipa_buf_init(&b, 1 << 12);
    /* An item outside an array. */
    aipa_w_begin(&w, &b, AIPA_FMT_JSON, "R");
    aipa_w_item_str(&w, "x", 1);
    assert_int_equal(aipa_w_end(&w), AIPA_EINVAL);
    /* A named member inside an array. */
    aipa_buf_reset(&b);
    aipa_w_begin(&w, &b, AIPA_FMT_XML, "R");
    aipa_w_arr_begin(&w, "A");
    aipa_w_cstr(&w, "N", "v");
    assert_int_equal(aipa_w_end(&w), AIPA_EINVAL);
    /* Left open. */
    aipa_buf_reset(&b);
    aipa_w_begin(&w, &b, AIPA_FMT_JSON, "R");
    aipa_w_obj_begin(&w, "O");
    assert_int_equal(aipa_w_end(&w), AIPA_EINVAL);
    /* Closing what is not open. */
    aipa_buf_reset(&b);
    aipa_w_begin(&w, &b, AIPA_FMT_JSON, "R");
    aipa_w_obj_end(&w);
    assert_int_equal(aipa_w_end(&w), AIPA_EINVAL);
    /* Too deep. */
    aipa_buf_reset(&b);
    aipa_w_begin(&w, &b, AIPA_FMT_XML, "R");
    for (int i = 0; i < AIPA_W_MAX_DEPTH + 2; i++) {
        aipa_w_obj_begin(&w, "O");
    }
    assert_int_equal(w.err, AIPA_ETOOBIG);
    assert_int_equal(aipa_w_end(&w), AIPA_ETOOBIG);
    aipa_buf_cleanup(&b);

    /* The buffer's ceiling is the writer's: a sticky ETOOBIG. */
    aipa_buf_init(&b, 100);
    char big[201];
    memset(big, 'a', 200);
    big[200] = '\0';
    aipa_w_begin(&w, &b, AIPA_FMT_JSON, "R");
    aipa_w_str(&w, "V", big, 200);
    aipa_w_cstr(&w, "W", "after");
    assert_int_equal(aipa_w_end(&w), AIPA_ETOOBIG);
    assert_true(b.len <= 100);
    aipa_buf_reset(&b);
    assert_int_equal(aipa_render_error(AIPA_FMT_XML, big, "h", "c", "m", NULL, &b), AIPA_ETOOBIG);
    aipa_buf_cleanup(&b);
}

/* Nested arrays of objects: JSON arrays are repeated XML elements, both ways. */
static void test_array_shapes(void **state)
{
    struct aipa_buf x, j;
    struct aipa_writer w;
    (void)state;

    for (int f = 0; f < 2; f++) {
        struct aipa_buf *b = f == 0 ? &x : &j;
        aipa_buf_init(b, 1 << 12);
        aipa_w_begin(&w, b, (enum aipa_format)f, "R");
        aipa_w_arr_begin(&w, "Item");
        aipa_w_item_obj_begin(&w);
        aipa_w_int(&w, "N", -9223372036854775807LL - 1);
        aipa_w_bool(&w, "B", true);
        aipa_w_arr_begin(&w, "S");
        aipa_w_item_str(&w, "a", 1);
        aipa_w_item_str(&w, "b", 1);
        aipa_w_arr_end(&w);
        aipa_w_item_obj_end(&w);
        aipa_w_item_obj_begin(&w);
        aipa_w_bool(&w, "B", false);
        aipa_w_item_obj_end(&w);
        aipa_w_arr_end(&w);
        assert_int_equal(aipa_w_end(&w), AIPA_OK);
    }
    assert_string_equal(x.ptr, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><R><Item>"
                               "<N>-9223372036854775808</N><B>true</B><S>a</S><S>b</S></Item>"
                               "<Item><B>false</B></Item></R>");
    assert_string_equal(j.ptr, "{\"Item\":[{\"N\":-9223372036854775808,\"B\":true,"
                               "\"S\":[\"a\",\"b\"]},{\"B\":false}]}");
    cJSON *js = json_parse(&j);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(js, "Item"), 0), "B")));
    cJSON_Delete(js);
    xmlDocPtr doc = xml_parse(&x);
    xmlFreeDoc(doc);
    aipa_buf_cleanup(&x);
    aipa_buf_cleanup(&j);
}

/* ---- allocation failure injection ---- */

/* Every allocation failure gives AIPA_ENOMEM (never a crash or a leak), then success. */
static void test_out_of_memory(void **state)
{
    struct aipa_instance_view v[3];
    (void)state;

    make_views(v);
    for (int f = 0; f < 2; f++) {
        bool done = false;
        for (long k = 0; k < 1000 && !done; k++) {
            struct aipa_buf b;
            aipa_buf_init(&b, 1 << 20);
            aipa_test_oom_arm(k);
            aipa_set_allocator(&aipa_test_oom_allocator);
            aipa_err e = aipa_render_describe((enum aipa_format)f, "R", v, 3, 3, 1, 10, &b);
            aipa_set_allocator(NULL);
            aipa_test_oom_arm(-1);
            assert_true(e == AIPA_OK || e == AIPA_ENOMEM);
            done = e == AIPA_OK;
            aipa_buf_cleanup(&b);
        }
        assert_true(done);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_types),      cmocka_unit_test(test_allocate_exact),
        cmocka_unit_test(test_simple_exact),       cmocka_unit_test(test_error_body_fields),
        cmocka_unit_test(test_hostile_values),     cmocka_unit_test(test_every_control_byte),
        cmocka_unit_test(test_output_bytes_clean), cmocka_unit_test(test_random_values_agree),
        cmocka_unit_test(test_one_mib_strings),    cmocka_unit_test(test_describe_fields),
        cmocka_unit_test(test_writer_misuse),      cmocka_unit_test(test_array_shapes),
        cmocka_unit_test(test_out_of_memory),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    xmlCleanupParser();
    return rc;
}
