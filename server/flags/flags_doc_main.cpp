// sglcpp-flags-doc FILE: writes docs/flags.md from the flag table (the flags-doc build target).
#include <cstdio>
#include <fstream>

#include "server/flags/flag_table.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fputs("usage: sglcpp-flags-doc OUTPUT.md\n", stderr);
    return 2;
  }
  std::ofstream out(argv[1], std::ios::binary);
  out << sgl::server::flags::flags_markdown();
  return out.good() ? 0 : 1;
}
