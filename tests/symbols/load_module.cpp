// Loads a module library the way Mesos does (`dlopen` with RTLD_NOW, see
// stout/posix/dynamiclibrary.hpp) and looks up every symbol named on the
// command line with `dlsym`.
//
// Usage: load_module LIBRARY SYMBOL...
// Prints one line per symbol and exits non-zero if the library does not
// load or a symbol is missing.

#include <dlfcn.h>

#include <iostream>
#include <string>

int main(int argc, char** argv)
{
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " LIBRARY SYMBOL..." << std::endl;
    return 2;
  }

  // A name without a slash would be searched in the library path only.
  std::string path = argv[1];
  if (path.find('/') == std::string::npos) {
    path = "./" + path;
  }

  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    std::cerr << "dlopen " << argv[1] << ": " << dlerror() << std::endl;
    return 1;
  }

  int missing = 0;
  for (int i = 2; i < argc; i++) {
    dlerror();
    void* symbol = dlsym(library, argv[i]);
    const char* error = dlerror();
    if (symbol == nullptr || error != nullptr) {
      std::cout << "missing " << argv[i] << ": "
                << (error != nullptr ? error : "null address") << std::endl;
      missing++;
    } else {
      std::cout << "found   " << argv[i] << std::endl;
    }
  }

  // The library is not closed: its static destructors would run in a
  // process that never initialized libprocess.
  return missing == 0 ? 0 : 1;
}
