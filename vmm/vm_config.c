// SPDX-License-Identifier: MIT
/* Fitting a requested VM to the host: limits, memory backend, vCPUs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm.h"
#include "log.h"
#include "vm.h"

static uint64_t host_ram_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES);
	long page = sysconf(_SC_PAGESIZE);

	return pages > 0 && page > 0 ? (uint64_t)pages * page : 0;
}

static int vm_check_memory(const struct vm *vm, uint64_t size, struct err *e)
{
	unsigned int bits = kvm_phys_bits(vm->kvm.cpuid);
	uint64_t host = host_ram_bytes();
	struct guest_mem layout;

	if (guest_mem_layout(&layout, size))
		return err_set(e, EINVAL, "--memory must be a non-zero multiple of 4 KiB");
	if (size < GUEST_MEM_MIN_SIZE)
		return err_set(e, EINVAL, "--memory %llu KiB is below the minimum of %llu MiB",
			       (unsigned long long)(size / KIB),
			       (unsigned long long)(GUEST_MEM_MIN_SIZE / MIB));
	if (host && size > host)
		return err_set(e, EINVAL, "--memory %llu MiB is more than this host's %llu MiB of RAM",
			       (unsigned long long)(size / MIB),
			       (unsigned long long)(host / MIB));
	if (bits < 64 && guest_mem_top(&layout) > (1ull << bits))
		return err_set(e, EINVAL, "--memory %llu MiB ends above the %u-bit guest physical address space",
			       (unsigned long long)(size / MIB), bits);
	return 0;
}

static int vm_check_vcpus(const struct vm *vm, unsigned int n, struct err *e)
{
	int kvm_max = kvm_check_cap(vm->kvm.vm_fd, KVM_CAP_MAX_VCPUS);
	unsigned int max = VM_MAX_VCPUS;

	if (kvm_max > 0 && (unsigned int)kvm_max < max)
		max = kvm_max;
	if (n < 1 || n > max)
		return err_set(e, EINVAL, "--cpus %u is out of range: this host allows 1 to %u",
			       n, max);
	return 0;
}

/*
 * guest_memfd where the host offers it; else memfd, which keeps every restore
 * strategy (anonymous memory has no minor faults and no shared mapping).
 * Only a backend the user named can make this fail: a default, or the backend
 * a snapshot was taken on, is a preference, and the host not having it is a
 * fact to report (-v, --stats, gmvm caps), not a fault to warn about.
 */
static int vm_pick_backend(struct vm *vm, struct vm_config *cfg,
			   struct err *e)
{
	const struct guest_mem_backend *want = cfg->machine.backend;
	struct err why = { 0 };

	if (cfg->machine.fuzz && !cfg->machine.backend_explicit) {
		cfg->machine.backend = &guest_mem_backend_memfd;
		snprintf(vm->origin.backend_reason, sizeof(vm->origin.backend_reason),
			 "gmvm fuzz: the pages a run writes are tracked, which guest_memfd does not allow");
		goto picked;
	}
	if (want && want->kind != GUEST_MEM_GMEM) {
		snprintf(vm->origin.backend_reason, sizeof(vm->origin.backend_reason), "%s",
			 cfg->machine.backend_explicit ? "--memory-backend" :
			 "the snapshot's backend");
		goto picked;
	}
	if (kvm_probe_gmem(vm->kvm.vm_fd, &why) == 0) {
		cfg->machine.backend = &guest_mem_backend_gmem;
		snprintf(vm->origin.backend_reason, sizeof(vm->origin.backend_reason), "%s",
			 cfg->machine.backend_explicit ? "--memory-backend" : want ?
			 "the snapshot's backend" : "default: this host offers guest_memfd");
		goto picked;
	}
	if (cfg->machine.backend_explicit)
		return err_set(e, ENOTSUP,
			       "--memory-backend gmem: this host does not offer guest_memfd (%s); memfd or anon would work",
			       why.msg);
	cfg->machine.backend = &guest_mem_backend_memfd;
	snprintf(vm->origin.backend_reason, sizeof(vm->origin.backend_reason),
		 "%s: this host does not offer guest_memfd: %.200s",
		 want ? "the snapshot's backend gmem, replaced" : "default",
		 why.msg);
picked:
	log_info("guest RAM on %s (%s)", cfg->machine.backend->name, vm->origin.backend_reason);
	return 0;
}

int vm_check_config(struct vm *vm, struct vm_config *cfg, struct err *e)
{
	int ret;

	ret = vm_check_vcpus(vm, cfg->machine.nr_vcpus, e);
	if (!ret)
		ret = vm_check_memory(vm, cfg->machine.mem_size, e);
	if (!ret)
		ret = vm_pick_backend(vm, cfg, e);
	if (ret)
		return err_mark(e, ret == -ENOTSUP ? ERR_UNSUPPORTED : ERR_INPUT);
	return 0;
}

int vm_create_memory(struct vm *vm, const struct vm_config *cfg,
		     struct err *e)
{
	int ret;

	ret = guest_mem_create(&vm->mem, cfg->machine.backend, cfg->machine.mem_size,
			       vm->kvm.vm_fd, e);
	if (ret)
		return ret;
	log_debug("guest RAM: %llu MiB on %s", (unsigned long long)(cfg->machine.mem_size / MIB),
		  cfg->machine.backend->name);
	ret = guest_mem_bind(&vm->mem, vm->kvm.vm_fd, e);
	if (ret)
		return ret;
	return vm_create_irqchip(vm, e);
}

int vm_create_vcpus(struct vm *vm, const struct vm_config *cfg,
		    struct err *e)
{
	vm->vcpus = calloc(cfg->machine.nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return err_set(e, ENOMEM, "out of memory for %u vCPUs",
			       cfg->machine.nr_vcpus);
	/* Set first: CPUID of each vCPU describes all of them. */
	vm->nr_vcpus = cfg->machine.nr_vcpus;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		vm->vcpus[i].vm = vm;
		vm->vcpus[i].fd = -1;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		int ret = vcpu_create(vm, &vm->vcpus[i], i, e);

		if (ret)
			return ret;
	}
	return 0;
}
