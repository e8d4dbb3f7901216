// SPDX-License-Identifier: MIT
/* Probing the host: KVM capabilities, memory backends, userfaultfd modes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "caps.h"
#include "kvm.h"
#include "kvm_abi.h"
#include "uffd.h"

#define PROBE_SIZE (2 * MIB)


/* Everything gmvm may use; uffd_open() keeps what the kernel has. */
#define PROBE_UFFD_FEATURES                                                    \
	(UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_MINOR_SHMEM |               \
	 UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_WP_HUGETLBFS_SHMEM |    \
	 UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_WP_UNPOPULATED)

static const struct {
	const char *name;
	long cap;
} probed_caps[] = {
	{ "KVM_CAP_IRQCHIP", KVM_CAP_IRQCHIP },
	{ "KVM_CAP_PIT2", KVM_CAP_PIT2 },
	{ "KVM_CAP_IRQFD", KVM_CAP_IRQFD },
	{ "KVM_CAP_IOEVENTFD", KVM_CAP_IOEVENTFD },
	{ "KVM_CAP_IMMEDIATE_EXIT", KVM_CAP_IMMEDIATE_EXIT },
	{ "KVM_CAP_ADJUST_CLOCK", KVM_CAP_ADJUST_CLOCK },
	{ "KVM_CAP_MAX_VCPUS", KVM_CAP_MAX_VCPUS },
	{ "KVM_CAP_NR_MEMSLOTS", KVM_CAP_NR_MEMSLOTS },
	{ "KVM_CAP_XSAVE2", KVM_CAP_XSAVE2 },
	{ "KVM_CAP_USER_MEMORY2", KVM_CAP_USER_MEMORY2 },
	{ "KVM_CAP_GUEST_MEMFD", KVM_CAP_GUEST_MEMFD },
	{ "KVM_CAP_GUEST_MEMFD_FLAGS", KVM_CAP_GUEST_MEMFD_FLAGS },
	{ "KVM_CAP_MEMORY_ATTRIBUTES", KVM_CAP_MEMORY_ATTRIBUTES },
	{ "KVM_CAP_VM_TYPES", KVM_CAP_VM_TYPES },
};

static void caps_probe_mode(struct caps_uffd_mode *m, void *addr,
			    uint64_t mode)
{
	uint64_t features;
	struct err e;
	int uffd, ret;

	uffd = uffd_open(PROBE_UFFD_FEATURES, &features, &e);
	if (uffd < 0) {
		m->err = -uffd;
		return;
	}
	ret = uffd_register(uffd, addr, PROBE_SIZE, mode, &m->ioctls);
	m->ok = ret == 0;
	m->err = -ret;
	close(uffd);
}

/*
 * KVM's dirty log: a memory slot over the mapping with KVM_MEM_LOG_DIRTY_PAGES,
 * then KVM_GET_DIRTY_LOG. gmem slots go through KVM_SET_USER_MEMORY_REGION2.
 */
static void caps_probe_dirty_log(struct caps_dirty *d, void *addr, int gmem_fd)
{
	static uint64_t bitmap[PROBE_SIZE / PAGE_SIZE / 64];
	struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = bitmap };
	struct err e = { 0 };
	int kvm = kvm_open(&e), vm = -1, ret;

	if (kvm < 0 || (vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0) {
		snprintf(d->kvm_log_why, sizeof(d->kvm_log_why), "no KVM VM");
		goto out;
	}
	if (gmem_fd >= 0) {
		struct gmvm_kvm_userspace_memory_region2 r = {
			.flags = KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_GUEST_MEMFD,
			.memory_size = PROBE_SIZE, .userspace_addr = (uintptr_t)addr,
			.guest_memfd = gmem_fd,
		};

		ret = ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &r);
	} else {
		struct kvm_userspace_memory_region r = {
			.flags = KVM_MEM_LOG_DIRTY_PAGES, .memory_size = PROBE_SIZE,
			.userspace_addr = (uintptr_t)addr,
		};

		ret = ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
	}
	if (ret < 0)
		snprintf(d->kvm_log_why, sizeof(d->kvm_log_why),
			 "a dirty-logged memory slot: %s", strerror(errno));
	else if (ioctl(vm, KVM_GET_DIRTY_LOG, &log) < 0)
		snprintf(d->kvm_log_why, sizeof(d->kvm_log_why),
			 "KVM_GET_DIRTY_LOG: %s", strerror(errno));
	else
		d->kvm_log = true;
out:
	if (vm >= 0)
		close(vm);
	if (kvm >= 0)
		close(kvm);
}

/*
 * userfaultfd WP_ASYNC on the mapping, PAGEMAP_SCAN to read it back: the
 * tracker gmvm fuzz would start, which writes a page and must see it.
 */
static void caps_probe_wp_async(struct caps_dirty *d, void *addr)
{
	struct guest_mem mem = {
		.fd = -1, .base = addr, .size = PROBE_SIZE, .nr_regions = 1,
		.regions[0] = { .gpa = 0, .size = PROBE_SIZE, .offset = 0 },
	};
	struct dirty_tracker t;
	struct err e = { 0 };

	if (dirty_start(&t, &mem, -1, DIRTY_UFFD_WP_ASYNC, &e)) {
		snprintf(d->uffd_wp_async_why, sizeof(d->uffd_wp_async_why), "%s", e.msg);
		return;
	}
	dirty_stop(&t);
	d->uffd_wp_async = true;
}

static void caps_probe_uffd_modes(struct caps_backend *b, void *addr)
{
	caps_probe_mode(&b->missing, addr, UFFDIO_REGISTER_MODE_MISSING);
	caps_probe_mode(&b->minor, addr, UFFDIO_REGISTER_MODE_MINOR);
	caps_probe_mode(&b->wp, addr, UFFDIO_REGISTER_MODE_WP);
}

/*
 * Map PROBE_SIZE of fd (or anonymous memory when fd < 0) and try uffd and
 * dirty tracking on it (gmem_fd: fd is a guest_memfd, or -1).
 */
static void caps_probe_mapping(struct caps_backend *b, int fd, int gmem_fd)
{
	void *p;

	if (fd >= 0)
		p = mmap(NULL, PROBE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
	else
		p = mmap(NULL, PROBE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(b->why, sizeof(b->why), "mmap: %s", strerror(errno));
		return;
	}
	b->usable = true;
	caps_probe_uffd_modes(b, p);
	caps_probe_dirty_log(&b->dirty, p, gmem_fd);
	caps_probe_wp_async(&b->dirty, p);
	munmap(p, PROBE_SIZE);
}

static void caps_probe_gmem(struct host_caps *caps, int vm_fd)
{
	struct caps_backend *b = &caps->backend[GUEST_MEM_GMEM];
	struct gmvm_kvm_create_guest_memfd req = {
		.size = PROBE_SIZE,
		.flags = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED,
	};
	struct err e = { 0 };
	int fd;

	if (kvm_probe_gmem(vm_fd, &e)) {
		snprintf(b->why, sizeof(b->why), "%s", e.msg);
		return;
	}
	fd = ioctl(vm_fd, KVM_CREATE_GUEST_MEMFD, &req);
	if (fd < 0) {
		snprintf(b->why, sizeof(b->why), "KVM_CREATE_GUEST_MEMFD: %s",
			 strerror(errno));
		return;
	}
	caps_probe_mapping(b, fd, fd);
	close(fd);
}

static void caps_probe_memfd(struct host_caps *caps)
{
	struct caps_backend *b = &caps->backend[GUEST_MEM_MEMFD];
	int fd = memfd_create("gmvm-caps", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, PROBE_SIZE) < 0) {
		snprintf(b->why, sizeof(b->why), "memfd: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	caps_probe_mapping(b, fd, -1);
	close(fd);
}

static void caps_probe_kvm(struct host_caps *caps)
{
	struct kvm_cpuid2 *cpuid;
	struct err e = { 0 };
	int kvm, vm;

	kvm = kvm_open(&e);
	if (kvm < 0) {
		snprintf(caps->kvm_why, sizeof(caps->kvm_why), "%s", e.msg);
		snprintf(caps->backend[GUEST_MEM_GMEM].why,
			 sizeof(caps->backend[0].why), "no KVM");
		return;
	}
	caps->api_version = ioctl(kvm, KVM_GET_API_VERSION, 0);
	cpuid = kvm_get_supported_cpuid(kvm, &e);
	caps->phys_bits = cpuid ? kvm_phys_bits(cpuid) : 0;
	free(cpuid);
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		snprintf(caps->kvm_why, sizeof(caps->kvm_why),
			 "KVM_CREATE_VM: %s", strerror(errno));
		close(kvm);
		return;
	}
	caps->kvm_ok = true;
	for (unsigned int i = 0; i < ARRAY_SIZE(probed_caps); i++) {
		caps->kvm_caps[i] = (struct caps_kvm_cap){
			probed_caps[i].name, probed_caps[i].cap,
			kvm_check_cap(vm, probed_caps[i].cap) };
	}
	caps->nr_kvm_caps = ARRAY_SIZE(probed_caps);
	caps_probe_gmem(caps, vm);
	close(vm);
	close(kvm);
}

/*
 * A file restore's needs, on a file of one page in dir: a read lease (its
 * owner holds none elsewhere, nobody writes it) and a private mapping.
 */
static void caps_probe_file(struct host_caps *caps, const char *dir)
{
	static const uint8_t page[PAGE_SIZE];
	char path[256];
	void *p = MAP_FAILED;
	int fd, rd = -1;

	caps->file_dir = dir;
	snprintf(path, sizeof(path), "%s/gmvm-caps-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0) {
		snprintf(caps->file_why, sizeof(caps->file_why), "no file in %s to try: %s",
			 dir, strerror(errno));
		return;
	}
	if (write_full(fd, page, sizeof(page)) == 0)
		rd = open(path, O_RDONLY | O_CLOEXEC);
	close(fd);
	unlink(path);
	if (rd < 0) {
		snprintf(caps->file_why, sizeof(caps->file_why), "cannot write and reopen a file in %s",
			 dir);
		return;
	}
	if (fcntl(rd, F_SETLEASE, F_RDLCK) < 0)
		snprintf(caps->file_why, sizeof(caps->file_why), "no read lease on a file in %s: %s",
			 dir, strerror(errno));
	else if ((p = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, rd, 0)) ==
		 MAP_FAILED)
		snprintf(caps->file_why, sizeof(caps->file_why), "no private mapping of a file: %s",
			 strerror(errno));
	else
		caps->file_ok = true;
	if (p != MAP_FAILED)
		munmap(p, PAGE_SIZE);
	close(rd);
}

void caps_probe(struct host_caps *caps)
{
	struct err e = { 0 };

	memset(caps, 0, sizeof(*caps));
	caps_probe_kvm(caps);
	caps_probe_memfd(caps);
	caps_probe_mapping(&caps->backend[GUEST_MEM_ANON], -1, -1);
	caps->uffd_ok = uffd_supported_features(&caps->uffd_features, &e) == 0;
	if (!caps->uffd_ok)
		snprintf(caps->uffd_why, sizeof(caps->uffd_why), "%s", e.msg);
	caps_probe_file(caps, getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
}

enum restore_strategy caps_restore_strategy(const struct host_caps *caps,
					    enum guest_mem_kind kind)
{
	const struct caps_backend *b = &caps->backend[kind];

	if (!b->usable)
		return RESTORE_UNAVAILABLE;
	/*
	 * guest_memfd: vCPU faults bypass the mapping, so only MINOR (pages
	 * already in the file) fits it; MISSING serves the others best, with
	 * UFFDIO_ZEROPAGE for holes.
	 */
	if (kind == GUEST_MEM_GMEM) {
		if (b->minor.ok)
			return RESTORE_LAZY_MINOR;
		if (b->missing.ok)
			return RESTORE_LAZY_MISSING;
		return RESTORE_EAGER;
	}
	if (b->missing.ok)
		return RESTORE_LAZY_MISSING;
	if (b->minor.ok)
		return RESTORE_LAZY_MINOR;
	return RESTORE_EAGER;
}

enum restore_strategy caps_restore_auto(const struct host_caps *caps,
					enum guest_mem_kind kind)
{
	enum restore_strategy s = caps_restore_strategy(caps, kind);

	return s == RESTORE_EAGER && kind != GUEST_MEM_GMEM && caps->file_ok ?
	       RESTORE_FILE : s;
}

struct caps_offers caps_backend_offers(const struct host_caps *caps,
				       enum guest_mem_kind kind)
{
	const struct caps_backend *b = &caps->backend[kind];
	struct caps_offers o = { 0 };

	if (!b->usable || !caps->kvm_ok)
		return o;
	o.boot = true;
	o.lazy_load = b->missing.ok;
	o.lazy_missing = b->missing.ok;
	/* Minor faults need a page cache to fill: not anonymous memory. */
	o.lazy_minor = b->minor.ok && kind != GUEST_MEM_ANON;
	return o;
}

enum guest_mem_kind caps_default_backend(const struct host_caps *caps,
					 char *buf, size_t len)
{
	const struct caps_backend *gmem = &caps->backend[GUEST_MEM_GMEM];

	if (gmem->usable) {
		snprintf(buf, len, "this host offers guest_memfd");
		return GUEST_MEM_GMEM;
	}
	snprintf(buf, len, "this host does not offer guest_memfd: %s",
		 gmem->why);
	return GUEST_MEM_MEMFD;
}

const char *restore_strategy_name(enum restore_strategy s)
{
	static const char *const names[] = {
		[RESTORE_UNAVAILABLE] = "unavailable",
		[RESTORE_EAGER] = "eager",
		[RESTORE_LAZY_MISSING] = "lazy-missing",
		[RESTORE_LAZY_MINOR] = "lazy-minor",
		[RESTORE_FILE] = "file",
	};

	return names[s];
}

enum dirty_tracking caps_dirty_tracking(const struct host_caps *caps,
					enum guest_mem_kind kind)
{
	const struct caps_backend *b = &caps->backend[kind];

	if (!b->usable)
		return DIRTY_NONE;
	if (b->dirty.kvm_log)
		return DIRTY_KVM_LOG;
	return b->dirty.uffd_wp_async ? DIRTY_UFFD_WP_ASYNC : DIRTY_NONE;
}
