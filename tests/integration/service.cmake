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
osd_add_it_tests(${OSD_SERVICE_TESTS})
