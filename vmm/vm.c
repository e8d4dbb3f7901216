// SPDX-License-Identifier: MIT
/* VM life cycle: creation, interrupts, the request to end, and teardown. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "control.h"
#include "fuzz.h"
#include "kvm.h"
#include "log.h"
#include "tuntap.h"
#include "sandbox.h"
#include "snapshot.h"
#include "uffd.h"
#include "vm.h"

/* Just below the LAPIC page, out of everyone's way, as other VMMs do. */
#define VM_TSS_ADDR 0xfffbd000ull
#define VM_IDENTITY_MAP_ADDR 0xfffbc000ull

/*
 * The 8259s start unmasked with vector base 0 in KVM, and KVM's default
 * routing sends GSIs 0-15 to them as well as to the IOAPIC. A kernel that
 * never programs them (hardware-reduced ACPI) would get COM1's or a virtio
 * device's interrupt as a CPU exception through LINT0: leave them masked,
 * at the vectors PC firmware uses, as firmware would.
 */
static int vm_mask_pics(struct vm *vm, struct err *e)
{
	static const struct {
		uint32_t id;
		uint8_t base;
	} pics[] = { { KVM_IRQCHIP_PIC_MASTER, 0x20 }, { KVM_IRQCHIP_PIC_SLAVE, 0x28 } };

	for (unsigned int i = 0; i < ARRAY_SIZE(pics); i++) {
		struct kvm_irqchip chip = { .chip_id = pics[i].id };

		if (ioctl(vm->kvm.vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
			return err_set(e, errno, "KVM_GET_IRQCHIP: %s", strerror(errno));
		chip.chip.pic.imr = 0xff;
		chip.chip.pic.irq_base = pics[i].base;
		if (ioctl(vm->kvm.vm_fd, KVM_SET_IRQCHIP, &chip) < 0)
			return err_set(e, errno, "KVM_SET_IRQCHIP: %s", strerror(errno));
	}
	return 0;
}

int vm_create_irqchip(struct vm *vm, struct err *e)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t ident = VM_IDENTITY_MAP_ADDR;

	if (ioctl(vm->kvm.vm_fd, KVM_SET_TSS_ADDR, VM_TSS_ADDR) < 0)
		return err_set(e, errno, "KVM_SET_TSS_ADDR: %s", strerror(errno));
	if (ioctl(vm->kvm.vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0)
		return err_set(e, errno, "KVM_SET_IDENTITY_MAP_ADDR: %s",
			       strerror(errno));
	if (ioctl(vm->kvm.vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return err_set(e, errno, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
	if (ioctl(vm->kvm.vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return err_set(e, errno, "KVM_CREATE_PIT2: %s", strerror(errno));
	return vm_mask_pics(vm, e);
}

static const struct dev_host_ops vm_host_ops;

void vm_init(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm.dev_fd = vm->kvm.vm_fd = vm->exit.efd = -1;
	vm->loop.epoll_fd = -1;
	vm->mem.fd = -1;
	vm->mem.private_fd = -1;
	vm->snapshot_req.source.fd = -1;
	console_init(&vm->console, CONSOLE_NONE);
	vm->host = (struct dev_host){
		.ops = &vm_host_ops,
		.vm = vm,
		.mem = &vm->mem,
		.loop = &vm->loop,
		.console = &vm->console,
	};
	pthread_mutex_init(&vm->pause.lock, NULL);
	pthread_cond_init(&vm->pause.cond, NULL);
}

void vm_take_config(struct vm *vm, const struct vm_config *cfg)
{
	vm->cfg = cfg;
	vm->start_ns = cfg->start_ns;
	vm->host.start_ns = cfg->start_ns;
	vm->snapshot_req.dir = cfg->snapshot.dir;
	vm->snapshot_req.then_stop = cfg->snapshot.then_stop;
	console_init(&vm->console, cfg->dev.console);
}

int vm_create(struct vm *vm, const struct vm_config *cfg, struct err *e)
{
	int ret;

	vm_take_config(vm, cfg);
	vm->kvm.dev_fd = kvm_open(e);
	if (vm->kvm.dev_fd < 0)
		return vm->kvm.dev_fd;
	ret = kvm_check_required_caps(vm->kvm.dev_fd, e);
	if (ret)
		return ret;
	vm->kvm.run_size = ioctl(vm->kvm.dev_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if ((long)vm->kvm.run_size < (long)sizeof(struct kvm_run))
		return err_set(e, EINVAL, "KVM_GET_VCPU_MMAP_SIZE: bad size %ld",
			       (long)vm->kvm.run_size);
	vm->kvm.cpuid = kvm_get_supported_cpuid(vm->kvm.dev_fd, e);
	if (!vm->kvm.cpuid)
		return -e->errnum;
	do
		vm->kvm.vm_fd = ioctl(vm->kvm.dev_fd, KVM_CREATE_VM, 0);
	while (vm->kvm.vm_fd < 0 && errno == EINTR);
	if (vm->kvm.vm_fd < 0)
		return err_set(e, errno, "KVM_CREATE_VM: %s", strerror(errno));
	if (cfg->async_teardown) {
		ret = vm_async_teardown_start(vm->kvm.vm_fd, e);
		if (ret)
			return ret;
	}
	ret = event_loop_init(&vm->loop);
	if (ret)
		return err_set(e, -ret, "epoll_create1: %s", strerror(-ret));
	vm->exit.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->exit.efd < 0)
		return err_set(e, errno, "eventfd: %s", strerror(errno));
	return 0;
}

int vm_add_device(struct vm *vm, struct device *dev)
{
	struct device **d;

	d = realloc(vm->devices, (vm->nr_devices + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	d[vm->nr_devices++] = dev;
	vm->devices = d;
	return 0;
}

static int vm_register(struct bus *bus, uint64_t base, uint64_t len,
		       struct device *dev, struct err *e)
{
	int ret = bus_register(bus, base, len, dev);

	if (ret == -EBUSY)
		return err_set(e, EBUSY, "%s: %s range [%#llx, %#llx) overlaps another device",
			       dev->ops->name, bus->name,
			       (unsigned long long)base,
			       (unsigned long long)(base + len));
	if (ret)
		return err_set(e, -ret, "%s: cannot register %s range %#llx: %s",
			       dev->ops->name, bus->name,
			       (unsigned long long)base, strerror(-ret));
	return 0;
}

int vm_register_pio(struct vm *vm, uint16_t base, uint16_t len,
		    struct device *dev, struct err *e)
{
	vm->pio_bus.name = "port";
	return vm_register(&vm->pio_bus, base, len, dev, e);
}

int vm_register_mmio(struct vm *vm, uint64_t base, uint64_t len,
		     struct device *dev, struct err *e)
{
	vm->mmio_bus.name = "MMIO";
	return vm_register(&vm->mmio_bus, base, len, dev, e);
}

int vm_setup_devices(struct vm *vm, const struct vm_config *cfg,
		     struct err *e)
{
	for (unsigned int i = 0; i < device_table_len; i++) {
		/* A disk, tap or socket that will not do is the user's input. */
		if (device_table[i]->setup(&vm->host, &cfg->dev, e))
			return err_mark_input(e);
	}
	return 0;
}

int vm_add_irqfd(struct vm *vm, int fd, uint32_t gsi, struct err *e)
{
	struct kvm_irqfd irqfd = { .fd = fd, .gsi = gsi };

	if (ioctl(vm->kvm.vm_fd, KVM_IRQFD, &irqfd) < 0)
		return err_set(e, errno, "KVM_IRQFD for GSI %u: %s", gsi,
			       strerror(errno));
	return 0;
}

int vm_add_ioeventfd(struct vm *vm, int fd, uint64_t addr, uint32_t len,
		     uint64_t datamatch, struct err *e)
{
	struct kvm_ioeventfd io = {
		.datamatch = datamatch,
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};

	if (ioctl(vm->kvm.vm_fd, KVM_IOEVENTFD, &io) < 0)
		return err_set(e, errno, "KVM_IOEVENTFD at %#llx: %s",
			       (unsigned long long)addr, strerror(errno));
	return 0;
}

void vm_set_irq(struct vm *vm, unsigned int gsi, bool level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(vm->kvm.vm_fd, KVM_IRQ_LINE, &irq) < 0)
		log_warn("KVM_IRQ_LINE %u=%d: %s", gsi, level, strerror(errno));
}

void vm_request_exit(struct vm *vm, int status)
{
	uint64_t one = 1;

	if (atomic_exchange(&vm->exit.requested, true))
		return;
	vm->exit.status = status;
	/* Parked vCPUs and anyone waiting for them must see it. */
	pthread_mutex_lock(&vm->pause.lock);
	pthread_cond_broadcast(&vm->pause.cond);
	pthread_mutex_unlock(&vm->pause.lock);
	if (write(vm->exit.efd, &one, sizeof(one)) < 0)
		log_error("cannot wake the main thread: %s", strerror(errno));
}

/* What devices see of the VM (devices/host.h): the calls above, unwrapped. */
static int host_op_add_device(void *vm, struct device *dev)
{
	return vm_add_device(vm, dev);
}

static int host_op_add_pio(void *vm, uint16_t base, uint16_t len,
			   struct device *dev, struct err *e)
{
	return vm_register_pio(vm, base, len, dev, e);
}

static int host_op_add_mmio(void *vm, uint64_t base, uint64_t len,
			    struct device *dev, struct err *e)
{
	return vm_register_mmio(vm, base, len, dev, e);
}

/* The virtio devices, in order, for the command line and ACPI tables. */
static int host_op_add_virtio(void *opaque, struct virtio_dev *vd, struct err *e)
{
	struct vm *vm = opaque;

	if (vm->nr_virtio >= LAYOUT_VIRTIO_MAX)
		return err_set(e, ENOSPC, "no room for more than %d virtio devices",
			       LAYOUT_VIRTIO_MAX);
	vm->virtio[vm->nr_virtio] = vd;
	return vm->nr_virtio++;
}

static int host_op_add_irqfd(void *vm, int fd, uint32_t gsi, struct err *e)
{
	return vm_add_irqfd(vm, fd, gsi, e);
}

static int host_op_add_ioeventfd(void *vm, int fd, uint64_t addr, uint32_t len,
				 uint64_t datamatch, struct err *e)
{
	return vm_add_ioeventfd(vm, fd, addr, len, datamatch, e);
}

static void host_op_set_irq(void *vm, unsigned int gsi, bool level)
{
	vm_set_irq(vm, gsi, level);
}

static void host_op_request_exit(void *vm, int status)
{
	/* gmvm fuzz: a guest ending the VM in a run ends that run. */
	if (fuzz_device_exit(vm, status))
		return;
	vm_request_exit(vm, status);
}

static int host_op_add_vmgenid(void *opaque, uint64_t gpa, uint32_t gsi,
			       const uint8_t *id, struct err *e)
{
	struct vm *vm = opaque;

	/* Only ACPI can describe it: a guest without tables would never know. */
	if (vm->cfg->dev.discovery == DISCOVERY_CMDLINE)
		return err_set(e, EINVAL, "--vmgenid: the guest finds a VM Generation ID through ACPI, which --discovery cmdline leaves out (use acpi or both)");
	vm->vmgenid = (struct vm_vmgenid){ gpa, gsi, id };
	return 0;
}

static void host_op_request_snapshot(void *vm)
{
	vm_request_snapshot(vm);
}

static int host_op_open_tap(void *vm, const char *name, int vnet_hdr_len,
			    struct err *e)
{
	(void)vm;
	return tap_open(name, vnet_hdr_len, e);
}

static const struct dev_host_ops vm_host_ops = {
	.add_device = host_op_add_device,
	.add_pio = host_op_add_pio,
	.add_mmio = host_op_add_mmio,
	.add_virtio = host_op_add_virtio,
	.add_irqfd = host_op_add_irqfd,
	.add_ioeventfd = host_op_add_ioeventfd,
	.set_irq = host_op_set_irq,
	.request_exit = host_op_request_exit,
	.add_vmgenid = host_op_add_vmgenid,
	.request_snapshot = host_op_request_snapshot,
	.open_tap = host_op_open_tap,
};

static void vm_exit_event(struct event_source *src, uint32_t events)
{
	struct vm *vm = src->opaque;

	(void)events;
	event_loop_stop(&vm->loop);
}

static void vm_quit_from_console(void *opaque)
{
	log_info("Ctrl-A x: stopping the VM");
	vm_request_exit(opaque, 0);
}

struct vm_signals {
	struct event_source src;
	struct vm *vm;
};

static void vm_signal_event(struct event_source *src, uint32_t events)
{
	struct vm_signals *s = src->opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(src->fd, &si, sizeof(si)) != sizeof(si))
		return;
	log_warn("stopping the VM on signal %s", strsignal(si.ssi_signo));
	vm_request_exit(s->vm, 128 + si.ssi_signo);
}

/* Termination signals become events; block them before vCPU threads exist. */
static int vm_watch_signals(struct vm *vm, struct vm_signals *s, struct err *e)
{
	sigset_t set;
	int ret;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	s->vm = vm;
	s->src = (struct event_source){
		.fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK),
		.handler = vm_signal_event,
		.opaque = s,
	};
	if (s->src.fd < 0)
		return err_set(e, errno, "signalfd: %s", strerror(errno));
	ret = event_loop_add(&vm->loop, &s->src, EPOLLIN);
	if (ret)
		return err_set(e, -ret, "epoll: %s", strerror(-ret));
	return 0;
}

int vm_start_fault_service(struct vm *vm, struct err *e)
{
	int ret;

	if (vm->faults.started)
		return 0;
	/* No other thread yet: capabilities are per thread. */
	ret = privdrop_apply(&vm->cfg->sandbox.privdrop, e);
	if (!ret && vm->faults.uffd)
		ret = uffd_handler_run(vm->faults.uffd, e);
	if (!ret && vm->faults.watch)
		ret = uffd_watch_run(vm->faults.watch, e);
	vm->faults.started = !ret;
	return ret;
}

void vm_stop_fault_service(struct vm *vm)
{
	uffd_watch_stop(vm->faults.watch);
	vm->faults.watch = NULL;
	uffd_handler_stop(vm->faults.uffd);
	vm->faults.uffd = NULL;
}

/* The watchdog's words for a thread of ours. */
static void vm_name_thread(void *opaque, int tid, char *buf, size_t len)
{
	struct vm *vm = opaque;
	const char *activity;

	if (tid == getpid()) {
		activity = atomic_load(&vm->main_activity);
		snprintf(buf, len, "the main thread%s%s", activity ? ", " : "",
			 activity ? activity : "");
		return;
	}
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		if (atomic_load(&vm->vcpus[i].tid) == tid) {
			snprintf(buf, len, "vCPU %u", i);
			return;
		}
	}
	snprintf(buf, len, "thread %d", tid);
}

static void vm_fault_fatal(void *opaque, const char *msg)
{
	log_error("%s", msg);
	vm_request_exit(opaque, 1);
}

uint64_t vm_fault_timeout_ns(const struct vm *vm)
{
	return vm->cfg->fault_timeout_ns ? vm->cfg->fault_timeout_ns :
	       VM_FAULT_TIMEOUT_DEFAULT_S * 1000000000ull;
}

int vm_watch_faults(struct vm *vm, int uffd, const char *server,
		    struct err *e)
{
	struct uffd_watch_config wc = {
		.uffd = vm->faults.uffd ? uffd_handler_fd(vm->faults.uffd) : uffd,
		.mem = &vm->mem,
		.handler = vm->faults.uffd,
		.server = server,
		.bound_ns = vm_fault_timeout_ns(vm),
		.name_thread = vm_name_thread,
		.fatal = vm_fault_fatal,
		.opaque = vm,
		.thread_init = watch_thread_confine,
	};
	int ret = uffd_watch_create(&vm->faults.watch, &wc, e);

	if (!ret && !uffd_watch_sees_answers(vm->faults.watch))
		log_warn("no /proc/self/fdinfo here: a fault %s reads but never answers is not caught, only one it never reads",
			 server);
	return ret;
}

/*
 * Stop the first n vCPUs, in bounded time. One that does not stop waits on
 * a guest RAM fault nobody serves (a vCPU otherwise leaves KVM_RUN on its
 * kick): guest RAM is released, which wakes it, and failing that gmvm exits
 * without it.
 */
static void vm_stop_vcpus(struct vm *vm, unsigned int n)
{
	unsigned int stuck = 0;

	for (unsigned int i = 0; i < n; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned int i = 0; i < n; i++)
		stuck += !vcpu_join(&vm->vcpus[i], VM_VCPU_STOP_NS);
	if (!stuck)
		return;
	if (uffd_watch_release(vm->faults.watch))
		log_error("%u vCPU(s) did not stop within %llu ms: they wait on guest RAM that is not being served; guest RAM released",
			  stuck, (unsigned long long)(VM_VCPU_STOP_NS / 1000000));
	for (unsigned int i = 0; i < n; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (!v->started || vcpu_join(v, 2 * VM_VCPU_STOP_NS))
			continue;
		log_error("vCPU %u does not stop: gmvm ends without it", i);
		v->abandoned = true;
	}
	if (!vm->exit.status)
		vm->exit.status = VM_STATUS_FAILURE;
}

/* The main thread's allowlist, with what each device calls on its own fds. */
static int vm_confine_main(struct vm *vm, struct err *e)
{
	struct device_syscall calls[128];
	unsigned int n = 0;

	for (unsigned int i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i]->ops->syscalls)
			n += vm->devices[i]->ops->syscalls(vm->devices[i], calls + n,
							   ARRAY_SIZE(calls) - n);
	return seccomp_install_main(calls, n, e);
}

int vm_run(struct vm *vm)
{
	struct vm_signals sigs = { .src.fd = -1 };
	struct err e = { 0 };
	unsigned int started = 0;
	int ret;

	vm->exit.source = (struct event_source){
		.fd = vm->exit.efd,
		.handler = vm_exit_event,
		.opaque = vm,
	};
	ret = event_loop_add(&vm->loop, &vm->exit.source, EPOLLIN);
	if (!ret)
		ret = vm_watch_signals(vm, &sigs, &e);
	if (!ret)
		ret = vm_snapshot_requests_init(vm, &e);
	if (!ret) {
		ret = console_start(&vm->console, &vm->loop,
				    vm_quit_from_console, vm);
		if (ret)
			err_set(&e, -ret, "console: %s", strerror(-ret));
	}
	if (!ret)
		ret = vm_start_fault_service(vm, &e);
	for (; !ret && started < vm->nr_vcpus; started++)
		ret = vcpu_start(&vm->vcpus[started], &e);
	/* Only now: the background work would slow down the restore. */
	if (!ret && vm->faults.uffd)
		uffd_handler_fill(vm->faults.uffd);
	/* Every thread exists now: the main thread confines itself last. */
	if (!ret)
		ret = vm_confine_main(vm, &e);
	if (ret) {
		log_error("%s", e.msg);
		vm_request_exit(vm, VM_STATUS_FAILURE);
	} else {
		ret = event_loop_run(&vm->loop);
		if (ret) {
			log_error("event loop: %s", strerror(-ret));
			vm_request_exit(vm, VM_STATUS_FAILURE);
		}
	}
	vm_stop_vcpus(vm, started);
	if (sigs.src.fd >= 0)
		close(sigs.src.fd);
	return vm->exit.status;
}

void vm_destroy(struct vm *vm)
{
	control_stop(vm);
	vm_fuzz_destroy(vm);
	for (unsigned int i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->nr_vcpus = 0;
	bus_free(&vm->pio_bus);
	bus_free(&vm->mmio_bus);
	for (unsigned int i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i]->ops->destroy)
			vm->devices[i]->ops->destroy(vm->devices[i]);
	free(vm->devices);
	vm->devices = NULL;
	vm->nr_devices = 0;
	console_destroy(&vm->console);
	guest_mem_destroy(&vm->mem);
	event_loop_destroy(&vm->loop);
	free(vm->kvm.cpuid);
	vm->kvm.cpuid = NULL;
	free(vm->kvm.msr_indices);
	vm->kvm.msr_indices = NULL;
	if (vm->exit.efd >= 0)
		close(vm->exit.efd);
	if (vm->snapshot_req.source.fd >= 0)
		close(vm->snapshot_req.source.fd);
	if (vm->kvm.vm_fd >= 0)
		close(vm->kvm.vm_fd);
	if (vm->kvm.dev_fd >= 0)
		close(vm->kvm.dev_fd);
	vm->exit.efd = vm->kvm.vm_fd = vm->kvm.dev_fd = -1;
}
