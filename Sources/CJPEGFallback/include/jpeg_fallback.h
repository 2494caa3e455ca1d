#ifndef KIOSK_JPEG_FALLBACK_H
#define KIOSK_JPEG_FALLBACK_H

#include <stddef.h>
#include <stdint.h>

/// JPEG decoding through libjpeg's own API, for the files TurboJPEG's header call refuses (sampling factors it
/// has no name for, e.g. 4x2 luma). libjpeg reports errors by longjmp, which Swift cannot catch: this file holds
/// the setjmp, and nothing else.

/// Reads the header: the image's size. Returns 0, or -1 with a message in `error`.
int kiosk_jpeg_header(const uint8_t *data, size_t size, int *width, int *height, char *error, size_t error_size);

/// Decodes to RGB24 at scale `scale_num`/8 (1...8), into `pixels` of `capacity` bytes, which must hold
/// out_width * out_height * 3 (the scaled size is written to out_width and out_height first; -1 when it does
/// not fit). Returns 0, or -1 with a message in `error`.
int kiosk_jpeg_decode_rgb(const uint8_t *data, size_t size, int scale_num, uint8_t *pixels, size_t capacity,
                          int *out_width, int *out_height, char *error, size_t error_size);

#endif
