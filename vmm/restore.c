// SPDX-License-Identifier: MIT
/*
 * Restoring a VM: open and check the snapshot, create a VM of the same shape,
 * decide how guest RAM comes back (probed on the real mapping), then give
 * KVM and the devices their saved state and run.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "control.h"
#include "fuzz.h"
#include "log.h"
#include "sandbox.h"
#include "restore.h"
#include "restore_file.h"
#include "snapshot.h"
#include "uffd.h"
#include "vm.h"

struct restore {
	const struct restore_opts *o;
	struct snapshot snap;
	struct vm vm;
	struct vm_config cfg;
	uint64_t *workingset;
	size_t nr_workingset;
	bool minor;			/* lazy with minor faults */
	int stats_fd;			/* --stats, opened early */
	int record_dir_fd;		/* --record-working-set: the snapshot */
	int ext_uffd;			/* --uffd-socket: our copy */
	const uint8_t *memfile_map;	/* lazy: the memory file, mapped */
	struct uffd_extent *extents;
	size_t nr_extents;
	struct event_source ext_peer;	/* the handler's connection */
	char ext_server[256];		/* its name in messages */
	uint64_t phase_ns;		/* restore_phase() */
	char memfile_path[PATH_MAX];	/* for messages */
};

/* How guest RAM comes back. */
enum restore_how {
	RESTORE_EAGER,		/* copied in before the guest runs */
	RESTORE_LAZY,		/* served on first touch through userfaultfd */
	RESTORE_FILE,		/* a private mapping of the memory file */
};

/*
 * Whether RAM can be served lazily, and how: missing faults unless minor
 * ones were asked for, or are all the host has (a backend it cannot register
 * for missing faults, but can for minor ones).
 */
static bool restore_probe_lazy(struct restore *r, char *why, size_t len)
{
	const struct guest_mem *mem = &r->vm.mem;
	char other[300];

	r->minor = r->o->uffd_mode == RESTORE_UFFD_MINOR;
	if (uffd_probe_mem(mem, r->minor, why, len))
		return true;
	if (r->o->uffd_mode != RESTORE_UFFD_AUTO || mem->fd < 0 || r->o->uffd_socket)
		return false;
	if (!uffd_probe_mem(mem, true, other, sizeof(other)))
		return false;
	r->minor = true;
	snprintf(why, len, "%.290s", other);
	return true;
}

/*
 * auto, where a lazy restore cannot be had: RAM mapped from the memory
 * file rather than copied, unless RAM's backend was asked for (a file
 * mapping is none of them) or is guest_memfd, or the file cannot be
 * leased.
 */
static bool restore_auto_file(struct restore *r, const char *lazy_why)
{
	const struct vm *vm = &r->vm;
	char why[200];

	if (r->cfg.machine.backend_explicit || vm->mem.backend->kind == GUEST_MEM_GMEM ||
	    restore_file_lease(r->snap.mem_fd, why, sizeof(why)))
		return false;
	snprintf(r->vm.origin.reason, sizeof(r->vm.origin.reason),
		 "auto: %.200s; the memory file mapped privately instead", lazy_why);
	return true;
}

/*
 * Pick how RAM comes back: an explicit way that cannot be honoured is
 * refused; auto takes lazy, else the file, else eager.
 */
static int restore_pick(struct restore *r, enum restore_how *how, struct err *e)
{
	const struct restore_opts *o = r->o;
	struct vm *vm = &r->vm;
	char why[300];
	bool lazy;

	if (o->mode == RESTORE_MODE_FILE) {
		*how = RESTORE_FILE;
		if (vm->mem.backend->kind == GUEST_MEM_GMEM) {
			err_set(e, ENOTSUP, "--restore file maps guest RAM from the memory file: the snapshot's RAM is guest_memfd, which cannot be; --memory-backend memfd or anon with it");
			return err_mark(e, ERR_UNSUPPORTED);
		}
		if (restore_file_lease(r->snap.mem_fd, why, sizeof(why))) {
			err_set(e, ENOTSUP, "--restore file: %s: %s; --restore lazy or eager works",
				r->memfile_path, why);
			return err_mark(e, ERR_UNSUPPORTED);
		}
		snprintf(vm->origin.reason, sizeof(vm->origin.reason), "--restore file");
		return 0;
	}
	*how = RESTORE_EAGER;
	if (o->mode == RESTORE_MODE_EAGER || o->verify || o->fuzz) {
		snprintf(vm->origin.reason, sizeof(vm->origin.reason), "%s",
			 o->fuzz ? "gmvm fuzz resets RAM from a copy of the snapshot's" :
			 o->mode == RESTORE_MODE_EAGER ? "--restore eager" :
			 "auto: --verify checks all of RAM before the guest runs");
		return 0;
	}
	lazy = restore_probe_lazy(r, why, sizeof(why));
	if (lazy)
		*how = RESTORE_LAZY;
	if (!lazy && (o->mode == RESTORE_MODE_LAZY || o->prefetch ||
		       o->record || o->uffd_socket ||
		       o->uffd_mode != RESTORE_UFFD_AUTO))
	{
		err_set(e, ENOTSUP, "a lazy restore is not possible: %s; --restore eager works%s",
			why, vm->mem.backend->kind == GUEST_MEM_GMEM && uffd_available() ?
			", and so does a lazy restore with --memory-backend memfd or anon" : "");
		return err_mark(e, ERR_UNSUPPORTED);
	}
	if (!lazy && restore_auto_file(r, why)) {
		*how = RESTORE_FILE;
		return 0;
	}
	snprintf(vm->origin.reason, sizeof(vm->origin.reason), "%s%s",
		 o->mode == RESTORE_MODE_AUTO ? "auto: " : "", why);
	return 0;
}

static void restore_uffd_fatal(void *opaque, const char *msg)
{
	struct vm *vm = opaque;

	log_error("lazy restore: %s", msg);
	vm_request_exit(vm, VM_STATUS_FAILURE);
}

static void restore_ext_peer_event(struct event_source *src, uint32_t events)
{
	struct restore *r = src->opaque;
	char buf[64];

	(void)events;
	if (read(src->fd, buf, sizeof(buf)) > 0)
		return;
	log_error("the external page-fault handler on %s went away",
		  r->o->uffd_socket);
	/* Wake any vCPU waiting on it (the watchdog has nothing left to say), then stop. */
	uffd_watch_release(r->vm.faults.watch);
	event_loop_remove(&r->vm.loop, src);
	vm_request_exit(&r->vm, VM_STATUS_FAILURE);
}

static int restore_lazy(struct restore *r, struct err *e)
{
	const struct restore_opts *o = r->o;
	struct vm *vm = &r->vm;
	struct uffd_handler_config hc = {
		.mem = &vm->mem,
		.fault_around = o->fault_around,
		.background = !o->no_background && !o->record,
		.prefetch = r->workingset,
		.nr_prefetch = r->nr_workingset,
		.record = o->record,
		.minor = r->minor,
		.fatal = restore_uffd_fatal,
		.fatal_opaque = vm,
		.thread_init = uffd_thread_confine,
	};
	int sock, ret;

	vm->origin.strategy = r->minor ? "lazy-minor" : "lazy-missing";
	if (!o->uffd_socket) {
		void *map = mmap(NULL, vm->mem.size, PROT_READ, MAP_SHARED,
				 r->snap.mem_fd, 0);

		if (map == MAP_FAILED)
			return err_set(e, errno, "cannot map the memory file: %s",
				       strerror(errno));
		r->memfile_map = map;
		if (memfile_extents(r->snap.mem_fd, vm->mem.size, map,
				    &r->extents, &r->nr_extents, e))
			return -EIO;
		hc.extents = r->extents;
		hc.nr_extents = r->nr_extents;
		ret = uffd_handler_create(&vm->faults.uffd, &hc, e);
		return ret ? ret : vm_watch_faults(vm, -1, "the uffd thread", e);
	}
	vm->origin.strategy = "lazy-external";
	vm->faults.external = true;
	sock = uffd_external_handoff(&vm->mem, o->uffd_socket,
				     vm_fault_timeout_ns(vm), &r->ext_uffd, e);
	if (sock < 0)
		return sock;
	r->ext_peer = (struct event_source){
		.fd = sock,
		.handler = restore_ext_peer_event,
		.opaque = r,
	};
	snprintf(r->ext_server, sizeof(r->ext_server),
		 "the external page-fault handler on %.200s", o->uffd_socket);
	ret = vm_watch_faults(vm, r->ext_uffd, r->ext_server, e);
	return ret ? ret : event_loop_add(&vm->loop, &r->ext_peer, EPOLLIN | EPOLLRDHUP);
}

/*
 * --verify: guest RAM as the guest will see it (copied in, or read through
 * the file mapping), not the file, which may change after this.
 */
static int restore_verify(struct restore *r, struct err *e)
{
	uint64_t t0 = time_now_ns();
	long long bytes;

	if (!r->o->verify)
		return 0;
	if (snapshot_verify_memory(&r->snap, &r->vm.mem, &bytes, e))
		return -e->errnum;
	log_info("--verify: memory checksums good, %lld MiB in %llu ms", bytes >> 20,
		 (unsigned long long)((time_now_ns() - t0) / 1000000));
	return 0;
}

static int restore_eager(struct restore *r, struct err *e)
{
	uint64_t t0 = time_now_ns();
	long long bytes;

	r->vm.origin.strategy = "eager";
	bytes = memfile_load(&r->vm.mem, r->snap.mem_fd, e);
	if (bytes < 0) {
		err_prefix(e, "snapshot %s", r->o->dir);
		return err_mark_input(e);
	}
	log_info("eager restore: %lld MiB in %llu ms", bytes >> 20,
		 (unsigned long long)((time_now_ns() - t0) / 1000000));
	return restore_verify(r, e);
}

/* RAM a private mapping of the memory file, protected by a read lease. */
static int restore_file(struct restore *r, struct err *e)
{
	r->vm.origin.strategy = "file";
	if (restore_file_start(&r->vm, r->snap.mem_fd, r->memfile_path, true,
			       r->workingset, r->nr_workingset, e))
		return -e->errnum;
	return restore_verify(r, e);
}

static int restore_read_workingset(struct restore *r, struct err *e)
{
	char path[PATH_MAX];

	if (!r->o->prefetch)
		return 0;
	if (snapshot_path(path, sizeof(path), r->o->dir, SNAPSHOT_WORKINGSET))
		return err_set(e, ENAMETOOLONG, "%s: name too long", r->o->dir);
	/* A link, even a dangling one, is there: refused as one, not absent. */
	if (faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
		err_set(e, ENOENT, "--prefetch: %s does not exist (record one with --record-working-set)",
			path);
		return err_mark(e, ERR_INPUT);
	}
	if (workingset_read(path, r->snap.mem_size / PAGE_SIZE,
			    &r->workingset, &r->nr_workingset, e))
		return err_mark_input(e);
	return 0;
}

/* -v -v: where a restore's time goes, phase by phase. */
static void restore_phase(struct restore *r, const char *what)
{
	uint64_t now = time_now_ns();

	log_debug("restore: %s in %llu us", what,
		  (unsigned long long)((now - r->phase_ns) / 1000));
	r->phase_ns = now;
}

/*
 * This VM's disks and taps: the command line's, matched in order to the
 * snapshot's devices (each kind of device checks they fit), or with
 * --recorded-resources the ones the snapshot recorded.
 */
static int restore_host_resources(struct restore *r, struct err *e)
{
	if (dev_config_take_resources(&r->cfg.dev, &r->o->given,
				      r->o->recorded_resources, e))
		return err_mark(e, ERR_INPUT);
	return 0;
}

/*
 * Everything up to running. Returns 0, an exit status the fault watchdog
 * has reported already (> 0), or -errno with e set and classed.
 *
 * The rule of a lazy restore: whatever serves guest RAM (the uffd thread, or
 * the external handler once it holds the userfaultfd) serves before anything
 * can touch RAM that is not there yet. Touching it blocks the toucher until
 * the page is served, and the toucher need not be a vCPU:
 *   - KVM itself, inside KVM_SET_MSRS: the kvmclock, steal time, async page
 *     fault and PV EOI MSRs name guest pages, and KVM pins them (its
 *     gfn-to-pfn caches) on the calling thread, here the main thread;
 *     KVM_SET_LAPIC and KVM_RUN of any vCPU may touch those pages again;
 *   - the devices' state restore and later the main thread's virtqueue,
 *     console and balloon work read rings and buffers in RAM;
 *   - a snapshot of the restored VM, prefetch, --record-working-set and
 *     background filling touch RAM from the uffd thread itself.
 * So: memory slots and the userfaultfd registration first (they touch
 * nothing), then the devices and vCPUs are created (KVM_CREATE_* touch
 * nothing), files are opened, privileges dropped, the fault service
 * started, and only then is any saved state given back. An eager restore
 * has copied all of RAM before this point and has nothing to serve.
 */
static int restore_prepare(struct restore *r, struct err *e)
{
	struct vm *vm = &r->vm;
	enum restore_how how = RESTORE_EAGER;
	int ret;

	r->phase_ns = r->o->start_ns;
	if (snapshot_path(r->memfile_path, sizeof(r->memfile_path), r->o->dir,
			  SNAPSHOT_MEMORY))
		return err_set(e, ENAMETOOLONG, "%s: name too long", r->o->dir);
	if (snapshot_open(&r->snap, r->o->dir, e) ||
	    restore_read_workingset(r, e))
		return -e->errnum;
	if (r->snap.has_fuzz != (r->o->fuzz != NULL)) {
		if (r->o->fuzz)
			err_set(e, EINVAL, "snapshot %s was not taken for fuzzing (no fuzz node): make one with gmvm fuzz --snapshot NEWDIR -- RUN-OPTIONS",
				r->o->dir);
		else
			err_set(e, EINVAL, "snapshot %s was taken for fuzzing (its guest waits for an input): gmvm fuzz --snapshot %s runs it",
				r->o->dir, r->o->dir);
		return err_mark(e, ERR_INPUT);
	}
	if (r->o->verify && !r->snap.has_region_crcs) {
		err_set(e, ENODATA, "--verify: snapshot %s has no memory checksums (format %u revision %u; they came with revision 1)",
			r->o->dir, VMSTATE_VERSION, r->snap.vs.revision);
		return err_mark(e, ERR_INPUT);
	}
	/* Opened now: the file is written at exit, maybe after a chroot. */
	if (r->o->record &&
	    (r->record_dir_fd = open(r->o->dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err_set(e, errno, "--record-working-set: %s: %s", r->o->dir,
			strerror(errno));
		return err_mark_input(e);
	}
	r->cfg = (struct vm_config){
		.machine.nr_vcpus = r->snap.nr_vcpus,
		.machine.mem_size = r->snap.mem_size,
		.machine.backend = r->o->common.backend ? r->o->common.backend : r->snap.backend,
		.machine.backend_explicit = r->o->common.backend != NULL,
		.machine.fuzz = r->o->fuzz != NULL,
		.dev = r->snap.dev,
		.start_ns = r->o->start_ns,
		.control_path = r->o->common.control,
		.sandbox.privdrop = r->o->common.privdrop,
		.async_teardown = r->o->common.async_teardown,
		.fault_timeout_ns = r->o->fault_timeout_ns,
	};	if (restore_host_resources(r, e))
		return -e->errnum;
	/*
	 * The devices are the snapshot's; --console only routes stdin and
	 * stdout: by default to the console the snapshot's guest used.
	 */
	r->cfg.dev.console = r->o->common.console;
	if (!r->o->common.console_given)
		r->cfg.dev.console = r->snap.dev.virtio_console ? CONSOLE_VIRTIO : CONSOLE_SERIAL;
	if (r->cfg.dev.console == CONSOLE_VIRTIO && !r->snap.dev.virtio_console) {
		err_set(e, EINVAL, "--console virtio: the snapshot has no virtio-console device");
		return err_mark(e, ERR_USAGE);
	}
	restore_phase(r, "exec, options and snapshot checks");
	if (vm_create(vm, &r->cfg, e))
		return -e->errnum;
	vm->origin.snapshot = r->o->dir;
	if (vm_check_config(vm, &r->cfg, e) ||
	    (r->o->common.control && control_start(vm, r->o->common.control, e)))
		return -e->errnum;
	restore_phase(r, "VM");
	if (vm_create_memory(vm, &r->cfg, e))
		return -e->errnum;
	restore_phase(r, "RAM and memory slots");
	if (restore_pick(r, &how, e) ||
	    (how == RESTORE_LAZY ? restore_lazy(r, e) :
	     how == RESTORE_FILE ? restore_file(r, e) : restore_eager(r, e)))
		return -e->errnum;
	restore_phase(r, how == RESTORE_LAZY ? "userfaultfd registration and the memory file's extents" :
		      how == RESTORE_FILE ? "mapping the memory file" : "copying the memory file");
	if (vm_setup_devices(vm, &r->cfg, e))
		return -e->errnum;
	restore_phase(r, "devices");
	if (vm_create_vcpus(vm, &r->cfg, e))
		return -e->errnum;
	restore_phase(r, "vCPUs");
	if (r->o->common.stats &&
	    (r->stats_fd = vm_stats_open(r->o->common.stats, e)) < 0)
		return -e->errnum;
	if (vm_start_fault_service(vm, e))
		return -e->errnum;
	restore_phase(r, "privileges dropped, fault service started");
	atomic_store(&vm->main_activity, "restoring the saved state");
	ret = snapshot_restore_state(vm, &r->snap, e);
	atomic_store(&vm->main_activity, NULL);
	/* A fault the watchdog gave up on has been reported already. */
	if (atomic_load(&vm->exit.requested))
		return vm->exit.status;
	if (ret)
		return -e->errnum;
	if (r->o->fuzz && vm_fuzz_prepare(vm, &r->snap, r->o->fuzz, e))
		return -e->errnum;
	restore_phase(r, "saved state given back");
	log_notice("restore: %s (%s)", vm->origin.strategy, vm->origin.reason);
	return 0;
}

/* What is written at the end; false when any of it failed. */
static bool restore_finish(struct restore *r)
{
	struct vm *vm = &r->vm;
	struct err e = { 0 };
	bool ok = true;

	if (vm->faults.uffd && r->record_dir_fd >= 0) {
		if (uffd_handler_write_workingset(vm->faults.uffd, r->record_dir_fd,
						  r->o->dir, &e)) {
			log_error("--record-working-set: %s", e.msg);
			ok = false;
		} else {
			log_info("working set written to %s/%s", r->o->dir,
				 SNAPSHOT_WORKINGSET);
		}
	}
	if (r->stats_fd >= 0 && vm_stats_write(vm, r->stats_fd, r->o->common.stats, &e)) {
		log_error("%s", e.msg);
		ok = false;
	}
	return ok;
}

int restore_vm(const struct restore_opts *o, struct err *e)
{
	struct restore r = { .o = o, .ext_uffd = -1, .ext_peer.fd = -1,
			     .stats_fd = -1, .record_dir_fd = -1 };
	int status;

	vm_init(&r.vm);
	status = restore_prepare(&r, e);
	if (!status) {
		status = vm_run(&r.vm);
		if (status)
			restore_file_explain();
		/* What was asked for was not all done (logged): no success. */
		if (!restore_finish(&r) && !status)
			status = VM_STATUS_FAILURE;
	}
	vm_stop_fault_service(&r.vm);
	restore_file_stop();
	if (r.ext_peer.fd >= 0)
		close(r.ext_peer.fd);
	if (r.ext_uffd >= 0)
		close(r.ext_uffd);
	if (r.stats_fd >= 0)
		close(r.stats_fd);
	if (r.record_dir_fd >= 0)
		close(r.record_dir_fd);
	vm_destroy(&r.vm);
	if (r.memfile_map)
		munmap((void *)r.memfile_map, r.snap.mem_size);
	free(r.extents);
	snapshot_close(&r.snap);
	free(r.workingset);
	return status;
}
