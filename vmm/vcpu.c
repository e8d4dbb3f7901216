// SPDX-License-Identifier: MIT
/*
 * vCPU threads: KVM_RUN and exit dispatch. Port and MMIO exits go to the
 * buses; this file never knows which device served them.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "kvm_abi.h"
#include "log.h"
#include "sandbox.h"
#include "vm.h"
#include "x86_fixup.h"

static void vcpu_kick_handler(int sig)
{
	(void)sig;
}

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int id,
		struct err *e)
{
	int ret;

	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->kvm.vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0)
		return err_set(e, errno, "KVM_CREATE_VCPU %u: %s", id,
			       strerror(errno));
	vcpu->run = mmap(NULL, vm->kvm.run_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		ret = err_set(e, errno, "mmap of vCPU %u's kvm_run: %s", id,
			      strerror(errno));
		vcpu->run = NULL;
		close(vcpu->fd);
		vcpu->fd = -1;
		return ret;
	}
	ret = cpuid_setup(vcpu, e);
	if (!ret)
		ret = vcpu_x86_setup(vcpu, e);
	if (ret) {
		munmap(vcpu->run, vm->kvm.run_size);
		close(vcpu->fd);
		vcpu->run = NULL;
		vcpu->fd = -1;
	}
	return ret;
}

static void vcpu_dump(const struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		return;
	log_error("vCPU %u: rip=%#llx rsp=%#llx rflags=%#llx cs=%#x cr0=%#llx cr3=%#llx cr4=%#llx efer=%#llx",
		  vcpu->id, r.rip, r.rsp, r.rflags, s.cs.selector, s.cr0,
		  s.cr3, s.cr4, s.efer);
	log_error("vCPU %u: rax=%#llx rbx=%#llx rcx=%#llx rdx=%#llx rsi=%#llx rdi=%#llx",
		  vcpu->id, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi);
}

void vcpu_pio_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;

	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		if (bus_access(&vcpu->vm->pio_bus, run->io.port, data,
			       run->io.size, out))
			continue;
		/* Nothing there: reads float high, writes vanish. */
		if (!out)
			memset(data, 0xff, run->io.size);
		log_debug("vCPU %u: %s of %u bytes at unclaimed port %#x",
			  vcpu->id, out ? "write" : "read", run->io.size,
			  run->io.port);
	}
}

static void vcpu_handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	/* gmvm fuzz, booting: the guest's contract (fuzz.h). */
	if (vcpu->vm->fuzz && run->io.port >= FUZZ_PORT &&
	    run->io.port < FUZZ_PORT + FUZZ_PORT_LEN) {
		fuzz_port_io(vcpu, run->io.direction == KVM_EXIT_IO_OUT,
			     (uint8_t *)run + run->io.data_offset, run->io.size);
		return;
	}
	vcpu_pio_exit(vcpu);
}

void vcpu_mmio_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t len = run->mmio.len;

	if (len > sizeof(run->mmio.data))
		len = sizeof(run->mmio.data);
	if (bus_access(&vcpu->vm->mmio_bus, run->mmio.phys_addr,
		       run->mmio.data, len, run->mmio.is_write))
		return;
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, len);
	log_debug("vCPU %u: %s of %u bytes at unclaimed address %#llx",
		  vcpu->id, run->mmio.is_write ? "write" : "read", len,
		  run->mmio.phys_addr);
}

static void vcpu_fail(struct vcpu *vcpu, const char *what)
{
	log_error("vCPU %u: %s", vcpu->id, what);
	vcpu_dump(vcpu);
	vm_request_exit(vcpu->vm, 1);
}

/* Returns false when the vCPU must stop. */
static bool vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char what[160];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_mmio_exit(vcpu);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_CRASH) {
			vcpu_fail(vcpu, "the guest reported a crash");
			return false;
		}
		log_info("vCPU %u: guest %s", vcpu->id,
			 run->system_event.type == KVM_SYSTEM_EVENT_RESET ?
			 "reset" : "powered off");
		vm_request_exit(vcpu->vm, 0);
		return false;
	case KVM_EXIT_SHUTDOWN:
		vcpu_fail(vcpu, "triple fault (KVM_EXIT_SHUTDOWN)");
		return false;
	case KVM_EXIT_HLT:
		vcpu_fail(vcpu, "halted with interrupts it cannot receive");
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(what, sizeof(what), "VM entry failed, reason %#llx",
			 run->fail_entry.hardware_entry_failure_reason);
		vcpu_fail(vcpu, what);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		if (vcpu_complete_unemulated(vcpu))
			return true;
		snprintf(what, sizeof(what),
			 "KVM internal error, suberror %u (1: instruction emulation failed)",
			 run->internal.suberror);
		vcpu_fail(vcpu, what);
		return false;
	case KVM_EXIT_MEMORY_FAULT:
		snprintf(what, sizeof(what), "memory fault KVM could not resolve");
		vcpu_fail(vcpu, what);
		return false;
	default:
		snprintf(what, sizeof(what), "unexpected exit reason %u",
			 run->exit_reason);
		vcpu_fail(vcpu, what);
		return false;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	sigset_t kick;
	struct err e = { 0 };
	uint64_t none = 0;
	int ret;

	atomic_store(&vcpu->tid, (int)gettid());
	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	/* Confined before the first guest instruction runs. */
	if (seccomp_install(THREAD_VCPU, &e)) {
		log_error("vCPU %u: %s", vcpu->id, e.msg);
		vm_request_exit(vm, VM_STATUS_FAILURE);
		vcpu_thread_done(vcpu);
		return NULL;
	}
	atomic_compare_exchange_strong(&vm->first_run_ns, &none, time_now_ns());

	while (!atomic_load(&vm->exit.requested)) {
		if (atomic_load(&vm->pause.requested)) {
			vcpu_park(vcpu);
			continue;
		}
		ret = ioctl(vcpu->fd, KVM_RUN, 0);
		/*
		 * The VM is ending: what this exit says may come of it (a
		 * watchdog that released guest RAM leaves the guest zeros).
		 */
		if (atomic_load(&vm->exit.requested))
			break;
		if (ret < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/*
				 * A kick: whoever kicked set the pause or
				 * exit flag first, so it is seen above.
				 */
				__atomic_store_n(&vcpu->run->immediate_exit, 0,
						 __ATOMIC_SEQ_CST);
				continue;
			}
			if (errno == EFAULT && vm->mem.backend == &guest_mem_backend_snapshot_file)
				log_error("vCPU %u: KVM_RUN: guest RAM is gone from under the VM: its memory file shrank while the guest ran",
					  vcpu->id);
			else
				log_error("vCPU %u: KVM_RUN: %s", vcpu->id,
					  strerror(errno));
			vcpu_dump(vcpu);
			vm_request_exit(vm, VM_STATUS_FAILURE);
			break;
		}
		if (!vcpu_handle_exit(vcpu))
			break;
	}
	vcpu_thread_done(vcpu);
	return NULL;
}

void vcpu_kick(struct vcpu *vcpu)
{
	/* immediate_exit covers a kick that lands before KVM_RUN is entered. */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

int vcpu_start(struct vcpu *vcpu, struct err *e)
{
	static const struct sigaction kick = { .sa_handler = vcpu_kick_handler };
	char name[16];
	int ret;

	/* No SA_RESTART: the signal must make KVM_RUN return. */
	sigaction(VCPU_KICK_SIGNAL, &kick, NULL);
	vcpu_thread_begin(vcpu);
	ret = pthread_create(&vcpu->thread, NULL,
			     vcpu->vm->fuzz && vcpu->vm->fuzz->cfg ? fuzz_vcpu_thread :
			     vcpu_thread, vcpu);
	if (ret) {
		vcpu_thread_done(vcpu);
		return err_set(e, ret, "cannot start the thread of vCPU %u: %s",
			       vcpu->id, strerror(ret));
	}
	snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
	pthread_setname_np(vcpu->thread, name);
	vcpu->started = true;
	return 0;
}

bool vcpu_join(struct vcpu *vcpu, uint64_t timeout_ns)
{
	if (vcpu->started && thread_join_within(vcpu->thread, timeout_ns))
		vcpu->started = false;
	return !vcpu->started;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	/* Its thread may still be in KVM_RUN: leave it what it uses. */
	if (vcpu->abandoned)
		return;
	if (vcpu->run)
		munmap(vcpu->run, vcpu->vm->kvm.run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}
