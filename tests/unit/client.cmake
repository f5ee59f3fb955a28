# Unit tests of osdctl (client/): each links osdctl_core. test_client_cli also runs the osdctl
# binary against a fake daemon served by a thread in the test (test_client_fake.c), and
# test_client_help compares the --help texts with docs/osdctl.1.
find_package(Threads REQUIRED)
add_library(test_client_fake STATIC ${CMAKE_CURRENT_LIST_DIR}/test_client_fake.c)
target_link_libraries(test_client_fake PUBLIC PkgConfig::JANSSON Threads::Threads)

foreach(t args parse conn output help cli)
  add_executable(test_client_${t} ${CMAKE_CURRENT_LIST_DIR}/test_client_${t}.c)
  target_include_directories(test_client_${t} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(test_client_${t} PRIVATE osdctl_core test_client_fake)
endforeach()

foreach(t args parse conn output)
  add_test(NAME unit_client_${t} COMMAND test_client_${t})
endforeach()
add_test(NAME unit_client_help COMMAND test_client_help ${CMAKE_CURRENT_LIST_DIR}/../../docs/osdctl.1)
add_test(NAME unit_client_cli COMMAND test_client_cli $<TARGET_FILE:osdctl>)
set_tests_properties(unit_client_args unit_client_parse unit_client_conn unit_client_output unit_client_help
  unit_client_cli PROPERTIES TIMEOUT 30 LABELS "unit;client")
