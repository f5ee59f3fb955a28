# it_cgroup.cmake - integration test of cgroup / systemd unit targets. Named to sort after
# integration.cmake, whose osd_add_it_tests() and OSD_IT_ENV it uses. It burns two cores for a
# few seconds, so it takes turns with the other CPU-bound tests.
osd_add_it_tests(cgroup test_cgroup.py 120)
set_tests_properties(integration.cgroup PROPERTIES RESOURCE_LOCK osd_cpu_bound)
