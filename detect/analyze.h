/* analyze.h - entry point of the offline analyzer (`osdctl analyze`, `osd-analyze`). */
#ifndef OSD_ANALYZE_H
#define OSD_ANALYZE_H

/* argv[0] is "analyze"; returns the exit code: 0 ok, 2 usage/input error, 1 other failure. */
int analyze_main(int argc, char **argv);

#endif
