// SPDX-License-Identifier: MIT
/*
 * gmvm fuzz's engine (fuzz.h). One vCPU thread does everything a run needs,
 * so that nothing waits on another thread: take an input, run the guest
 * until it says done (or dies, or runs out of time), report, reset.
 *
 * A reset puts back, from copies taken once:
 *   - the pages written since the snapshot (dirty.h), from the snapshot's
 *     RAM kept in a private mapping;
 *   - the vCPU: registers, segments and pending events through kvm_run's
 *     synced registers (no ioctl; segments only when they changed), then
 *     XSAVE, MSRs (the TSC among them), local APIC, debug registers, XCRs
 *     and MP state, each one ioctl;
 *   - the interrupt controllers, the PIT and the kvmclock (VM ioctls);
 *   - the devices' state, from the vmstate, after a run that reached one.
 * vCPU ioctls cost ~8 us each on kvm-pvm, so a run makes as few as that
 * list allows: every one of them is state a guest can change.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "guest_mem.h"
#include "kvm.h"
#include "kvm_abi.h"
#include "log.h"
#include "sandbox.h"
#include "snapshot.h"
#include "vm.h"
#include "x86_fixup.h"

#define MSR_IA32_TSC 0x10
#define FUZZ_XSAVE_MIN 4096
#define FUZZ_SYNC_REGS (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS)

struct fuzz_vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs debugregs;
	struct kvm_lapic_state lapic;
	void *xsave;
	size_t xsave_size;
	unsigned long xsave_set;	/* KVM_SET_XSAVE */
	struct kvm_msrs *msrs;		/* the TSC twice first, then the rest */
	struct kvm_irqchip chips[3];
	struct kvm_pit_state2 pit;
	uint64_t clock;
	uint64_t tsc;			/* the snapshot's */
	uint64_t tsc_khz;
};

/* --- The snapshot's fuzz node --------------------------------------------- */

void fuzz_guest_save(const struct fuzz_guest *g, struct vmstate_writer *w)
{
	vmstate_begin(w, "fuzz");
	vmstate_put_u64(w, "input-gpa", g->input_gpa);
	vmstate_put_u64(w, "input-size", g->input_size);
	vmstate_put_u64(w, "coverage-gpa", g->coverage_size ? FUZZ_COVERAGE_ADDR : 0);
	vmstate_put_u32(w, "coverage-size", g->coverage_size);
	vmstate_end(w);
}

/* --- The guest's contract while booting ----------------------------------- */

static bool fuzz_map_size_ok(uint64_t size)
{
	return size >= 64 && size <= FUZZ_COVERAGE_MAX && !(size & (size - 1));
}

static int fuzz_coverage_slot(struct vm *vm, void *map, uint64_t len,
			      struct err *e)
{
	struct kvm_userspace_memory_region slot = {
		.slot = FUZZ_COVERAGE_SLOT,
		.guest_phys_addr = FUZZ_COVERAGE_ADDR,
		.memory_size = (len + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1),
		.userspace_addr = (uintptr_t)map,
	};

	if (ioctl(vm->kvm.vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		return err_set(e, errno, "the coverage window at %#llx (%llu bytes) as a KVM memory slot: %s",
			       FUZZ_COVERAGE_ADDR, (unsigned long long)slot.memory_size,
			       strerror(errno));
	return 0;
}

int vm_fuzz_boot(struct vm *vm, struct err *e)
{
	struct vm_fuzz *f = calloc(1, sizeof(*f));

	if (!f)
		return err_set(e, ENOMEM, "out of memory");
	vm->fuzz = f;
	f->booting = true;
	atomic_init(&f->guest_exit, -1);
	/* The largest window: the guest picks its size before touching it. */
	f->coverage_own_len = FUZZ_COVERAGE_MAX;
	f->coverage_own = mmap(NULL, f->coverage_own_len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (f->coverage_own == MAP_FAILED) {
		f->coverage_own = NULL;
		return err_set(e, errno, "the coverage window: %s", strerror(errno));
	}
	return fuzz_coverage_slot(vm, f->coverage_own, f->coverage_own_len, e);
}

static void fuzz_boot_fail(struct vcpu *vcpu, const char *what)
{
	log_error("gmvm fuzz: %s", what);
	vm_request_exit(vcpu->vm, VM_STATUS_FAILURE);
}

/* vCPU thread, booting: a coverage or input request. */
void fuzz_port_io(struct vcpu *vcpu, bool out, uint8_t *data, uint32_t size)
{
	struct vm_fuzz *f = vcpu->vm->fuzz;
	struct kvm_regs regs;
	char what[200];
	uint32_t cmd = 0;

	if (!out) {
		memset(data, 0xff, size);
		return;
	}
	if (size != 4) {
		fuzz_boot_fail(vcpu, "the guest wrote the fuzz port with a size other than 4 bytes");
		return;
	}
	memcpy(&cmd, data, 4);
	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0) {
		snprintf(what, sizeof(what), "KVM_GET_REGS: %s", strerror(errno));
		fuzz_boot_fail(vcpu, what);
		return;
	}
	switch (cmd) {
	case FUZZ_CMD_COVERAGE:
		if (!fuzz_map_size_ok(regs.rdi) || f->guest.coverage_size) {
			snprintf(what, sizeof(what),
				 "the guest asked for a coverage map of %llu bytes%s; a map is a power of two from 64 bytes to %u MiB, asked for once",
				 regs.rdi, f->guest.coverage_size ? " a second time" : "",
				 FUZZ_COVERAGE_MAX >> 20);
			fuzz_boot_fail(vcpu, what);
			return;
		}
		f->guest.coverage_size = regs.rdi;
		/* Only rax: the port write completes as it would have. */
		regs.rax = FUZZ_COVERAGE_ADDR;
		if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
			fuzz_boot_fail(vcpu, "KVM_SET_REGS refused the coverage window's address");
		log_info("gmvm fuzz: the guest's coverage map: %llu bytes at %#llx",
			 regs.rdi, FUZZ_COVERAGE_ADDR);
		return;
	case FUZZ_CMD_INPUT:
		if (!regs.rsi || regs.rsi > FUZZ_INPUT_MAX ||
		    !guest_mem_ptr(&vcpu->vm->mem, regs.rdi, regs.rsi)) {
			snprintf(what, sizeof(what),
				 "the guest's input buffer [%#llx, +%llu) is not in RAM or not 1 byte to %u MiB",
				 regs.rdi, regs.rsi, FUZZ_INPUT_MAX >> 20);
			fuzz_boot_fail(vcpu, what);
			return;
		}
		f->guest.input_gpa = regs.rdi;
		f->guest.input_size = regs.rsi;
		f->booting = false;
		log_info("gmvm fuzz: the guest's input buffer: %llu bytes at %#llx; snapshot",
			 regs.rsi, regs.rdi);
		vm_request_snapshot(vcpu->vm);
		return;
	default:
		snprintf(what, sizeof(what),
			 "the guest sent command %u to the fuzz port before asking for an input",
			 cmd);
		fuzz_boot_fail(vcpu, what);
	}
}

/* --- Preparing a restored VM ---------------------------------------------- */

static int fuzz_blob(const struct vmstate *vs, int node, const char *name,
		     void *buf, size_t size, struct err *e)
{
	return vmstate_get_blob(vs, node, name, buf, size, e) ? -EINVAL : 0;
}

static int fuzz_keep_msrs(struct vm *vm, struct fuzz_vcpu_state *st,
			  const struct vmstate *vs, int cpu, struct err *e)
{
	const struct kvm_msr_entry *saved;
	const void *data;
	size_t len, n;
	uint64_t tsc = 0;
	int khz;

	if (vmstate_get_blob_ptr(vs, cpu, "msrs", &data, &len, 1 << 20, e))
		return -EINVAL;
	n = len / sizeof(*saved);
	saved = data;
	st->msrs = calloc(1, sizeof(*st->msrs) + (n + 1) * sizeof(saved[0]));
	if (!st->msrs)
		return err_set(e, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (saved[i].index == MSR_IA32_TSC)
			tsc = saved[i].data;
	khz = ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0)
		return err_set(e, errno, "KVM_GET_TSC_KHZ: %s", strerror(errno));
	st->tsc = tsc;
	st->tsc_khz = khz;
	/*
	 * KVM takes a TSC write within a second of where the TSC would be
	 * for a try at synchronising vCPUs, and keeps the TSC going: the
	 * snapshot's value could then never come back. A write two seconds
	 * away first makes the second one exact.
	 */
	st->msrs->entries[0] = (struct kvm_msr_entry){
		.index = MSR_IA32_TSC, .data = tsc + 2000ull * (uint64_t)khz,
	};
	memcpy(&st->msrs->entries[1], saved, n * sizeof(saved[0]));
	st->msrs->nmsrs = n + 1;
	return 0;
}

static int fuzz_keep_state(struct vm *vm, struct fuzz_vcpu_state *st,
			   const struct vmstate *vs, struct err *e)
{
	static const char *const chip_names[] = { "pic-master", "pic-slave", "ioapic" };
	static const uint32_t chip_ids[] = {
		KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_PIC_SLAVE, KVM_IRQCHIP_IOAPIC,
	};
	int cpus = vmstate_node(vs, 0, "cpus");
	int cpu = cpus < 0 ? -1 : vmstate_node(vs, cpus, "cpu@0");
	int vmn = vmstate_node(vs, 0, "vm");
	int n = kvm_check_cap(vm->kvm.vm_fd, KVM_CAP_XSAVE2);

	if (cpu < 0 || vmn < 0)
		return err_set(e, EINVAL, "no state for vCPU 0 or the VM");
	st->xsave_size = n > FUZZ_XSAVE_MIN ? (size_t)n : FUZZ_XSAVE_MIN;
	st->xsave_set = KVM_SET_XSAVE;
	st->xsave = calloc(1, st->xsave_size);
	if (!st->xsave)
		return err_set(e, ENOMEM, "out of memory");
	if (fuzz_blob(vs, cpu, "regs", &st->regs, sizeof(st->regs), e) ||
	    fuzz_blob(vs, cpu, "sregs", &st->sregs, sizeof(st->sregs), e) ||
	    fuzz_blob(vs, cpu, "events", &st->events, sizeof(st->events), e) ||
	    fuzz_blob(vs, cpu, "mp_state", &st->mp_state, sizeof(st->mp_state), e) ||
	    fuzz_blob(vs, cpu, "xcrs", &st->xcrs, sizeof(st->xcrs), e) ||
	    fuzz_blob(vs, cpu, "debugregs", &st->debugregs, sizeof(st->debugregs), e) ||
	    fuzz_blob(vs, cpu, "lapic", &st->lapic, sizeof(st->lapic), e) ||
	    fuzz_blob(vs, cpu, "xsave", st->xsave, st->xsave_size, e) ||
	    fuzz_keep_msrs(vm, st, vs, cpu, e))
		return -EINVAL;
	for (unsigned int i = 0; i < 3; i++) {
		st->chips[i].chip_id = chip_ids[i];
		if (fuzz_blob(vs, vmn, chip_names[i], &st->chips[i].chip,
			      sizeof(st->chips[i].chip), e))
			return -EINVAL;
	}
	if (fuzz_blob(vs, vmn, "pit", &st->pit, sizeof(st->pit), e) ||
	    vmstate_get_u64(vs, vmn, "clock", &st->clock, e))
		return -EINVAL;
	/* The events as KVM_SET_VCPU_EVENTS takes every part of them. */
	st->events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
			    KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM;
	return 0;
}

/*
 * The snapshot's RAM, for resets: only its data extents are copied, from
 * RAM just restored from it; holes stay untouched zero pages.
 */
static int fuzz_keep_ram(struct vm_fuzz *f, const struct guest_mem *mem,
			 int mem_fd, struct err *e)
{
	off_t data = 0, hole;

	f->pristine = mmap(NULL, mem->size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (f->pristine == MAP_FAILED) {
		f->pristine = NULL;
		return err_set(e, errno, "a copy of the snapshot's RAM: %s", strerror(errno));
	}
	while ((uint64_t)data < mem->size) {
		data = lseek(mem_fd, data, SEEK_DATA);
		if (data < 0 || (uint64_t)data >= mem->size)
			break;
		hole = lseek(mem_fd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > mem->size)
			hole = mem->size;
		memcpy(f->pristine + data, mem->base + data, hole - data);
		data = hole;
	}
	return 0;
}

/*
 * Start tracking the pages runs write: the way asked for, or the first that
 * works here, KVM's dirty log (no fault for the guest), else userfaultfd
 * WP_ASYNC. Refused (ERR_UNSUPPORTED) with why when none does.
 */
static int fuzz_start_tracking(struct vm *vm, struct vm_fuzz *f,
			       enum dirty_tracking how, struct err *e)
{
	struct err e1 = { 0 }, e2 = { 0 };

	if (how != DIRTY_NONE) {
		if (!dirty_start(&f->dirty, &vm->mem, vm->kvm.vm_fd, how, e))
			return 0;
		err_prefix(e, "gmvm fuzz: %s", dirty_tracking_name(how));
		return err_mark(e, ERR_UNSUPPORTED);
	}
	if (!dirty_start(&f->dirty, &vm->mem, vm->kvm.vm_fd, DIRTY_KVM_LOG, &e1) ||
	    !dirty_start(&f->dirty, &vm->mem, vm->kvm.vm_fd, DIRTY_UFFD_WP_ASYNC, &e2))
		return 0;
	err_set(e, ENOTSUP, "gmvm fuzz cannot track the pages a run writes on %s memory here (%.120s; %.120s)%s",
		vm->mem.backend->name, e1.msg, e2.msg,
		vm->mem.backend->kind == GUEST_MEM_GMEM ?
		"; --memory-backend memfd or anon can be" : "");
	return err_mark(e, ERR_UNSUPPORTED);
}

int vm_fuzz_prepare(struct vm *vm, const struct snapshot *snap,
		    const struct fuzz_config *cfg, struct err *e)
{
	const struct fuzz_guest *g = &snap->fuzz;
	struct vm_fuzz *f;

	if (!snap->has_fuzz) {
		err_set(e, EINVAL, "snapshot %s was not taken for fuzzing (no fuzz node): make one with gmvm fuzz --snapshot DIR -- RUN-OPTIONS",
			snap->dir);
		return err_mark(e, ERR_INPUT);
	}
	if (vm->nr_vcpus != 1 || vm->nr_virtio) {
		err_set(e, ENOTSUP, "gmvm fuzz runs guests of one vCPU without virtio devices; snapshot %s has %u vCPUs and %u virtio devices",
			snap->dir, vm->nr_vcpus, vm->nr_virtio);
		return err_mark(e, ERR_UNSUPPORTED);
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return err_set(e, ENOMEM, "out of memory");
	vm->fuzz = f;
	atomic_init(&f->guest_exit, -1);
	f->guest = *g;
	f->cfg = cfg;
	f->snap = snap;
	f->input = guest_mem_ptr(&vm->mem, g->input_gpa, g->input_size);
	f->state = calloc(1, sizeof(*f->state));
	if (!f->input || !f->state)
		return err_set(e, EINVAL, "the input buffer is not in RAM");
	if (g->coverage_size) {
		uint8_t *map = cfg->coverage;
		uint64_t len = cfg->coverage_len;

		/*
		 * AFL++ started with a smaller map learns the guest's size from
		 * the hello and starts gmvm again with one that large.
		 */
		if (map && len < g->coverage_size) {
			log_notice("gmvm fuzz: AFL++'s coverage map has %llu bytes, the guest's %u: telling it",
				   (unsigned long long)len, g->coverage_size);
			map = NULL;
		}
		if (!map) {
			len = g->coverage_size;
			f->coverage_own_len = (len + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
			f->coverage_own = mmap(NULL, f->coverage_own_len, PROT_READ | PROT_WRITE,
					       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			if (f->coverage_own == MAP_FAILED) {
				f->coverage_own = NULL;
				return err_set(e, errno, "a coverage map: %s", strerror(errno));
			}
			map = f->coverage_own;
		}
		if (fuzz_coverage_slot(vm, map, g->coverage_size, e))
			return -e->errnum;
	}
	/* Neither keeping the state nor the RAM writes guest memory. */
	if (fuzz_start_tracking(vm, f, cfg->tracking, e))
		return -e->errnum;
	if (fuzz_keep_state(vm, f->state, &snap->vs, e) ||
	    fuzz_keep_ram(f, &vm->mem, snap->mem_fd, e))
		return err_mark_input(e);
	log_info("gmvm fuzz: %s, one input of up to %llu bytes at %#llx, %s%u-byte coverage map, resets from %s",
		 snap->dir, (unsigned long long)g->input_size,
		 (unsigned long long)g->input_gpa, cfg->coverage ? "AFL++'s " : "a ",
		 g->coverage_size, dirty_tracking_name(f->dirty.method));
	return 0;
}

void vm_fuzz_destroy(struct vm *vm)
{
	struct vm_fuzz *f = vm->fuzz;

	if (!f)
		return;
	dirty_stop(&f->dirty);
	if (f->pristine)
		munmap(f->pristine, vm->mem.size);
	if (f->coverage_own)
		munmap(f->coverage_own, f->coverage_own_len);
	if (f->state) {
		free(f->state->xsave);
		free(f->state->msrs);
		free(f->state);
	}
	free(f);
	vm->fuzz = NULL;
}

/* --- Runs ------------------------------------------------------------------ */

#ifdef GMVM_TEST_HOOKS
/* Tests: GMVM_TEST_FUZZ_BREAK=WHAT leaves WHAT out of every reset. */
static bool fuzz_break(const char *what)
{
	const char *b = getenv("GMVM_TEST_FUZZ_BREAK");

	return b && !strcmp(b, what);
}
#else
static bool fuzz_break(const char *what)
{
	(void)what;
	return false;
}
#endif

/* The run ends here: what the fuzz thread's signal handler stops. */
static __thread struct kvm_run *fuzz_kick_run;

static void fuzz_signal(int sig)
{
	(void)sig;
	if (fuzz_kick_run)
		__atomic_store_n(&fuzz_kick_run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

bool fuzz_device_exit(struct vm *vm, int status)
{
	struct vm_fuzz *f = vm->fuzz;
	int none = -1;

	if (!f || !f->cfg || !atomic_load(&f->in_run))
		return false;
	atomic_compare_exchange_strong(&f->guest_exit, &none, status);
	return true;
}

static void fuzz_crash(struct fuzz_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fuzz_crash(struct fuzz_result *r, const char *fmt, ...)
{
	va_list ap;

	r->outcome = FUZZ_CRASH;
	va_start(ap, fmt);
	vsnprintf(r->what, sizeof(r->what), fmt, ap);
	va_end(ap);
}

/* A device the run reached asked the VM to end (fuzz_device_exit): a crash. */
static bool fuzz_guest_ended(struct vm_fuzz *f, struct fuzz_result *r)
{
	int status = atomic_load(&f->guest_exit);

	if (status < 0)
		return false;
	fuzz_crash(r, "the guest ended the VM (exit status %d)", status);
	return true;
}

/*
 * Port or MMIO traffic of the run: the guest's contract, or a device (whose
 * state the reset then puts back). Returns true while the run goes on.
 */
static bool fuzz_run_io(struct vcpu *vcpu, struct fuzz_result *r)
{
	struct vm_fuzz *f = vcpu->vm->fuzz;
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t cmd = 0;

	if (run->io.port >= FUZZ_PORT && run->io.port < FUZZ_PORT + FUZZ_PORT_LEN) {
		if (!out) {
			memset(data, 0xff, run->io.size * run->io.count);
			return true;
		}
		memcpy(&cmd, data, run->io.size < 4 ? run->io.size : 4);
		switch (cmd) {
		case FUZZ_CMD_DONE:
		case FUZZ_CMD_INPUT:	/* back for more: this one is done */
			r->outcome = FUZZ_OK;
			return false;
		case FUZZ_CMD_CRASH:
			r->code = run->s.regs.regs.rdi;
			fuzz_crash(r, "the guest reported a crash, code %#llx",
				   (unsigned long long)r->code);
			return false;
		default:
			fuzz_crash(r, "the guest sent command %u to the fuzz port during a run",
				   cmd);
			return false;
		}
	}
	f->device_touched = true;
	vcpu_pio_exit(vcpu);
	return !fuzz_guest_ended(f, r);
}

static bool fuzz_run_mmio(struct vcpu *vcpu, struct fuzz_result *r)
{
	struct vm_fuzz *f = vcpu->vm->fuzz;

	f->device_touched = true;
	vcpu_mmio_exit(vcpu);
	return !fuzz_guest_ended(f, r);
}

/* One exit of the run; true while it goes on. */
static bool fuzz_run_exit(struct vcpu *vcpu, struct fuzz_result *r,
			  bool *pending_io)
{
	struct kvm_run *run = vcpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		*pending_io = true;
		return fuzz_run_io(vcpu, r);
	case KVM_EXIT_MMIO:
		*pending_io = true;
		return fuzz_run_mmio(vcpu, r);
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		fuzz_crash(r, "triple fault (KVM_EXIT_SHUTDOWN) at rip %#llx",
			   run->s.regs.regs.rip);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		fuzz_crash(r, "the guest %s", run->system_event.type == KVM_SYSTEM_EVENT_CRASH ?
			   "reported a crash (system event)" : "reset or powered off");
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		if (vcpu_complete_unemulated(vcpu))
			return true;
		fuzz_crash(r, "KVM internal error, suberror %u, at rip %#llx",
			   run->internal.suberror, run->s.regs.regs.rip);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		fuzz_crash(r, "VM entry failed, reason %#llx",
			   run->fail_entry.hardware_entry_failure_reason);
		return false;
	default:
		fuzz_crash(r, "unexpected exit reason %u", run->exit_reason);
		return false;
	}
}

struct fuzz_timer {
	timer_t id;
	bool armed;
};

static void fuzz_timer_set(struct fuzz_timer *t, uint64_t ns)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = ns / 1000000000ull, .tv_nsec = ns % 1000000000ull },
	};

	if (t->armed)
		timer_settime(t->id, 0, &its, NULL);
}

/* Run the guest on its input until the run ends. */
static void fuzz_run(struct vcpu *vcpu, struct fuzz_timer *timer,
		     struct fuzz_result *r, bool *pending_io)
{
	struct vm *vm = vcpu->vm;
	struct vm_fuzz *f = vm->fuzz;
	const struct fuzz_driver *d = f->cfg->driver;
	uint64_t start = time_now_ns(), deadline = start + f->cfg->timeout_ns;

	*r = (struct fuzz_result){ .outcome = FUZZ_OK };
	*pending_io = false;
	atomic_store(&f->in_run, true);
	fuzz_timer_set(timer, f->cfg->timeout_ns);
	for (;;) {
		if (ioctl(vcpu->fd, KVM_RUN, 0) == 0) {
			if (!fuzz_run_exit(vcpu, r, pending_io))
				break;
			continue;
		}
		if (errno != EINTR && errno != EAGAIN) {
			/* gmvm's or the host's failure, not the input's. */
			r->outcome = FUZZ_FAILED;
			snprintf(r->what, sizeof(r->what), "KVM_RUN: %s", strerror(errno));
			break;
		}
		__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
		if (atomic_load(&vm->exit.requested) ||
		    (d->stop_run && d->stop_run(d->opaque))) {
			r->outcome = FUZZ_ABORTED;
			break;
		}
		if (time_now_ns() >= deadline) {
			r->outcome = FUZZ_HANG;
			break;
		}
	}
	fuzz_timer_set(timer, 0);
	atomic_store(&f->in_run, false);
	r->run_ns = time_now_ns() - start;
}

static void fuzz_copy_page(void *opaque, uint64_t page)
{
	struct vm *vm = opaque;

	memcpy(vm->mem.base + page * PAGE_SIZE, vm->fuzz->pristine + page * PAGE_SIZE,
	       PAGE_SIZE);
}

/*
 * Leave a port or MMIO exit complete before any state is set: completing
 * it later would write the instruction's end over the RIP set.
 */
static int fuzz_complete_io(struct vcpu *vcpu, struct err *e)
{
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (ioctl(vcpu->fd, KVM_RUN, 0) == 0 || (errno != EINTR && errno != EAGAIN)) {
		__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
		return err_set(e, EIO, "completing the run's last exit did not return EINTR");
	}
	__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	return 0;
}

static int fuzz_set(struct vcpu *vcpu, unsigned long req, void *arg,
		    const char *what, struct err *e)
{
	if (ioctl(vcpu->fd, req, arg) < 0)
		return err_set(e, errno, "reset: %s: %s", what, strerror(errno));
	return 0;
}

/*
 * Everything the snapshot says of the vCPU and the VM's interrupt
 * controllers and clock. MP state aside after a run the guest ended by
 * saying done: it was running then, as at the snapshot (HLT, INIT and SIPI
 * are the only ways out of that, and none returns to the done).
 */
static int fuzz_reset_vcpu(struct vcpu *vcpu, bool done, struct err *e)
{
	struct vm *vm = vcpu->vm;
	struct fuzz_vcpu_state *st = vm->fuzz->state;
	struct kvm_run *run = vcpu->run;
	struct kvm_clock_data clock = { .clock = st->clock };
	int n;

	for (unsigned int i = 0; i < 3; i++)
		if (ioctl(vm->kvm.vm_fd, KVM_SET_IRQCHIP, &st->chips[i]) < 0)
			return err_set(e, errno, "reset: KVM_SET_IRQCHIP: %s", strerror(errno));
	if (ioctl(vm->kvm.vm_fd, KVM_SET_PIT2, &st->pit) < 0 ||
	    ioctl(vm->kvm.vm_fd, KVM_SET_CLOCK, &clock) < 0)
		return err_set(e, errno, "reset: the PIT or the clock: %s", strerror(errno));
	if ((!done || st->mp_state.mp_state != KVM_MP_STATE_RUNNABLE) &&
	    fuzz_set(vcpu, KVM_SET_MP_STATE, &st->mp_state, "MP state", e))
		return -e->errnum;
	if (fuzz_set(vcpu, KVM_SET_XCRS, &st->xcrs, "XCRs", e) ||
	    fuzz_set(vcpu, KVM_SET_DEBUGREGS, &st->debugregs, "debug registers", e) ||
	    (!fuzz_break("lapic") &&
	     fuzz_set(vcpu, KVM_SET_LAPIC, &st->lapic, "local APIC", e)) ||
	    fuzz_set(vcpu, st->xsave_set, st->xsave, "XSAVE state", e))
		return -e->errnum;
	n = ioctl(vcpu->fd, KVM_SET_MSRS, st->msrs);
	if (n != (int)st->msrs->nmsrs)
		return err_set(e, EIO, "reset: KVM_SET_MSRS set %d of %u MSRs", n,
			       st->msrs->nmsrs);
	/* Registers, segments, events: at the next KVM_RUN, with no ioctl. */
	run->s.regs.regs = st->regs;
	run->kvm_dirty_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_EVENTS;
	run->s.regs.events = st->events;
	if (memcmp(&run->s.regs.sregs, &st->sregs, sizeof(st->sregs))) {
		run->s.regs.sregs = st->sregs;
		run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
	}
	return 0;
}

/*
 * Whether the TSC came back: not on kvm-pvm, whose guests read the host's
 * TSC in user mode. Said once; the kvmclock comes back all the same.
 */
static void fuzz_probe_tsc(struct vcpu *vcpu)
{
	struct fuzz_vcpu_state *st = vcpu->vm->fuzz->state;
	uint64_t buf[(sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)) / 8] = { 0 };
	struct kvm_msrs *m = (struct kvm_msrs *)buf;

	m->nmsrs = 1;
	m->entries[0].index = MSR_IA32_TSC;
	if (ioctl(vcpu->fd, KVM_GET_MSRS, m) != 1)
		return;
	/* A tenth of a second is far more than setting it took. */
	if (m->entries[0].data - st->tsc > st->tsc_khz * 100)
		log_info("gmvm fuzz: this host does not set the guest's TSC back (it reads %.1f s past the snapshot's): runs see it go on; the kvmclock is reset",
			 (double)(int64_t)(m->entries[0].data - st->tsc) / (st->tsc_khz * 1000.0));
}

/* Put the VM back as the snapshot had it. */
static int fuzz_reset(struct vcpu *vcpu, bool pending_io, bool done,
		      struct fuzz_reset_stats *s, struct err *e)
{
	struct vm *vm = vcpu->vm;
	struct vm_fuzz *f = vm->fuzz;
	uint64_t t0 = time_now_ns();
	long pages;

	if (pending_io && fuzz_complete_io(vcpu, e))
		return -e->errnum;
	pages = fuzz_break("memory") ? 0 : dirty_collect(&f->dirty, fuzz_copy_page, vm, e);
	if (pages < 0)
		return (int)pages;
	s->pages = pages;
	s->devices = f->device_touched;
	if (f->device_touched && !fuzz_break("devices") &&
	    snapshot_restore_devices(vm, &f->snap->vs, e))
		return -e->errnum;
	f->device_touched = false;
	atomic_store(&f->guest_exit, -1);
	if (fuzz_reset_vcpu(vcpu, done, e))
		return -e->errnum;
	s->ns = time_now_ns() - t0;
	return 0;
}

#ifdef GMVM_TEST_HOOKS
static bool fuzz_check_wanted(void)
{
	return getenv("GMVM_TEST_FUZZ_CHECK") != NULL;
}

/*
 * The devices' saved state now against the first time it was asked for
 * (right after the first reset): the same bytes, or they differ.
 */
static bool fuzz_devices_differ(struct vm *vm)
{
	static void *first;
	static size_t first_len;
	struct vmstate_writer w;
	const void *blob;
	size_t len;
	bool differ = true;

	if (vmstate_writer_init(&w))
		return true;
	snapshot_write_devices(vm, &w);
	if (!vmstate_finish(&w, &blob, &len)) {
		if (!first && (first = malloc(len))) {
			memcpy(first, blob, len);
			first_len = len;
		}
		differ = !first || len != first_len || memcmp(blob, first, len);
	}
	vmstate_writer_free(&w);
	return differ;
}

/*
 * Tests (GMVM_TEST_FUZZ_CHECK): after a reset, everything a run can change
 * reads back as the snapshot has it: RAM against the copy, the vCPU's state
 * (the TSC aside, which runs on) and the devices' saved state.
 */
static int fuzz_check_state(struct vcpu *vcpu, struct err *e)
{
	struct vm *vm = vcpu->vm;
	struct vm_fuzz *f = vm->fuzz;
	struct fuzz_vcpu_state *st = f->state;
	struct kvm_lapic_state lapic;
	struct kvm_debugregs dr;
	struct kvm_xcrs xcrs;
	struct kvm_mp_state mp;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	void *xsave = calloc(1, st->xsave_size);
	int ret = 0;

	/* The synced registers go in with the next KVM_RUN: set them now. */
	if (!xsave)
		return err_set(e, ENOMEM, "out of memory");
	if (ioctl(vcpu->fd, KVM_SET_REGS, &vcpu->run->s.regs.regs) < 0 ||
	    ((vcpu->run->kvm_dirty_regs & KVM_SYNC_X86_SREGS) &&
	     ioctl(vcpu->fd, KVM_SET_SREGS, &vcpu->run->s.regs.sregs) < 0) ||
	    ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &vcpu->run->s.regs.events) < 0)
		ret = err_set(e, errno, "check: setting the synced registers: %s", strerror(errno));
	vcpu->run->kvm_dirty_regs = 0;
	if (!ret && (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0 ||
		     ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0 ||
		     ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp) < 0 ||
		     ioctl(vcpu->fd, KVM_GET_XCRS, &xcrs) < 0 ||
		     ioctl(vcpu->fd, KVM_GET_DEBUGREGS, &dr) < 0 ||
		     ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0 ||
		     ioctl(vcpu->fd, KVM_GET_XSAVE, xsave) < 0))
		ret = err_set(e, errno, "check: reading the state: %s", strerror(errno));
	regs.rax = st->regs.rax;
	if (!ret && (memcmp(&regs, &st->regs, sizeof(regs)) ||
		     memcmp(&sregs, &st->sregs, sizeof(sregs)) ||
		     memcmp(&mp, &st->mp_state, sizeof(mp)) ||
		     memcmp(&xcrs, &st->xcrs, sizeof(xcrs)) ||
		     memcmp(&dr, &st->debugregs, sizeof(dr)) ||
		     memcmp(xsave, st->xsave, 4096)))
		ret = err_set(e, EIO, "check: the vCPU's registers differ from the snapshot's after a reset");
	/* The timer's current count runs on: the registers software sets must match. */
	if (!ret && memcmp(lapic.regs, st->lapic.regs, 0x390))
		ret = err_set(e, EIO, "check: the local APIC differs from the snapshot's after a reset");
	if (!ret && fuzz_devices_differ(vm))
		ret = err_set(e, EIO, "check: the devices' state differs from the snapshot's after a reset");
	for (unsigned int i = 0; !ret && i < vm->mem.nr_regions; i++) {
		const struct guest_mem_region *r = &vm->mem.regions[i];

		for (uint64_t off = r->offset; off < r->offset + r->size; off += PAGE_SIZE)
			if (memcmp(vm->mem.base + off, f->pristine + off, PAGE_SIZE)) {
				ret = err_set(e, EIO, "check: RAM at %#llx differs from the snapshot's after a reset",
					      (unsigned long long)(r->gpa + off - r->offset));
				break;
			}
	}
	free(xsave);
	return ret;
}
#else
static bool fuzz_check_wanted(void)
{
	return false;
}

static int fuzz_check_state(struct vcpu *vcpu, struct err *e)
{
	(void)vcpu;
	(void)e;
	return 0;
}
#endif

static int fuzz_timer_init(struct vcpu *vcpu, struct fuzz_timer *t, struct err *e)
{
	static const struct sigaction act = { .sa_handler = fuzz_signal };
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = SIGALRM,
	};
	sigset_t set;

	fuzz_kick_run = vcpu->run;
	sigaction(SIGALRM, &act, NULL);
	/* The driver's helper ending (AFL++ killed it) stops the run too. */
	sigaction(SIGCHLD, &act, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, VCPU_KICK_SIGNAL);	/* the VM ending: vcpu_kick() */
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	sev._sigev_un._tid = (int)gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &t->id) < 0)
		return err_set(e, errno, "timer_create: %s", strerror(errno));
	t->armed = true;
	return 0;
}

void *fuzz_vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	struct vm_fuzz *f = vm->fuzz;
	const struct fuzz_driver *d = f->cfg->driver;
	struct fuzz_timer timer = { 0 };
	struct fuzz_reset_stats rs = { 0 };
	struct fuzz_result r;
	struct err e = { 0 };
	bool check = fuzz_check_wanted(), pending_io;
	int status = 0;
	long len;

	atomic_store(&vcpu->tid, (int)gettid());
	vcpu->run->kvm_valid_regs = FUZZ_SYNC_REGS;
	if (fuzz_timer_init(vcpu, &timer, &e) ||
	    seccomp_install(THREAD_FUZZ, &e) ||
	    /* The first run starts where every other one will. */
	    fuzz_reset(vcpu, false, false, &rs, &e) ||
	    (check && fuzz_check_state(vcpu, &e)))
		goto fail;
	fuzz_probe_tsc(vcpu);
	if (d->start && d->start(d->opaque, &f->guest, &vm->exit.requested, &e))
		goto fail;
	while (!atomic_load(&vm->exit.requested)) {
		/* The previous input's pages come back with the next reset. */
		len = d->next(d->opaque, f->input, f->guest.input_size, &e);
		if (len == -1)
			break;
		if (len < 0)
			goto fail;
		dirty_note(&f->dirty, f->input - vm->mem.base, len);
		vcpu->run->s.regs.regs.rax = (uint64_t)len;
		vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		fuzz_run(vcpu, &timer, &r, &pending_io);
		if (r.outcome == FUZZ_FAILED) {
			err_set(&e, EIO, "%s", r.what);
			goto fail;
		}
		if (d->report(d->opaque, &r, &e))
			goto fail;
		if (fuzz_reset(vcpu, pending_io, r.outcome == FUZZ_OK, &rs, &e))
			goto fail;
		if (check && fuzz_check_state(vcpu, &e))
			goto fail;
		if (d->reset_done)
			d->reset_done(d->opaque, &rs);
	}
	goto out;
fail:
	/* A driver interrupted because the VM ends says nothing more. */
	if (!atomic_load(&vm->exit.requested)) {
		log_error("gmvm fuzz: %s", e.msg);
		status = VM_STATUS_FAILURE;
	}
out:
	if (timer.armed)
		timer_delete(timer.id);
	vm_request_exit(vm, status);
	vcpu_thread_done(vcpu);
	return NULL;
}
