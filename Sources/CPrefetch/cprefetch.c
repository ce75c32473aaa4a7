// SwiftPM builds a C target only from a source file; the prefetch itself is inline in the header.
#include "cprefetch.h"
