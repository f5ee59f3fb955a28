# it_sysslots.cmake - integration test of the syscall counter slots (test_syscall_slots.py):
# a forked child counted exactly, the slot limit error, a reused slot starting from zero.
# Sorted after integration.cmake, whose osd_add_it_tests() registers it.
if(TARGET osdctl)
  osd_add_it_tests(
    syscall_slots test_syscall_slots.py 120)
endif()
