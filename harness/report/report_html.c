/*
 * One self-contained HTML file (inline CSS, no scripts, no external assets),
 * read top down: the counts; the failures, one block per case with the
 * editions and variants it failed in, a link to its case file, the command
 * that runs it again and each result's reason and redacted transcript; the
 * known failures and nonstrict passes the same way; then the case-by-variant
 * matrix per edition with its legend. Every byte that came from a case file
 * or a target is HTML-escaped.
 */
#include "aipa/conform.h"
#include "aipa/sign.h"
#include "conform_int.h"
#include "report_int.h"

#include <limits.h>
#include <stdlib.h>
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

static const char *const STYLE =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:80em}"
    "h1{font-size:1.4em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}"
    "h3{font-size:1.05em;margin:.2em 0}"
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
    "div.g{border-left:5px solid #999;padding:.3em 0 .3em 1em;margin:1em 0}"
    "div.g.fail{border-color:#c62828;background:none}div.g.known{border-color:#ef6c00;"
    "background:none}div.g.nonstrict{border-color:#f9a825;background:none}"
    "details{margin:.3em 0}summary{cursor:pointer}"
    "code.cmd{display:block;background:#263238;color:#eceff1;padding:.4em .6em;"
    "white-space:pre-wrap;word-break:break-all}"
    ".muted{color:#666}";

static const char *kind_class(enum aipa__kind k)
{
    return k == AIPA_KIND_NEW ? "fail" : k == AIPA_KIND_KNOWN ? "known" : "nonstrict";
}

/* The case file as a link: an absolute file: URI (percent-encoded), the text
 * from conformance/ on when the path has it. */
static void case_link(struct aipa_buf *out, const struct aipa_case *c)
{
    static const char HEX[] = "0123456789ABCDEF";
    const char *o = c->origin != NULL ? c->origin : "";
    const char *shown = strstr(o, "conformance/");
    char abs[PATH_MAX];
    const char *path = realpath(o, abs) != NULL ? abs : o;

    aipa__note(out, "<a href=\"%s", path[0] == '/' ? "file://" : "");
    for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~/", *p) != NULL;

        if (plain) {
            aipa__note(out, "%c", *p);
        } else {
            aipa__note(out, "%%%c%c", HEX[*p >> 4], HEX[*p & 15]);
        }
    }
    aipa__note(out, "\">");
    esc(out, shown != NULL ? shown : o);
    aipa__note(out, "</a>");
}

static void write_counts(struct aipa_buf *out, const struct aipa_report *r)
{
    struct aipa_counts c;
    struct aipa_action_latency lat[16];
    size_t nlat = 0;

    aipa__note(out, "<table><tr><th>edition</th>");
    for (size_t b = 0; b < AIPA_COUNT_BUCKETS; b++) {
        aipa__note(out, "<th>%s</th>", aipa_counts_name(b));
    }
    aipa__note(out, "<th>total</th></tr>\n");
    for (unsigned ed = AIPA_ED_2018; ed <= AIPA_ED_2024 * 2; ed <<= 1) {
        bool all = ed > AIPA_ED_2024;

        if (all ? r->editions != AIPA_ED_ALL : (r->editions & ed) == 0) {
            continue;
        }
        aipa_report_counts(r, all ? 0 : ed, &c);
        aipa__note(out, "<tr><td>%s</td>", all ? "all" : aipa_edition_name(ed));
        for (size_t b = 0; b < AIPA_COUNT_BUCKETS; b++) {
            aipa__note(out, "<td>%zu</td>", aipa_counts_get(&c, b));
        }
        aipa__note(out, "<td>%zu</td></tr>\n", c.total);
    }
    aipa__note(out, "</table>\n");
    if (aipa_report_latency(r, lat, AIPA_ARRAY_LEN(lat), &nlat) == AIPA_OK && nlat > 0) {
        aipa__note(out, "<table><tr><th>action</th><th>answers</th><th>p50 ms</th><th>p99 ms</th>"
                        "<th>max ms</th></tr>\n");
        for (size_t i = 0; i < nlat; i++) {
            aipa__note(out, "<tr><td>");
            esc(out, lat[i].action);
            aipa__note(out, "</td><td>%zu</td><td>%.1f</td><td>%.1f</td><td>%.1f</td></tr>\n",
                       lat[i].count, lat[i].p50_ms, lat[i].p99_ms, lat[i].max_ms);
        }
        aipa__note(out, "</table>\n");
    }
}

static bool same_reason(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/*
 * The results of a group that share the reason of result g->idx[k0]: one
 * folded block naming each variant and edition (each an anchor the matrix
 * links to), with the first one's transcript.
 */
static void write_reason(struct aipa_buf *out, const struct aipa_report *r,
                         const struct aipa__group *g, size_t k0, bool open)
{
    const struct aipa_result *res = &r->items[g->idx[k0]];
    size_t same = 0;

    for (size_t k = k0; k < g->count; k++) {
        same += same_reason(r->items[g->idx[k]].reason, res->reason);
    }
    aipa__note(out, "<details id=\"r%zu\"%s><summary>%s in %zu result(s): ", g->idx[k0],
               open ? " open" : "", aipa_verdict_name(res->verdict), same);
    esc(out, res->reason != NULL && strlen(res->reason) < 240 ? res->reason : "(below)");
    aipa__note(out, "</summary>\n<p>");
    /* Every result of the case gave this reason: "Failed in" above already says where. */
    if (same == g->count && same > 1) {
        aipa__note(out, "All %zu results above.", same);
    }
    for (size_t k = k0, n = 0; k < g->count; k++) {
        const struct aipa_result *x = &r->items[g->idx[k]];
        char vname[AIPA_VARIANT_NAME_MAX];

        if (!same_reason(x->reason, res->reason)) {
            continue;
        }
        if (k != k0) { /* the first one's anchor is the block itself */
            aipa__note(out, "<span id=\"r%zu\"></span>", g->idx[k]);
        }
        if (same < g->count || same == 1) {
            aipa_result_variant_name(x, vname);
            aipa__note(out, "%s%s (%s)", n++ == 0 ? "" : ", ", vname,
                       aipa_edition_name(x->edition));
        }
    }
    aipa__note(out, "</p>\n<pre>");
    esc(out, res->reason);
    aipa__note(out, "</pre>\n");
    if (res->known) {
        aipa__note(out, "<p>Baseline: ");
        esc(out, res->known_reason);
        aipa__note(out, "</p>\n");
    }
    if (res->ex_count > 0) {
        char vname[AIPA_VARIANT_NAME_MAX];

        aipa_result_variant_name(res, vname);
        aipa__note(out, "<p class=\"muted\">The exchanges of %s (%s):</p>\n", vname,
                   aipa_edition_name(res->edition));
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
        /* The embedded server of the run is gone: the rerun line above starts another. */
        if (x->repro != NULL && !r->embedded) {
            aipa__note(out, "<p class=\"muted\">The request again, against the same target:</p>"
                            "<pre>");
            esc(out, x->repro);
            aipa__note(out, "</pre>\n");
        }
    }
    aipa__note(out, "</details>\n");
}

static void write_group(struct aipa_buf *out, const struct aipa_report *r,
                        const struct aipa__group *g, size_t gi)
{
    const struct aipa_case *c = g->c;
    struct aipa_buf line;

    aipa_buf_init(&line, 64 * 1024);
    aipa__note(out, "<div class=\"g %s\" id=\"g%zu\"><h3>", kind_class(g->kind), gi);
    esc(out, c->id);
    aipa__note(out, " <span class=\"muted\">%s, %zu result(s)</span></h3>\n<p>",
               c->level == AIPA_LEVEL_MUST ? "MUST" : "SHOULD", g->count);
    esc(out, c->title);
    aipa__note(out, "<br><span class=\"muted\">&#8220;");
    esc(out, c->clause);
    aipa__note(out, "&#8221; (");
    esc(out, c->source);
    aipa__note(out, "). Case file: ");
    case_link(out, c);
    aipa__note(out, "</span></p>\n<p>%s in ",
               g->kind == AIPA_KIND_NONSTRICT ? "Passed only nonstrictly" : "Failed");
    aipa__group_where(r, g, &line);
    esc(out, line.ptr);
    aipa_buf_reset(&line);
    aipa__rerun_line(r, &r->items[g->idx[0]], &line);
    aipa__note(out, ".</p>\n<p class=\"muted\">Run it again%s:</p><code class=\"cmd\">",
               r->embedded ? " (this starts the reference server with the same seed)" : "");
    esc(out, line.ptr);
    aipa__note(out, "</code>\n");
    for (size_t k = 0; k < g->count; k++) {
        bool earlier = false;

        for (size_t j = 0; j < k && !earlier; j++) {
            earlier = same_reason(r->items[g->idx[j]].reason, r->items[g->idx[k]].reason);
        }
        if (!earlier) {
            write_reason(out, r, g, k, k == 0);
        }
    }
    aipa__note(out, "</div>\n");
    aipa_buf_cleanup(&line);
}

static void write_groups(struct aipa_buf *out, const struct aipa_report *r,
                         const struct aipa__groups *gs)
{
    static const char *const titles[] = {"Failures", "Known failures (baseline)",
                                         "Nonstrict passes"};
    static const char *const ids[] = {"failures", "known", "nonstrict"};

    for (int k = AIPA_KIND_NEW; k < AIPA_KIND_NONE; k++) {
        size_t n = aipa__groups_of(gs, (enum aipa__kind)k);

        if (n == 0 && k != AIPA_KIND_NEW) {
            continue;
        }
        aipa__note(out, "<h2 id=\"%s\">%s: %zu case(s)</h2>\n", ids[k], titles[k], n);
        if (n == 0) {
            aipa__note(out, "<p>None beyond the baseline.</p>\n");
        }
        for (size_t i = 0; i < gs->count; i++) {
            if ((int)gs->items[i].kind == k) {
                write_group(out, r, &gs->items[i], i);
            }
        }
        if (k == AIPA_KIND_KNOWN && r->fixed_count > 0) {
            aipa__note(out, "<h3>Known failures that now pass (remove them from the "
                            "baseline)</h3><ul>\n");
            for (size_t i = 0; i < r->fixed_count; i++) {
                aipa__note(out, "<li>");
                esc(out, r->fixed[i]);
                aipa__note(out, "</li>\n");
            }
            aipa__note(out, "</ul>\n");
        }
    }
}

static const char *const LEGEND =
    "<table><tr><th>cell</th><th>meaning</th></tr>\n"
    "<tr><td class=\"pass\">&#10003;</td><td>pass</td></tr>\n"
    "<tr><td class=\"nonstrict\">~</td><td>pass-nonstrict: only a SHOULD-level or soft "
    "difference (listed above)</td></tr>\n"
    "<tr><td class=\"fail\">&#10007;</td><td>fail-new: a failure the baseline does not "
    "cover</td></tr>\n"
    "<tr><td class=\"known\">K</td><td>fail-known: a failure or error the baseline "
    "covers</td></tr>\n"
    "<tr><td class=\"error\">!</td><td>error: the harness could not judge (fixture setup, "
    "target unreachable)</td></tr>\n"
    "<tr><td class=\"skip\">&#8211;</td><td>skip: not run, for the reason its tooltip "
    "gives</td></tr>\n"
    "<tr><td class=\"none\"></td><td>blank: this variant does not apply to the case (the case "
    "or a pinned step excludes it, or --variants or the profile did not select it)</td></tr>\n"
    "</table>\n<p class=\"muted\">Hover over a cell for its reason; click a marked cell for "
    "its details above. The last column holds raw-request cases and whole-case skips.</p>\n";

/* The matrix of one edition: rows are cases in report order, columns variants. */
static void write_matrix(struct aipa_buf *out, const struct aipa_report *r, unsigned ed,
                         const struct aipa_variant *all, size_t nv)
{
    const struct aipa_case *prev = NULL;

    aipa__note(out, "<h3>Edition %s</h3>\n<table><tr><th>case</th><th>level</th>",
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
                bool col = k < nv
                               ? (!x->case_level && x->variant.sig == all[k].sig &&
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
            if (aipa__result_kind(hit) != AIPA_KIND_NONE) {
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

aipa_err aipa_report_write_html(const struct aipa_report *r, struct aipa_buf *out)
{
    struct aipa_variant all[16];
    size_t nv = aipa_variants_expand(
        &(struct aipa_variant_set){AIPA_VSIG_ALL, AIPA_VSHAPE_ALL, AIPA_VFMT_ALL}, all, 16);
    struct aipa__groups gs;
    char when[21];
    size_t start = out->len;

    if (aipa__groups_build(r, &gs) != AIPA_OK) {
        return AIPA_ENOMEM;
    }
    aipa_format_timestamp((int64_t)r->started, when);
    aipa__note(out,
               "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<title>aipa conform report</title><style>%s</style></head><body>\n",
               STYLE);
    aipa__note(out, "<h1>aipa conform report</h1>\n<p>Target <code>");
    esc(out, r->target);
    aipa__note(out, "</code>%s, profile <code>",
               r->embedded ? " (the embedded reference server)" : "");
    esc(out, r->profile);
    aipa__note(out,
               "</code>, started %s, %.0f ms, %lu requests. <strong>Exit status %d</strong>.</p>\n",
               when, r->wall_ms, r->requests, aipa_report_exit_code(r));
    write_counts(out, r);
    write_groups(out, r, &gs);
    aipa__note(out, "<h2 id=\"matrix\">Matrix</h2>\n%s", LEGEND);
    for (unsigned ed = AIPA_ED_2018; ed <= AIPA_ED_2024; ed <<= 1) {
        if ((r->editions & ed) != 0) {
            write_matrix(out, r, ed, all, nv);
        }
    }
    aipa__note(out, "</body></html>\n");
    aipa__groups_cleanup(&gs);
    /* aipa__note drops what does not fit: check that the closing tag made it. */
    if (out->len < start + 16 || strstr(out->ptr + out->len - 16, "</html>") == NULL) {
        return AIPA_ETOOBIG;
    }
    return AIPA_OK;
}
