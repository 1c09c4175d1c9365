/*
 * One self-contained HTML file: inline CSS, no scripts, no external assets.
 * A summary per edition, a case-by-variant matrix coloured by verdict, and
 * for each failure, error and nonstrict pass the reason and the redacted
 * request and response. Every byte that came from a case file or a target is
 * HTML-escaped.
 */
#include "aipa/conform.h"
#include "aipa/sign.h"
#include "conform_int.h"

#include <string.h>

/* Appends s HTML-escaped (& < > " ' and control bytes). */
static void esc(struct aipa_buf *b, const char *s)
{
    for (const char *p = s != NULL ? s : ""; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;

        switch (ch) {
        case '&':
            aipa__note(b, "&amp;");
            break;
        case '<':
            aipa__note(b, "&lt;");
            break;
        case '>':
            aipa__note(b, "&gt;");
            break;
        case '"':
            aipa__note(b, "&quot;");
            break;
        case '\'':
            aipa__note(b, "&#39;");
            break;
        default:
            if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f) {
                aipa__note(b, "&#xFFFD;");
            } else {
                aipa__note(b, "%c", *p);
            }
        }
    }
}

static const char *css_class(const struct aipa_result *res)
{
    if (res->known) {
        return "known";
    }
    switch (res->verdict) {
    case AIPA_V_PASS:
        return "pass";
    case AIPA_V_PASS_NONSTRICT:
        return "nonstrict";
    case AIPA_V_FAIL:
        return "fail";
    case AIPA_V_SKIP:
        return "skip";
    case AIPA_V_ERROR:
        return "error";
    case AIPA_V_COUNT_:
        break;
    }
    return "skip";
}

static const char *short_mark(const struct aipa_result *res)
{
    if (res->known) {
        return "K";
    }
    switch (res->verdict) {
    case AIPA_V_PASS:
        return "&#10003;";
    case AIPA_V_PASS_NONSTRICT:
        return "~";
    case AIPA_V_FAIL:
        return "&#10007;";
    case AIPA_V_SKIP:
        return "&#8211;";
    case AIPA_V_ERROR:
        return "!";
    case AIPA_V_COUNT_:
        break;
    }
    return "?";
}

static bool has_detail(const struct aipa_result *res)
{
    return res->verdict == AIPA_V_FAIL || res->verdict == AIPA_V_ERROR ||
           res->verdict == AIPA_V_PASS_NONSTRICT;
}

static const char *const STYLE =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.4em}h2{font-size:1.2em;margin-top:2em}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:center}"
    "th.v{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:normal;font-size:12px}"
    "td.id{text-align:left;font-family:monospace}"
    "td a{color:inherit;text-decoration:none;display:block}"
    ".pass{background:#c8e6c9}.nonstrict{background:#fff59d}.fail{background:#ef9a9a}"
    ".error{background:#ce93d8}.skip{background:#eee;color:#777}.known{background:#ffcc80}"
    ".none{background:#fff}"
    "pre{background:#f6f6f6;border:1px solid #ddd;padding:.5em;overflow:auto;"
    "white-space:pre-wrap;word-break:break-all;max-height:30em}"
    "div.d{border-left:4px solid #999;padding-left:1em;margin:1.5em 0}"
    "div.d.fail{border-color:#c62828;background:none}div.d.error{border-color:#6a1b9a;"
    "background:none}div.d.nonstrict{border-color:#f9a825;background:none}"
    ".muted{color:#666}";

aipa_err aipa_report_write_html(const struct aipa_report *r, struct aipa_buf *out)
{
    struct aipa_variant all[16];
    size_t nv = aipa_variants_expand(
        &(struct aipa_variant_set){AIPA_VSIG_ALL, AIPA_VSHAPE_ALL, AIPA_VFMT_ALL}, all, 16);
    char when[21];
    size_t start = out->len;

    aipa_format_timestamp((int64_t)r->started, when);
    aipa__note(out,
               "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<title>aipa conform report</title><style>%s</style></head><body>\n",
               STYLE);
    aipa__note(out, "<h1>aipa conform report</h1>\n<p>Target <code>");
    esc(out, r->target);
    aipa__note(out, "</code>, profile <code>");
    esc(out, r->profile);
    aipa__note(out, "</code>, started %s, %.0f ms, %lu requests. Exit status %d.</p>\n", when,
               r->wall_ms, r->requests, aipa_report_exit_code(r));

    /* summary */
    aipa__note(out, "<table><tr><th>edition</th>");
    for (int v = 0; v < (int)AIPA_V_COUNT_; v++) {
        aipa__note(out, "<th>%s</th>", aipa_verdict_name((enum aipa_verdict)v));
    }
    aipa__note(out, "<th>known failures</th></tr>\n");
    for (unsigned ed = AIPA_ED_2018; ed <= AIPA_ED_2024; ed <<= 1) {
        if ((r->editions & ed) == 0) {
            continue;
        }
        aipa__note(out, "<tr><td>%s</td>", aipa_edition_name(ed));
        for (int v = 0; v < (int)AIPA_V_COUNT_; v++) {
            aipa__note(out, "<td>%zu</td>", aipa_report_count(r, ed, (enum aipa_verdict)v));
        }
        aipa__note(out, "<td>%zu</td></tr>\n", aipa__report_known(r, ed));
    }
    aipa__note(out, "</table>\n<p class=\"muted\">&#10003; pass, ~ pass-nonstrict, &#10007; "
                    "fail, ! harness error, &#8211; skip, K known failure (baseline). Click a "
                    "cell for its details.</p>\n");
    if (r->fixed_count > 0) {
        aipa__note(out, "<h2>Known failures that now pass</h2><ul>\n");
        for (size_t i = 0; i < r->fixed_count; i++) {
            aipa__note(out, "<li>");
            esc(out, r->fixed[i]);
            aipa__note(out, "</li>\n");
        }
        aipa__note(out, "</ul>\n");
    }

    /* matrix per edition: rows are cases in report order, columns variants */
    for (unsigned ed = AIPA_ED_2018; ed <= AIPA_ED_2024; ed <<= 1) {
        const struct aipa_case *prev = NULL;

        if ((r->editions & ed) == 0) {
            continue;
        }
        aipa__note(out, "<h2>Edition %s</h2>\n<table><tr><th>case</th><th>level</th>",
                   aipa_edition_name(ed));
        for (size_t k = 0; k < nv; k++) {
            char name[AIPA_VARIANT_NAME_MAX];

            aipa_variant_name(&all[k], name);
            aipa__note(out, "<th class=\"v\">%s</th>", name);
        }
        aipa__note(out, "<th class=\"v\">raw / case</th></tr>\n");
        for (size_t i = 0; i < r->count; i++) {
            const struct aipa_case *c = r->items[i].c;

            if (r->items[i].edition != ed || c == prev) {
                continue;
            }
            prev = c;
            aipa__note(out, "<tr><td class=\"id\" title=\"");
            esc(out, c->title);
            aipa__note(out, "\">");
            esc(out, c->id);
            aipa__note(out, "</td><td>%s</td>", c->level == AIPA_LEVEL_MUST ? "MUST" : "SHOULD");
            for (size_t k = 0; k <= nv; k++) {
                const struct aipa_result *hit = NULL;
                size_t hit_i = 0;

                for (size_t j = i; j < r->count && r->items[j].c == c; j++) {
                    const struct aipa_result *x = &r->items[j];
                    bool col =
                        k < nv ? (!x->case_level && x->variant.sig == all[k].sig &&
                                  x->variant.shape == all[k].shape && x->variant.fmt == all[k].fmt)
                               : (x->case_level || x->variant.sig == 0);

                    if (x->edition == ed && col) {
                        hit = x;
                        hit_i = j;
                        break;
                    }
                }
                if (hit == NULL) {
                    aipa__note(out, "<td class=\"none\"></td>");
                    continue;
                }
                aipa__note(out, "<td class=\"%s\" title=\"", css_class(hit));
                esc(out, aipa_verdict_name(hit->verdict));
                if (hit->reason != NULL) {
                    aipa__note(out, ": ");
                    esc(out, hit->reason);
                }
                aipa__note(out, "\">");
                if (has_detail(hit)) {
                    aipa__note(out, "<a href=\"#r%zu\">%s</a>", hit_i, short_mark(hit));
                } else {
                    aipa__note(out, "%s", short_mark(hit));
                }
                aipa__note(out, "</td>");
            }
            aipa__note(out, "</tr>\n");
        }
        aipa__note(out, "</table>\n");
    }

    /* details */
    aipa__note(out, "<h2>Details</h2>\n");
    for (size_t i = 0; i < r->count; i++) {
        const struct aipa_result *res = &r->items[i];
        char vname[AIPA_VARIANT_NAME_MAX];

        if (!has_detail(res)) {
            continue;
        }
        aipa_result_variant_name(res, vname);
        aipa__note(out, "<div class=\"d %s\" id=\"r%zu\"><h3>", css_class(res), i);
        esc(out, res->c->id);
        aipa__note(out, " <span class=\"muted\">[%s, %s]</span> %s%s</h3>\n<p>", vname,
                   aipa_edition_name(res->edition), aipa_verdict_name(res->verdict),
                   res->known ? " (known failure)" : "");
        esc(out, res->c->title);
        aipa__note(out, "</p>\n<p class=\"muted\">%s: &#8220;",
                   res->c->level == AIPA_LEVEL_MUST ? "MUST" : "SHOULD");
        esc(out, res->c->clause);
        aipa__note(out, "&#8221; (");
        esc(out, res->c->source);
        aipa__note(out, ")</p>\n<pre>");
        esc(out, res->reason);
        aipa__note(out, "</pre>\n");
        if (res->known) {
            aipa__note(out, "<p>Baseline: ");
            esc(out, res->known_reason);
            aipa__note(out, "</p>\n");
        }
        for (size_t k = 0; k < res->ex_count; k++) {
            const struct aipa_exchange *x = &res->ex[k];

            aipa__note(out, "<h4>");
            esc(out, x->step);
            aipa__note(out, "</h4>\n<pre>");
            esc(out, x->request);
            aipa__note(out, "</pre>\n<pre>");
            esc(out, x->response);
            aipa__note(out, "</pre>\n");
            if (x->repro != NULL) {
                aipa__note(out, "<pre>");
                esc(out, x->repro);
                aipa__note(out, "</pre>\n");
            }
        }
        aipa__note(out, "</div>\n");
    }
    aipa__note(out, "</body></html>\n");
    /* aipa__note drops what does not fit: check that the closing tag made it. */
    if (out->len < start + 16 || strstr(out->ptr + out->len - 16, "</html>") == NULL) {
        return AIPA_ETOOBIG;
    }
    return AIPA_OK;
}
