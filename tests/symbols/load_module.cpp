// Loads a module library the way Mesos does (`dlopen` with RTLD_NOW, see
// stout/posix/dynamiclibrary.hpp) and looks up every symbol named on the
// command line with `dlsym`.
//
// Usage: load_module LIBRARY SYMBOL...
// Prints one line per symbol and exits non-zero if the library does not
// load or a symbol is missing.

#include <dlfcn.h>

#include <iostream>

int main(int argc, char** argv)
{
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " LIBRARY SYMBOL..." << std::endl;
    return 2;
  }

  void* library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
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
