# workloads.cmake - every tests/workloads/*.c is one workload program with a known
# behaviour that the integration tests watch with a real osdetd; they land in
# ${CMAKE_BINARY_DIR}/tests/workloads (OSD_WORKLOADS for the tests). They are measuring
# instruments, not code under test, so they are built without the sanitizers (ASan
# shadow memory would blur memgrow's RSS step and slow the fork storm).
find_package(Threads REQUIRED)
file(GLOB OSD_WORKLOAD_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.c)
list(SORT OSD_WORKLOAD_SOURCES)
foreach(src ${OSD_WORKLOAD_SOURCES})
  get_filename_component(wl ${src} NAME_WE)
  add_executable(${wl} ${src})
  target_link_libraries(${wl} PRIVATE Threads::Threads)
  foreach(prop COMPILE_OPTIONS LINK_OPTIONS)
    get_target_property(opts ${wl} ${prop})
    if(opts)
      list(FILTER opts EXCLUDE REGEX "^-fsanitize|^-fno-sanitize")
      set_target_properties(${wl} PROPERTIES ${prop} "${opts}")
    endif()
  endforeach()
endforeach()
