/* fuzz_config.c - libFuzzer target: the configuration parser on arbitrary text. A refused
 * input must leave the configuration as it was; an accepted one must be in range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "osd_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config c, before;
    char err[512];
    char *text = malloc(size + 1);

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    config_defaults(&c);
    before = c;
    if (config_parse(&c, text, err, sizeof(err))) {
        if (memcmp(&c, &before, sizeof(c)))
            abort(); /* a refused configuration changed something */
        if (!err[0])
            abort(); /* every refusal says why */
    } else if (c.interval_ms < OSD_INTERVAL_MIN_MS || c.interval_ms > OSD_INTERVAL_MAX_MS || !c.ring_capacity ||
               c.max_targets < 1 || c.max_clients < 1 || !c.detect.stride) {
        abort();
    }
    free(text);
    return 0;
}
