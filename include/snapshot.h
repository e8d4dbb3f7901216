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

#include "err.h"
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

/* Watch for guest snapshot requests on the main loop when configured. */
int vm_snapshot_requests_init(struct vm *vm, struct err *e);

/* dir/name into out; -ENAMETOOLONG when it does not fit. */
int snapshot_path(char *out, size_t size, const char *dir, const char *name);

/* Architectural state of one vCPU (vmm/vcpu_state.c); the vCPU is parked. */
int vcpu_save_state(struct vcpu *vcpu, struct vmstate_writer *w,
		    struct err *e);
int vcpu_restore_state(struct vcpu *vcpu, const struct vmstate *vs, int node,
		       struct err *e);

/* VM-wide KVM state: irqchips, PIT, clock (vmm/vm_state.c). */
int vm_save_state(struct vm *vm, struct vmstate_writer *w, struct err *e);
int vm_restore_state(struct vm *vm, const struct vmstate *vs, int node,
		     struct err *e);

/*
 * Write guest RAM to path (created, must not exist): non-zero resident pages
 * only, at their backing offsets, so the file is sparse. Returns the bytes
 * of data written, or -errno with e set (memory/memfile.c).
 */
long long memfile_write(const struct guest_mem *mem, const char *path,
			struct err *e);

#endif /* GMVM_SNAPSHOT_H */
