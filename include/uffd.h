/* SPDX-License-Identifier: MIT */
/* userfaultfd: opening one, negotiating its API, registering guest memory. */
#ifndef GMVM_UFFD_H
#define GMVM_UFFD_H

#include <linux/userfaultfd.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

/*
 * Open a userfaultfd that also sees faults taken by the kernel on the
 * process's behalf (KVM's), through the syscall or /dev/userfaultfd, and
 * enable the features wanted that the kernel has. Returns the fd or -errno
 * with e set; *features gets what was enabled.
 */
int uffd_open(uint64_t wanted, uint64_t *features, struct err *e);

/* Features the kernel's userfaultfd offers, or -errno (e set). */
int uffd_supported_features(uint64_t *features, struct err *e);

/*
 * Register [addr, addr + len) with uffd in mode (UFFDIO_REGISTER_MODE_*).
 * Returns 0 and the ioctls bitmap the kernel allows there, or -errno.
 */
int uffd_register(int uffd, void *addr, uint64_t len, uint64_t mode,
		  uint64_t *ioctls);

#endif /* GMVM_UFFD_H */
