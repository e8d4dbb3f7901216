// SPDX-License-Identifier: MIT
/*
 * VM-wide KVM state to and from a vmstate node: the in-kernel PICs and
 * IOAPIC, the PIT, and the kvmclock.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm.h"
#include "log.h"
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

		if (ioctl(vm->kvm.vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
			return err_set(e, errno, "KVM_GET_IRQCHIP %s: %s",
				       irqchips[i].name, strerror(errno));
		vmstate_put_blob(w, irqchips[i].name, &chip.chip, sizeof(chip.chip));
	}
	if (ioctl(vm->kvm.vm_fd, KVM_GET_PIT2, &pit) < 0)
		return err_set(e, errno, "KVM_GET_PIT2: %s", strerror(errno));
	vmstate_put_blob(w, "pit", &pit, sizeof(pit));
	if (ioctl(vm->kvm.vm_fd, KVM_GET_CLOCK, &clock) < 0)
		return err_set(e, errno, "KVM_GET_CLOCK: %s", strerror(errno));
	vmstate_put_u64(w, "clock", clock.clock);
	/*
	 * The host's wall clock at that kvmclock value: a restore advances
	 * the guest's clocks by the time the snapshot sat. KVM gives both at
	 * one instant where it can (KVM_CLOCK_REALTIME, 5.16).
	 */
	vmstate_put_u64(w, "clock-realtime", clock.flags & KVM_CLOCK_REALTIME ?
			clock.realtime : time_realtime_ns());
	return w->err;
}

/*
 * Give KVM the saved kvmclock advanced by the time since the snapshot:
 * KVM adds it itself where it takes the saved wall clock (KVM_CLOCK_REALTIME),
 * else it is added here. vm->origin.snapshot_age_ns says how long that was, for
 * the vCPUs' TSCs. A snapshot without a wall clock, or a host clock that
 * went back, resumes the clock where it was.
 */
static int vm_restore_clock(struct vm *vm, const struct vmstate *vs, int node,
			    struct err *e)
{
	struct kvm_clock_data clock = { 0 };
	uint64_t saved_clock, saved_realtime, now = time_realtime_ns();
	int adjust = kvm_check_cap(vm->kvm.vm_fd, KVM_CAP_ADJUST_CLOCK);

	if (vmstate_get_u64(vs, node, "clock", &saved_clock, e))
		return -EINVAL;
	clock.clock = saved_clock;
	vm->origin.snapshot_age_ns = 0;
	if (!vmstate_has(vs, node, "clock-realtime")) {
		log_info("restore: the snapshot has no wall clock: the guest's clock resumes where it was");
	} else if (vmstate_get_u64(vs, node, "clock-realtime", &saved_realtime, e)) {
		return -EINVAL;
	} else if (saved_realtime > now) {
		log_warn("restore: the snapshot was taken %.3f s in this host's future; the guest's clock resumes where it was",
			 (saved_realtime - now) / 1e9);
	} else {
		vm->origin.snapshot_age_ns = now - saved_realtime;
		if (adjust > 0 && (adjust & KVM_CLOCK_REALTIME)) {
			clock.flags = KVM_CLOCK_REALTIME;
			clock.realtime = saved_realtime;
		} else {
			clock.clock += vm->origin.snapshot_age_ns;
		}
		log_info("restore: the snapshot sat %.3f s; the guest's clocks go on by as much (%s)",
			 vm->origin.snapshot_age_ns / 1e9, clock.flags ? "KVM_CLOCK_REALTIME" :
			 "no KVM_CLOCK_REALTIME here: added by gmvm");
	}
	if (ioctl(vm->kvm.vm_fd, KVM_SET_CLOCK, &clock) < 0)
		return err_set(e, errno, "KVM_SET_CLOCK: %s", strerror(errno));
	return 0;
}

int vm_restore_state(struct vm *vm, const struct vmstate *vs, int node,
		     struct err *e)
{
	struct kvm_pit_state2 pit;

	for (unsigned int i = 0; i < ARRAY_SIZE(irqchips); i++) {
		struct kvm_irqchip chip = { .chip_id = irqchips[i].chip_id };

		if (vmstate_get_blob(vs, node, irqchips[i].name, &chip.chip,
				     sizeof(chip.chip), e))
			return -EINVAL;
		if (ioctl(vm->kvm.vm_fd, KVM_SET_IRQCHIP, &chip) < 0)
			return err_set(e, errno, "KVM_SET_IRQCHIP %s: %s",
				       irqchips[i].name, strerror(errno));
	}
	if (vmstate_get_blob(vs, node, "pit", &pit, sizeof(pit), e))
		return -EINVAL;
	if (ioctl(vm->kvm.vm_fd, KVM_SET_PIT2, &pit) < 0)
		return err_set(e, errno, "KVM_SET_PIT2: %s", strerror(errno));
	return vm_restore_clock(vm, vs, node, e);
}
