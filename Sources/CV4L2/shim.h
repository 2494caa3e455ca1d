// What Swift cannot import from <linux/videodev2.h> and <sys/ioctl.h>: the variadic ioctl() and the
// VIDIOC_* request codes, which are function-like macros (_IOWR(...)).
#ifndef KIOSK_CV4L2_SHIM_H
#define KIOSK_CV4L2_SHIM_H

#include <errno.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>

/// ioctl() retried on EINTR; returns -1 with errno set on failure.
static inline int kiosk_v4l2_ioctl(int fd, unsigned long request, void *argument) {
    int result;
    do {
        result = ioctl(fd, request, argument);
    } while (result == -1 && errno == EINTR);
    return result;
}

static const unsigned long KIOSK_VIDIOC_QUERYCAP = VIDIOC_QUERYCAP;
static const unsigned long KIOSK_VIDIOC_ENUM_FMT = VIDIOC_ENUM_FMT;
static const unsigned long KIOSK_VIDIOC_ENUM_FRAMESIZES = VIDIOC_ENUM_FRAMESIZES;
static const unsigned long KIOSK_VIDIOC_ENUM_FRAMEINTERVALS = VIDIOC_ENUM_FRAMEINTERVALS;
static const unsigned long KIOSK_VIDIOC_G_FMT = VIDIOC_G_FMT;
static const unsigned long KIOSK_VIDIOC_S_FMT = VIDIOC_S_FMT;
static const unsigned long KIOSK_VIDIOC_G_PARM = VIDIOC_G_PARM;
static const unsigned long KIOSK_VIDIOC_S_PARM = VIDIOC_S_PARM;
static const unsigned long KIOSK_VIDIOC_REQBUFS = VIDIOC_REQBUFS;
static const unsigned long KIOSK_VIDIOC_QUERYBUF = VIDIOC_QUERYBUF;
static const unsigned long KIOSK_VIDIOC_QBUF = VIDIOC_QBUF;
static const unsigned long KIOSK_VIDIOC_DQBUF = VIDIOC_DQBUF;
static const unsigned long KIOSK_VIDIOC_STREAMON = VIDIOC_STREAMON;
static const unsigned long KIOSK_VIDIOC_STREAMOFF = VIDIOC_STREAMOFF;
static const unsigned long KIOSK_VIDIOC_QUERYCTRL = VIDIOC_QUERYCTRL;
static const unsigned long KIOSK_VIDIOC_QUERYMENU = VIDIOC_QUERYMENU;
static const unsigned long KIOSK_VIDIOC_G_CTRL = VIDIOC_G_CTRL;
static const unsigned long KIOSK_VIDIOC_S_CTRL = VIDIOC_S_CTRL;

#endif
