# CPack: `cpack -G DEB` in the build directory (or `cmake --build <dir> --target package`) makes
# sglcpp_<version>_<arch>.deb, installing under /usr (plus /etc/sglcpp/sglcpp.env, a conffile, and
# sglcpp.service in /usr/lib/systemd/system). Depends are computed by dpkg-shlibdeps from what the
# binaries link: Debian runtime packages only (libtbb12, libgloo0, ...), never -dev ones.
#
# CUDA: cuBLAS is loaded with dlopen (engine/cuda/cublas_lib.cpp) and cudart is static, so a
# package built with the CUDA backend links no CUDA library and depends on none; NVIDIA's
# libraries are not Debian packages. --device cuda needs the driver and that CUDA version's
# libcublas on the loader's path; --device cpu runs without either. Should a binary ever link a
# toolkit library again, the toolkit's directory is searched (PRIVATE_DIRS) so dpkg-shlibdeps still
# succeeds, and --ignore-missing-info (CPack passes it) leaves it out of Depends.
set(CPACK_PACKAGE_NAME sglcpp)
set(CPACK_PACKAGE_VENDOR "sglcpp")
set(CPACK_PACKAGE_CONTACT "sglcpp maintainers <sglcpp@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "LLM serving engine compatible with SGLang's HTTP API and launch flags")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "sglcpp serves large language models over SGLang's HTTP API (native /generate, OpenAI /v1/*)\n"
       "with SGLang's launch flags and benchmark clients, on a C++20 coroutine reactor, an overlap\n"
       "scheduler and CPU and CUDA backends. Includes sglcpp-server, bench_serving,\n"
       "bench_one_batch_server, bench_one_batch, model presets and a systemd unit.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
# Stage with DESTDIR so that the install-time /etc/sglcpp of cmake/Install.cmake lands in the
# package; with DESTDIR, CPack installs to CPACK_INSTALL_PREFIX (else the build's /usr/local).
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # sglcpp_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
if(SGL_HAVE_CUDA AND CUDAToolkit_LIBRARY_DIR)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CUDAToolkit_LIBRARY_DIR})
endif()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA)
foreach(f IN ITEMS conffiles postinst prerm postrm)  # maintainer scripts: deploy/debian/
  list(APPEND CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${PROJECT_SOURCE_DIR}/deploy/debian/${f}")
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Strip the binaries (debug info would make the package several times larger).
set(CPACK_STRIP_FILES ON)
include(CPack)
