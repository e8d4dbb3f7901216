/* SPDX-License-Identifier: MIT */
/* Restoring a VM from a snapshot (vmm/restore.c). */
#ifndef GMVM_RESTORE_H
#define GMVM_RESTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "vm.h"
#include "err.h"

struct fuzz_config;
struct guest_mem;
struct guest_mem_backend;

enum restore_mode {
	RESTORE_MODE_AUTO,
	RESTORE_MODE_LAZY,
	RESTORE_MODE_EAGER,
	RESTORE_MODE_FILE,	/* RAM a private mapping of the memory file */
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
	bool verify;			/* --verify: RAM against the checksums */
	const char *uffd_socket;
	uint64_t fault_timeout_ns;	/* --fault-timeout; 0: the default */
	/*
	 * Host resources of this VM, matched in order to the snapshot's
	 * devices (--disk, --net), or the ones the snapshot recorded
	 * (--recorded-resources): never those by default, so that clones of
	 * one snapshot do not share a disk.
	 */
	struct dev_config given;	/* the devices' restore options */
	const char *resource_option;	/* the first of them, or NULL */
	bool recorded_resources;
	/* Backend (NULL: the snapshot's), console (not given: the snapshot's)... */
	struct vm_options common;
	uint64_t start_ns;
	/* gmvm fuzz: fuzz from the snapshot instead of resuming it. */
	const struct fuzz_config *fuzz;
};

/*
 * Restore and run. Returns the exit status the guest or the run ended with
 * (0, or 1 for a failure while running, logged), or -errno with e set and
 * classed when the restore could not start or what it was asked to write at
 * the end could not be written.
 */
int restore_vm(const struct restore_opts *o, struct err *e);

#endif /* GMVM_RESTORE_H */
