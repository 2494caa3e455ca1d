#include "jpeg_fallback.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>

struct failure {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char *error;
    size_t error_size;
};

static void keep_message(j_common_ptr info) {
    struct failure *f = (struct failure *)info->err;
    if (f->error && f->error_size) {
        char text[JMSG_LENGTH_MAX];
        f->manager.format_message(info, text);
        snprintf(f->error, f->error_size, "%s", text);
    }
}

static void fail(j_common_ptr info) {
    keep_message(info);
    longjmp(((struct failure *)info->err)->jump, 1);
}

/// A corrupt-data warning (level -1) stops the decode at once, as TurboJPEG's TJFLAG_STOPONWARNING does: a
/// damaged file is refused before the rest of it is worked through. Trace messages (level > 0) are ignored.
static void warn(j_common_ptr info, int level) {
    if (level < 0) {
        info->err->num_warnings++;
        fail(info);
    }
}

/// The most scans a progressive file may have (libjpeg-turbo's own TJFLAG_LIMITSCANS limit): a small file of
/// thousands of scans otherwise costs a full pass over the picture each.
enum { maximum_scans = 500 };

static void count_scans(j_common_ptr info) {
    j_decompress_ptr d = (j_decompress_ptr)info;
    if (d->input_scan_number > maximum_scans) {
        struct failure *f = (struct failure *)info->err;
        if (f->error && f->error_size) snprintf(f->error, f->error_size, "more than %d progressive scans", maximum_scans);
        longjmp(f->jump, 1);
    }
}

static void prepare(struct jpeg_decompress_struct *info, struct failure *f, char *error, size_t error_size) {
    memset(info, 0, sizeof *info);
    info->err = jpeg_std_error(&f->manager);
    f->manager.error_exit = fail;
    f->manager.output_message = keep_message;  // a warning (e.g. a premature end) is kept, not printed
    f->manager.emit_message = warn;
    f->error = error;
    f->error_size = error_size;
}

/// Reads the header and, with `pixels`, decodes: one function, so that one setjmp covers every libjpeg call.
static int run(const uint8_t *data, size_t size, int scale_num, uint8_t *pixels, size_t capacity, int *width,
               int *height, char *error, size_t error_size) {
    struct jpeg_decompress_struct info;
    struct failure f;
    prepare(&info, &f, error, error_size);
    if (setjmp(f.jump)) {
        jpeg_destroy_decompress(&info);
        return -1;
    }
    jpeg_create_decompress(&info);
    struct jpeg_progress_mgr progress = {.progress_monitor = count_scans};
    info.progress = &progress;
    jpeg_mem_src(&info, data, (unsigned long)size);
    if (jpeg_read_header(&info, TRUE) != JPEG_HEADER_OK || info.image_width == 0 || info.image_height == 0) {
        if (!f.manager.num_warnings) snprintf(error, error_size, "no image frame in the file");
        jpeg_destroy_decompress(&info);
        return -1;
    }
    if (!pixels) {
        *width = (int)info.image_width;
        *height = (int)info.image_height;
        jpeg_destroy_decompress(&info);
        return 0;
    }
    info.out_color_space = JCS_RGB;
    info.scale_num = (unsigned int)(scale_num < 1 ? 1 : scale_num > 8 ? 8 : scale_num);
    info.scale_denom = 8;
    jpeg_start_decompress(&info);
    *width = (int)info.output_width;
    *height = (int)info.output_height;
    size_t stride = (size_t)info.output_width * 3;
    if (info.output_components != 3 || capacity < stride * info.output_height) {
        snprintf(error, error_size, "decoded size %ux%u does not fit the buffer", info.output_width, info.output_height);
        jpeg_destroy_decompress(&info);
        return -1;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = pixels + stride * info.output_scanline;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    // As TurboJPEG's path (TJFLAG_STOPONWARNING): a damaged file is an error, not a picture filled with grey.
    int status = f.manager.num_warnings ? -1 : 0;
    jpeg_destroy_decompress(&info);
    return status;
}

int kiosk_jpeg_header(const uint8_t *data, size_t size, int *width, int *height, char *error, size_t error_size) {
    return run(data, size, 8, NULL, 0, width, height, error, error_size);
}

int kiosk_jpeg_decode_rgb(const uint8_t *data, size_t size, int scale_num, uint8_t *pixels, size_t capacity,
                          int *out_width, int *out_height, char *error, size_t error_size) {
    if (!pixels) {
        snprintf(error, error_size, "no buffer to decode into");
        return -1;
    }
    return run(data, size, scale_num, pixels, capacity, out_width, out_height, error, error_size);
}
