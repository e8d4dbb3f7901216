/* SPDX-License-Identifier: MIT */
/*
 * A virtual machine: the KVM VM, its RAM, vCPU threads, buses and devices,
 * and how it ends.
 *
 * Threads: main runs the event loop (console input, signals, the request to
 * stop); each vCPU has a thread running KVM_RUN. A vCPU or device that wants
 * the VM to end calls vm_request_exit(); the main thread then stops every
 * vCPU and tears down.
 */
#ifndef GMVM_VM_H
#define GMVM_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch_layout.h"
#include "boot.h"
#include "console.h"
#include "device.h"
#include "host.h"
#include "err.h"
#include "event_loop.h"
#include "guest_mem.h"
#include "sandbox.h"

/* Kicks a vCPU thread out of KVM_RUN; the handler only interrupts it. */
#define VCPU_KICK_SIGNAL SIGUSR1

/* The exit status of a run that failed, after saying why. */
#define VM_STATUS_FAILURE 1

#define VM_MAX_VCPUS 64
/* How long a fault on lazily served RAM may wait (--fault-timeout). */
#define VM_FAULT_TIMEOUT_DEFAULT_S 10
#define VM_FAULT_TIMEOUT_MAX_S 3600
/* How long a vCPU may take to stop once told to. */
#define VM_VCPU_STOP_NS (1000 * 1000000ull)

/* What run and restore share: options of the VM rather than of its guest. */
struct vm_options {
	const struct guest_mem_backend *backend;	/* NULL: not given */
	enum console_mode console;
	bool console_given;
	const char *control;
	const char *stats;
	enum seccomp_mode seccomp;	/* zero: kill, the default */
	struct privdrop privdrop;
	bool async_teardown;
};

/* Everything `gmvm run` was asked to do, validated by the option parser. */
struct vm_config {
	/* What it boots (gmvm run; a restore boots nothing). */
	struct vm_boot_config {
		const char *kernel_path;
		const uint8_t *kernel;		/* the file, mapped (boot_map_file) */
		size_t kernel_len;
		const char *initrd_path;	/* NULL: none */
		const uint8_t *initrd;
		size_t initrd_len;
		const char *cmdline;		/* "" when none */
		bool lazy_load;			/* --lazy-load */
	} boot;
	/* What it is made of. */
	struct vm_machine {
		unsigned int nr_vcpus;
		uint64_t mem_size;
		const struct guest_mem_backend *backend;	/* NULL: best offered */
		/*
		 * The backend was named by the user (--memory-backend): one
		 * the host lacks is an error. Otherwise backend is only a
		 * preference (the snapshot's, for a restore) and the best
		 * offered replaces it.
		 */
		bool backend_explicit;
		/*
		 * gmvm fuzz: the pages a run writes must be found, which
		 * guest_memfd does not allow; memfd unless one is named.
		 */
		bool fuzz;
	} machine;
	/* Guest-requested snapshots. */
	struct vm_snapshot_config {
		const char *dir;		/* --snapshot-on-request; NULL: off */
		bool then_stop;			/* --then stop */
	} snapshot;
	/* How its threads are confined. */
	struct vm_sandbox {
		struct privdrop privdrop;	/* --chroot, --uid, --gid */
		enum seccomp_mode seccomp;	/* --seccomp */
	} sandbox;
	bool async_teardown;		/* --async-teardown */
	uint64_t fault_timeout_ns;	/* --fault-timeout; 0: the default */
	uint64_t start_ns;		/* time_now_ns() when gmvm started */
	const char *control_path;	/* --control; NULL: none */
	const char *stats_path;		/* --stats FILE */
	struct dev_config dev;		/* the devices, console and discovery */
};

struct vcpu {
	struct vm *vm;
	unsigned int id;
	_Atomic int tid;		/* its thread's id, once started */
	bool abandoned;			/* did not stop: leave its resources */
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
};

struct control_server;
struct virtio_dev;
struct json_object;

struct vm {
	const struct vm_config *cfg;	/* outlives the VM */
	/* What KVM gave it. */
	struct vm_kvm {
		int dev_fd;			/* /dev/kvm */
		int vm_fd;
		size_t run_size;		/* of a vCPU's struct kvm_run */
		struct kvm_cpuid2 *cpuid;	/* KVM_GET_SUPPORTED_CPUID */
		/* The MSRs a snapshot saves: probed at the first (vcpu_state.c). */
		uint32_t *msr_indices;
		unsigned int nr_msr_indices;
	} kvm;
	struct guest_mem mem;
	struct bus pio_bus;
	struct bus mmio_bus;
	struct dev_host host;		/* what its devices see of it */
	struct device **devices;
	unsigned int nr_devices;
	struct virtio_dev *virtio[LAYOUT_VIRTIO_MAX];	/* for discovery */
	unsigned int nr_virtio;
	/* A VM Generation ID for the ACPI tables (--vmgenid); addr 0: none. */
	struct vm_vmgenid {
		uint64_t addr;
		uint32_t gsi;
		const uint8_t *id;		/* 16 bytes, the device's */
	} vmgenid;
	unsigned int nr_vcpus;
	struct vcpu *vcpus;
	struct console console;
	struct event_loop loop;
	uint64_t start_ns;		/* when the monitor started */

	/* Pausing (vmm/pause.c): vCPUs park while pause.requested is set. */
	struct vm_pause {
		pthread_mutex_t lock;
		pthread_cond_t cond;		/* parked vCPUs wait; pausers too */
		atomic_bool requested;
		unsigned int nr_running;	/* vCPU threads alive */
		unsigned int nr_parked;
		bool devices_paused;		/* main thread only */
	} pause;

	/* How this VM came to be, for stats (vmm/stats.c). */
	struct vm_origin {
		const char *snapshot;		/* restored from; NULL when booted */
		char backend_reason[320];	/* why mem.backend was chosen */
		const char *strategy;		/* "eager", "lazy-missing", ... */
		char reason[320];
		uint64_t snapshot_age_ns;	/* how long the snapshot sat */
		uint64_t pages_read_ahead;	/* --restore file --prefetch */
	} origin;

	/* What serves guest RAM lazily, and watches it (vm_start_fault_service). */
	struct vm_faults {
		struct uffd_handler *uffd;	/* lazy restore's handler, or NULL */
		struct uffd_watch *watch;	/* its fault watchdog, or NULL */
		bool started;
		bool external;			/* --uffd-socket serves guest RAM */
	} faults;
	/* What the main thread is doing, for the watchdog's messages. */
	const char *_Atomic main_activity;
	_Atomic uint64_t first_run_ns;	/* first KVM_RUN of any vCPU */

	/* Guest-requested snapshots (--snapshot-on-request). */
	struct vm_snapshot_requests {
		const char *dir;
		bool then_stop;
		struct event_source source;	/* eventfd */
	} snapshot_req;

	struct control_server *control;	/* --control, or NULL */
	struct vm_fuzz *fuzz;		/* gmvm fuzz (vmm/fuzz.h), or NULL */

	/* Set once by the first vm_request_exit(). */
	struct vm_exit {
		atomic_bool requested;
		int status;
		int efd;			/* wakes the main thread */
		struct event_source source;
	} exit;
};

/*
 * A VM holding nothing, every descriptor "not open": what vm_destroy()
 * takes at any point after, however early a failure came.
 */
void vm_init(struct vm *vm);

/* The parts of cfg the VM keeps (vm_create's first step; the fuzz harness). */
void vm_take_config(struct vm *vm, const struct vm_config *cfg);

/*
 * Open /dev/kvm and create the VM in vm (vm_init() done), per cfg. Returns
 * 0, or -errno with e filled; on failure vm_destroy() cleans up.
 */
int vm_create(struct vm *vm, const struct vm_config *cfg, struct err *e);

/*
 * --async-teardown (vmm/teardown.c): start a helper process that shares
 * gmvm's memory and holds vm_fd until gmvm has exited, so that tearing the
 * VM down and freeing its RAM happen after gmvm's exit is reported.
 */
int vm_async_teardown_start(int vm_fd, struct err *e);

/*
 * Check cfg against what this host allows (vCPU count, memory size against
 * host RAM and guest address width, the memory backend) and, when cfg leaves
 * the backend open, pick the best one offered: guest_memfd where it works,
 * else memfd, a choice said under -v, in vm->origin.backend_reason and in
 * --stats, never warned about. Returns 0, or -EINVAL / -ENOTSUP with e
 * filled and classed ERR_INPUT / ERR_UNSUPPORTED: such failures are the
 * user's input.
 */
int vm_check_config(struct vm *vm, struct vm_config *cfg, struct err *e);

/*
 * Allocate RAM with cfg->backend, register it with KVM, then create the
 * in-kernel interrupt controllers and PIT (vm_create_irqchip). In that
 * order: on the hosts measured, the first memory slot registered after
 * KVM_CREATE_IRQCHIP costs 4-10 ms, one registered before it 0.2-0.3 ms,
 * and a restore waits for it.
 */
int vm_create_memory(struct vm *vm, const struct vm_config *cfg,
		     struct err *e);

/* The in-kernel IOAPIC, PICs (masked) and PIT; before the first vCPU. */
int vm_create_irqchip(struct vm *vm, struct err *e);

/* Create cfg->nr_vcpus vCPUs (not yet running). */
int vm_create_vcpus(struct vm *vm, const struct vm_config *cfg,
		    struct err *e);

/*
 * Load cfg's kernel and initrd into RAM and write the boot structures. Every
 * failure is about the input files or command line; e names the file.
 */
int vm_load_kernel(struct vm *vm, const struct vm_config *cfg,
		   struct boot_image *img, struct err *e);

/*
 * --lazy-load: start the uffd thread that serves the kernel's and initrd's
 * pages from their files (which must stay mapped). Refused with -ENOTSUP
 * where the backend's memory cannot be registered.
 */
int vm_start_lazy_load(struct vm *vm, const struct vm_config *cfg,
		       const struct boot_image *img, struct err *e);

/* Put the boot vCPU at img's entry point. */
int vm_set_boot_cpu(struct vm *vm, const struct boot_image *img,
		    struct err *e);

/*
 * Create every device cfg asks for. Returns 0 or -errno with e filled,
 * classed ERR_INPUT (a disk or tap that will not do) or ERR_RUNTIME (the
 * host ran out of memory or descriptors).
 */
int vm_setup_devices(struct vm *vm, const struct vm_config *cfg,
		     struct err *e);


/* Keep dev for reset and teardown. Returns 0 or -ENOMEM. */
int vm_add_device(struct vm *vm, struct device *dev);

/* Register dev on the port bus or the MMIO bus; e names the clash. */
int vm_register_pio(struct vm *vm, uint16_t base, uint16_t len,
		    struct device *dev, struct err *e);
int vm_register_mmio(struct vm *vm, uint64_t base, uint64_t len,
		     struct device *dev, struct err *e);

/*
 * The guest asked for a snapshot (from a vCPU thread): park every vCPU now
 * and have the main thread write it to cfg->snapshot_dir.
 */
void vm_request_snapshot(struct vm *vm);

/* Wire an eventfd to inject gsi (KVM_IRQFD). */
int vm_add_irqfd(struct vm *vm, int fd, uint32_t gsi, struct err *e);
/* Signal fd on a guest MMIO write of len bytes of datamatch at addr. */
int vm_add_ioeventfd(struct vm *vm, int fd, uint64_t addr, uint32_t len,
		     uint64_t datamatch, struct err *e);

/* Drive interrupt line gsi of the in-kernel irqchip. */
void vm_set_irq(struct vm *vm, unsigned int gsi, bool level);

/*
 * Ask the VM to end with status (the process exit status). The first request
 * wins; later ones are ignored. Safe from any thread.
 */
void vm_request_exit(struct vm *vm, int status);

/*
 * Drop privileges (cfg->privdrop, always every capability), then start what
 * serves lazily loaded guest RAM (the uffd thread, if any). Once: vm_run()
 * does it unless a restore did it earlier, before giving KVM state that
 * names guest pages (restore.c says why). Returns 0 or -errno, e filled.
 */
int vm_start_fault_service(struct vm *vm, struct err *e);

/*
 * Watch the faults on guest RAM (memory/uffd_watch.c) served by vm->faults.uffd,
 * or, when vm->faults.uffd is NULL, by the external handler server (a message's
 * words) on uffd, gmvm's copy. Past cfg->fault_timeout_ns a stuck fault ends
 * the VM with status 1 and a message. Before vm_start_fault_service().
 */
int vm_watch_faults(struct vm *vm, int uffd, const char *server,
		    struct err *e);

/* cfg->fault_timeout_ns, or the default. */
uint64_t vm_fault_timeout_ns(const struct vm *vm);

/* Stop the fault watchdog and the uffd thread, if any (after vm_run). */
void vm_stop_fault_service(struct vm *vm);

/*
 * vm_start_fault_service() if not done yet, then the vCPU threads; confine
 * the main thread and serve events until an exit is requested; stop every
 * vCPU. Returns the exit status.
 */
int vm_run(struct vm *vm);

/* Release everything vm_create() and later steps made. */
void vm_destroy(struct vm *vm);

/* Statistics as JSON text (vmm/stats.c); the caller frees it. */
char *vm_stats_json(struct vm *vm);
/* The same as a json-c object (struct json_object *), owned by the caller. */
struct json_object *vm_stats_object(struct vm *vm);
/*
 * --stats FILE: opened (created, truncated) before privileges are dropped,
 * written with vm_stats_json() at exit. Both return 0 (open: the fd) or
 * -errno with e set.
 */
int vm_stats_open(const char *path, struct err *e);
int vm_stats_write(struct vm *vm, int fd, const char *path, struct err *e);

/* vCPUs (vmm/vcpu.c). */
int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int id,
		struct err *e);
int vcpu_start(struct vcpu *vcpu, struct err *e);
/*
 * Join a vCPU's thread (after vcpu_kick() and vm_request_exit()), waiting
 * at most timeout_ns. Returns true once it has ended (or never started).
 */
bool vcpu_join(struct vcpu *vcpu, uint64_t timeout_ns);
/*
 * A port or MMIO exit, to the bus and its devices; what no device claims
 * reads all ones, and writes to it vanish.
 */
void vcpu_pio_exit(struct vcpu *vcpu);
void vcpu_mmio_exit(struct vcpu *vcpu);
/* Make the vCPU leave KVM_RUN soon (it then checks pause and exit). */
void vcpu_kick(struct vcpu *vcpu);

/*
 * Pausing (vmm/pause.c). vm_pause() returns once every running vCPU is
 * parked outside KVM_RUN with its last exit completed, so its state can be
 * read, and devices have stopped their own work; vm_resume() lets all go.
 * Both run on the main thread. vm_pause_async() only asks the vCPUs and
 * kicks them (for a vCPU thread that must not wait on itself). All are
 * idempotent.
 */
void vm_pause(struct vm *vm);
void vm_pause_async(struct vm *vm);
void vm_resume(struct vm *vm);
bool vm_is_paused(struct vm *vm);
/* For vCPU threads. */
void vcpu_park(struct vcpu *vcpu);
void vcpu_thread_begin(struct vcpu *vcpu);
void vcpu_thread_done(struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);

/* x86 vCPU set-up (vmm/cpuid.c, vmm/vcpu_x86.c). */
int cpuid_setup(struct vcpu *vcpu, struct err *e);
int vcpu_x86_setup(struct vcpu *vcpu, struct err *e);

#endif /* GMVM_VM_H */
