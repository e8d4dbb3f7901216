/* SPDX-License-Identifier: MIT */
/* gmvm restore --restore file (vmm/restore_file.c). */
#ifndef GMVM_RESTORE_FILE_H
#define GMVM_RESTORE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "vm.h"

/*
 * Take a read lease on the memory file fd: 0, or -errno with why saying
 * what keeps it from being taken (then a file restore could not be kept
 * safe from the file changing).
 */
int restore_file_lease(int fd, char *why, size_t len);

/*
 * Make vm's RAM (created, bound) a private mapping of the memory file
 * mem_fd (named path in messages), watch for the lease (held when lease)
 * being broken, turn a SIGBUS on RAM into an error, and read ahead the
 * working set's pages. Returns 0 or -errno with e set.
 */
int restore_file_start(struct vm *vm, int mem_fd, const char *path, bool lease,
		       const uint64_t *workingset, size_t nr_workingset, struct err *e);

/*
 * A file restore's VM failed: if its memory file has shrunk under it (the
 * lease did not hold it), say so; the vCPU's own error came first.
 */
void restore_file_explain(void);

/* Stop watching (before the VM's event loop goes). */
void restore_file_stop(void);

#endif /* GMVM_RESTORE_FILE_H */
