/* test_ufmt.c - the user-function trace formats (daemon/ufmt.c): both spellings, every
 * conversion, the errors that name what is wrong, and the ELF lookup's errors
 * (daemon/uprobe_elf.c) on files every system has. */
#include <errno.h>
#include <jansson.h>
#include <stdint.h>

#include "check.h"
#include "ufmt.h"
#include "uprobe_elf.h"

/* The values of the last render (CHECK_STR evaluates its argument more than once). */
static json_t *vals;

static const char *render(const char *spec, bool at_return, const struct ufmt_vals *v)
{
    static char buf[512];
    struct ufmt f;
    char why[256] = "";

    json_decref(vals);
    vals = NULL;
    if (ufmt_parse(spec, at_return, &f, why, sizeof(why))) {
        snprintf(buf, sizeof(buf), "ERROR: %s", why);
        return buf;
    }
    vals = json_array();
    ufmt_render(&f, v, buf, sizeof(buf), vals);
    return buf;
}

/* The error message of a spec that must be refused ("" if it was accepted). */
static const char *refused(const char *spec, bool at_return)
{
    static char why[256];
    struct ufmt f;

    why[0] = '\0';
    if (!ufmt_parse(spec, at_return, &f, why, sizeof(why)))
        return "";
    return why;
}

#define CHECK_HAS(got, word) CHECK(strstr((got), (word)), "expected a message naming \"%s\", got \"%s\"", (word), (got))

int main(void)
{
    struct ufmt_vals v = { .v = { 42, 0x7fff0000, (uint64_t)-7, 'A', 0, 0, (uint64_t)-1 } };
    struct ufmt f;
    char why[256];
    uint64_t off;

    v.s[1] = "item-42";
    v.s[UFMT_RETVAL] = "done";

    /* plain form: format, then the names */
    CHECK_STR(render("n=%d arg1", false, &v), "n=42");
    CHECK_INT(json_array_size(vals), 1);
    CHECK_INT(json_integer_value(json_array_get(vals, 0)), 42);
    CHECK_STR(render("Enter search, n=%d name=%s arg1, arg2", false, &v), "Enter search, n=42 name=item-42");
    CHECK_STR(json_string_value(json_array_get(vals, 1)), "item-42");
    /* the prototype's quoted form */
    CHECK_STR(render("'Enter search, n=%d' % (arg1)", false, &v), "Enter search, n=42");
    CHECK_STR(render("\"x=%d y=%d\" % (arg1 arg3)", false, &v), "x=42 y=-7");
    CHECK_STR(render("'ret=%d' % retval", true, &v), "ret=-1");
    /* no conversion: the whole text, no names */
    CHECK_STR(render("enter search", false, &v), "enter search");
    CHECK_INT(json_array_size(vals), 0);
    /* every conversion: widths, signedness, hex, pointers, chars, strings, %% */
    CHECK_STR(render("%u %ld %lu %x %lx %i %lld %llu %llx arg3 arg3 arg3 arg3 arg3 arg3 arg3 arg3", false, &v),
              "ERROR: too many conversions (at most 8)");
    CHECK_STR(render("%u %ld %lu %x %lx %i arg3 arg3 arg3 arg3 arg3 arg3", false, &v),
              "4294967289 -7 18446744073709551609 fffffff9 fffffffffffffff9 -7");
    CHECK_STR(render("%lld %llu %llx arg3 arg1 arg2", false, &v), "-7 42 7fff0000");
    CHECK_STR(render("%p %p %c 100%% arg2 arg5 arg4", false, &v), "0x7fff0000 (nil) A 100%");
    CHECK_STR(render("r=%s retval", true, &v), "r=done");
    v.s[1] = NULL;
    CHECK_STR(render("%s %s arg2 arg5", false, &v), "(unreadable) (null)");
    CHECK(json_is_null(json_array_get(vals, 0)), "an unreadable string is null in args");

    /* which strings the probe must read */
    CHECK_INT(ufmt_parse("%s %d %s arg2 arg1 arg6", false, &f, why, sizeof(why)), 0);
    CHECK_INT(f.str_mask, (1u << 1) | (1u << 5));
    CHECK_INT(ufmt_parse("%s retval", true, &f, why, sizeof(why)), 0);
    CHECK_INT(f.str_mask, 1u << UFMT_RETVAL);

    /* errors name what is wrong */
    CHECK_HAS(refused("n=%d", false), "1 conversion but 0 argument names");
    CHECK_HAS(refused("n=%d arg1 arg2", false), "1 conversion but 2 argument names");
    CHECK_HAS(refused("n=%d m=%d arg1", false), "2 conversions but 1 argument name");
    CHECK_HAS(refused("n=%d argx", false), "unknown argument name 'argx'");
    CHECK_HAS(refused("n=%d arg7", false), "unknown argument name 'arg7'");
    CHECK_HAS(refused("n=%d retval", false), "'retval' is only available at return");
    CHECK_HAS(refused("n=%d arg1", true), "'arg1' is not available at return");
    CHECK_HAS(refused("v=%f arg1", false), "unsupported conversion '%f'");
    CHECK_HAS(refused("v=%5d arg1", false), "unsupported conversion '%5d'");
    CHECK_HAS(refused("v=%lc arg1", false), "unsupported conversion '%lc'");
    CHECK_HAS(refused("v=% arg1", false), "unsupported conversion");
    CHECK_HAS(refused("'n=%d % (arg1)", false), "never closed");
    CHECK_HAS(refused("'n=%d' % (arg1", false), "no closing ')'");
    CHECK_HAS(refused("'n=%d' arg1", false), "after the quoted format");

    /* ELF lookup errors */
    CHECK_INT(uprobe_elf_resolve("/nonexistent/osd-bin", "main", &off, why, sizeof(why)), -ENOENT);
    CHECK_HAS(why, "/nonexistent/osd-bin");
    CHECK_INT(uprobe_elf_resolve("/etc/passwd", "main", &off, why, sizeof(why)), -ENOEXEC);
    CHECK_HAS(why, "not an ELF file");
    CHECK_INT(uprobe_elf_resolve("/proc/self", "main", &off, why, sizeof(why)), -EISDIR);
    CHECK_INT(uprobe_elf_resolve("/proc/self/exe", "no_such_function_xyz", &off, why, sizeof(why)), -ESRCH);
    CHECK_HAS(why, "no symbol 'no_such_function_xyz'");
    CHECK_INT(uprobe_elf_resolve("/proc/self/exe", "main", &off, why, sizeof(why)), 0);
    CHECK(off > 0, "main has a file offset, got %llu", (unsigned long long)off);
    json_decref(vals);
    CHECK_DONE();
}
