/* SPDX-License-Identifier: MIT */
/*
 * A snapshot's memory file (memory/memfile.c): guest RAM at its backing
 * offsets, zero pages left as holes, written, copied back in, described as
 * uffd sources, and checksummed per region.
 */
#ifndef GMVM_MEMFILE_H
#define GMVM_MEMFILE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "guest_mem.h"

struct uffd_extent;

/*
 * Write guest RAM to path (created, must not exist): non-zero resident pages
 * only, at their backing offsets, so the file is sparse; crcs[r] gets region
 * r's checksum (memory/memfile.c says what it covers). Returns the bytes of
 * data written, or -errno with e set.
 */
long long memfile_write(const struct guest_mem *mem, const char *path,
			uint32_t *crcs, struct err *e);

/*
 * The same checksums over guest RAM as it is now (after an eager restore),
 * or over the memory file fd for the regions of layout. Return the bytes of
 * data pages summed, or -errno with e set.
 */
long long memfile_checksum_ram(const struct guest_mem *mem, uint32_t *crcs,
			       struct err *e);
long long memfile_checksum_file(int fd, const struct guest_mem *layout,
				uint32_t *crcs, struct err *e);

/*
 * RAM that is a private mapping of a memory file (guest_mem_map_private)
 * becomes anonymous memory with the same contents, at the same addresses,
 * and lets go of the file, which may then change or shrink: copy-on-write
 * pages would not survive a truncation (it takes them too). The vCPUs
 * must be out of KVM_RUN; KVM's memory slots must be registered again
 * after (guest_mem_rebind). Returns the bytes copied (data pages; zero
 * pages are left to be zero), or -errno with e set, RAM as it was.
 */
long long memfile_detach(struct guest_mem *mem, struct err *e);

/*
 * Copy the memory file's data into RAM (eager restore), skipping holes, on
 * several threads. Returns bytes copied or -errno with e set.
 */
long long memfile_load(const struct guest_mem *mem, int fd, struct err *e);

/*
 * The data extents of the memory file fd (first size bytes) as uffd
 * sources, pointing into map (the file mapped at offset 0). Returns 0 and
 * a malloc'ed array, or -errno with e set.
 */
struct uffd_extent;
int memfile_extents(int fd, uint64_t size, const uint8_t *map,
		    struct uffd_extent **out, size_t *n, struct err *e);

#endif /* GMVM_MEMFILE_H */
