/* test_client_help.c - the --help texts and docs/osdctl.1 say the same: every usage line of
 * every help text is a SYNOPSIS/COMMANDS line of the man page, and every option line (option
 * and description) appears in it word for word. "osdctl analyze --help" is the analyzer's
 * own text (detect/analyze_cli.c), still being reworded: its usage line and every option
 * it lists must be in the man page (check_analyze()).
 * argv[1] is the man page. */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
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

/* What analyze_main() prints for --help (it writes to stdout, so stdout is redirected). */
static char *analyze_help(int *rc)
{
    char path[] = "/tmp/osdctl-help-XXXXXX", *text = NULL;
    int fd = mkstemp(path), saved = dup(1);
    size_t len = 0;
    FILE *f;

    if (fd < 0 || saved < 0)
        return NULL;
    fflush(stdout);
    dup2(fd, 1);
    *rc = analyze_main(2, (char *[]){ "analyze", "--help", NULL });
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    f = fdopen(fd, "r");
    if (f) {
        fseek(f, 0, SEEK_SET);
        text = malloc(65536);
        len = text ? fread(text, 1, 65535, f) : 0;
        if (text)
            text[len] = '\0';
        fclose(f);
    }
    unlink(path);
    return text;
}

/* The analyzer's help (detect/analyze_cli.c) belongs to the detection library, whose wording
 * and tuned defaults still change; its usage line and its options are stable. So the usage
 * line must be a man page line, and every option of an option line ("-d, --detector ...",
 * "      --calib N ...") must be documented under osdctl analyze as an option entry. */
static void check_analyze(const char *man, const char *man_flat)
{
    const char *start = strstr(man_flat, "osdctl analyze FILE.csv [options] Detect anomalies");
    const char *end = start ? strstr(start, "osdctl help [COMMAND] Show the overall help") : NULL;
    char *section = start && end ? strndup(start, (size_t)(end - start)) : NULL;
    int rc = -1, nopts = 0;
    char *text = analyze_help(&rc), *p;

    CHECK(text && rc == 0, "analyze --help: expected exit 0 and a text, got %d", rc);
    CHECK(section != NULL, "the man page has no 'osdctl analyze' section with the analyzer's first help line");
    if (!text || !section)
        goto out;
    CHECK(!strncmp(text, "Usage: osdctl analyze ", 22), "analyze help starts with \"%.40s\"", text);
    for (p = text; *p;) {
        size_t n = strcspn(p, "\n");
        char *line = strndup(p, n), *sq = squash(line), *w, *save = NULL;

        if (!strncmp(sq, "Usage: ", 7))
            CHECK(man_has_line(man, sq + 7), "analyze: usage line \"%s\" is not a line of the man page", sq + 7);
        /* An option line: its leading words that start with '-' are its flags. */
        if (line[0] == ' ' && sq[0] == '-') {
            for (w = strtok_r(sq, " ", &save); w && w[0] == '-'; w = strtok_r(NULL, " ", &save)) {
                char a[64], b[64];

                w[strcspn(w, ",")] = '\0';
                snprintf(a, sizeof(a), " %s ", w);
                snprintf(b, sizeof(b), " %s,", w);
                nopts++;
                CHECK(strstr(section, a) || strstr(section, b), "analyze: option %s of 'osdctl analyze --help' is "
                      "not documented in the man page's osdctl analyze section", w);
            }
        }
        free(line);
        free(sq);
        p += n + (p[n] == '\n');
    }
    CHECK(nopts >= 15, "analyze help: expected its options (-d, --detector, ... -h, --help), found %d", nopts);
out:
    free(section);
    free(text);
}

int main(int argc, char **argv)
{
    static const char *cmds[] = { NULL,       "watch", "unwatch", "list",      "status", "series", "threads",
                                  "syscalls", "trace", "export",  "anomalies", "config", "help" };
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
    check_analyze(man, flat);
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
