/* family.c - see family.h. */
#include "family.h"

#include <stdio.h>
#include <string.h>

const char *const family_names[FAMILY_MAX] = { "cpu", "mem", "net", "syscall", "heap" };

const char *family_lookup(const char *name)
{
    size_t i;

    for (i = 0; name && i < FAMILY_MAX; i++) {
        if (!strcmp(name, family_names[i]))
            return family_names[i];
    }
    return NULL;
}

size_t family_collected(const json_t *target, const char **fam)
{
    const json_t *opt = json_object_get(target, "options");
    size_t i, n = 0;

    for (i = 0; i < FAMILY_MAX; i++) {
        if (json_is_true(json_object_get(opt, family_names[i])))
            fam[n++] = family_names[i];
    }
    return n;
}

void family_list(char *buf, size_t n, const json_t *target, const char *sep)
{
    const char *fam[FAMILY_MAX];
    size_t i, k = family_collected(target, fam), len = 0;

    if (n)
        buf[0] = '\0';
    for (i = 0; i < k && len < n; i++) {
        int w = snprintf(buf + len, n - len, "%s%s", i ? sep : "", fam[i]);

        if (w < 0)
            break;
        len += (size_t)w;
    }
}
