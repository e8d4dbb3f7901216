// SPDX-License-Identifier: MIT
/*
 * gmvm restore --restore file: guest RAM is a private, copy-on-write
 * mapping of the snapshot's memory file. Pages the guest only reads stay
 * in the page cache, shared by every clone of the snapshot; a page it
 * writes becomes its own; holes read as zeros and are never read from
 * disk. Nothing is copied before the guest runs and no fault is served by
 * gmvm: the kernel does it all.
 *
 * The file must then not change under the clones: a page they have not
 * written yet would show the change (or, past a shortened end, raise
 * SIGBUS). So each clone holds a read lease on it (F_SETLEASE): whoever
 * opens it for writing or truncates it waits until the lease holders let
 * go (at most /proc/sys/fs/lease-break-time, 45 s by default), and the
 * kernel tells each holder first. A clone told copies its RAM out of the
 * file into anonymous memory put in the mapping's place (its vCPUs paused,
 * KVM's memory slots registered again), which lets go of the file: it goes
 * on unharmed with what it had, its memory grown by the file's data
 * (copy-on-write pages alone would not do: a truncation takes them too). Renaming another file over the path or unlinking it
 * changes nothing: the clones hold the file, not its name.
 *
 * Should the file shrink anyway (the lease broken by timeout, a file
 * system without leases), gmvm's own touch of a page past the end dies of
 * SIGBUS: that is turned into an error naming the memory file, status 1,
 * for that clone only; a vCPU's touch makes KVM_RUN fail the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "memfile.h"
#include "restore_file.h"
#include "util.h"

/* The lease-break signal: blocked everywhere, read through a signalfd. */
#define LEASE_SIGNAL (SIGRTMIN + 4)

static struct restore_file_state {
	struct event_source src;
	struct vm *vm;
	int fd;				/* the memory file, with the lease */
	const char *path;
	bool leased;
} file_state = { .src.fd = -1, .fd = -1 };

/* For the SIGBUS handler: where RAM is, and what to name. */
static uint8_t *sigbus_base;
static uint64_t sigbus_size;
static char sigbus_msg[512];
static size_t sigbus_msg_len;

int restore_file_lease(int fd, char *why, size_t len)
{
	if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0)
		return 0;
	snprintf(why, len, "no read lease on the memory file (%s%s), which would keep it from changing under the guest",
		 strerror(errno),
		 errno == EAGAIN ? ": it is open for writing" :
		 errno == EACCES ? ": not its owner, and no CAP_LEASE" : "");
	return -errno;
}

static void restore_file_sigbus(int sig, siginfo_t *si, void *ctx)
{
	uint8_t *addr = si->si_addr;

	(void)sig;
	(void)ctx;
	if (addr >= sigbus_base && addr < sigbus_base + sigbus_size)
		(void)!write(STDERR_FILENO, sigbus_msg, sigbus_msg_len);
	else
		(void)!write(STDERR_FILENO, "gmvm: error: SIGBUS outside guest RAM\n", 38);
	_exit(VM_STATUS_FAILURE);
}

/* The file is about to change: make RAM our own, then let the writer go. */
static void restore_file_lease_break(struct event_source *src, uint32_t events)
{
	struct restore_file_state *f = src->opaque;
	struct signalfd_siginfo si;
	uint64_t t0 = time_now_ns();
	struct err err = { 0 };
	long long copied;
	bool paused;
	int ret;

	(void)events;
	if (read(src->fd, &si, sizeof(si)) != sizeof(si) || !f->leased)
		return;
	log_warn("the memory file %s is about to be written or truncated: copying all %llu MiB of guest RAM out of it first",
		 f->path, (unsigned long long)(f->vm->mem.size >> 20));
	/*
	 * Out of KVM_RUN while RAM's pages change, and KVM made to forget
	 * the file's pages it mapped: this host's KVM does not drop them
	 * all when they are replaced under it, and they are about to go.
	 */
	paused = vm_is_paused(f->vm);
	if (!paused)
		vm_pause(f->vm);
	copied = memfile_detach(&f->vm->mem, &err);
	ret = copied < 0 ? (int)copied :
	      guest_mem_rebind(&f->vm->mem, f->vm->kvm.vm_fd, &err);
	if (!paused)
		vm_resume(f->vm);
	if (ret) {
		log_error("cannot copy guest RAM out of the memory file %s: %s; stopping the VM before the file changes under it",
			  f->path, err.msg);
		vm_request_exit(f->vm, VM_STATUS_FAILURE);
		return;	/* the lease goes when gmvm exits */
	}
	if (fcntl(f->fd, F_SETLEASE, F_UNLCK) < 0)
		log_warn("%s: letting go of the lease: %s", f->path, strerror(errno));
	f->leased = false;
	sigbus_size = 0;
	log_info("guest RAM copied out of %s (%lld MiB of data) in %llu ms; the VM no longer uses the file",
		 f->path, copied >> 20, (unsigned long long)((time_now_ns() - t0) / 1000000));
}

/* The kernel's lease-break notice, as an event of the main loop. */
static int restore_file_watch(struct restore_file_state *f, struct err *e)
{
	sigset_t set;
	int ret;

	sigemptyset(&set);
	sigaddset(&set, LEASE_SIGNAL);
	/* No thread exists yet but this one: every later one inherits it. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (fcntl(f->fd, F_SETSIG, LEASE_SIGNAL) < 0 ||
	    fcntl(f->fd, F_SETOWN, getpid()) < 0)
		return err_set(e, errno, "the memory file %s: lease notices: %s", f->path,
			       strerror(errno));
	f->src = (struct event_source){
		.fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK),
		.handler = restore_file_lease_break,
		.opaque = f,
	};
	if (f->src.fd < 0)
		return err_set(e, errno, "signalfd: %s", strerror(errno));
	ret = event_loop_add(&f->vm->loop, &f->src, EPOLLIN);
	return ret ? err_set(e, -ret, "epoll: %s", strerror(-ret)) : 0;
}

/* Read ahead the working set's pages, in runs (the page cache's, shared). */
static uint64_t restore_file_prefetch(const struct guest_mem *mem, const uint64_t *pages,
				      size_t n)
{
	uint64_t done = 0;

	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && pages[j] == pages[j - 1] + 1)
			j++;
		if (madvise(mem->base + pages[i] * PAGE_SIZE, (j - i) * PAGE_SIZE,
			    MADV_WILLNEED) == 0)
			done += j - i;
		i = j;
	}
	return done;
}

int restore_file_start(struct vm *vm, int mem_fd, const char *path, bool lease,
		       const uint64_t *workingset, size_t nr_workingset, struct err *e)
{
	struct restore_file_state *f = &file_state;
	struct sigaction sa = { .sa_sigaction = restore_file_sigbus,
				.sa_flags = SA_SIGINFO };
	int ret;

	ret = guest_mem_map_private(&vm->mem, mem_fd, e);
	if (ret)
		return ret;
#ifdef GMVM_TEST_HOOKS
	/* Tests: a clone the lease does not protect, to see SIGBUS handled. */
	if (getenv("GMVM_TEST_FILE_NO_LEASE") && lease) {
		fcntl(mem_fd, F_SETLEASE, F_UNLCK);
		lease = false;
	}
#endif
	f->vm = vm;
	f->fd = mem_fd;		/* the lease is on it (held until restore ends) */
	f->path = path;
	f->leased = lease;
	if (lease && (ret = restore_file_watch(f, e)))
		return ret;
	sigbus_base = vm->mem.base;
	sigbus_size = vm->mem.size;
	sigbus_msg_len = snprintf(sigbus_msg, sizeof(sigbus_msg),
				  "gmvm: error: guest RAM is gone from under the VM: its memory file %.400s shrank while the guest ran (SIGBUS)\n",
				  path);
	if (sigbus_msg_len >= sizeof(sigbus_msg))
		sigbus_msg_len = sizeof(sigbus_msg) - 1;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0)
		return err_set(e, errno, "sigaction(SIGBUS): %s", strerror(errno));
	if (nr_workingset) {
		vm->origin.pages_read_ahead = restore_file_prefetch(&vm->mem, workingset,
								  nr_workingset);
		log_info("--prefetch: %llu pages of the working set read ahead",
			 (unsigned long long)vm->origin.pages_read_ahead);
	}
	return 0;
}

void restore_file_explain(void)
{
	struct restore_file_state *f = &file_state;
	struct stat st;

	if (!f->vm || f->vm->mem.backend != &guest_mem_backend_snapshot_file ||
	    fstat(f->fd, &st) < 0 || (uint64_t)st.st_size >= f->vm->mem.size)
		return;
	log_error("the memory file %s is %llu bytes now, shorter than guest RAM's %llu: it was truncated while the guest ran, and the pages past its end were gone from under the guest",
		  f->path, (unsigned long long)st.st_size,
		  (unsigned long long)f->vm->mem.size);
}

void restore_file_stop(void)
{
	struct restore_file_state *f = &file_state;

	if (f->src.fd >= 0) {
		event_loop_remove(&f->vm->loop, &f->src);
		close(f->src.fd);
		f->src.fd = -1;
	}
}
