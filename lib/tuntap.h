/* SPDX-License-Identifier: MIT */
/* Tap devices (lib/tuntap.c). */
#ifndef GMVM_TUNTAP_H
#define GMVM_TUNTAP_H

#include "err.h"

/*
 * Attach to the existing tap called name, non-blocking, with virtio-net
 * headers of vnet_hdr_len bytes and no offloads. Returns the fd, or -errno
 * with e saying why (a missing tap is not created).
 */
int tap_open(const char *name, int vnet_hdr_len, struct err *e);

#endif /* GMVM_TUNTAP_H */
