/* opts.h - a small re-entrant option iterator over an option table (getopt_long keeps global
 * state and prints its own messages; osdctl needs neither). */
#ifndef OSDCTL_OPTS_H
#define OSDCTL_OPTS_H

struct opt_def {
    const char *name;   /* long name without "--"; a NULL name ends the table */
    char short_name;    /* 0 if none */
    int has_arg;
    int key;            /* > 0, returned by opts_next() */
};

enum { OPTS_END = 0, OPTS_POS = -1, OPTS_ERR = -2 };

struct opts {
    int argc;
    char **argv;
    int i;                   /* next argv index */
    const struct opt_def *defs;
    int after_dashdash;      /* "--" was seen: every later word is positional */
    const char *arg;         /* value of the last option, or the positional word */
    const char *word;        /* the last option as written, for messages */
    char err[160];           /* why OPTS_ERR was returned */
};

void opts_init(struct opts *o, int argc, char **argv, int start, const struct opt_def *defs);
/* Next option key, OPTS_POS (o->arg is the word), OPTS_END, or OPTS_ERR (o->err says why).
 * Options and positionals may be mixed; "--" ends options; "--name=value" is accepted. */
int opts_next(struct opts *o);
#endif
