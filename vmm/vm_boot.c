// SPDX-License-Identifier: MIT
/*
 * From the files on the command line to a vCPU at the kernel's entry. With
 * --lazy-load the kernel's and initrd's whole pages are not copied: the uffd
 * thread serves them from the image files when the guest first touches them
 * (partial pages at their edges are copied at once).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "acpi.h"
#include "arch_layout.h"
#include "kvm.h"
#include "log.h"
#include "sandbox.h"
#include "uffd.h"
#include "virtio.h"
#include "vm.h"

/* Backing page of gpa (gpa is in RAM: the loaders checked). */
static uint64_t gpa_page(const struct guest_mem *mem, uint64_t gpa)
{
	return ((uint8_t *)guest_mem_ptr(mem, gpa, 1) - mem->base) / PAGE_SIZE;
}

/* The caller checked the range; an empty edge has no pointer to copy to. */
static void lazy_copy_edge(struct guest_mem *mem, uint64_t gpa,
			   const uint8_t *src, uint64_t len)
{
	if (len)
		memcpy(guest_mem_ptr(mem, gpa, len), src, len);
}

/*
 * Copy the partial pages at the edges of [gpa, gpa + len) from src; return
 * the whole pages in between as an extent (nr_pages 0 when there are none).
 */
static struct uffd_extent lazy_split(struct guest_mem *mem, uint64_t gpa,
				     const uint8_t *src, uint64_t len)
{
	uint64_t first = ALIGN_UP(gpa, PAGE_SIZE);
	uint64_t last = ALIGN_DOWN(gpa + len, PAGE_SIZE);

	if (first >= last) {
		lazy_copy_edge(mem, gpa, src, len);
		return (struct uffd_extent){ 0 };
	}
	lazy_copy_edge(mem, gpa, src, first - gpa);
	lazy_copy_edge(mem, last, src + (last - gpa), gpa + len - last);
	return (struct uffd_extent){
		.page = gpa_page(mem, first),
		.nr_pages = (last - first) / PAGE_SIZE,
		.src = src + (first - gpa),
	};
}

static int extent_cmp(const void *a, const void *b)
{
	const struct uffd_extent *x = a, *y = b;

	return x->page < y->page ? -1 : x->page > y->page;
}

static void lazy_fatal(void *opaque, const char *msg)
{
	log_error("lazy load: %s", msg);
	vm_request_exit(opaque, 1);
}

static int vm_lazy_load(struct vm *vm, const struct vm_config *cfg,
			const struct boot_image *img, uint64_t initrd_addr,
			struct err *e)
{
	struct uffd_extent ext[BOOT_MAX_SEGMENTS + 1];
	struct uffd_handler_config hc = {
		.mem = &vm->mem,
		.extents = ext,
		.extents_only = true,
		.fault_around = UFFD_DEFAULT_FAULT_AROUND,
		.background = true,
		.fatal = lazy_fatal,
		.fatal_opaque = vm,
		.thread_init = uffd_thread_confine,
	};
	size_t n = 0;
	int ret;

	for (unsigned int i = 0; i < img->nr_seg; i++) {
		ext[n] = lazy_split(&vm->mem, img->seg[i].gpa, img->seg[i].src,
				    img->seg[i].filesz);
		n += ext[n].nr_pages != 0;
	}
	if (cfg->boot.initrd) {
		ext[n] = lazy_split(&vm->mem, initrd_addr, cfg->boot.initrd,
				    cfg->boot.initrd_len);
		n += ext[n].nr_pages != 0;
	}
	qsort(ext, n, sizeof(ext[0]), extent_cmp);
	hc.nr_extents = n;
	vm->origin.strategy = "lazy-load";
	ret = uffd_handler_create(&vm->faults.uffd, &hc, e);
	return ret ? ret : vm_watch_faults(vm, -1, "the uffd thread", e);
}

static int vm_load_kernel_with(struct vm *vm, const struct vm_config *cfg,
			       struct boot_image *img, struct boot_params_in *in,
			       struct err *e);

/*
 * The kernel command line: the user's, then one virtio_mmio.device= per
 * virtio device when the guest is to find them there. Freed by the caller.
 */
static char *vm_kernel_cmdline(const struct vm *vm, const struct vm_config *cfg)
{
	size_t len = strlen(cfg->boot.cmdline) + 1 + vm->nr_virtio * 64;
	char *s = malloc(len);
	size_t n;

	if (!s)
		return NULL;
	n = snprintf(s, len, "%s", cfg->boot.cmdline);
	if (cfg->dev.discovery == DISCOVERY_ACPI)
		return s;
	for (unsigned int i = 0; i < vm->nr_virtio; i++)
		n += snprintf(s + n, len - n, "%svirtio_mmio.device=4K@%#llx:%u",
			      n ? " " : "",
			      (unsigned long long)vm->virtio[i]->base,
			      vm->virtio[i]->gsi);
	return s;
}

int vm_load_kernel(struct vm *vm, const struct vm_config *cfg,
		   struct boot_image *img, struct err *e)
{
	struct kvm_cpuid_entry2 *leaf1 = cpuid_find(vm->kvm.cpuid, 1, 0);
	char *cmdline = vm_kernel_cmdline(vm, cfg);
	struct boot_params_in in = {
		.cmdline = cmdline,
		.nr_cpus = cfg->machine.nr_vcpus,
		.cpu_signature = leaf1 ? leaf1->eax : 0,
		.cpu_features = leaf1 ? leaf1->edx : 0,
	};
	int ret;

	if (!cmdline)
		return err_set(e, ENOMEM, "out of memory");
	ret = vm_load_kernel_with(vm, cfg, img, &in, e);
	free(cmdline);
	return ret ? err_mark_input(e) : 0;
}

/*
 * ACPI tables (--discovery acpi|both): CPUs, IOAPIC, COM1, the sleep
 * registers and the virtio-mmio windows. Not for --discovery cmdline: the
 * tables are hardware-reduced, and a Linux that finds them leaves the ISA
 * interrupts unmapped, so the command line's virtio_mmio.device=...:GSI
 * devices would fail to probe; without them Linux reads the MP table.
 */
static int vm_write_acpi(struct vm *vm, const struct vm_config *cfg,
			 uint64_t *rsdp, struct err *e)
{
	struct acpi_virtio_window win[LAYOUT_VIRTIO_MAX];
	struct acpi_params p = {
		.nr_cpus = cfg->machine.nr_vcpus, .virtio = win,
		.vmgenid_addr = vm->vmgenid.addr, .vmgenid_gsi = vm->vmgenid.gsi,
	};

	if (cfg->dev.discovery == DISCOVERY_CMDLINE)
		return 0;
	if (vm->vmgenid.addr) {
		uint8_t *id = guest_mem_ptr(&vm->mem, vm->vmgenid.addr, 16);

		if (!id)
			return err_set(e, EINVAL, "--vmgenid: no RAM at %#llx for the VM Generation ID",
				       (unsigned long long)vm->vmgenid.addr);
		memcpy(id, vm->vmgenid.id, 16);
	}
	for (unsigned int i = 0; i < vm->nr_virtio; i++)
		win[p.nr_virtio++] = (struct acpi_virtio_window){
			vm->virtio[i]->base, VIRTIO_MMIO_WINDOW,
			vm->virtio[i]->gsi };
	return acpi_write_tables(&vm->mem, ACPI_TABLES_ADDR, ACPI_TABLES_LIMIT,
				 &p, rsdp, e);
}

static int vm_load_kernel_with(struct vm *vm, const struct vm_config *cfg,
			       struct boot_image *img, struct boot_params_in *inp,
			       struct err *e)
{
	struct boot_params_in in = *inp;
	int ret;

	ret = vm_write_acpi(vm, cfg, &in.rsdp, e);
	if (ret)
		return ret;

	ret = boot_parse_kernel(&vm->mem, cfg->boot.kernel, cfg->boot.kernel_len, img, e);
	if (ret)
		return err_prefix(e, "kernel %s", cfg->boot.kernel_path);
	log_info("kernel %s: %s, entry %#llx, [%#llx, %#llx)", cfg->boot.kernel_path,
		 img->format, (unsigned long long)img->entry,
		 (unsigned long long)img->start, (unsigned long long)img->end);
	if (cfg->boot.initrd) {
		ret = boot_place_initrd(&vm->mem, img, cfg->boot.initrd_len,
					&in.initrd_addr, e);
		if (ret)
			return err_prefix(e, "initrd %s", cfg->boot.initrd_path);
		in.initrd_size = cfg->boot.initrd_len;
	}
	ret = boot_write_params(&vm->mem, img, &in, e);
	if (ret)
		return err_prefix(e, "kernel %s", cfg->boot.kernel_path);
	if (cfg->boot.lazy_load)
		return 0;
	boot_copy_segments(&vm->mem, img);
	if (cfg->boot.initrd)
		memcpy(guest_mem_ptr(&vm->mem, in.initrd_addr, in.initrd_size),
		       cfg->boot.initrd, in.initrd_size);
	return 0;
}

int vm_start_lazy_load(struct vm *vm, const struct vm_config *cfg,
		       const struct boot_image *img, struct err *e)
{
	uint64_t initrd_addr = 0;
	char why[300];

	if (!uffd_probe_mem(&vm->mem, false, why, sizeof(why))) {
		err_set(e, ENOTSUP, "--lazy-load is not possible: %s; %s", why,
			uffd_available() ? "use --memory-backend memfd or anon" :
			"boot without --lazy-load");
		return err_mark(e, ERR_UNSUPPORTED);
	}
	if (cfg->boot.initrd &&
	    boot_place_initrd(&vm->mem, img, cfg->boot.initrd_len, &initrd_addr, e))
		return err_mark_input(e);
	return vm_lazy_load(vm, cfg, img, initrd_addr, e) ? err_mark_input(e) : 0;
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
