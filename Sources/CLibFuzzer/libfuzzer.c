// Only a header: the declaration of libFuzzer's driver (see include/libfuzzer.h).
