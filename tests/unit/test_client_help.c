/* test_client_help.c - the --help texts and docs/osdctl.1 say the same: every usage line of
 * every help text is a SYNOPSIS/COMMANDS line of the man page, and every option line (option
 * and description) appears in it word for word. argv[1] is the man page. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "help.h"

/* Man page text without roff: macro lines dropped, font escapes removed, "\-" as "-". */
static char *man_text(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[1024], *out = NULL;
    size_t len = 0;
    FILE *o;

    if (!f)
        return NULL;
    o = open_memstream(&out, &len);
    while (fgets(line, sizeof(line), f)) {
        const char *p = line;

        if (line[0] == '.' || line[0] == '\'')
            continue;
        for (; *p; p++) {
            if (p[0] == '\\' && p[1] == 'f' && p[2]) {
                p += 2;
            } else if (p[0] == '\\' && (p[1] == '-' || p[1] == 'e')) {
                fputc(p[1] == '-' ? '-' : '\\', o);
                p++;
            } else if (p[0] == '\\' && p[1] == '&') {
                p++;
            } else if (p[0] == '\\' && p[1] == '(' && p[2] == 'e' && p[3] == 'm') {
                fputs("--", o);
                p += 3;
            } else {
                fputc(*p, o);
            }
        }
    }
    fclose(o);
    fclose(f);
    return out;
}

/* Collapses runs of whitespace to one space, trims ends. */
static char *squash(const char *s)
{
    char *out = malloc(strlen(s) + 1), *d = out;
    int space = 0;

    while (*s && isspace((unsigned char)*s))
        s++;
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            space = 1;
            continue;
        }
        if (space && d != out)
            *d++ = ' ';
        space = 0;
        *d++ = *s;
    }
    *d = '\0';
    return out;
}

/* Each line of the man text, squashed, as one string with '\n' between lines. */
static int man_has_line(const char *man, const char *want)
{
    const char *p = man;

    while (*p) {
        size_t n = strcspn(p, "\n");
        char *line = strndup(p, n), *sq = squash(line);
        int eq = !strcmp(sq, want);

        free(line);
        free(sq);
        if (eq)
            return 1;
        p += n + (p[n] == '\n');
    }
    return 0;
}

static void check_text(const char *cmd, const char *text, const char *man, const char *man_flat)
{
    const char *p = text;
    char *opt = NULL; /* the option entry being gathered: "--x description ..." */
    size_t nopts = 0, nusage = 0;

    while (*p) {
        size_t n = strcspn(p, "\n");
        char *line = strndup(p, n);
        int indent = (int)strspn(line, " ");

        if (!strncmp(line, "Usage: ", 7) || (indent == 7 && !strncmp(line + 7, "osdctl", 6))) {
            char *sq = squash(line + (indent ? 0 : 7));

            nusage++;
            CHECK(man_has_line(man, sq), "%s: usage line \"%s\" is not a line of the man page", cmd ? cmd : "osdctl", sq);
            free(sq);
        }
        /* Option entries start with "  -"; deeper lines continue them. */
        if (opt && (indent < 10 || !line[indent])) {
            char *sq = squash(opt);

            nopts++;
            CHECK(strstr(man_flat, sq), "%s: option entry \"%s\" is not in the man page", cmd ? cmd : "osdctl", sq);
            free(sq);
            free(opt);
            opt = NULL;
        }
        if (indent == 2 && line[2] == '-') {
            opt = strdup(line);
        } else if (opt) {
            char *more = malloc(strlen(opt) + strlen(line) + 2);

            sprintf(more, "%s %s", opt, line);
            free(opt);
            opt = more;
        }
        free(line);
        p += n + (p[n] == '\n');
    }
    if (opt) {
        char *sq = squash(opt);

        nopts++;
        CHECK(strstr(man_flat, sq), "%s: option entry \"%s\" is not in the man page", cmd ? cmd : "osdctl", sq);
        free(sq);
        free(opt);
    }
    CHECK(nusage >= 1, "%s: no usage line found in the help text", cmd ? cmd : "osdctl");
    CHECK(nopts >= 1 || (cmd && !strcmp(cmd, "help")), "%s: no option lines found in the help text",
          cmd ? cmd : "osdctl");
}

int main(int argc, char **argv)
{
    static const char *cmds[] = { NULL, "watch", "unwatch", "list", "status", "series", "threads", "help" };
    char *man, *flat;
    size_t i;

    if (argc < 2) {
        fprintf(stderr, "usage: %s docs/osdctl.1\n", argv[0]);
        return 2;
    }
    man = man_text(argv[1]);
    CHECK(man != NULL, "cannot read %s", argv[1]);
    if (!man)
        CHECK_DONE();
    flat = squash(man);
    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        check_text(cmds[i], help_text(cmds[i]), man, flat);
    CHECK(help_text("nope") == NULL, "an unknown command has no help");
    /* The man page must name every section a reader looks for. */
    {
        static const char *sections[] = { "NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS",
                                          "EXIT STATUS", "ENVIRONMENT", "EXAMPLES" };
        FILE *f = fopen(argv[1], "r");
        char line[1024], want[64];
        int found[8] = { 0 };

        while (f && fgets(line, sizeof(line), f)) {
            for (i = 0; i < 8; i++) {
                snprintf(want, sizeof(want), ".SH %s\n", sections[i]);
                if (!strcmp(line, want))
                    found[i] = 1;
                snprintf(want, sizeof(want), ".SH \"%s\"\n", sections[i]);
                if (!strcmp(line, want))
                    found[i] = 1;
            }
        }
        if (f)
            fclose(f);
        for (i = 0; i < 8; i++)
            CHECK(found[i], "man page lacks section %s", sections[i]);
    }
    free(flat);
    free(man);
    CHECK_DONE();
}
