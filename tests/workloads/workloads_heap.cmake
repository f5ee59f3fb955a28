# workloads_heap.cmake - sorted after workloads.cmake, which creates a target per .c:
# heap_static must map no libc.so.6 (the heap bad-input test), so it is linked statically.
target_link_options(heap_static PRIVATE -static)
