# Unit tests of the daemon's modules (link osd_core).
foreach(t series linebuf jsonrpc config collect cgroup)
  add_executable(test_${t} ${CMAKE_CURRENT_SOURCE_DIR}/test_${t}.c)
  target_link_libraries(test_${t} PRIVATE osd_core)
  add_test(NAME unit_${t} COMMAND test_${t})
  set_tests_properties(unit_${t} PROPERTIES TIMEOUT 60 LABELS unit)
endforeach()
