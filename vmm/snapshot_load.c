// SPDX-License-Identifier: MIT
/*
 * Opening a snapshot for restore: everything in it is checked before any of
 * it is used -- the vmstate blob (vmstate_open), the configuration it
 * records, its memory regions against the layout that configuration
 * implies, and the memory file's size.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "snapshot.h"
#include "vm.h"

static int snapshot_read_vmstate(struct snapshot *s, const char *path,
				 struct err *e)
{
	struct stat st;
	int fd, ret;

	fd = open_regular(path, true, &st);
	if (fd < 0)
		return err_set(e, -fd, "%s: %s", path, open_regular_error(fd, &st));
	if (st.st_size > VMSTATE_MAX_SIZE || st.st_size == 0) {
		close(fd);
		return err_set(e, EINVAL, "%s: size %lld is not that of a vmstate",
			       path, (long long)st.st_size);
	}
	s->vmstate_len = st.st_size;
	s->vmstate_buf = malloc(s->vmstate_len);
	ret = s->vmstate_buf ? read_full_at(fd, s->vmstate_buf, s->vmstate_len, 0)
			     : -ENOMEM;
	close(fd);
	if (ret)
		return err_set(e, -ret, "%s: %s", path, strerror(-ret));
	return 0;
}

static int snapshot_read_devices(struct snapshot *s, int node, struct err *e)
{
	uint32_t discovery;

	if (vmstate_get_u32(&s->vs, node, "discovery", &discovery, e))
		return -EINVAL;
	if (discovery > DISCOVERY_BOTH)
		return err_set(e, EINVAL, "config: discovery is %u", discovery);
	s->dev.discovery = discovery;
	return dev_config_load(&s->dev, &s->vs, node, e);
}

static int snapshot_read_config(struct snapshot *s, struct err *e)
{
	int node = vmstate_node(&s->vs, 0, "config");
	struct guest_mem layout;
	const char *backend;

	if (node < 0)
		return err_set(e, EINVAL, "no config node");
	if (vmstate_get_u32(&s->vs, node, "vcpus", &s->nr_vcpus, e) ||
	    vmstate_get_u64(&s->vs, node, "memory-size", &s->mem_size, e) ||
	    vmstate_get_str(&s->vs, node, "backend", &backend, 16, e))
		return -EINVAL;
	if (s->nr_vcpus < 1 || s->nr_vcpus > VM_MAX_VCPUS)
		return err_set(e, EINVAL, "config: %u vCPUs is out of range",
			       s->nr_vcpus);
	if (s->mem_size < GUEST_MEM_MIN_SIZE || guest_mem_layout(&layout, s->mem_size))
		return err_set(e, EINVAL, "config: memory size %#llx is not valid",
			       (unsigned long long)s->mem_size);
	s->backend = guest_mem_backend_find(backend);
	if (!s->backend)
		return err_set(e, EINVAL, "config: unknown memory backend \"%s\"",
			       backend);
	return snapshot_read_devices(s, node, e);
}

/* The regions must be exactly those the memory size lays out. */
static int snapshot_check_regions(struct snapshot *s, struct err *e)
{
	int node = vmstate_node(&s->vs, 0, "memory"), child;
	struct guest_mem layout;
	unsigned int n = 0;

	guest_mem_layout(&layout, s->mem_size);
	if (node < 0)
		return err_set(e, EINVAL, "no memory node");
	for (child = vmstate_first_child(&s->vs, node); child >= 0;
	     child = vmstate_next_child(&s->vs, child), n++) {
		const struct guest_mem_region *want = &layout.regions[n];
		uint64_t gpa, size, offset;

		if (n >= layout.nr_regions)
			return err_set(e, EINVAL, "more memory regions than %llu MiB of RAM has",
				       (unsigned long long)(s->mem_size / MIB));
		if (vmstate_get_u64(&s->vs, child, "gpa", &gpa, e) ||
		    vmstate_get_u64(&s->vs, child, "size", &size, e) ||
		    vmstate_get_u64(&s->vs, child, "offset", &offset, e))
			return -EINVAL;
		if (gpa != want->gpa || size != want->size || offset != want->offset)
			return err_set(e, EINVAL, "memory region %u [%#llx, +%#llx) at offset %#llx does not match the memory size",
				       n, (unsigned long long)gpa,
				       (unsigned long long)size,
				       (unsigned long long)offset);
		/* Optional (revision 1), but all regions or none. */
		if (!n)
			s->has_region_crcs = vmstate_has(&s->vs, child, "data-crc32c");
		if (vmstate_has(&s->vs, child, "data-crc32c") != s->has_region_crcs)
			return err_set(e, EINVAL, "memory regions 0 and %u: one has a checksum (data-crc32c), the other none",
				       n);
		if (s->has_region_crcs &&
		    vmstate_get_u32(&s->vs, child, "data-crc32c", &s->region_crcs[n], e))
			return -EINVAL;
	}
	if (n != layout.nr_regions)
		return err_set(e, EINVAL, "%u memory regions, %llu MiB of RAM has %u",
			       n, (unsigned long long)(s->mem_size / MIB),
			       layout.nr_regions);
	return 0;
}

/* Exactly cpu@0 .. cpu@n-1, each with all its state. */
static int snapshot_check_cpus(struct snapshot *s, struct err *e)
{
	int node = vmstate_node(&s->vs, 0, "cpus"), child;
	unsigned int n = 0;
	char name[32];

	if (node < 0)
		return err_set(e, EINVAL, "no cpus node");
	for (child = vmstate_first_child(&s->vs, node); child >= 0;
	     child = vmstate_next_child(&s->vs, child))
		n++;
	if (n != s->nr_vcpus)
		return err_set(e, EINVAL, "%u vCPU states for %u vCPUs", n,
			       s->nr_vcpus);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "cpu@%u", i);
		child = vmstate_node(&s->vs, node, name);
		if (child < 0)
			return err_set(e, EINVAL, "no state for vCPU %u", i);
		if (vcpu_state_check(&s->vs, child, e))
			return -EINVAL;
	}
	return 0;
}

static int snapshot_open_memory(struct snapshot *s, const char *path,
				struct err *e)
{
	struct stat st;

	s->mem_fd = open_regular(path, true, &st);
	if (s->mem_fd < 0)
		return err_set(e, -s->mem_fd, "%s: %s", path,
			       open_regular_error(s->mem_fd, &st));
	s->mem_file_size = st.st_size;
	if (s->mem_file_size < s->mem_size)
		return err_set(e, EINVAL, "%s: %llu bytes, shorter than the %llu bytes of its regions",
			       path, (unsigned long long)s->mem_file_size,
			       (unsigned long long)s->mem_size);
	return 0;
}

/*
 * gmvm fuzz's node: the input buffer inside one RAM region and no larger
 * than the engine takes, the coverage window where gmvm puts it, its size a
 * power of two it allows (or none).
 */
static int snapshot_read_fuzz(struct snapshot *s, struct err *e)
{
	int node = vmstate_node(&s->vs, 0, "fuzz");
	struct fuzz_guest *g = &s->fuzz;
	uint64_t cov_gpa, end;
	struct guest_mem layout;
	bool inside = false;

	if (node < 0)
		return 0;
	if (vmstate_get_u64(&s->vs, node, "input-gpa", &g->input_gpa, e) ||
	    vmstate_get_u64(&s->vs, node, "input-size", &g->input_size, e) ||
	    vmstate_get_u64(&s->vs, node, "coverage-gpa", &cov_gpa, e) ||
	    vmstate_get_u32(&s->vs, node, "coverage-size", &g->coverage_size, e))
		return -EINVAL;
	if (guest_mem_layout(&layout, s->mem_size))
		return err_set(e, EINVAL, "fuzz: no memory layout");
	end = g->input_gpa + g->input_size;
	for (unsigned int i = 0; i < layout.nr_regions; i++)
		if (end > g->input_gpa && g->input_gpa >= layout.regions[i].gpa &&
		    end <= layout.regions[i].gpa + layout.regions[i].size)
			inside = true;
	if (!inside || g->input_size > FUZZ_INPUT_MAX)
		return err_set(e, EINVAL, "fuzz: the input buffer [%#llx, +%llu) is not inside RAM or larger than %u MiB",
			       (unsigned long long)g->input_gpa,
			       (unsigned long long)g->input_size, FUZZ_INPUT_MAX >> 20);
	if (g->coverage_size &&
	    (g->coverage_size < 64 || g->coverage_size > FUZZ_COVERAGE_MAX ||
	     (g->coverage_size & (g->coverage_size - 1)) || cov_gpa != FUZZ_COVERAGE_ADDR))
		return err_set(e, EINVAL, "fuzz: a coverage map of %u bytes at %#llx (gmvm puts one of 64 bytes to %u MiB, a power of two, at %#llx)",
			       g->coverage_size, (unsigned long long)cov_gpa,
			       FUZZ_COVERAGE_MAX >> 20, FUZZ_COVERAGE_ADDR);
	if (!g->coverage_size && cov_gpa)
		return err_set(e, EINVAL, "fuzz: a coverage window at %#llx of no size",
			       (unsigned long long)cov_gpa);
	s->has_fuzz = true;
	return 0;
}

int snapshot_parse(struct snapshot *s, struct err *e)
{
	int ret = vmstate_open(&s->vs, s->vmstate_buf, s->vmstate_len, e);

	if (!ret)
		ret = snapshot_read_config(s, e);
	if (!ret)
		ret = snapshot_check_regions(s, e);
	if (!ret)
		ret = snapshot_check_cpus(s, e);
	if (!ret)
		ret = snapshot_read_fuzz(s, e);
	return ret;
}

static int snapshot_open_checked(struct snapshot *s, const char *dir, struct err *e)
{
	char path[PATH_MAX];
	struct stat st;
	int ret;

	memset(s, 0, sizeof(*s));
	s->dir = dir;
	s->mem_fd = -1;
	if (stat(dir, &st) < 0)
		return err_set(e, errno, "snapshot %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(e, ENOTDIR, "snapshot %s: not a directory", dir);
	ret = snapshot_path(path, sizeof(path), dir, SNAPSHOT_VMSTATE);
	if (!ret)
		ret = snapshot_read_vmstate(s, path, e);
	if (!ret && (ret = snapshot_parse(s, e)))
		err_prefix(e, "%s", path);
	if (!ret && !(ret = snapshot_path(path, sizeof(path), dir, SNAPSHOT_MEMORY)))
		ret = snapshot_open_memory(s, path, e);
	if (ret == -ENAMETOOLONG)
		err_set(e, ENAMETOOLONG, "snapshot %s: name too long", dir);
	if (ret)
		snapshot_close(s);
	return ret;
}

int snapshot_open(struct snapshot *s, const char *dir, struct err *e)
{
	return snapshot_open_checked(s, dir, e) ? err_mark_input(e) : 0;
}

void snapshot_close(struct snapshot *s)
{
	free(s->vmstate_buf);
	s->vmstate_buf = NULL;
	if (s->mem_fd >= 0)
		close(s->mem_fd);
	s->mem_fd = -1;
}

static struct device *snapshot_find_device(struct vm *vm, const char *id)
{
	for (unsigned int i = 0; i < vm->nr_devices; i++)
		if (!strcmp(vm->devices[i]->id, id))
			return vm->devices[i];
	return NULL;
}

int snapshot_restore_devices(struct vm *vm, const struct vmstate *vs,
			     struct err *e)
{
	int node = vmstate_node(vs, 0, "devices"), child;

	if (node < 0)
		return err_set(e, EINVAL, "no devices node");
	for (child = vmstate_first_child(vs, node); child >= 0;
	     child = vmstate_next_child(vs, child)) {
		const char *id = vmstate_node_name(vs, child);
		struct device *dev = snapshot_find_device(vm, id);

		if (!dev || !dev->ops->restore)
			return err_set(e, EINVAL, "state for device \"%s\", which this VM does not have",
				       id);
	}
	for (unsigned int i = 0; i < vm->nr_devices; i++) {
		struct device *dev = vm->devices[i];
		int ret;

		if (!dev->ops->restore)
			continue;
		child = vmstate_node(vs, node, dev->id);
		if (child < 0)
			return err_set(e, EINVAL, "no state for device \"%s\"", dev->id);
		pthread_mutex_lock(&dev->lock);
		ret = dev->ops->restore(dev, vs, child, e);
		pthread_mutex_unlock(&dev->lock);
		if (ret)
			return ret;
	}
	return 0;
}

static int snapshot_restore_cpus(struct vm *vm, const struct vmstate *vs,
				 struct err *e)
{
	int node = vmstate_node(vs, 0, "cpus");
	char name[32];

	if (node < 0)
		return err_set(e, EINVAL, "no cpus node");
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		int cpu;

		snprintf(name, sizeof(name), "cpu@%u", i);
		cpu = vmstate_node(vs, node, name);
		if (cpu < 0)
			return err_set(e, EINVAL, "no state for vCPU %u", i);
		if (vcpu_restore_state(&vm->vcpus[i], vs, cpu, e))
			return -EINVAL;
	}
	return 0;
}

int snapshot_restore_state(struct vm *vm, const struct snapshot *s,
			   struct err *e)
{
	int node = vmstate_node(&s->vs, 0, "vm");
	int ret;

	if (node < 0)
		ret = err_set(e, EINVAL, "no vm node");
	else
		ret = vm_restore_state(vm, &s->vs, node, e);
	if (!ret)
		ret = snapshot_restore_devices(vm, &s->vs, e);
	if (!ret)
		ret = snapshot_restore_cpus(vm, &s->vs, e);
	for (unsigned int i = 0; !ret && i < vm->nr_devices; i++)
		if (vm->devices[i]->ops->restored)
			vm->devices[i]->ops->restored(vm->devices[i]);
	if (ret) {
		err_prefix(e, "snapshot %s", s->dir);
		return err_mark_input(e);
	}
	return 0;
}

static int snapshot_verify(const struct snapshot *s, const struct guest_mem *mem,
			   long long *bytes, struct err *e)
{
	uint32_t got[GUEST_MEM_MAX_REGIONS];
	struct guest_mem layout;

	if (!s->has_region_crcs)
		return err_set(e, ENODATA, "snapshot %s has no memory checksums (format %u revision %u; they came with revision 1)",
			       s->dir, VMSTATE_VERSION, s->vs.revision);
	guest_mem_layout(&layout, s->mem_size);
	*bytes = mem ? memfile_checksum_ram(mem, got, e) :
		       memfile_checksum_file(s->mem_fd, &layout, got, e);
	if (*bytes < 0)
		return err_prefix(e, "snapshot %s", s->dir);
	for (unsigned int r = 0; r < layout.nr_regions; r++)
		if (got[r] != s->region_crcs[r])
			return err_set(e, EINVAL, "snapshot %s: memory region %u [%#llx, +%#llx) %s checksum %#x, the snapshot says %#x: the memory file is damaged",
				       s->dir, r, (unsigned long long)layout.regions[r].gpa,
				       (unsigned long long)layout.regions[r].size,
				       mem ? "restored with" : "has", got[r], s->region_crcs[r]);
	return 0;
}

int snapshot_verify_memory(const struct snapshot *s, const struct guest_mem *mem,
			   long long *bytes, struct err *e)
{
	return snapshot_verify(s, mem, bytes, e) ? err_mark_input(e) : 0;
}
