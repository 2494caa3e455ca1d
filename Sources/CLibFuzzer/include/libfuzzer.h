#ifndef KIOSK_LIBFUZZER_H
#define KIOSK_LIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver (compiler-rt, linked by -sanitize=fuzzer). SwiftPM makes an executable's entry point a
// renamed `main`, so the fuzz build calls the driver from there instead of using libFuzzer's own main.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
