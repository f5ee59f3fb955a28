# heap.cmake - unit test of the heap misuse stack symboliser (daemon/heap_sym.c).
add_executable(test_heap_sym ${CMAKE_CURRENT_SOURCE_DIR}/test_heap_sym.c)
target_link_libraries(test_heap_sym PRIVATE osd_core)
add_test(NAME unit_heap_sym COMMAND test_heap_sym)
set_tests_properties(unit_heap_sym PROPERTIES TIMEOUT 60 LABELS unit)
