# it_heap.cmake - integration test of heap collection and memory-misuse alerts. Named to sort after
# integration.cmake, whose osd_add_it_tests() and OSD_IT_ENV it uses.
osd_add_it_tests(heap test_heap.py 240)
