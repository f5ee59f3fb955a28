# it_heap.cmake - integration test of heap collection and memory-misuse alerts. Named to sort after
# integration.cmake, whose osd_add_it_tests() and OSD_IT_ENV it uses.
osd_add_it_tests(heap test_heap.py 240)
osd_add_it_tests(heap_scope test_heap_scope.py 120)
# Tree-scope heap probes are planted in every process using libc: heap_scope checks the
# absence of them, so the heap tests never run at the same time.
set_property(TEST integration.heap integration.heap_scope APPEND PROPERTY RESOURCE_LOCK osd_heap_probes)
