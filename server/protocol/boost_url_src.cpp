// Boost.URL's compiled part (Debian ships it header-only): built once, here.
#include <boost/url/src.hpp>
