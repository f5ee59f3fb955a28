/* cmd_config.c - "osdctl config [get]" shows the daemon's configuration in force, "osdctl
 * config reload" makes it re-read its file (as SIGHUP does) and shows the result. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmds.h"
#include "help.h"
#include "opts.h"
#include "osd_proto.h"

enum { C_JSON = 1, C_HELP };

static const struct opt_def config_defs[] = {
    { "json", 0, 0, C_JSON },
    { "help", 'h', 0, C_HELP },
    { NULL, 0, 0, 0 },
};

int config_parse(int argc, char **argv, struct config_opts *o, char *why, size_t whylen)
{
    const char *action = NULL;
    struct opts op;
    int key;

    memset(o, 0, sizeof(*o));
    opts_init(&op, argc, argv, 1, config_defs);
    while ((key = opts_next(&op)) != OPTS_END) {
        switch (key) {
        case OPTS_ERR:
            snprintf(why, whylen, "config: %s", op.err);
            return -EINVAL;
        case OPTS_POS:
            if (action) {
                snprintf(why, whylen, "config: unexpected argument '%s'", op.arg);
                return -EINVAL;
            }
            action = op.arg;
            break;
        case C_JSON:
            o->json = 1;
            break;
        case C_HELP:
            o->help = 1;
            break;
        }
    }
    if (o->help || !action || !strcmp(action, "get"))
        return 0;
    if (strcmp(action, "reload")) {
        snprintf(why, whylen, "config: unknown action '%s' (expected get or reload)", action);
        return -EINVAL;
    }
    o->reload = 1;
    return 0;
}

/* A value as it would be written after "key = ": strings bare, other values as JSON. */
static void config_value(FILE *f, const json_t *v)
{
    char *s;

    if (json_is_string(v)) {
        fputs(json_string_value(v), f);
        return;
    }
    if (json_is_integer(v)) {
        fprintf(f, "%lld", (long long)json_integer_value(v));
        return;
    }
    if (json_is_real(v)) {
        fprintf(f, "%.15g", json_real_value(v));
        return;
    }
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    fputs(s ? s : "?", f);
    free(s);
}

static void config_print(FILE *f, const json_t *res, int reloaded)
{
    const json_t *path = json_object_get(res, "path");
    const char *key;
    json_t *v;

    if (json_is_string(path))
        fprintf(f, "# %s %s\n", reloaded ? "reloaded from" : "file:", json_string_value(path));
    else
        fprintf(f, "# %s\n", reloaded ? "reloaded (no configuration file: defaults and command-line options)"
                                       : "file: none (defaults and command-line options)");
    /* In the daemon's order (jansson keeps insertion order). */
    json_object_foreach(json_object_get(res, "config"), key, v) {
        fprintf(f, "%s = ", key);
        config_value(f, v);
        fputc('\n', f);
    }
}

int cmd_config(struct cli *cli, int argc, char **argv)
{
    struct config_opts o;
    json_t *res;
    char why[256];
    int ret;

    if (config_parse(argc, argv, &o, why, sizeof(why)))
        return cli_usage(cli, "config", "%s", why);
    if (o.help) {
        fputs(help_text("config"), cli->out);
        return OSD_EXIT_OK;
    }
    cli->json |= o.json;
    ret = cli_call(cli, o.reload ? OSD_M_CONFIG_RELOAD : OSD_M_CONFIG_GET, NULL, &res);
    if (ret)
        return ret;
    if (!json_is_object(json_object_get(res, "config")))
        ret = cli_bad_reply(cli, o.reload ? "config.reload reply has no 'config' object"
                                          : "config.get reply has no 'config' object");
    else if (cli->json)
        output_json(cli->out, res, 0);
    else
        config_print(cli->out, res, o.reload);
    json_decref(res);
    return ret;
}
