/* follow.h - "series --follow" and "watch --exec --follow": poll a target every interval and
 * print only the points not printed yet, until the target has exited. */
#ifndef OSDCTL_FOLLOW_H
#define OSDCTL_FOLLOW_H
#include <signal.h>
#include <sys/types.h>

#include "family.h"
#include "output.h"
#include "target.h"

struct cli;

struct follow {
    struct target_arg tgt;
    const char *families[FAMILY_MAX];
    size_t nfamilies;
    enum out_fmt fmt;
    double since;          /* epoch s of the first batch; <= 0: all stored points */
    long long limit;       /* first batch only; 0: none */
    const char *function;  /* metric "func": BINARY:FUNCTION */
    pid_t child;           /* watch --exec: reaped while following; 0: none */
    int child_done;        /* out: the child has ended and child_status is valid */
    int child_status;
};

/* Set by SIGINT when follow_sigint_install() was called; stops the loop with status 0. */
extern volatile sig_atomic_t follow_interrupted;
void follow_sigint_install(void);
/* Runs the loop. Returns 0 when the target has exited and every point is printed (or on
 * SIGINT), else the exit status of the failed request. */
int follow_run(struct cli *cli, struct follow *f);
#endif
