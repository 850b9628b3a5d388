# -DSGL_SANITIZE=address,undefined | thread: instrument every target of the project (compile and
# link), for the sanitizer runs of scripts/sanitize.sh. Empty (the default) builds without them.
# Run-time options (halt_on_error, suppressions) come from the environment that script sets.
set(SGL_SANITIZE "" CACHE STRING "Sanitizers for every target: address,undefined or thread (empty: none)")

if(SGL_SANITIZE)
  if(SGL_SANITIZE MATCHES "thread" AND SGL_SANITIZE MATCHES "address")
    message(FATAL_ERROR "SGL_SANITIZE: thread and address cannot be combined (one build each)")
  endif()
  if(SGL_HAVE_CUDA)
    # nvcc's host objects are not instrumented, and the device runtime would map the address
    # range the sanitizers' shadow memory needs: configure these builds with -DSGL_CUDA=OFF.
    message(FATAL_ERROR "SGL_SANITIZE needs -DSGL_CUDA=OFF")
  endif()
  # Frame pointers: cheap, complete stacks in reports. -g1: file:line in reports without the size
  # (and ccache footprint) of full debug info. The build type keeps its -O2, so tests don't crawl.
  add_compile_options(-fsanitize=${SGL_SANITIZE} -fno-omit-frame-pointer -g1)
  add_link_options(-fsanitize=${SGL_SANITIZE})
  if(SGL_SANITIZE MATCHES "undefined")
    # UBSan only prints and carries on by default; a finding must fail the test that hit it.
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  if(SGL_SANITIZE MATCHES "thread")
    # GCC warns that TSan does not model std::atomic_thread_fence; our code uses no bare fences,
    # and the warning fires on every Boost.Asio / TBB header that does.
    add_compile_options(-Wno-tsan)
  endif()
  message(STATUS "Sanitizers: ${SGL_SANITIZE}")
endif()
