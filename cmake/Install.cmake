# `cmake --install <build> --prefix ANY` lays out a relocatable tree (it still works after `mv`):
#   bin/                          sglcpp-server and the SGLang-compatible benchmark clients
#   share/sglcpp/conf/            model presets, found relative to the executable (base/install_paths.cpp)
#   share/doc/sglcpp/             README and docs/*.md
#   lib/systemd/system/           sglcpp.service (its ExecStart names /usr/bin, the .deb's prefix)
#   etc/sglcpp/sglcpp.env         the unit's flags; /etc/sglcpp when the prefix is /usr
# Every library of the project is static, so no binary carries an RPATH to one of ours.
include(GNUInstallDirs)

# bin → conf, relative, compiled into base/install_paths.cpp.
file(RELATIVE_PATH SGL_CONF_RELDIR "/${CMAKE_INSTALL_BINDIR}" "/${CMAKE_INSTALL_DATADIR}/sglcpp/conf")
target_compile_definitions(sgl_base PRIVATE SGL_CONF_RELDIR="${SGL_CONF_RELDIR}")
# The build tree mirrors that layout (build/share/sglcpp/conf → the source tree's conf/), so
# build/bin/* find presets the same way, and edits to conf/ are seen without a rebuild.
get_filename_component(sgl_build_conf "${CMAKE_RUNTIME_OUTPUT_DIRECTORY}/${SGL_CONF_RELDIR}" ABSOLUTE)
if(NOT EXISTS "${sgl_build_conf}")
  get_filename_component(sgl_build_conf_parent "${sgl_build_conf}" DIRECTORY)
  file(MAKE_DIRECTORY "${sgl_build_conf_parent}")
  file(CREATE_LINK "${PROJECT_SOURCE_DIR}/conf" "${sgl_build_conf}" SYMBOLIC)
endif()

foreach(exe IN ITEMS sglcpp-server bench_one_batch_server bench_serving bench_one_batch)
  if(TARGET ${exe})
    install(TARGETS ${exe} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()
install(DIRECTORY conf/ DESTINATION ${CMAKE_INSTALL_DATADIR}/sglcpp/conf)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES bench/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME bench.md)
install(FILES deploy/systemd/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME systemd.md)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")
install(FILES deploy/systemd/sglcpp.service DESTINATION lib/systemd/system)
# The environment file goes to /etc/sglcpp for the /usr prefix (the .deb; a conffile there) and
# to <prefix>/etc/sglcpp otherwise. Decided at install time, so that `--prefix` is honoured and a
# user install never writes to /etc. file(INSTALL) honours DESTDIR (CPack stages with it).
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(sgl_etc \"/etc/sglcpp\")
  else()
    set(sgl_etc \"\${CMAKE_INSTALL_PREFIX}/etc/sglcpp\")
  endif()
  file(INSTALL \"${PROJECT_SOURCE_DIR}/deploy/systemd/sglcpp.env\" DESTINATION \"\${sgl_etc}\")
")
