/* family.h - the metric families osdetd collects (proto/osd-rpc.md, series), in the order
 * osdctl shows and joins them, and which of them a target collects. */
#ifndef OSDCTL_FAMILY_H
#define OSDCTL_FAMILY_H
#include <jansson.h>
#include <stddef.h>

/* cpu, mem, net, syscall, heap: every family a target's options may switch on. */
#define FAMILY_MAX 5

extern const char *const family_names[FAMILY_MAX];

/* The table's own string for name (so callers may keep it), or NULL if it is no family. */
const char *family_lookup(const char *name);
/* The families a target object collects (options.<family> is true), in table order, into
 * fam[0..FAMILY_MAX); returns how many. target may be NULL (none). */
size_t family_collected(const json_t *target, const char **fam);
/* "cpu mem net" style list of the collected families joined by sep into buf ("" if none). */
void family_list(char *buf, size_t n, const json_t *target, const char *sep);
#endif
