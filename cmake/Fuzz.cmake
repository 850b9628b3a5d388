# Fuzzing (tests/fuzz/, docs/reliability.md "Fuzzing"). With -DSGL_FUZZ=ON and clang, every library
# is compiled with libFuzzer's coverage hooks plus ASan and UBSan, and tests/fuzz builds each
# <name>_fuzz.cpp as bin/fuzz_<name>. scripts/fuzz.sh configures such a build in build-fuzz/.
# Without SGL_FUZZ (the normal g++ build) the same targets are built as corpus replayers run by CTest.
option(SGL_FUZZ "Build the libFuzzer targets of tests/fuzz with ASan/UBSan (clang only)" OFF)
if(SGL_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SGL_FUZZ needs clang: configure with CC=clang CXX=clang++ (scripts/fuzz.sh does)")
  endif()
  # No target needs the CUDA backend, and nvcc would not take these flags.
  set(SGL_CUDA OFF CACHE BOOL "Build the CUDA backend when a CUDA toolkit is found" FORCE)
  # Asserts stay on (no NDEBUG): a misused Result is a finding too. -O1 keeps inputs fast while
  # leaving stacks readable.
  foreach(config RELEASE RELWITHDEBINFO DEBUG)
    set(CMAKE_C_FLAGS_${config} "-O1 -g")
    set(CMAKE_CXX_FLAGS_${config} "-O1 -g")
  endforeach()
  # fuzzer-no-link: coverage instrumentation only; the fuzz executables add the fuzzer's main.
  # UBSan findings abort (as ASan's do) so that libFuzzer stops and keeps the reproducer.
  # -fno-sanitize=function: clang 14 cannot emit UBSan's function-type prologue next to the
  # coverage sections in coroutines (net/: "Cannot represent a difference across sections").
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize=function
                      -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
