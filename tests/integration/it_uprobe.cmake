# it_uprobe.cmake - integration test of user-function tracing (uprobes). Named to sort after
# integration.cmake, whose osd_add_it_tests() and OSD_IT_ENV it uses.
osd_add_it_tests(uprobe test_uprobe.py 180)
