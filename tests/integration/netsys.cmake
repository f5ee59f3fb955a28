# netsys.cmake - integration tests of the network and syscall collectors and of the client
# commands over them (osdctl series/syscalls/trace/export), with real workloads (net_pair,
# syscalls). Sorted after integration.cmake, whose osd_add_it_tests() registers them. They
# need osdctl, so they exist only with it.
if(TARGET osdctl)
  osd_add_it_tests(
    net test_net.py 120
    syscall test_syscall.py 150
    export test_export.py 120)
endif()
