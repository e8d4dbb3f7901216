/* SPDX-License-Identifier: MIT */
/*
 * The snapshot's `vmstate` file: a flattened device tree (libfdt) with a
 * format version and a CRC32C over the whole blob (computed with the root's
 * "checksum" property set to 0). The writer appends nodes and properties in
 * order; the reader checks the blob (fdt_check_full, magic, version,
 * checksum) before anything reads it, and every getter checks the length of
 * what it reads: the file is untrusted input.
 */
#ifndef GMVM_VMSTATE_H
#define GMVM_VMSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define VMSTATE_MAGIC "gmvm-vmstate"
/*
 * Compatibility. The version changes when a snapshot of the old format
 * could be misread by the new code (a property's meaning changes, or one
 * becomes required): gmvm reads its own version only. Within a version the
 * revision counts additions, each only optional properties whose absence
 * means what gmvm did before them (README, "Snapshot format"). gmvm reads
 * every revision up to its own (no "revision" property: 0) and refuses a
 * later one, whose state it would drop without a word.
 *   revision 0: the format as of 2026-12-06
 *   revision 1: memory/region@N/data-crc32c, a checksum of each region
 *   revision 2: config/vmgenid (absent: no VM Generation ID) and its device
 *               state; the fuzz node of gmvm fuzz's snapshots
 *   revision 3: config/vsock-cid and vsock-uds (absent: no virtio-vsock)
 */
#define VMSTATE_VERSION 1
#define VMSTATE_REVISION 3
#define VMSTATE_MAX_SIZE (64u << 20)

struct vmstate_writer {
	void *fdt;
	size_t size;
	int err;		/* first failure (-errno), sticky */
};

/* Start a tree; its root gets magic, version, revision and a checksum placeholder. */
int vmstate_writer_init(struct vmstate_writer *w);
void vmstate_writer_free(struct vmstate_writer *w);

/* Nodes nest; names are unique among siblings. Failures are sticky. */
void vmstate_begin(struct vmstate_writer *w, const char *name);
void vmstate_end(struct vmstate_writer *w);
void vmstate_put_u32(struct vmstate_writer *w, const char *name, uint32_t v);
void vmstate_put_u64(struct vmstate_writer *w, const char *name, uint64_t v);
void vmstate_put_str(struct vmstate_writer *w, const char *name,
		     const char *v);
void vmstate_put_blob(struct vmstate_writer *w, const char *name,
		      const void *data, size_t len);

/*
 * Finish the tree and fill in its checksum. On success *blob and *len describe
 * it (owned by w). Returns 0 or the first error.
 */
int vmstate_finish(struct vmstate_writer *w, const void **blob, size_t *len);

/* A checked, read-only tree. */
struct vmstate {
	const void *fdt;
	uint32_t revision;	/* 0 to VMSTATE_REVISION */
};

/*
 * Check buf as a vmstate blob: structure, magic, version, revision and
 * checksum.
 * Returns 0 (vs then reads buf, which must outlive it) or -EINVAL with e
 * naming the problem.
 */
int vmstate_open(struct vmstate *vs, const void *buf, size_t len,
		 struct err *e);

/* Child node called name of node parent (0 is the root), or -ENOENT. */
int vmstate_node(const struct vmstate *vs, int parent, const char *name);

/* Iterate the children of parent: first, then next; < 0 at the end. */
int vmstate_first_child(const struct vmstate *vs, int parent);
int vmstate_next_child(const struct vmstate *vs, int node);
const char *vmstate_node_name(const struct vmstate *vs, int node);

/* Has node a property called name (of any size)? */
bool vmstate_has(const struct vmstate *vs, int node, const char *name);

/* Getters fail with -EINVAL (e names node and property) on absence or size. */
int vmstate_get_u32(const struct vmstate *vs, int node, const char *name,
		    uint32_t *v, struct err *e);
int vmstate_get_u64(const struct vmstate *vs, int node, const char *name,
		    uint64_t *v, struct err *e);
/* Exactly len bytes into buf. */
int vmstate_get_blob(const struct vmstate *vs, int node, const char *name,
		     void *buf, size_t len, struct err *e);
/* Any length up to max; *data points into the tree. */
int vmstate_get_blob_ptr(const struct vmstate *vs, int node, const char *name,
			 const void **data, size_t *len, size_t max,
			 struct err *e);
/* A NUL-terminated string of at most max bytes. */
/* A u32 that must be 0 or 1. */
int vmstate_get_flag(const struct vmstate *vs, int node, const char *name,
		     bool *v, struct err *e);
int vmstate_get_str(const struct vmstate *vs, int node, const char *name,
		    const char **v, size_t max, struct err *e);

#endif /* GMVM_VMSTATE_H */
