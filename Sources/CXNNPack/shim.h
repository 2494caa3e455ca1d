// Debian ships xnnpack.h without a pkg-config file; bookworm (2022) and trixie (2024) headers both work.
#include <xnnpack.h>
#include <pthreadpool.h>
