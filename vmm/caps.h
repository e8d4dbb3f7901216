/* SPDX-License-Identifier: MIT */
/*
 * What this host offers gmvm, found by trying (create, map, register), never
 * by kernel version: `gmvm caps`, and the restore strategy each memory
 * backend gets.
 */
#ifndef GMVM_CAPS_H
#define GMVM_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dirty.h"
#include "guest_mem.h"

#define CAPS_NR_KINDS 3		/* enum guest_mem_kind */

struct caps_kvm_cap {
	const char *name;
	long cap;
	int value;		/* KVM_CHECK_EXTENSION on a VM; <= 0 absent */
};

/* Whether one uffd registration mode was accepted on a kind of memory. */
struct caps_uffd_mode {
	bool ok;
	int err;		/* errno when refused */
	uint64_t ioctls;	/* allowed ioctls when accepted */
};

struct caps_dirty {
	bool kvm_log;			/* KVM_MEM_LOG_DIRTY_PAGES and KVM_GET_DIRTY_LOG */
	char kvm_log_why[256];
	bool uffd_wp_async;		/* WP_ASYNC registration and PAGEMAP_SCAN */
	char uffd_wp_async_why[300];
};

struct caps_backend {
	bool usable;			/* can back guest RAM here */
	char why[256];			/* when not usable */
	struct caps_uffd_mode missing;
	struct caps_uffd_mode minor;
	struct caps_uffd_mode wp;
	struct caps_dirty dirty;
};

enum restore_strategy {
	RESTORE_UNAVAILABLE,	/* the backend itself is not offered */
	RESTORE_EAGER,		/* copy the whole memory file before running */
	RESTORE_LAZY_MISSING,	/* uffd MISSING: UFFDIO_COPY / ZEROPAGE */
	RESTORE_LAZY_MINOR,	/* uffd MINOR: fill page cache, UFFDIO_CONTINUE */
	RESTORE_FILE,		/* a private mapping of the memory file */
};

struct host_caps {
	bool kvm_ok;
	char kvm_why[256];
	int api_version;
	struct caps_kvm_cap kvm_caps[16];
	unsigned int nr_kvm_caps;
	unsigned int phys_bits;
	bool uffd_ok;
	char uffd_why[256];
	uint64_t uffd_features;
	struct caps_backend backend[CAPS_NR_KINDS];
	/*
	 * --restore file: a private mapping of a file under a read lease,
	 * tried on a file in the probe directory (its file system's leases).
	 */
	bool file_ok;
	char file_why[200];
	const char *file_dir;
};

/* Probe everything; never fails, records what could not be had. */
void caps_probe(struct host_caps *caps);

/*
 * The restore strategy auto picks on this host for a snapshot of a backend
 * kind restored with that backend named (--memory-backend), and with none
 * named: then a memory file mapping where only eager would do.
 */
enum restore_strategy caps_restore_strategy(const struct host_caps *caps,
					    enum guest_mem_kind kind);
enum restore_strategy caps_restore_auto(const struct host_caps *caps,
					enum guest_mem_kind kind);
const char *restore_strategy_name(enum restore_strategy s);

/* The dirty tracking a backend kind gets here: KVM's first, it costs no fault. */
enum dirty_tracking caps_dirty_tracking(const struct host_caps *caps,
					enum guest_mem_kind kind);
const char *dirty_tracking_name(enum dirty_tracking d);

/* What gmvm can do with one backend on this host: the matrix caps prints. */
struct caps_offers {
	bool boot;		/* gmvm run, gmvm snapshot, --restore eager */
	bool lazy_load;		/* run --lazy-load: uffd MISSING */
	bool lazy_missing;	/* restore --uffd-mode missing */
	bool lazy_minor;	/* restore --uffd-mode minor */
};

struct caps_offers caps_backend_offers(const struct host_caps *caps,
				       enum guest_mem_kind kind);

/*
 * The backend gmvm picks when none is named, with why in buf (the same words
 * gmvm run -v uses).
 */
enum guest_mem_kind caps_default_backend(const struct host_caps *caps,
					 char *buf, size_t len);

#endif /* GMVM_CAPS_H */
