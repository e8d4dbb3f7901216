// SPDX-License-Identifier: MIT
/* From the files on the command line to a vCPU at the kernel's entry. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm.h"
#include "log.h"
#include "vm.h"

int vm_load_kernel(struct vm *vm, const struct vm_config *cfg,
		   struct boot_image *img, struct err *e)
{
	struct kvm_cpuid_entry2 *leaf1 = cpuid_find(vm->cpuid, 1, 0);
	struct boot_params_in in = {
		.cmdline = cfg->cmdline,
		.nr_cpus = cfg->nr_vcpus,
		.cpu_signature = leaf1 ? leaf1->eax : 0,
		.cpu_features = leaf1 ? leaf1->edx : 0,
	};
	int ret;

	ret = boot_load_kernel(&vm->mem, cfg->kernel, cfg->kernel_len, img, e);
	if (ret)
		return err_prefix(e, "kernel %s", cfg->kernel_path);
	log_info("kernel %s: %s, entry %#llx, [%#llx, %#llx)", cfg->kernel_path,
		 img->format, (unsigned long long)img->entry,
		 (unsigned long long)img->start, (unsigned long long)img->end);
	if (cfg->initrd) {
		ret = boot_load_initrd(&vm->mem, img, cfg->initrd,
				       cfg->initrd_len, &in.initrd_addr, e);
		if (ret)
			return err_prefix(e, "initrd %s", cfg->initrd_path);
		in.initrd_size = cfg->initrd_len;
	}
	ret = boot_write_params(&vm->mem, img, &in, e);
	if (ret)
		return err_prefix(e, "kernel %s", cfg->kernel_path);
	return 0;
}

int vm_set_boot_cpu(struct vm *vm, const struct boot_image *img,
		    struct err *e)
{
	struct vcpu *bsp = &vm->vcpus[0];
	struct boot_cpu_state st;

	if (ioctl(bsp->fd, KVM_GET_SREGS, &st.sregs) < 0)
		return err_set(e, errno, "KVM_GET_SREGS: %s", strerror(errno));
	boot_cpu_state(img, &st);
	if (ioctl(bsp->fd, KVM_SET_SREGS, &st.sregs) < 0)
		return err_set(e, errno, "KVM_SET_SREGS: %s", strerror(errno));
	if (ioctl(bsp->fd, KVM_SET_REGS, &st.regs) < 0)
		return err_set(e, errno, "KVM_SET_REGS: %s", strerror(errno));
	return 0;
}
