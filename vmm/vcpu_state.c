// SPDX-License-Identifier: MIT
/*
 * A vCPU's architectural state to and from a vmstate node: registers, FPU
 * and extended state, MSRs (TSC and kvmclock among them), local APIC, pending
 * events, MP state, debug registers and CPUID. Saved while the vCPU is
 * parked; restored before its thread starts, in an order KVM accepts (CPUID
 * first, events last).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm.h"
#include "log.h"
#include "vm.h"
#include "snapshot.h"

#define VCPU_MAX_MSRS 512
#define MSR_IA32_TSC 0x10
#define VCPU_XSAVE_MIN 4096

/* State kept as one fixed-size KVM structure, in restore order. */
static const struct vcpu_blob {
	const char *name;
	unsigned long get, set;
	size_t size;
} vcpu_blobs[] = {
	{ "mp_state", KVM_GET_MP_STATE, KVM_SET_MP_STATE, sizeof(struct kvm_mp_state) },
	{ "regs", KVM_GET_REGS, KVM_SET_REGS, sizeof(struct kvm_regs) },
	{ "sregs", KVM_GET_SREGS, KVM_SET_SREGS, sizeof(struct kvm_sregs) },
	{ "xcrs", KVM_GET_XCRS, KVM_SET_XCRS, sizeof(struct kvm_xcrs) },
	{ "debugregs", KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS, sizeof(struct kvm_debugregs) },
	{ "lapic", KVM_GET_LAPIC, KVM_SET_LAPIC, sizeof(struct kvm_lapic_state) },
};

static size_t vcpu_xsave_size(const struct vm *vm)
{
	int n = kvm_check_cap(vm->kvm.vm_fd, KVM_CAP_XSAVE2);

	return n > VCPU_XSAVE_MIN ? (size_t)n : VCPU_XSAVE_MIN;
}

/*
 * The MSRs KVM can save for this VM: its list, less what a vCPU refuses.
 * Probed one index at a time, so once per VM and not per vCPU per snapshot:
 * every vCPU has the same CPUID, so the same MSRs.
 */
static int vm_msr_indices(struct vm *vm, struct vcpu *probe)
{
	struct kvm_msr_list *list;
	struct kvm_msrs *one;
	unsigned int kept = 0;
	int ret = 0;

	if (vm->kvm.msr_indices)
		return 0;
	list = calloc(1, sizeof(*list) + VCPU_MAX_MSRS * sizeof(uint32_t));
	one = calloc(1, sizeof(*one) + sizeof(one->entries[0]));
	if (!list || !one) {
		ret = -ENOMEM;
		goto out;
	}
	list->nmsrs = VCPU_MAX_MSRS;
	if (ioctl(vm->kvm.dev_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		ret = -errno;
		goto out;
	}
	/* Kept in place: list->indices is the array vm keeps. */
	for (uint32_t i = 0; i < list->nmsrs; i++) {
		one->nmsrs = 1;
		one->entries[0].index = list->indices[i];
		if (ioctl(probe->fd, KVM_GET_MSRS, one) == 1)
			list->indices[kept++] = list->indices[i];
	}
	vm->kvm.msr_indices = malloc(kept * sizeof(uint32_t) + 1);
	if (!vm->kvm.msr_indices) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(vm->kvm.msr_indices, list->indices, kept * sizeof(uint32_t));
	vm->kvm.nr_msr_indices = kept;
out:
	free(one);
	free(list);
	return ret;
}

static void vcpu_save_msrs(struct vcpu *vcpu, struct vmstate_writer *w,
			   struct err *e)
{
	struct vm *vm = vcpu->vm;
	struct kvm_msrs *msrs;
	unsigned int n;
	int got, ret;

	ret = vm_msr_indices(vm, vcpu);
	if (ret) {
		err_set(e, -ret, "KVM_GET_MSR_INDEX_LIST: %s", strerror(-ret));
		w->err = ret;
		return;
	}
	n = vm->kvm.nr_msr_indices;
	msrs = calloc(1, sizeof(*msrs) + n * sizeof(msrs->entries[0]));
	if (!msrs) {
		w->err = -ENOMEM;
		return;
	}
	msrs->nmsrs = n;
	for (unsigned int i = 0; i < n; i++)
		msrs->entries[i].index = vm->kvm.msr_indices[i];
	got = ioctl(vcpu->fd, KVM_GET_MSRS, msrs);
	if (got != (int)n) {
		err_set(e, EIO, "vCPU %u: KVM_GET_MSRS read %d of %u MSRs",
			vcpu->id, got, n);
		w->err = -EIO;
	} else {
		vmstate_put_blob(w, "msrs", msrs->entries,
				 n * sizeof(msrs->entries[0]));
	}
	free(msrs);
}

static int vcpu_save_cpuid(struct vcpu *vcpu, struct vmstate_writer *w,
			   struct err *e)
{
	unsigned int n = vcpu->vm->kvm.cpuid->nent;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

	if (!c)
		return err_set(e, ENOMEM, "out of memory");
	c->nent = n;
	if (ioctl(vcpu->fd, KVM_GET_CPUID2, c) < 0) {
		free(c);
		return err_set(e, errno, "vCPU %u: KVM_GET_CPUID2: %s", vcpu->id,
			       strerror(errno));
	}
	vmstate_put_blob(w, "cpuid", c->entries, c->nent * sizeof(c->entries[0]));
	free(c);
	return 0;
}

int vcpu_save_state(struct vcpu *vcpu, struct vmstate_writer *w,
		    struct err *e)
{
	size_t xsize = vcpu_xsave_size(vcpu->vm);
	union {
		struct kvm_mp_state mp_state;
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		struct kvm_xcrs xcrs;
		struct kvm_debugregs debugregs;
		struct kvm_lapic_state lapic;
		struct kvm_vcpu_events events;
	} buf;
	void *xsave;

	for (unsigned int i = 0; i < ARRAY_SIZE(vcpu_blobs); i++) {
		if (ioctl(vcpu->fd, vcpu_blobs[i].get, &buf) < 0)
			return err_set(e, errno, "vCPU %u: cannot read %s: %s",
				       vcpu->id, vcpu_blobs[i].name,
				       strerror(errno));
		vmstate_put_blob(w, vcpu_blobs[i].name, &buf, vcpu_blobs[i].size);
	}
	xsave = calloc(1, xsize);
	if (!xsave)
		return err_set(e, ENOMEM, "out of memory");
	if (ioctl(vcpu->fd, xsize > VCPU_XSAVE_MIN ? KVM_GET_XSAVE2 : KVM_GET_XSAVE,
		  xsave) < 0) {
		free(xsave);
		return err_set(e, errno, "vCPU %u: cannot read XSAVE state: %s",
			       vcpu->id, strerror(errno));
	}
	vmstate_put_blob(w, "xsave", xsave, xsize);
	free(xsave);
	if (ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &buf.events) < 0)
		return err_set(e, errno, "vCPU %u: cannot read events: %s",
			       vcpu->id, strerror(errno));
	vmstate_put_blob(w, "events", &buf.events, sizeof(buf.events));
	vcpu_save_msrs(vcpu, w, e);
	if (w->err)
		return w->err;
	return vcpu_save_cpuid(vcpu, w, e);
}

static int vcpu_restore_cpuid(struct vcpu *vcpu, const struct vmstate *vs,
			      int node, struct err *e)
{
	const size_t ent = sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c;
	const void *data;
	size_t len;
	int ret = 0;

	if (vmstate_get_blob_ptr(vs, node, "cpuid", &data, &len, 4096 * ent, e))
		return -EINVAL;
	if (len % ent || !len)
		return err_set(e, EINVAL, "vCPU %u: cpuid of %zu bytes is not a whole number of entries",
			       vcpu->id, len);
	c = calloc(1, sizeof(*c) + len);
	if (!c)
		return err_set(e, ENOMEM, "out of memory");
	c->nent = len / ent;
	memcpy(c->entries, data, len);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0)
		ret = err_set(e, errno, "vCPU %u: KVM_SET_CPUID2: %s", vcpu->id,
			      strerror(errno));
	free(c);
	return ret;
}

/*
 * The TSC goes on by the time the snapshot sat, as the kvmclock does
 * (vm_restore_clock): a guest that keeps time with the TSC sees its wall
 * clock right, and every vCPU's TSC moves by the same amount.
 */
static void vcpu_advance_tsc(struct vcpu *vcpu, struct kvm_msrs *msrs)
{
	uint64_t sat = vcpu->vm->origin.snapshot_age_ns;
	int khz;

	if (!sat || (khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0)) <= 0)
		return;
	for (uint32_t i = 0; i < msrs->nmsrs; i++)
		if (msrs->entries[i].index == MSR_IA32_TSC)
			msrs->entries[i].data += (uint64_t)((unsigned __int128)sat * khz / 1000000);
}

static int vcpu_restore_msrs(struct vcpu *vcpu, const struct vmstate *vs,
			     int node, struct err *e)
{
	const size_t ent = sizeof(struct kvm_msr_entry);
	struct kvm_msrs *msrs;
	const void *data;
	size_t len;
	int n, ret = 0;

	if (vmstate_get_blob_ptr(vs, node, "msrs", &data, &len,
				 VCPU_MAX_MSRS * ent, e))
		return -EINVAL;
	if (len % ent)
		return err_set(e, EINVAL, "vCPU %u: msrs of %zu bytes is not a whole number of entries",
			       vcpu->id, len);
	msrs = calloc(1, sizeof(*msrs) + len);
	if (!msrs)
		return err_set(e, ENOMEM, "out of memory");
	msrs->nmsrs = len / ent;
	memcpy(msrs->entries, data, len);
	vcpu_advance_tsc(vcpu, msrs);
	n = ioctl(vcpu->fd, KVM_SET_MSRS, msrs);
	if (n != (int)msrs->nmsrs)
		ret = err_set(e, EINVAL, "vCPU %u: KVM refused MSR %#x of the snapshot",
			      vcpu->id, n >= 0 ? msrs->entries[n].index : 0);
	free(msrs);
	return ret;
}

static int vcpu_restore_blob(struct vcpu *vcpu, const struct vmstate *vs,
			     int node, const char *name, unsigned long set,
			     size_t size, struct err *e)
{
	void *buf = calloc(1, size);
	int ret = 0;

	if (!buf)
		return err_set(e, ENOMEM, "out of memory");
	if (vmstate_get_blob(vs, node, name, buf, size, e))
		ret = -EINVAL;
	else if (ioctl(vcpu->fd, set, buf) < 0)
		ret = err_set(e, errno, "vCPU %u: KVM refused its saved %s: %s",
			      vcpu->id, name, strerror(errno));
	free(buf);
	return ret;
}

int vcpu_restore_state(struct vcpu *vcpu, const struct vmstate *vs, int node,
		       struct err *e)
{
	int ret = vcpu_restore_cpuid(vcpu, vs, node, e);

	for (unsigned int i = 0; !ret && i < ARRAY_SIZE(vcpu_blobs); i++)
		ret = vcpu_restore_blob(vcpu, vs, node, vcpu_blobs[i].name,
					vcpu_blobs[i].set, vcpu_blobs[i].size, e);
	if (!ret)
		ret = vcpu_restore_blob(vcpu, vs, node, "xsave", KVM_SET_XSAVE,
					vcpu_xsave_size(vcpu->vm), e);
	if (!ret)
		ret = vcpu_restore_msrs(vcpu, vs, node, e);
	if (!ret)
		ret = vcpu_restore_blob(vcpu, vs, node, "events",
					KVM_SET_VCPU_EVENTS,
					sizeof(struct kvm_vcpu_events), e);
	/*
	 * Tell a kvmclock guest it was stopped (PVCLOCK_GUEST_STOPPED), as
	 * QEMU does on resume: its soft-lockup and RCU stall detectors then
	 * take the jump of its clocks for the pause it was, not for a hang.
	 * EINVAL: the guest has no kvmclock page, nothing to tell.
	 */
	if (!ret && ioctl(vcpu->fd, KVM_KVMCLOCK_CTRL, 0) < 0 && errno != EINVAL)
		log_warn("vCPU %u: KVM_KVMCLOCK_CTRL: %s", vcpu->id, strerror(errno));
	return ret;
}

/* Without KVM: every property a restore needs is there, with a sane size. */
int vcpu_state_check(const struct vmstate *vs, int node, struct err *e)
{
	const size_t msr = sizeof(struct kvm_msr_entry);
	const size_t ent = sizeof(struct kvm_cpuid_entry2);
	const void *data;
	size_t len;

	for (unsigned int i = 0; i < ARRAY_SIZE(vcpu_blobs); i++) {
		if (vmstate_get_blob_ptr(vs, node, vcpu_blobs[i].name, &data,
					 &len, vcpu_blobs[i].size, e))
			return -EINVAL;
		if (len != vcpu_blobs[i].size)
			return err_set(e, EINVAL, "%s: %s has %zu bytes, expected %zu",
				       vmstate_node_name(vs, node),
				       vcpu_blobs[i].name, len, vcpu_blobs[i].size);
	}
	if (vmstate_get_blob_ptr(vs, node, "xsave", &data, &len, 1 << 20, e) ||
	    vmstate_get_blob_ptr(vs, node, "events", &data, &len,
				 sizeof(struct kvm_vcpu_events), e) ||
	    vmstate_get_blob_ptr(vs, node, "msrs", &data, &len, VCPU_MAX_MSRS * msr, e) ||
	    len % msr ||
	    vmstate_get_blob_ptr(vs, node, "cpuid", &data, &len, 4096 * ent, e) ||
	    !len || len % ent)
		return e->errnum ? -EINVAL :
		       err_set(e, EINVAL, "%s: msrs or cpuid is not a whole number of entries",
			       vmstate_node_name(vs, node));
	return 0;
}

/* Where the vCPU was: its RIP from the saved registers. */
int vcpu_state_rip(const struct vmstate *vs, int node, uint64_t *rip,
		   struct err *e)
{
	struct kvm_regs regs;

	if (vmstate_get_blob(vs, node, "regs", &regs, sizeof(regs), e))
		return -EINVAL;
	*rip = regs.rip;
	return 0;
}
