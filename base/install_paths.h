// Where files the binaries read at run time live (model presets), relative to the executable so
// that an installed tree works wherever it is installed or moved to (`cmake --install --prefix
// ANY`, the .deb's /usr). The build tree mirrors the layout: <build>/share/sglcpp/conf links to
// the source tree's conf/, so build/bin/* find it the same way.
#pragma once

#include <string>
#include <vector>

namespace sgl {

// The directory holding the running executable (/proc/self/exe, symlinks resolved); empty when
// it cannot be read.
std::string executable_dir();

// Directories that may hold conf/ content (models/<preset>.json), most specific first:
// $SGLCPP_CONF_DIR, <executable dir>/../share/sglcpp/conf, then ./conf. Absent ones are kept,
// so an error can say where it looked.
std::vector<std::string> conf_dirs();

}  // namespace sgl
