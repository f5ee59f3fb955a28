# workloads_ufunc.cmake - sorted after workloads.cmake, which creates a target per .c:
# ufunc's functions must be real symbols at their source-level ABI (no inlining, cloning
# or argument elision), so it is built without optimisation; ufunc_stripped is the same
# program without .symtab (the uprobe "stripped binary" test).
target_compile_options(ufunc PRIVATE -O0)
find_program(OSD_OBJCOPY objcopy REQUIRED)
add_custom_command(TARGET ufunc POST_BUILD
  COMMAND ${OSD_OBJCOPY} --strip-all $<TARGET_FILE:ufunc> $<TARGET_FILE_DIR:ufunc>/ufunc_stripped
  COMMENT "Stripping ufunc into ufunc_stripped")
