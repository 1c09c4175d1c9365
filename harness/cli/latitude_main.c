/*
 * latitude_main.c: `aipa latitude`, the table of documented latitude
 * (aipa/latitude.h): every point where the documents allow more than one
 * answer. docs/latitude.md is its --markdown output.
 */
#include "aipa/latitude.h"
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: aipa latitude [--markdown | --ids]\n"
    "\n"
    "Prints the table of documented latitude: every point where the documents allow more\n"
    "than one answer, with its strict answer, the accepted alternatives and the source.\n"
    "\n"
    "  --markdown   the table as Markdown (docs/latitude.md is this output)\n"
    "  --ids        one row id per line\n"
    "  --help       this text\n";

int aipa_latitude_main(int argc, char **argv)
{
    struct aipa_buf out;
    int rc = 0;

    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--markdown") != 0 &&
                     strcmp(argv[1], "--ids") != 0 && strcmp(argv[1], "--help") != 0)) {
        fputs(usage, stderr);
        return 2;
    }
    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--ids") == 0) {
        for (size_t i = 0; i < aipa_lat_count(); i++) {
            printf("%s\n", aipa_lat_row((enum aipa_lat)i)->name);
        }
        return 0;
    }
    aipa_buf_init(&out, 1024u * 1024u);
    if (aipa_lat_markdown(&out) != AIPA_OK) {
        fprintf(stderr, "aipa latitude: out of memory\n");
        rc = 2;
    } else if (fwrite(out.ptr, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
        rc = 2;
    }
    aipa_buf_cleanup(&out);
    return rc;
}
