/* SPDX-License-Identifier: MIT */
/*
 * Confining gmvm: a seccomp allowlist per kind of thread, installed by the
 * thread itself before it serves the guest (vmm/seccomp.c); and dropping
 * privileges once everything is open (vmm/privdrop.c).
 */
#ifndef GMVM_SANDBOX_H
#define GMVM_SANDBOX_H

#include <stdbool.h>
#include <sched.h>
#include <signal.h>
#include <sys/types.h>

#include "err.h"

enum seccomp_mode {
	SECCOMP_MODE_KILL,	/* forbidden call: message, death by SIGSYS */
	SECCOMP_MODE_LOG,	/* forbidden call: logged by the kernel, allowed */
	SECCOMP_MODE_OFF,
};

enum thread_kind {
	THREAD_MAIN,		/* event loop, devices, control socket */
	THREAD_VCPU,		/* KVM_RUN and the exits it returns */
	THREAD_UFFD,		/* userfaultfd fault service */
	THREAD_WATCH,		/* the fault watchdog */
	THREAD_FUZZ,		/* gmvm fuzz's vCPU: runs, resets, the driver */
};

/*
 * How gmvm fuzz starts the helper whose pid AFL++ kills on a timeout: a
 * child sharing gmvm's memory (nothing copied), SIGCHLD when it ends.
 */
#define FUZZ_HELPER_CLONE_FLAGS (CLONE_VM | SIGCHLD)

/* Parse "kill", "log" or "off". Returns 0 or -EINVAL. */
int seccomp_parse_mode(const char *s, enum seccomp_mode *mode);

/*
 * Once, before any thread installs a filter: remember mode, prepare the
 * SIGSYS handler's syscall names. Returns 0 or -errno with e set.
 */
int seccomp_setup(enum seccomp_mode mode, struct err *e);

/*
 * Install the calling thread's allowlist for kind (a no-op when the mode is
 * off). Returns 0 or -errno with e set. With test hooks built in and
 * GMVM_SECCOMP_TEST naming this kind ("main", "vcpu", "uffd", "watch"), the thread
 * then makes one forbidden call, for the tests.
 */
int seccomp_install(enum thread_kind kind, struct err *e);

/* The main thread's, with its devices' own calls (device_ops.syscalls). */
struct device_syscall;
int seccomp_install_main(const struct device_syscall *calls, unsigned int n,
			 struct err *e);

/* seccomp_install(THREAD_UFFD): for the uffd handler's thread_init. */
int uffd_thread_confine(struct err *e);

/* seccomp_install(THREAD_WATCH): for the fault watchdog's thread_init. */
int watch_thread_confine(struct err *e);

struct privdrop {
	const char *chroot_dir;	/* NULL: none */
	uid_t uid;
	gid_t gid;
	bool set_uid, set_gid;
};

/*
 * After every file and socket is open: chroot (if asked), drop to gid and
 * uid (if asked), drop every capability, set no_new_privs. Returns 0 or
 * -errno with e naming the step.
 */
int privdrop_apply(const struct privdrop *p, struct err *e);

#endif /* GMVM_SANDBOX_H */
