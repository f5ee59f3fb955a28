# it_threads_all.cmake - integration tests of per-thread net/syscall/heap figures
# (test_threads_all.py) and of the net_dev_queue transmit-only fallback
# (test_net_devqueue.py). Sorted after integration.cmake, whose osd_add_it_tests() they
# use; they drive osdctl too, so they exist only with it.
if(TARGET osdctl)
  osd_add_it_tests(
    threads_all test_threads_all.py 120
    net_devqueue test_net_devqueue.py 90)
  # threads_all watches with heap (probes on the shared libc): not beside
  # integration.heap_scope, which checks that no such probe is planted (it_heap.cmake)
  set_property(TEST integration.threads_all APPEND PROPERTY RESOURCE_LOCK osd_heap_probes)
endif()
