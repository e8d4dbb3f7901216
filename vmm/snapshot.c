// SPDX-License-Identifier: MIT
/*
 * Taking a snapshot: pause the vCPUs, write vmstate and memory into a fresh
 * directory beside the target, then rename it into place, so that a
 * snapshot directory is either complete or absent. The snapshot code never
 * names a device: each one saves itself through its ops table.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "snapshot.h"
#include "uffd.h"
#include "vm.h"

void snapshot_write_config(struct vm *vm, struct vmstate_writer *w)
{
	vmstate_begin(w, "config");
	vmstate_put_u32(w, "vcpus", vm->nr_vcpus);
	vmstate_put_u64(w, "memory-size", vm->mem.size);
	/*
	 * RAM mapped from a memory file (--restore file) is no backend a VM
	 * is made with: the one the VM was configured with, as a restore of
	 * this snapshot would have used without --restore file.
	 */
	vmstate_put_str(w, "backend", vm->mem.backend == &guest_mem_backend_snapshot_file ?
			vm->cfg->machine.backend->name : vm->mem.backend->name);
	/* The ACPI tables in guest RAM need their sleep registers back. */
	vmstate_put_u32(w, "discovery", vm->cfg->dev.discovery);
	/* What each kind of device needs to be made again: its own. */
	dev_config_save(&vm->cfg->dev, w);
	vmstate_end(w);
}

void snapshot_write_regions(struct vm *vm, const uint32_t *crcs,
			    struct vmstate_writer *w)
{
	char name[32];

	vmstate_begin(w, "memory");
	for (unsigned int i = 0; i < vm->mem.nr_regions; i++) {
		const struct guest_mem_region *r = &vm->mem.regions[i];

		snprintf(name, sizeof(name), "region@%u", i);
		vmstate_begin(w, name);
		vmstate_put_u64(w, "gpa", r->gpa);
		vmstate_put_u64(w, "size", r->size);
		vmstate_put_u64(w, "offset", r->offset);
		if (crcs)
			vmstate_put_u32(w, "data-crc32c", crcs[i]);
		vmstate_end(w);
	}
	vmstate_end(w);
}

static int snapshot_write_cpus(struct vm *vm, struct vmstate_writer *w,
			       struct err *e)
{
	char name[32];

	vmstate_begin(w, "cpus");
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		snprintf(name, sizeof(name), "cpu@%u", i);
		vmstate_begin(w, name);
		if (vcpu_save_state(&vm->vcpus[i], w, e))
			return -EIO;
		vmstate_end(w);
	}
	vmstate_end(w);
	return 0;
}

void snapshot_write_devices(struct vm *vm, struct vmstate_writer *w)
{
	vmstate_begin(w, "devices");
	for (unsigned int i = 0; i < vm->nr_devices; i++) {
		struct device *dev = vm->devices[i];

		/* Stateless devices may differ between snapshot and restore. */
		if (!dev->ops->save)
			continue;
		vmstate_begin(w, dev->id);
		pthread_mutex_lock(&dev->lock);
		dev->ops->save(dev, w);
		pthread_mutex_unlock(&dev->lock);
		vmstate_end(w);
	}
	vmstate_end(w);
}

static int snapshot_write_vmstate(struct vm *vm, const char *path,
				  const uint32_t *crcs, struct err *e)
{
	struct vmstate_writer w;
	const void *blob;
	size_t len;
	int fd, ret;

	if (vmstate_writer_init(&w))
		return err_set(e, ENOMEM, "cannot start the vmstate");
	snapshot_write_config(vm, &w);
	snapshot_write_regions(vm, crcs, &w);
	vmstate_begin(&w, "vm");
	ret = vm_save_state(vm, &w, e);
	vmstate_end(&w);
	if (!ret)
		ret = snapshot_write_cpus(vm, &w, e);
	if (!ret)
		snapshot_write_devices(vm, &w);
	if (!ret && vm->fuzz && vm->fuzz->guest.input_size)
		fuzz_guest_save(&vm->fuzz->guest, &w);
	if (!ret && vmstate_finish(&w, &blob, &len))
		ret = err_set(e, -w.err, "vmstate: %s", strerror(-w.err));
	if (!ret) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		ret = fd < 0 ? -errno : write_full(fd, blob, len);
		if (!ret && fsync(fd) < 0)
			ret = -errno;
		if (fd >= 0)
			close(fd);
		if (ret)
			err_set(e, -ret, "%s: %s", path, strerror(-ret));
	}
	vmstate_writer_free(&w);
	return ret;
}

int snapshot_path(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static void snapshot_remove_partial(const char *tmp)
{
	char path[PATH_MAX];

	if (!snapshot_path(path, sizeof(path), tmp, SNAPSHOT_VMSTATE))
		unlink(path);
	if (!snapshot_path(path, sizeof(path), tmp, SNAPSHOT_MEMORY))
		unlink(path);
	rmdir(tmp);
}

/* Write both files into tmp: memory first, for its checksums. */
static int snapshot_write_dir(struct vm *vm, const char *tmp, struct err *e)
{
	uint32_t crcs[GUEST_MEM_MAX_REGIONS];
	char path[PATH_MAX];
	long long bytes;
	uint64_t t0 = time_now_ns();

	if (snapshot_path(path, sizeof(path), tmp, SNAPSHOT_MEMORY))
		return err_set(e, ENAMETOOLONG, "%s: name too long", tmp);
	bytes = memfile_write(&vm->mem, path, crcs, e);
	if (bytes < 0)
		return (int)bytes;
	log_info("snapshot: %lld MiB of guest memory written in %llu ms",
		 bytes >> 20, (unsigned long long)((time_now_ns() - t0) / 1000000));
	if (snapshot_path(path, sizeof(path), tmp, SNAPSHOT_VMSTATE))
		return err_set(e, ENAMETOOLONG, "%s: name too long", tmp);
	return snapshot_write_vmstate(vm, path, crcs, e);
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int snapshot_commit(const char *tmp, const char *dir, struct err *e)
{
	char parent[PATH_MAX];
	char *slash;

	if (rename(tmp, dir) < 0)
		return err_set(e, errno, "cannot move the snapshot into %s: %s",
			       dir, strerror(errno));
	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (slash)
		*(slash == parent ? slash + 1 : slash) = '\0';
	else
		snprintf(parent, sizeof(parent), ".");
	fsync_dir(parent);
	return 0;
}

int vm_snapshot(struct vm *vm, const char *dir, bool pause_after,
		struct err *e)
{
	bool was_paused = vm_is_paused(vm);
	char tmp[PATH_MAX];
	struct stat st;
	int ret;

	if (stat(dir, &st) == 0)
		return err_set(e, EEXIST, "snapshot directory %s already exists", dir);
	if (snprintf(tmp, sizeof(tmp), "%s.partial-%d", dir, (int)getpid()) >=
	    (int)sizeof(tmp))
		return err_set(e, ENAMETOOLONG, "snapshot directory name is too long");
	if (vm->faults.external)
		return err_set(e, ENOTSUP, "cannot snapshot a VM whose memory an external handler (--uffd-socket) still serves");
	if (mkdir(tmp, 0700) < 0)
		return err_set(e, errno, "cannot create %s: %s", tmp, strerror(errno));
	vm_pause(vm);
	/* Pages not fetched yet are not resident: fetch them first. */
	ret = vm->faults.uffd ? uffd_handler_complete(vm->faults.uffd, e) : 0;
	if (!ret)
		ret = snapshot_write_dir(vm, tmp, e);
	if (!ret)
		ret = fsync_dir(tmp) ? err_set(e, errno, "fsync %s: %s", tmp,
					      strerror(errno)) : 0;
	if (!ret)
		ret = snapshot_commit(tmp, dir, e);
	if (ret)
		snapshot_remove_partial(tmp);
	if (!was_paused && !pause_after)
		vm_resume(vm);
	return ret;
}

void vm_request_snapshot(struct vm *vm)
{
	uint64_t one = 1;

	vm_pause_async(vm);
	if (write(vm->snapshot_req.source.fd, &one, sizeof(one)) < 0)
		log_error("cannot wake the main thread for a snapshot: %s",
			  strerror(errno));
}

/* Main thread: the snapshot the guest asked for. */
static void vm_snapshot_event(struct event_source *src, uint32_t events)
{
	struct vm *vm = src->opaque;
	struct err e = { 0 };
	uint64_t n;

	(void)events;
	if (read(src->fd, &n, sizeof(n)) < 0)
		return;
	if (vm_snapshot(vm, vm->snapshot_req.dir, true, &e)) {
		log_error("snapshot requested by the guest: %s", e.msg);
		vm_request_exit(vm, VM_STATUS_FAILURE);
		return;
	}
	log_notice("snapshot written to %s", vm->snapshot_req.dir);
	if (vm->snapshot_req.then_stop)
		vm_request_exit(vm, 0);
	else
		vm_resume(vm);
}

int vm_snapshot_requests_init(struct vm *vm, struct err *e)
{
	int ret;

	if (!vm->snapshot_req.dir)
		return 0;
	vm->snapshot_req.source = (struct event_source){
		.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
		.handler = vm_snapshot_event,
		.opaque = vm,
	};
	if (vm->snapshot_req.source.fd < 0)
		return err_set(e, errno, "eventfd: %s", strerror(errno));
	ret = event_loop_add(&vm->loop, &vm->snapshot_req.source, EPOLLIN);
	return ret ? err_set(e, -ret, "epoll: %s", strerror(-ret)) : 0;
}
