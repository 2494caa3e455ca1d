// gzip in and out of memory. Swift cannot call deflateInit2/inflateInit2: they are macros.
#ifndef KIOSK_CZLIB_SHIM_H
#define KIOSK_CZLIB_SHIM_H

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/// gzip-compresses `input`; *output is malloc'd (free it). Returns 0, or a zlib error code.
static inline int kiosk_gzip(const unsigned char *input, size_t length, unsigned char **output, size_t *outputLength) {
    z_stream s;
    memset(&s, 0, sizeof s);
    // 15 + 16: a gzip header and trailer instead of zlib's.
    int rc = deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) return rc;
    size_t capacity = deflateBound(&s, (uLong)length) + 32;
    unsigned char *buffer = malloc(capacity);
    if (!buffer) { deflateEnd(&s); return Z_MEM_ERROR; }
    s.next_in = (Bytef *)input;
    s.avail_in = (uInt)length;
    s.next_out = buffer;
    s.avail_out = (uInt)capacity;
    rc = deflate(&s, Z_FINISH);
    if (rc != Z_STREAM_END) { deflateEnd(&s); free(buffer); return rc == Z_OK ? Z_BUF_ERROR : rc; }
    *output = buffer;
    *outputLength = s.total_out;
    deflateEnd(&s);
    return 0;
}

/// Returned by kiosk_gunzip when the output would pass its limit.
#define KIOSK_GUNZIP_TOO_LARGE (-100)

/// Decompresses gzip `input` of at most `limit` bytes of output; *output is malloc'd (free it).
/// Returns 0, KIOSK_GUNZIP_TOO_LARGE, or a zlib error (Z_DATA_ERROR bad data, Z_BUF_ERROR cut short).
static inline int kiosk_gunzip(const unsigned char *input, size_t length, size_t limit, unsigned char **output, size_t *outputLength) {
    z_stream s;
    memset(&s, 0, sizeof s);
    int rc = inflateInit2(&s, 15 + 16);
    if (rc != Z_OK) return rc;
    size_t capacity = length * 4 + 1024;
    if (capacity > limit + 1) capacity = limit + 1;
    unsigned char *buffer = malloc(capacity);
    if (!buffer) { inflateEnd(&s); return Z_MEM_ERROR; }
    s.next_in = (Bytef *)input;
    s.avail_in = (uInt)length;
    for (;;) {
        s.next_out = buffer + s.total_out;
        s.avail_out = (uInt)(capacity - s.total_out);
        rc = inflate(&s, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK && rc != Z_BUF_ERROR) { inflateEnd(&s); free(buffer); return rc == Z_NEED_DICT ? Z_DATA_ERROR : rc; }
        if (s.avail_out == 0) {
            if (capacity > limit) { inflateEnd(&s); free(buffer); return KIOSK_GUNZIP_TOO_LARGE; }
            size_t grown = capacity * 2;
            if (grown > limit + 1) grown = limit + 1;
            unsigned char *bigger = realloc(buffer, grown);
            if (!bigger) { inflateEnd(&s); free(buffer); return Z_MEM_ERROR; }
            buffer = bigger;
            capacity = grown;
        } else if (s.avail_in == 0) {
            inflateEnd(&s); free(buffer); return Z_BUF_ERROR;  // truncated
        }
    }
    if (s.total_out > limit) { inflateEnd(&s); free(buffer); return KIOSK_GUNZIP_TOO_LARGE; }
    *output = buffer;
    *outputLength = s.total_out;
    inflateEnd(&s);
    return 0;
}

#endif
