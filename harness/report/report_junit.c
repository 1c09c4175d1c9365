/*
 * JUnit XML, written with libxml2's xmlTextWriter: one <testsuite> per
 * edition, one <testcase> per case x variant. Failures are <failure>,
 * harness errors <error>, skips <skipped message=...>; a failure the
 * baseline knows is reported as skipped, so JUnit consumers gate the same
 * way the exit status does.
 */
#include "aipa/conform.h"
#include "aipa/sign.h"
#include "conform_int.h"

#include <libxml/encoding.h>
#include <libxml/xmlwriter.h>
#include <string.h>

/* The JUnit attributes from the one set of counts: a known failure is
 * <skipped> (so a JUnit dashboard gates as the exit status does). */
static void counts(const struct aipa_report *r, unsigned ed, struct aipa_counts *c, double *ms)
{
    aipa_report_counts(r, ed, c);
    *ms = 0;
    for (size_t i = 0; i < r->count; i++) {
        if (ed == 0 || r->items[i].edition == ed) {
            *ms += r->items[i].ms;
        }
    }
}

#define W(call)                                                                                    \
    do {                                                                                           \
        if ((call) < 0) {                                                                          \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

static const xmlChar *X(const char *s)
{
    return (const xmlChar *)s;
}

/* s with the bytes XML 1.0 cannot hold (controls other than TAB, LF, CR) as '?'. */
static const xmlChar *S(struct aipa_buf *tmp, const char *s)
{
    aipa_buf_reset(tmp);
    for (const char *p = s != NULL ? s : ""; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        bool bad = (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || ch == 0x7f;

        if (aipa_buf_putc(tmp, bad ? '?' : *p) != AIPA_OK) {
            break;
        }
    }
    if (tmp->ptr == NULL && aipa_buf_puts(tmp, "") != AIPA_OK) {
        return X("");
    }
    return X(tmp->ptr);
}

static int count_attrs(xmlTextWriterPtr w, const struct aipa_counts *c, double ms)
{
    if (xmlTextWriterWriteFormatAttribute(w, X("tests"), "%zu", c->total) < 0 ||
        xmlTextWriterWriteFormatAttribute(w, X("failures"), "%zu", c->fail_new) < 0 ||
        xmlTextWriterWriteFormatAttribute(w, X("errors"), "%zu", c->error) < 0 ||
        xmlTextWriterWriteFormatAttribute(w, X("skipped"), "%zu", c->skip + c->fail_known) < 0 ||
        xmlTextWriterWriteFormatAttribute(w, X("time"), "%.3f", ms / 1000.0) < 0) {
        return -1;
    }
    return 0;
}

static int property(xmlTextWriterPtr w, const char *name, const xmlChar *value)
{
    if (xmlTextWriterStartElement(w, X("property")) < 0 ||
        xmlTextWriterWriteAttribute(w, X("name"), X(name)) < 0 ||
        xmlTextWriterWriteAttribute(w, X("value"), value) < 0 || xmlTextWriterEndElement(w) < 0) {
        return -1;
    }
    return 0;
}

/* The six counts as properties (aipa.pass, aipa.fail-new, ...), as every report shows them. */
static int count_props(xmlTextWriterPtr w, const struct aipa_counts *c)
{
    for (size_t b = 0; b < AIPA_COUNT_BUCKETS; b++) {
        char name[64], value[32];

        snprintf(name, sizeof(name), "aipa.%s", aipa_counts_name(b));
        snprintf(value, sizeof(value), "%zu", aipa_counts_get(c, b));
        if (property(w, name, X(value)) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The transcript of a result as one text block. */
static void transcript(const struct aipa_result *res, struct aipa_buf *b)
{
    for (size_t i = 0; i < res->ex_count; i++) {
        const struct aipa_exchange *x = &res->ex[i];

        aipa__note(b, "--- %s request\n%s\n--- %s response\n%s\n", x->step,
                   x->request != NULL ? x->request : "", x->step,
                   x->response != NULL ? x->response : "");
        if (x->repro != NULL) {
            aipa__note(b, "--- reproduce with\n%s\n", x->repro);
        }
    }
}

static int write_case(xmlTextWriterPtr w, const struct aipa_result *res)
{
    char vname[AIPA_VARIANT_NAME_MAX];
    const char *id = res->c->id;
    const char *slash = strrchr(id, '/');
    struct aipa_buf cls, name, body, t;
    int rc = -1;

    aipa_buf_init(&cls, 1024);
    aipa_buf_init(&name, 1024);
    aipa_buf_init(&body, 8u * 1024u * 1024u);
    aipa_buf_init(&t, 16u * 1024u * 1024u);
    aipa_result_variant_name(res, vname);
    aipa__note(&cls, "%s.", aipa_edition_name(res->edition));
    for (const char *p = id; slash != NULL && p < slash; p++) {
        aipa__note(&cls, "%c", *p == '/' ? '.' : *p);
    }
    if (slash == NULL) {
        aipa__note(&cls, "cases");
    }
    aipa__note(&name, "%s[%s]", slash != NULL ? slash + 1 : id, vname);
    if (cls.ptr == NULL || name.ptr == NULL) {
        goto out;
    }
    W(xmlTextWriterStartElement(w, X("testcase")));
    W(xmlTextWriterWriteAttribute(w, X("classname"), S(&t, cls.ptr)));
    W(xmlTextWriterWriteAttribute(w, X("name"), S(&t, name.ptr)));
    W(xmlTextWriterWriteFormatAttribute(w, X("time"), "%.3f", res->ms / 1000.0));
    if (res->known) {
        aipa__note(&body, "known failure (baseline: %s): %s: %s",
                   res->known_reason != NULL ? res->known_reason : "",
                   aipa_verdict_name(res->verdict), res->reason != NULL ? res->reason : "");
        W(xmlTextWriterStartElement(w, X("skipped")));
        W(xmlTextWriterWriteAttribute(w, X("message"), S(&t, body.ptr)));
        W(xmlTextWriterEndElement(w));
    } else if (res->verdict == AIPA_V_SKIP) {
        W(xmlTextWriterStartElement(w, X("skipped")));
        W(xmlTextWriterWriteAttribute(w, X("message"),
                                      S(&t, res->reason != NULL ? res->reason : "skipped")));
        W(xmlTextWriterEndElement(w));
    } else if (res->verdict == AIPA_V_FAIL || res->verdict == AIPA_V_ERROR) {
        bool fail = res->verdict == AIPA_V_FAIL;

        aipa__note(&body, "%s\n\n%s: %s\n%s\n\n", res->c->title, res->c->source, res->c->clause,
                   res->reason != NULL ? res->reason : "");
        transcript(res, &body);
        W(xmlTextWriterStartElement(w, X(fail ? "failure" : "error")));
        W(xmlTextWriterWriteAttribute(w, X("type"), X(fail ? "conformance" : "harness")));
        W(xmlTextWriterWriteAttribute(w, X("message"),
                                      S(&t, res->reason != NULL ? res->reason : "failed")));
        W(xmlTextWriterWriteString(w, S(&t, body.ptr)));
        W(xmlTextWriterEndElement(w));
    } else if (res->verdict == AIPA_V_PASS_NONSTRICT) {
        aipa__note(&body, "pass-nonstrict: %s", res->reason != NULL ? res->reason : "");
        W(xmlTextWriterWriteElement(w, X("system-out"), S(&t, body.ptr)));
    }
    W(xmlTextWriterEndElement(w));
    rc = 0;
out:
    aipa_buf_cleanup(&cls);
    aipa_buf_cleanup(&name);
    aipa_buf_cleanup(&body);
    aipa_buf_cleanup(&t);
    return rc;
}

aipa_err aipa_report_write_junit(const struct aipa_report *r, struct aipa_buf *out)
{
    xmlBufferPtr xb = xmlBufferCreate();
    xmlTextWriterPtr w = xb != NULL ? xmlNewTextWriterMemory(xb, 0) : NULL;
    aipa_err e = AIPA_ENOMEM;
    struct aipa_counts c;
    double ms;
    char when[21];
    struct aipa_buf t;

    aipa_buf_init(&t, 1u << 20);
    if (w == NULL) {
        goto out;
    }
    aipa_format_timestamp((int64_t)r->started, when);
    xmlTextWriterSetIndent(w, 1);
    W(xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL));
    W(xmlTextWriterStartElement(w, X("testsuites")));
    W(xmlTextWriterWriteAttribute(w, X("name"), X("aipa conform")));
    counts(r, 0, &c, &ms);
    W(count_attrs(w, &c, ms));
    for (unsigned ed = AIPA_ED_2018; ed <= AIPA_ED_2024; ed <<= 1) {
        char name[64];

        if ((r->editions & ed) == 0) {
            continue;
        }
        counts(r, ed, &c, &ms);
        snprintf(name, sizeof(name), "aipa conform %s", aipa_edition_name(ed));
        W(xmlTextWriterStartElement(w, X("testsuite")));
        W(xmlTextWriterWriteAttribute(w, X("name"), X(name)));
        W(count_attrs(w, &c, ms));
        W(xmlTextWriterWriteAttribute(w, X("timestamp"), X(when)));
        W(xmlTextWriterStartElement(w, X("properties")));
        W(property(w, "target", S(&t, r->target)));
        W(property(w, "edition", X(aipa_edition_name(ed))));
        W(count_props(w, &c));
        W(xmlTextWriterEndElement(w));
        for (size_t i = 0; i < r->count; i++) {
            if (r->items[i].edition == ed) {
                W(write_case(w, &r->items[i]));
            }
        }
        W(xmlTextWriterEndElement(w));
    }
    W(xmlTextWriterEndElement(w));
    W(xmlTextWriterEndDocument(w));
    xmlFreeTextWriter(w);
    w = NULL;
    e = aipa_buf_append(out, xmlBufferContent(xb), (size_t)xmlBufferLength(xb));
out:
    if (w != NULL) {
        xmlFreeTextWriter(w);
        e = AIPA_ENOMEM;
    }
    if (xb != NULL) {
        xmlBufferFree(xb);
    }
    aipa_buf_cleanup(&t);
    return e;
}
