/* opts.c - see opts.h. */
#include "opts.h"

#include <stdio.h>
#include <string.h>

void opts_init(struct opts *o, int argc, char **argv, int start, const struct opt_def *defs)
{
    memset(o, 0, sizeof(*o));
    o->argc = argc;
    o->argv = argv;
    o->i = start;
    o->defs = defs;
}

static const struct opt_def *opts_find(const struct opts *o, const char *name, size_t len, char short_name)
{
    const struct opt_def *d;

    for (d = o->defs; d->name; d++) {
        if (short_name ? d->short_name == short_name : strlen(d->name) == len && !strncmp(d->name, name, len))
            return d;
    }
    return NULL;
}

int opts_next(struct opts *o)
{
    const struct opt_def *d;
    const char *w, *eq = NULL;

    o->arg = NULL;
    if (o->i >= o->argc)
        return OPTS_END;
    w = o->argv[o->i++];
    o->word = w;
    if (o->after_dashdash || w[0] != '-' || !w[1]) {
        o->arg = w;
        return OPTS_POS;
    }
    if (!strcmp(w, "--")) {
        o->after_dashdash = 1;
        return opts_next(o);
    }
    if (w[1] == '-') {
        eq = strchr(w + 2, '=');
        d = opts_find(o, w + 2, eq ? (size_t)(eq - w - 2) : strlen(w + 2), 0);
    } else {
        d = w[2] ? NULL : opts_find(o, NULL, 0, w[1]);
    }
    if (!d) {
        snprintf(o->err, sizeof(o->err), "unknown option '%.*s'", eq ? (int)(eq - w) : (int)strlen(w), w);
        return OPTS_ERR;
    }
    if (!d->has_arg) {
        if (eq) {
            snprintf(o->err, sizeof(o->err), "option '--%s' takes no value", d->name);
            return OPTS_ERR;
        }
        return d->key;
    }
    if (eq) {
        o->arg = eq + 1;
    } else if (o->i < o->argc) {
        o->arg = o->argv[o->i++];
    } else {
        snprintf(o->err, sizeof(o->err), "option '%s' needs a value", w);
        return OPTS_ERR;
    }
    return d->key;
}
