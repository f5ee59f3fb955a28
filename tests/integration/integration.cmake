# integration.cmake - one ctest test per tests/integration/test_*.py: each starts its own
# osdetd (private socket and state dir) and real workloads, so they run in parallel.
find_program(OSD_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH REQUIRED)
find_program(OSD_BPFTOOL bpftool PATHS /usr/sbin /usr/bin /sbin)

# name, script, timeout (s); timeouts leave room for the ASan build and a busy machine
set(OSD_IT_TESTS
  cpu test_cpu.py 120
  fork test_fork.py 120
  mem test_mem.py 90
  exit test_exit.py 90
  threads test_threads.py 90
  badinput test_badinput.py 180
  forkstorm test_forkstorm.py 180
  fallback test_fallback.py 120)
if(TARGET osdctl)
  list(APPEND OSD_IT_TESTS osdctl test_osdctl.py 120)
endif()

set(OSD_IT_ENV
  "OSDETD_BIN=$<TARGET_FILE:osdetd>"
  "OSD_WORKLOADS=${CMAKE_BINARY_DIR}/tests/workloads"
  "PYTHONDONTWRITEBYTECODE=1")
if(OSD_BPFTOOL)
  list(APPEND OSD_IT_ENV "BPFTOOL=${OSD_BPFTOOL}")
endif()
if(OSD_SANITIZE)
  list(APPEND OSD_IT_ENV "OSD_SANITIZED=1")
endif()
if(TARGET osdctl)
  list(APPEND OSD_IT_ENV "OSDCTL_BIN=$<TARGET_FILE:osdctl>")
endif()

# Tests whose assertions need a workload to get whole cores take turns (on a 2-core
# machine two of them at once would starve each other); the rest run beside them.
set(OSD_IT_CPU_BOUND cpu fork threads fallback detect_e2e restart soak)

# osd_add_it_tests(name script timeout [name script timeout ...]): one ctest test per
# script, each with the environment above; the other *.cmake snippets here use it too.
function(osd_add_it_tests)
  set(list ${ARGN})
  while(list)
    list(POP_FRONT list name script timeout)
    add_test(NAME integration.${name}
      COMMAND ${OSD_PYTHON} -B ${CMAKE_CURRENT_SOURCE_DIR}/${script}
      WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    set_tests_properties(integration.${name} PROPERTIES
      ENVIRONMENT "${OSD_IT_ENV};OSD_BUILD_DIR=${CMAKE_BINARY_DIR}"
      TIMEOUT ${timeout}
      LABELS integration)
    if(name IN_LIST OSD_IT_CPU_BOUND)
      set_tests_properties(integration.${name} PROPERTIES RESOURCE_LOCK osd_cpu_bound)
    endif()
  endwhile()
endfunction()
osd_add_it_tests(${OSD_IT_TESTS})
