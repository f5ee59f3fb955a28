/* cmd_unwatch.c - "osdctl unwatch PID": stop watching a target and drop its samples. */
#include <math.h>
#include <stdio.h>

#include "cli.h"
#include "cmds.h"
#include "help.h"
#include "osd_proto.h"

int cmd_unwatch(struct cli *cli, int argc, char **argv)
{
    struct pid_opts o;
    json_t *params, *res;
    char why[256];
    int ret;

    if (pid_parse(argc, argv, &o, why, sizeof(why)))
        return cli_usage(cli, "unwatch", "%s", why);
    if (o.help) {
        fputs(help_text("unwatch"), cli->out);
        return OSD_EXIT_OK;
    }
    cli->json |= o.json;
    params = target_arg_pack(&o.tgt);
    if (!params)
        return cli_oom(cli);
    ret = cli_call(cli, OSD_M_UNWATCH, params, &res);
    json_decref(params);
    if (ret)
        return ret;
    if (cli->json) {
        output_json(cli->out, res, 0);
    } else {
        double n = json_path_num(res, "samples");

        fprintf(cli->out, "unwatched %s", target_arg_str(&o.tgt));
        if (!isnan(n))
            fprintf(cli->out, " (%.0f samples discarded)", n);
        fputc('\n', cli->out);
    }
    json_decref(res);
    return OSD_EXIT_OK;
}
