/* ufmt.h - the message formats of user-function tracing (`trace` with `uprobe`): a
 * printf-like format followed by the argument names, "n=%d name=%s arg1 arg2", or the
 * quoted form "'n=%d name=%s' % (arg1, arg2)"; parsed once, rendered per event. */
#ifndef OSD_UFMT_H
#define OSD_UFMT_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UFMT_MAX_TEXT 256 /* bytes of format text */
#define UFMT_MAX_CONV 8   /* conversions per format */
#define UFMT_RETVAL 6     /* value index of retval; 0..5 are arg1..arg6 */
#define UFMT_NVALS 7

struct ufmt_conv {
    char spec;   /* d i u x p s c */
    bool wide;   /* l or ll: 64-bit */
    uint8_t val; /* 0..5 arg1..arg6, UFMT_RETVAL */
};

struct ufmt {
    char text[UFMT_MAX_TEXT]; /* the format itself, conversions included */
    size_t nconv;
    struct ufmt_conv conv[UFMT_MAX_CONV];
    uint32_t str_mask; /* bit v: value v is shown with %s (its string must be read) */
};

/* The values of one event: registers, and the strings read for %s values (NULL: the
 * pointer could not be read). */
struct ufmt_vals {
    uint64_t v[UFMT_NVALS];
    const char *s[UFMT_NVALS];
};

/* Parses spec; at_return selects which names are allowed (retval vs arg1..arg6). 0, or
 * -EINVAL with a message naming what is wrong in why. */
int ufmt_parse(const char *spec, bool at_return, struct ufmt *f, char *why, size_t whylen);
/* The message into buf (always NUL-terminated, cut if too long); when vals_out is an
 * array, each conversion's value is appended to it (a number, or a string for %s/%c). */
void ufmt_render(const struct ufmt *f, const struct ufmt_vals *v, char *buf, size_t len, json_t *vals_out);
#endif
