/* SPDX-License-Identifier: MIT */
/*
 * Fuzzing guest code from a snapshot (gmvm fuzz): the guest's contract
 * (guest/gmvm_fuzz.h) on the monitor's side, and the engine that runs one
 * input at a time on the VM's only vCPU and puts the VM back as the
 * snapshot had it after each run, in place: the pages written, the vCPU's
 * state, the devices, the interrupt controllers and the clock.
 *
 * Where the inputs come from and where results go (AFL++'s forkserver,
 * --replay, --count) is the caller's: a struct fuzz_driver.
 */
#ifndef GMVM_FUZZ_ENGINE_H
#define GMVM_FUZZ_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch_layout.h"
#include "dirty.h"
#include "err.h"

struct vm;
struct vcpu;
struct snapshot;
struct vmstate_writer;

/* The guest's port (guest/gmvm_fuzz.h says the same). */
#define FUZZ_PORT LAYOUT_FUZZ_PORT
#define FUZZ_PORT_LEN 4
#define FUZZ_CMD_COVERAGE 1
#define FUZZ_CMD_INPUT 2
#define FUZZ_CMD_DONE 3
#define FUZZ_CMD_CRASH 4
/* The coverage window in guest-physical space, and its largest size. */
#define FUZZ_COVERAGE_ADDR LAYOUT_FUZZ_COVERAGE_ADDR
#define FUZZ_COVERAGE_MAX LAYOUT_FUZZ_COVERAGE_MAX
/* Its KVM memory slot: above the RAM slots (GUEST_MEM_MAX_REGIONS). */
#define FUZZ_COVERAGE_SLOT 8
/* An input buffer larger than this is refused (AFL++'s own cap is 1 MiB). */
#define FUZZ_INPUT_MAX (64u << 20)

/* What the guest declared before the snapshot (the vmstate's fuzz node). */
struct fuzz_guest {
	uint64_t input_gpa;
	uint64_t input_size;		/* 0: no input asked for yet */
	uint32_t coverage_size;		/* 0: no coverage window */
};

enum fuzz_outcome {
	FUZZ_OK,		/* the guest said done */
	FUZZ_CRASH,		/* it said crash, or died */
	FUZZ_HANG,		/* it ran past --timeout */
	FUZZ_ABORTED,		/* the driver stopped the run (AFL++ killed it) */
	FUZZ_FAILED,		/* KVM could not run the guest: fuzzing stops */
};

struct fuzz_result {
	enum fuzz_outcome outcome;
	uint64_t code;			/* FUZZ_CRASH by the guest: its code */
	char what[160];			/* FUZZ_CRASH: what happened */
	uint64_t run_ns;
};

/* One reset's measurements, for --count. */
struct fuzz_reset_stats {
	uint64_t ns;
	uint64_t pages;
	bool devices;			/* device state was put back too */
};

struct fuzz_driver {
	/*
	 * Before the first run, with what the guest declared and the flag
	 * that says the VM is ending (a driver blocked in a read or a wait,
	 * interrupted, gives up when it is set). May be NULL.
	 */
	int (*start)(void *opaque, const struct fuzz_guest *g,
		     const atomic_bool *ending, struct err *e);
	/*
	 * The next input, written into buf (cap bytes, guest RAM). Returns
	 * its length, -1 when there are no more, or -errno with e set. On
	 * the fuzz thread, whose signals (the VM ending) interrupt it.
	 */
	long (*next)(void *opaque, uint8_t *buf, uint64_t cap, struct err *e);
	/* How the run went. Returns 0, or -errno with e set to stop. */
	int (*report)(void *opaque, const struct fuzz_result *r, struct err *e);
	/*
	 * The run was interrupted by a signal: whether to stop it (AFL++
	 * killed the driver's helper). May be NULL.
	 */
	bool (*stop_run)(void *opaque);
	/* After each reset (may be NULL). */
	void (*reset_done)(void *opaque, const struct fuzz_reset_stats *s);
	void *opaque;
};

struct fuzz_config {
	uint64_t timeout_ns;
	enum dirty_tracking tracking;	/* DIRTY_NONE: the best offered */
	/* The coverage map (AFL++'s, attached) or NULL: one of gmvm's own. */
	uint8_t *coverage;
	uint64_t coverage_len;
	const struct fuzz_driver *driver;
};

struct fuzz_vcpu_state;

/* struct vm's fuzz part (vm->fuzz), NULL when not fuzzing. */
struct vm_fuzz {
	struct fuzz_guest guest;
	bool booting;			/* gmvm fuzz -- RUN-OPTIONS: until the input */
	void *coverage_own;		/* gmvm's own map, mmap'ed */
	uint64_t coverage_own_len;
	/* The engine, once vm_fuzz_prepare() ran. */
	const struct fuzz_config *cfg;
	const struct snapshot *snap;
	struct dirty_tracker dirty;
	uint8_t *pristine;		/* RAM as the snapshot has it */
	uint8_t *input;			/* the guest's buffer, in RAM */
	struct fuzz_vcpu_state *state;
	atomic_bool in_run;
	_Atomic int guest_exit;		/* -1, or what a device asked the VM to end with */
	bool device_touched;		/* this run reached a device */
};

/*
 * gmvm fuzz -- RUN-OPTIONS: the VM being booted answers the guest's
 * coverage request with a window of cfg's size and snapshots at its first
 * input request (vm->snapshot_req). Before the vCPUs run.
 */
int vm_fuzz_boot(struct vm *vm, struct err *e);

/*
 * A restored VM (snap, eager, vCPU thread not started): check it can be
 * fuzzed (one vCPU, no virtio device, a fuzz node), map the coverage
 * window, keep the snapshot's RAM and state, start tracking written pages.
 * vm_run() then runs the fuzz loop on the vCPU's thread. Returns 0 or
 * -errno with e set and classed.
 */
int vm_fuzz_prepare(struct vm *vm, const struct snapshot *snap,
		    const struct fuzz_config *cfg, struct err *e);
void vm_fuzz_destroy(struct vm *vm);

/* The fuzz node of a snapshot: written by vm_snapshot, read by snapshot_parse. */
void fuzz_guest_save(const struct fuzz_guest *g, struct vmstate_writer *w);

/*
 * A port access at FUZZ_PORT from vcpu (vm->fuzz set): the guest's
 * contract while booting, the end of a run while fuzzing.
 */
void fuzz_port_io(struct vcpu *vcpu, bool out, uint8_t *data, uint32_t size);

/* A device asked the VM to end: true when that ends only the run. */
bool fuzz_device_exit(struct vm *vm, int status);

/* The fuzzing vCPU's thread (vcpu_start starts it when vm->fuzz->cfg). */
void *fuzz_vcpu_thread(void *arg);

#endif /* GMVM_FUZZ_ENGINE_H */
