/* ufmt.c - see ufmt.h. */
#include "ufmt.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char supported[] = "%d %i %u %x %ld %lu %lx %lld %llu %llx %p %s %c and %%";

/* Length of the conversion at s (s[0] == '%'), filling c; 0 if it is not supported. "%%"
 * is 2 with c->spec '%'. */
static size_t conv_len(const char *s, struct ufmt_conv *c)
{
    size_t n = 1;
    int longs = 0;

    memset(c, 0, sizeof(*c));
    while (s[n] == 'l' && longs < 2) {
        longs++;
        n++;
    }
    c->spec = s[n];
    c->wide = longs > 0;
    switch (s[n]) {
    case '%':
    case 'p':
    case 's':
    case 'c':
        return longs ? 0 : n + 1;
    case 'd':
    case 'i':
    case 'u':
    case 'x':
        return n + 1;
    default:
        return 0;
    }
}

/* Counts conversions of text[0..len), checking each; end receives the offset just past
 * the last one (0 if none). -EINVAL with why on an unsupported one. */
static int scan(const char *text, size_t len, struct ufmt *f, size_t *end, char *why, size_t whylen)
{
    struct ufmt_conv c;

    f->nconv = 0;
    *end = 0;
    for (size_t i = 0; i < len; i++) {
        size_t n;

        if (text[i] != '%')
            continue;
        n = i + 1 < len ? conv_len(text + i, &c) : 0;
        if (!n || i + n > len) {
            size_t k = i + 1;

            while (k < len && k < i + 5 && !isspace((unsigned char)text[k]) && text[k] != '%')
                k++;
            snprintf(why, whylen, "unsupported conversion '%.*s' (supported: %s)", (int)(k - i), text + i,
                     supported);
            return -EINVAL;
        }
        if (c.spec != '%') {
            if (f->nconv == UFMT_MAX_CONV) {
                snprintf(why, whylen, "too many conversions (at most %d)", UFMT_MAX_CONV);
                return -EINVAL;
            }
            f->conv[f->nconv++] = c;
        }
        i += n - 1;
        *end = i + 1;
    }
    return 0;
}

static bool is_sep(char ch)
{
    return ch == ',' || isspace((unsigned char)ch);
}

/* Binds the names in names[0..len) (separated by spaces or commas) to the conversions. */
static int bind_names(const char *names, size_t len, bool at_return, struct ufmt *f, char *why, size_t whylen)
{
    size_t i = 0, k = 0;

    for (;;) {
        size_t start, n;
        int v = -1;

        while (i < len && is_sep(names[i]))
            i++;
        if (i >= len)
            break;
        start = i;
        while (i < len && !is_sep(names[i]))
            i++;
        n = i - start;
        if (n == 4 && names[start + 3] >= '1' && names[start + 3] <= '6' && !strncmp(names + start, "arg", 3))
            v = names[start + 3] - '1';
        else if (n == 6 && !strncmp(names + start, "retval", 6))
            v = UFMT_RETVAL;
        if (v < 0) {
            snprintf(why, whylen, "unknown argument name '%.*s' (expected %s)", (int)n, names + start,
                     at_return ? "retval" : "arg1..arg6");
            return -EINVAL;
        }
        if (at_return && v != UFMT_RETVAL) {
            snprintf(why, whylen, "'%.*s' is not available at return: only retval is", (int)n, names + start);
            return -EINVAL;
        }
        if (!at_return && v == UFMT_RETVAL) {
            snprintf(why, whylen, "'retval' is only available at return (use arg1..arg6 at entry)");
            return -EINVAL;
        }
        if (k < f->nconv) {
            f->conv[k].val = (uint8_t)v;
            if (f->conv[k].spec == 's')
                f->str_mask |= 1u << v;
        }
        k++;
    }
    if (k != f->nconv) {
        snprintf(why, whylen, "the format has %zu conversion%s but %zu argument name%s follow%s", f->nconv,
                 f->nconv == 1 ? "" : "s", k, k == 1 ? "" : "s", k == 1 ? "s" : "");
        return -EINVAL;
    }
    return 0;
}

int ufmt_parse(const char *spec, bool at_return, struct ufmt *f, char *why, size_t whylen)
{
    const char *text = spec, *names = "";
    size_t tlen, nlen = 0, end;
    int err;

    memset(f, 0, sizeof(*f));
    while (isspace((unsigned char)*text))
        text++;
    if (*text == '\'' || *text == '"') {
        /* 'FORMAT' % (NAMES) or 'FORMAT' % NAME: the prototype's Python-like spelling */
        const char *close = strchr(text + 1, *text), *p;

        if (!close) {
            snprintf(why, whylen, "the format's opening quote %c is never closed", *text);
            return -EINVAL;
        }
        tlen = (size_t)(close - text - 1);
        p = close + 1;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '%') {
            p++;
            while (isspace((unsigned char)*p))
                p++;
            if (*p == '(') {
                const char *rp = strchr(p, ')');

                if (!rp) {
                    snprintf(why, whylen, "the argument list after %% has no closing ')'");
                    return -EINVAL;
                }
                names = p + 1;
                nlen = (size_t)(rp - p - 1);
                p = rp + 1;
            } else {
                names = p;
                while (*p && !isspace((unsigned char)*p))
                    p++;
                nlen = (size_t)(p - names);
            }
            while (isspace((unsigned char)*p))
                p++;
        }
        if (*p) {
            snprintf(why, whylen, "unexpected '%s' after the quoted format (expected %% (arg1, ...))", p);
            return -EINVAL;
        }
        text++;
        if (tlen >= sizeof(f->text)) {
            snprintf(why, whylen, "the format is longer than %zu bytes", sizeof(f->text) - 1);
            return -EINVAL;
        }
        if ((err = scan(text, tlen, f, &end, why, whylen)))
            return err;
    } else {
        /* FORMAT NAMES: the names are the words after the last conversion */
        tlen = strlen(text);
        if ((err = scan(text, tlen, f, &end, why, whylen)))
            return err;
        if (f->nconv) {
            names = text + end;
            nlen = tlen - end;
            tlen = end;
        }
        while (tlen && isspace((unsigned char)text[tlen - 1]))
            tlen--;
        if (tlen >= sizeof(f->text)) {
            snprintf(why, whylen, "the format is longer than %zu bytes", sizeof(f->text) - 1);
            return -EINVAL;
        }
    }
    memcpy(f->text, text, tlen);
    f->text[tlen] = '\0';
    return bind_names(names, nlen, at_return, f, why, whylen);
}

static json_t *num_json(uint64_t v, bool is_signed)
{
    if (is_signed || v <= INT64_MAX)
        return json_integer((json_int_t)v);
    return json_real((double)v); /* beyond JSON's safe integers anyway */
}

void ufmt_render(const struct ufmt *f, const struct ufmt_vals *v, char *buf, size_t len, json_t *vals_out)
{
    size_t o = 0, k = 0;
    struct ufmt_conv c;

    if (!len)
        return;
    buf[0] = '\0';
    for (const char *p = f->text; *p && o + 1 < len; p++) {
        char piece[UFMT_MAX_TEXT > 96 ? 96 : UFMT_MAX_TEXT];
        const char *out = piece;
        size_t n;
        uint64_t x;

        if (*p != '%') {
            buf[o++] = *p;
            buf[o] = '\0';
            continue;
        }
        n = conv_len(p, &c);
        if (!n) /* cannot happen on a parsed format; shown as is */
            n = 1;
        p += n - 1;
        if (c.spec == '%') {
            buf[o++] = '%';
            buf[o] = '\0';
            continue;
        }
        if (k >= f->nconv)
            continue;
        c = f->conv[k++];
        x = v->v[c.val];
        switch (c.spec) {
        case 'd':
        case 'i':
            if (c.wide)
                snprintf(piece, sizeof(piece), "%" PRId64, (int64_t)x);
            else
                snprintf(piece, sizeof(piece), "%d", (int)(int32_t)x);
            json_array_append_new(vals_out, json_integer(c.wide ? (json_int_t)(int64_t)x : (json_int_t)(int32_t)x));
            break;
        case 'u':
            if (c.wide)
                snprintf(piece, sizeof(piece), "%" PRIu64, x);
            else
                snprintf(piece, sizeof(piece), "%u", (unsigned)(uint32_t)x);
            json_array_append_new(vals_out, num_json(c.wide ? x : (uint32_t)x, false));
            break;
        case 'x':
            snprintf(piece, sizeof(piece), "%" PRIx64, c.wide ? x : (uint32_t)x);
            json_array_append_new(vals_out, num_json(c.wide ? x : (uint32_t)x, false));
            break;
        case 'p':
            snprintf(piece, sizeof(piece), x ? "0x%" PRIx64 : "(nil)", x);
            json_array_append_new(vals_out, num_json(x, false));
            break;
        case 'c':
            piece[0] = isprint((int)(unsigned char)x) ? (char)x : '?';
            piece[1] = '\0';
            json_array_append_new(vals_out, json_string(piece));
            break;
        case 's':
            out = !x ? "(null)" : v->s[c.val] ? v->s[c.val] : "(unreadable)";
            json_array_append_new(vals_out, x && v->s[c.val] ? json_string(out) : json_null());
            break;
        default:
            piece[0] = '\0';
        }
        n = strlen(out);
        if (n > len - 1 - o)
            n = len - 1 - o;
        memcpy(buf + o, out, n);
        o += n;
        buf[o] = '\0';
    }
}
