// SPDX-License-Identifier: MIT
/*
 * Pausing and resuming the vCPUs. A paused vCPU has left KVM_RUN after one
 * more entry with immediate_exit set, which completes a pending port or MMIO
 * read, so that its saved registers describe an instruction boundary.
 */
#include <errno.h>
#include <sys/ioctl.h>

#include "log.h"
#include "vm.h"

void vcpu_thread_begin(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->pause.lock);
	vm->pause.nr_running++;
	pthread_mutex_unlock(&vm->pause.lock);
}

void vcpu_thread_done(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->pause.lock);
	vm->pause.nr_running--;
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
}

static void vcpu_complete_exit(struct vcpu *vcpu)
{
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (ioctl(vcpu->fd, KVM_RUN, 0) == 0 || errno != EINTR)
		log_warn("vCPU %u: completing its last exit before pausing did not return EINTR",
			 vcpu->id);
	__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
}

void vcpu_park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	vcpu_complete_exit(vcpu);
	pthread_mutex_lock(&vm->pause.lock);
	vm->pause.nr_parked++;
	pthread_cond_broadcast(&vm->pause.cond);
	while (atomic_load(&vm->pause.requested) && !atomic_load(&vm->exit.requested))
		pthread_cond_wait(&vm->pause.cond, &vm->pause.lock);
	vm->pause.nr_parked--;
	pthread_mutex_unlock(&vm->pause.lock);
}

void vm_pause_async(struct vm *vm)
{
	if (atomic_exchange(&vm->pause.requested, true))
		return;
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].started)
			vcpu_kick(&vm->vcpus[i]);
}

/* Devices stop or restart their own work (main thread only). */
static void vm_pause_devices(struct vm *vm, bool paused)
{
	for (unsigned int i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i]->ops->pause)
			vm->devices[i]->ops->pause(vm->devices[i], paused);
}

void vm_pause(struct vm *vm)
{
	bool was = vm->pause.devices_paused;

	vm_pause_async(vm);
	if (!was) {
		vm->pause.devices_paused = true;
		vm_pause_devices(vm, true);
	}
	pthread_mutex_lock(&vm->pause.lock);
	while (vm->pause.nr_parked < vm->pause.nr_running && !atomic_load(&vm->exit.requested))
		pthread_cond_wait(&vm->pause.cond, &vm->pause.lock);
	pthread_mutex_unlock(&vm->pause.lock);
}

void vm_resume(struct vm *vm)
{
	if (vm->pause.devices_paused) {
		vm->pause.devices_paused = false;
		vm_pause_devices(vm, false);
	}
	pthread_mutex_lock(&vm->pause.lock);
	atomic_store(&vm->pause.requested, false);
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
}

bool vm_is_paused(struct vm *vm)
{
	return atomic_load(&vm->pause.requested);
}
