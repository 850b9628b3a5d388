# Compiler settings shared by every target.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_C_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

add_compile_options(-Wall -Wextra -Wno-unused-parameter -fno-strict-aliasing)
if(SGL_NATIVE)
  add_compile_options(-march=native)
endif()
set(CMAKE_CXX_FLAGS_RELEASE "-O2 -DNDEBUG")
set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O2 -g -DNDEBUG")

# sgl_add_library(NAME DIR [DEPS ...] [EXCLUDE regex...]): a static library from every .cpp
# below DIR (new files are picked up at the next build thanks to CONFIGURE_DEPENDS).
function(sgl_add_library name dir)
  cmake_parse_arguments(ARG "" "" "DEPS;EXCLUDE" ${ARGN})
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${dir}/*.cpp)
  foreach(pattern IN LISTS ARG_EXCLUDE)
    list(FILTER srcs EXCLUDE REGEX "${pattern}")
  endforeach()
  if(srcs)
    add_library(${name} STATIC ${srcs})
    target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  else()  # a layer with headers only (so far)
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
  endif()
endfunction()

# sgl_add_test(NAME DIR DEPS...): one GoogleTest executable from DIR/*.cpp, each TEST a CTest test.
# sgl_add_test(name dir [RUN_SERIAL] libs...): RUN_SERIAL keeps the area's tests from sharing the
# machine with other tests (for tests that check real-time behaviour).
function(sgl_add_test name dir)
  set(libs ${ARGN})
  set(serial FALSE)
  if("RUN_SERIAL" IN_LIST libs)
    list(REMOVE_ITEM libs RUN_SERIAL)
    set(serial TRUE)
  endif()
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${dir}/*.cpp)
  add_executable(${name} ${srcs})
  target_link_libraries(${name} PRIVATE ${libs} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    SGL_SOURCE_DIR="${PROJECT_SOURCE_DIR}" SGL_BINARY_DIR="${CMAKE_BINARY_DIR}")
  # LABELS: the executable's name, so `ctest -L test_net` picks an area (scripts/sanitize.sh).
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "SGL_SOURCE_DIR=${PROJECT_SOURCE_DIR}" RUN_SERIAL ${serial} LABELS ${name})
endfunction()
