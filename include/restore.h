/* SPDX-License-Identifier: MIT */
/* Restoring a VM from a snapshot (vmm/restore.c). */
#ifndef GMVM_RESTORE_H
#define GMVM_RESTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "err.h"

struct guest_mem;
struct guest_mem_backend;

enum restore_mode {
	RESTORE_MODE_AUTO,
	RESTORE_MODE_LAZY,
	RESTORE_MODE_EAGER,
};

enum restore_uffd_mode {
	RESTORE_UFFD_AUTO,
	RESTORE_UFFD_MISSING,
	RESTORE_UFFD_MINOR,
};

struct restore_opts {
	const char *dir;
	enum restore_mode mode;
	enum restore_uffd_mode uffd_mode;
	unsigned int fault_around;
	bool no_background;
	bool record;
	bool prefetch;
	const char *uffd_socket;
	uint64_t fault_timeout_ns;	/* --fault-timeout; 0: the default */
	/* Backend (NULL: the snapshot's), console (not given: the snapshot's)... */
	struct cli_common common;
	uint64_t start_ns;
};

/* Restore and run; returns the exit status. */
int restore_vm(const struct restore_opts *o);

/*
 * Register guest RAM with a userfaultfd and hand it, with a JSON array of
 * {base_host_virt_addr, size, offset, page_size} per region, to the handler
 * listening on the UNIX socket path (Firecracker's page-fault handler
 * protocol). Connecting and sending give up after timeout_ns (a handler
 * that never accepts). Returns the connected socket (its end means the
 * handler is gone) and *uffd (kept, to unregister on the way out), or
 * -errno with e set.
 */
int uffd_external_handoff(const struct guest_mem *mem, const char *path,
			  uint64_t timeout_ns, int *uffd, struct err *e);

#endif /* GMVM_RESTORE_H */
