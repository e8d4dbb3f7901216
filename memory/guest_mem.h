/* SPDX-License-Identifier: MIT */
/*
 * Guest RAM: its layout in guest physical space, its host mapping, and the
 * backends that provide it (guest_memfd, memfd, anonymous memory).
 *
 * RAM is one backing object mapped once, contiguously, into the monitor.
 * Guest physical regions are windows into it: [0, 3 GiB) and, for larger
 * guests, [4 GiB, ...) above the MMIO gap. Region i's host address is
 * base + regions[i].offset, and so is its offset in the backing fd.
 */
#ifndef GMVM_GUEST_MEM_H
#define GMVM_GUEST_MEM_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "util.h"

#define GUEST_MMIO_GAP_START (3 * GIB)
#define GUEST_MMIO_GAP_END (4 * GIB)
#define GUEST_MEM_MAX_REGIONS 2
/* Boot structures below 1 MiB and a kernel above it need at least this. */
#define GUEST_MEM_MIN_SIZE (2 * MIB)

enum guest_mem_kind {
	GUEST_MEM_GMEM,
	GUEST_MEM_MEMFD,
	GUEST_MEM_ANON,
};

struct guest_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t offset;	/* in the backing object and the host mapping */
};

struct guest_mem;

struct guest_mem_backend {
	const char *name;	/* as given to --memory-backend */
	enum guest_mem_kind kind;
	/*
	 * Create the backing object for mem->size bytes and map it at
	 * mem->base. Returns 0 or -errno with e filled; on failure nothing is
	 * left allocated.
	 */
	int (*create)(struct guest_mem *mem, int vm_fd, struct err *e);
	/* Memslot flags KVM needs for this backend (KVM_MEM_GUEST_MEMFD). */
	uint32_t memslot_flags;
};

struct guest_mem {
	const struct guest_mem_backend *backend;
	int fd;			/* guest_memfd or memfd; -1 for anonymous */
	uint8_t *base;		/* host mapping of all of RAM */
	uint64_t size;		/* RAM in bytes */
	unsigned int nr_regions;
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
	/*
	 * All of RAM reads as zero (just created): loaders need not write
	 * zeros, which would only make the monitor's resident set grow.
	 */
	bool fresh;
	/*
	 * With backend guest_mem_backend_snapshot_file: RAM is a private,
	 * copy-on-write mapping of this file, a snapshot's memory file (gmvm
	 * restore --restore file), and fd is -1. Pages the guest only reads stay the file's page cache,
	 * shared by every VM that maps it; a page it writes becomes its own.
	 * The file's holes read as zeros and are never read from disk.
	 */
	int private_fd;
};

/*
 * For backends: map fd's first mem->size bytes shared (with extra mmap
 * flags) as RAM, and keep fd in mem. On failure fd is closed and the
 * message names WHAT was mapped.
 */
int guest_mem_map_fd(struct guest_mem *mem, int fd, int mmap_flags,
		     const char *what, struct err *e);

extern const struct guest_mem_backend guest_mem_backend_gmem;
extern const struct guest_mem_backend guest_mem_backend_memfd;
extern const struct guest_mem_backend guest_mem_backend_anon;
/*
 * What RAM is after guest_mem_map_private(): not a --memory-backend, and
 * made only that way (it has no create).
 */
extern const struct guest_mem_backend guest_mem_backend_snapshot_file;

/* The backend called name ("gmem", "memfd", "anon"), or NULL. */
const struct guest_mem_backend *guest_mem_backend_find(const char *name);

/*
 * Lay out size bytes of RAM per the x86 physical map, without allocating.
 * size must be a non-zero multiple of PAGE_SIZE. Returns 0 or -EINVAL.
 */
int guest_mem_layout(struct guest_mem *mem, uint64_t size);

/*
 * Lay out size bytes with guest_mem_layout() and allocate them with backend
 * for the VM vm_fd. Returns 0 or -errno with e filled.
 */
int guest_mem_create(struct guest_mem *mem, const struct guest_mem_backend *b,
		     uint64_t size, int vm_fd, struct err *e);

/*
 * Make RAM (already created, at mem->base) a private copy-on-write mapping
 * of the first mem->size bytes of fd, which must be at least that long,
 * in place: memory slots need not change. Whatever backed RAM before is
 * dropped. Keeps a duplicate of fd. Returns 0 or -errno with e set.
 */
int guest_mem_map_private(struct guest_mem *mem, int fd, struct err *e);

/* Register every region as a KVM memslot. Returns 0 or -errno, e filled. */
int guest_mem_bind(const struct guest_mem *mem, int vm_fd, struct err *e);

/*
 * Delete every RAM slot and register it again: KVM forgets every page it
 * had mapped (after RAM's pages were replaced under it). The vCPUs must
 * be out of KVM_RUN. Returns 0 or -errno, e filled.
 */
int guest_mem_rebind(const struct guest_mem *mem, int vm_fd, struct err *e);

/*
 * KVM's dirty log on every RAM slot (slot i is region i), on or off.
 * Returns 0 or -errno with e set (guest_memfd slots refuse it).
 */
int guest_mem_log_dirty(const struct guest_mem *mem, int vm_fd, bool on,
			struct err *e);

/* Unmap and close whatever guest_mem_create() made. Safe on a zeroed mem. */
void guest_mem_destroy(struct guest_mem *mem);

/*
 * Host pointer for the guest range [gpa, gpa + len), or NULL when the range is
 * empty, wraps, or is not entirely inside one RAM region. Every access to guest
 * memory on behalf of untrusted input goes through this check.
 */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/*
 * Give [gpa, gpa + len) back to the host (page-aligned, inside one region):
 * MADV_DONTNEED for anonymous memory, MADV_REMOVE (a hole in the file) for
 * memfd and guest_memfd, fresh anonymous pages over a private mapping of a
 * file (whose pages would come back). The guest reads zeros there
 * afterwards. Going
 * through the mapping lets a userfaultfd registered on it see the removal.
 * Returns 0, -EINVAL for a bad range, or -errno.
 */
int guest_mem_discard(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* One past the highest guest physical address backed by RAM. */
uint64_t guest_mem_top(const struct guest_mem *mem);

/* RAM below the MMIO gap, in bytes. */
uint64_t guest_mem_low_size(const struct guest_mem *mem);

#endif /* GMVM_GUEST_MEM_H */
