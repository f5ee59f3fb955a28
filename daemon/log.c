/* log.c - see log.h. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

static int max_level = LOG_INFO;
static int to_journal = -1; /* -1: not decided yet */

void log_set_level(int max_priority)
{
    max_level = max_priority;
}

int log_parse_level(const char *s)
{
    static const char *names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };

    for (int i = 0; i < 8; i++)
        if (!strcasecmp(s, names[i]))
            return i;
    if (!strcasecmp(s, "error"))
        return LOG_ERR;
    if (!strcasecmp(s, "warn"))
        return LOG_WARNING;
    return -EINVAL;
}

/* systemd sets JOURNAL_STREAM=dev:ino when stderr is connected to the journal. */
static int stderr_is_journal(void)
{
    const char *e = getenv("JOURNAL_STREAM");
    unsigned long dev, ino;
    struct stat st;

    if (!e || sscanf(e, "%lu:%lu", &dev, &ino) != 2)
        return 0;
    if (fstat(2, &st) < 0)
        return 0;
    return st.st_dev == dev && st.st_ino == ino;
}

void log_msg(int priority, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    if (priority > max_level)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (to_journal < 0)
        to_journal = stderr_is_journal();
    if (to_journal) {
        sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%d", priority, "SYSLOG_IDENTIFIER=osdetd", NULL);
        return;
    }
    fprintf(stderr, "<%d>osdetd: %s\n", priority, buf);
}
