/* osd_analyze.c - standalone `osd-analyze`, the same code as `osdctl analyze`. */
#include "analyze.h"

int main(int argc, char **argv)
{
    argv[0] = "analyze";
    return analyze_main(argc, argv);
}
