# service.cmake - integration tests of the service around the collector: detection end
# to end with journald, systemd notify/activation/units, durable state across kill -9,
# configuration, access control. Sorted after integration.cmake, whose OSD_IT_ENV it uses.
set(OSD_SERVICE_TESTS
  detect_e2e test_detect_e2e.py 240
  systemd test_systemd.py 120
  restart test_restart.py 180
  config test_config.py 120
  access test_access.py 120
  soak test_soak.py 600)
if(NOT OSD_SANITIZE) # packages are made from the release build only
  list(APPEND OSD_SERVICE_TESTS deb test_deb.py 300)
endif()
while(OSD_SERVICE_TESTS)
  list(POP_FRONT OSD_SERVICE_TESTS name script timeout)
  add_test(NAME integration.${name}
    COMMAND ${OSD_PYTHON} -B ${CMAKE_CURRENT_SOURCE_DIR}/${script}
    WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(integration.${name} PROPERTIES
    ENVIRONMENT "${OSD_IT_ENV};OSD_BUILD_DIR=${CMAKE_BINARY_DIR}"
    TIMEOUT ${timeout}
    LABELS integration)
endwhile()
