// SPDX-License-Identifier: MIT
/*
 * VM-wide KVM state to and from a vmstate node: the in-kernel PICs and
 * IOAPIC, the PIT, and the kvmclock.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vm.h"
#include "snapshot.h"

static const struct {
	const char *name;
	uint32_t chip_id;
} irqchips[] = {
	{ "pic-master", KVM_IRQCHIP_PIC_MASTER },
	{ "pic-slave", KVM_IRQCHIP_PIC_SLAVE },
	{ "ioapic", KVM_IRQCHIP_IOAPIC },
};

int vm_save_state(struct vm *vm, struct vmstate_writer *w, struct err *e)
{
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock = { 0 };

	for (unsigned int i = 0; i < ARRAY_SIZE(irqchips); i++) {
		struct kvm_irqchip chip = { .chip_id = irqchips[i].chip_id };

		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
			return err_set(e, errno, "KVM_GET_IRQCHIP %s: %s",
				       irqchips[i].name, strerror(errno));
		vmstate_put_blob(w, irqchips[i].name, &chip.chip, sizeof(chip.chip));
	}
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &pit) < 0)
		return err_set(e, errno, "KVM_GET_PIT2: %s", strerror(errno));
	vmstate_put_blob(w, "pit", &pit, sizeof(pit));
	if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &clock) < 0)
		return err_set(e, errno, "KVM_GET_CLOCK: %s", strerror(errno));
	vmstate_put_u64(w, "clock", clock.clock);
	return w->err;
}

int vm_restore_state(struct vm *vm, const struct vmstate *vs, int node,
		     struct err *e)
{
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock = { 0 };
	uint64_t ns;

	for (unsigned int i = 0; i < ARRAY_SIZE(irqchips); i++) {
		struct kvm_irqchip chip = { .chip_id = irqchips[i].chip_id };

		if (vmstate_get_blob(vs, node, irqchips[i].name, &chip.chip,
				     sizeof(chip.chip), e))
			return -EINVAL;
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &chip) < 0)
			return err_set(e, errno, "KVM_SET_IRQCHIP %s: %s",
				       irqchips[i].name, strerror(errno));
	}
	if (vmstate_get_blob(vs, node, "pit", &pit, sizeof(pit), e))
		return -EINVAL;
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &pit) < 0)
		return err_set(e, errno, "KVM_SET_PIT2: %s", strerror(errno));
	if (vmstate_get_u64(vs, node, "clock", &ns, e))
		return -EINVAL;
	clock.clock = ns;
	/* The guest's clock continues from where it was saved. */
	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
		return err_set(e, errno, "KVM_SET_CLOCK: %s", strerror(errno));
	return 0;
}
