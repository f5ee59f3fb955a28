# uprobe.cmake - unit test of the user-function trace formats and ELF lookup
# (daemon/ufmt.c, daemon/uprobe_elf.c).
add_executable(test_ufmt ${CMAKE_CURRENT_SOURCE_DIR}/test_ufmt.c)
target_link_libraries(test_ufmt PRIVATE osd_core)
add_test(NAME unit_ufmt COMMAND test_ufmt)
set_tests_properties(unit_ufmt PROPERTIES TIMEOUT 60 LABELS unit)
