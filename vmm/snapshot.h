/* SPDX-License-Identifier: MIT */
/*
 * Snapshots: a directory holding `vmstate` (vmstate.h: configuration, VM,
 * vCPU and device state, memory regions) and `memory` (guest RAM, regions at
 * their backing offsets, zero pages left as holes so the file is sparse).
 */
#ifndef GMVM_SNAPSHOT_H
#define GMVM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "console.h"
#include "err.h"
#include "fuzz.h"
#include "memfile.h"
#include "vm.h"
#include "vmstate.h"

struct vm;
struct vcpu;
struct guest_mem;

#define SNAPSHOT_VMSTATE "vmstate"
#define SNAPSHOT_MEMORY "memory"
#define SNAPSHOT_WORKINGSET "workingset"

/*
 * Write a snapshot of vm to dir, which must not exist yet; it appears
 * complete or not at all. Pauses the vCPUs while it runs and leaves them
 * paused if they were, or if pause_after is set. Returns 0 or -errno, e set.
 */
int vm_snapshot(struct vm *vm, const char *dir, bool pause_after,
		struct err *e);

/* A snapshot directory opened for restore or inspection, all of it checked. */
struct snapshot {
	const char *dir;
	void *vmstate_buf;
	size_t vmstate_len;
	struct vmstate vs;
	int mem_fd;			/* the memory file, read-only */
	uint64_t mem_file_size;
	unsigned int nr_vcpus;
	uint64_t mem_size;
	const struct guest_mem_backend *backend;
	/*
	 * The devices it had, each kind's configuration as it saved it, and
	 * which firmware tables it was given (paths point into vs).
	 */
	struct dev_config dev;
	/* Taken by gmvm fuzz: what its guest declared (the fuzz node). */
	bool has_fuzz;
	struct fuzz_guest fuzz;
	/* Each memory region's checksum (format revision 1 and later). */
	bool has_region_crcs;
	uint32_t region_crcs[GUEST_MEM_MAX_REGIONS];
};

/*
 * Open and validate dir: vmstate structure, version and checksum, the
 * configuration, the memory regions against the layout of the memory size,
 * the memory file's size. Returns 0 or -EINVAL/-ENOENT/... with e naming the
 * file and the problem, classed ERR_INPUT (err_mark_input); nothing is left
 * open on failure.
 */
int snapshot_open(struct snapshot *s, const char *dir, struct err *e);
void snapshot_close(struct snapshot *s);

/*
 * The checks snapshot_open() makes of the vmstate file, on its bytes already
 * read into s->vmstate_buf (s->vmstate_len of them): the blob, the
 * configuration, the memory regions, the vCPU states. Without KVM or
 * files, so that the fuzz targets run it too. Returns 0 or -errno, e set.
 */
int snapshot_parse(struct snapshot *s, struct err *e);

/*
 * Give vm (created from s's configuration, vCPUs and devices in place) the
 * saved VM, device and vCPU state. Every value is checked on the way; a
 * failure is classed as the snapshot's (err_mark_input).
 */
int snapshot_restore_state(struct vm *vm, const struct snapshot *s,
			   struct err *e);

/*
 * The devices' part of both: every device with state saves it in a node
 * named by its id under "devices"; a restore gives each its node and
 * refuses a node no device of vm owns. Neither needs KVM.
 */
void snapshot_write_devices(struct vm *vm, struct vmstate_writer *w);
/* The "config" and "memory" nodes (also what the fuzz seeds are made of). */
void snapshot_write_config(struct vm *vm, struct vmstate_writer *w);
void snapshot_write_regions(struct vm *vm, const uint32_t *crcs,
			    struct vmstate_writer *w);
int snapshot_restore_devices(struct vm *vm, const struct vmstate *vs,
			     struct err *e);



/* Watch for guest snapshot requests on the main loop when configured. */
int vm_snapshot_requests_init(struct vm *vm, struct err *e);

/* dir/name into out; -ENAMETOOLONG when it does not fit. */
int snapshot_path(char *out, size_t size, const char *dir, const char *name);

/* Architectural state of one vCPU (vmm/vcpu_state.c); the vCPU is parked. */
int vcpu_save_state(struct vcpu *vcpu, struct vmstate_writer *w,
		    struct err *e);
int vcpu_restore_state(struct vcpu *vcpu, const struct vmstate *vs, int node,
		       struct err *e);

/* Check a vCPU node's shape without KVM; its RIP (for inspect). */
int vcpu_state_check(const struct vmstate *vs, int node, struct err *e);
int vcpu_state_rip(const struct vmstate *vs, int node, uint64_t *rip,
		   struct err *e);

/* VM-wide KVM state: irqchips, PIT, clock (vmm/vm_state.c). */
int vm_save_state(struct vm *vm, struct vmstate_writer *w, struct err *e);
int vm_restore_state(struct vm *vm, const struct vmstate *vs, int node,
		     struct err *e);


/*
 * Check the memory file (inspect --verify, before anything maps it) or
 * guest RAM after an eager restore (mem != NULL) against the snapshot's
 * region checksums. Returns 0, -EINVAL naming the first region that
 * differs, -ENODATA when the snapshot has none, or another -errno; e set
 * and classed (err_mark_input).
 */
int snapshot_verify_memory(const struct snapshot *s, const struct guest_mem *mem,
			   long long *bytes, struct err *e);

#endif /* GMVM_SNAPSHOT_H */
