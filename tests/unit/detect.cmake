# Detection library tests: unit tests per module, the synthetic suite generator and the
# accuracy test (point-adjusted F1 >= 0.90, clean false alarms <= 0.5 %).
if(TARGET osd_detect)
  add_executable(osd-gen-suite ${PROJECT_SOURCE_DIR}/tests/gen/gen.c)
  target_link_libraries(osd-gen-suite PRIVATE m)

  foreach(t spot mad cs csv analyze accuracy)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/test_detect_${t}.c)
      add_executable(test_detect_${t} test_detect_${t}.c)
      target_link_libraries(test_detect_${t} PRIVATE osd_detect)
      set_property(TARGET test_detect_${t} PROPERTY OSD_DETECT_TEST 1)
    endif()
  endforeach()

  foreach(t spot mad cs csv)
    if(TARGET test_detect_${t})
      add_test(NAME detect_${t} COMMAND test_detect_${t})
      set_tests_properties(detect_${t} PROPERTIES LABELS "detect;unit" TIMEOUT 120)
    endif()
  endforeach()
  if(TARGET test_detect_analyze)
    add_test(NAME detect_analyze COMMAND test_detect_analyze $<TARGET_FILE:osd-analyze>
             ${CMAKE_CURRENT_BINARY_DIR}/detect_analyze_tmp)
    set_tests_properties(detect_analyze PROPERTIES LABELS "detect;unit" TIMEOUT 120)
  endif()

  # The suite is written at test time into the build dir (never committed). Under the
  # sanitizer build it is scaled down; the F1 bar applies to the full-size suite only.
  set(OSD_DETECT_SUITE ${CMAKE_CURRENT_BINARY_DIR}/detect_suite)
  if(OSD_SANITIZE)
    set(_scale 0.5)
  else()
    set(_scale 1)
  endif()
  add_test(NAME detect_gen_suite
           COMMAND osd-gen-suite --seed 42 --scale ${_scale} ${OSD_DETECT_SUITE})
  set_tests_properties(detect_gen_suite PROPERTIES LABELS "detect" FIXTURES_SETUP detect_suite)
  if(TARGET test_detect_accuracy)
    if(OSD_SANITIZE)
      add_test(NAME detect_accuracy COMMAND test_detect_accuracy ${OSD_DETECT_SUITE}
               --max-far 0.005)
    else()
      add_test(NAME detect_accuracy COMMAND test_detect_accuracy ${OSD_DETECT_SUITE}
               --min-f1 0.90 --max-far 0.005)
    endif()
    set_tests_properties(detect_accuracy PROPERTIES LABELS "detect" TIMEOUT 600
                         FIXTURES_REQUIRED detect_suite)
  endif()
endif()
