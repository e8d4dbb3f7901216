// SPDX-License-Identifier: MIT
/*
 * Per-thread seccomp allowlists (libseccomp). Each kind of thread installs
 * its own, so a vCPU thread may run KVM_RUN but not create memslots, and the
 * uffd thread may fill pages but not open files. Filters are not
 * synchronised across threads: a thread's filter is the one it installed
 * (plus its creator's, if the creator had one: threads are started before
 * the main thread confines itself).
 *
 * In kill mode a forbidden call raises SIGSYS; the handler writes one line
 * naming the thread and the call, then dies of SIGSYS.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <linux/userfaultfd.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"
#include "console.h"
#include "device.h"
#include "kvm_abi.h"
#include "sandbox.h"
#include "util.h"

#define SYSCALL_NAMES 512

static enum seccomp_mode seccomp_mode = SECCOMP_MODE_OFF;
static char *syscall_names[SYSCALL_NAMES];
static __thread const char *thread_label = "?";

static const char *const kind_names[] = {
	[THREAD_MAIN] = "main",
	[THREAD_VCPU] = "vcpu",
	[THREAD_UFFD] = "uffd",
	[THREAD_WATCH] = "watch",
	[THREAD_FUZZ] = "fuzz",
};

/* Every kind: memory, locks, signals, logging, dying. */
static const int common_calls[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(futex), SCMP_SYS(exit),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(brk), SCMP_SYS(munmap),
	SCMP_SYS(madvise), SCMP_SYS(mremap), SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday), SCMP_SYS(sched_yield), SCMP_SYS(restart_syscall),
};

static const int main_calls[] = {
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl),
	SCMP_SYS(openat), SCMP_SYS(close), SCMP_SYS(newfstatat),
	SCMP_SYS(fstat), SCMP_SYS(statx), SCMP_SYS(lseek), SCMP_SYS(pread64),
	SCMP_SYS(pwrite64), SCMP_SYS(fsync), SCMP_SYS(ftruncate), SCMP_SYS(mkdir),
	SCMP_SYS(mkdirat), SCMP_SYS(rename), SCMP_SYS(renameat),
	SCMP_SYS(renameat2), SCMP_SYS(unlink), SCMP_SYS(unlinkat),
	SCMP_SYS(rmdir), SCMP_SYS(mincore),
	SCMP_SYS(getrandom),	/* json-c seeds its hash tables with it */
	SCMP_SYS(accept4), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
	SCMP_SYS(exit_group), SCMP_SYS(tgkill), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(sysinfo),	/* glibc qsort() sizes its buffer with it */
	SCMP_SYS(fcntl),	/* --restore file: letting go of its lease */
};

/* ioctls the main thread makes once the guest runs (snapshots, devices). */
static const unsigned long main_ioctls[] = {
	KVM_CHECK_EXTENSION, KVM_GET_MSR_INDEX_LIST, KVM_IRQ_LINE,
	KVM_GET_IRQCHIP, KVM_GET_PIT2, KVM_GET_CLOCK, KVM_GET_REGS,
	KVM_GET_SREGS, KVM_GET_XSAVE, KVM_GET_XSAVE2, KVM_GET_XCRS,
	KVM_GET_DEBUGREGS, KVM_GET_LAPIC, KVM_GET_MP_STATE,
	KVM_GET_VCPU_EVENTS, KVM_GET_MSRS, KVM_GET_CPUID2, TCGETS, TCSETS,
	UFFDIO_UNREGISTER,
	KVM_SET_USER_MEMORY_REGION,	/* --restore file, its file about to change */
};

/* TCSETS everywhere: the SIGSYS handler restores the terminal. */
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_TRANSLATE,
	KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, KVM_IRQ_LINE, TCSETS,
};

static const int vcpu_calls[] = { SCMP_SYS(tgkill) };

/*
 * gmvm fuzz's vCPU thread: runs, and resets that set every piece of state a
 * snapshot has (the check after a reset, in tests, reads it back); the
 * driver reads inputs and talks to AFL++, whose kill of the helper process
 * it starts (clone, then prctl and pause in the child) ends a run.
 */
static const unsigned long fuzz_ioctls[] = {
	KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS,
	KVM_TRANSLATE, KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, KVM_SET_XSAVE,
	KVM_GET_XSAVE, KVM_SET_MSRS, KVM_SET_LAPIC, KVM_GET_LAPIC,
	KVM_SET_DEBUGREGS, KVM_GET_DEBUGREGS, KVM_SET_XCRS, KVM_GET_XCRS,
	KVM_SET_MP_STATE, KVM_GET_MP_STATE, KVM_SET_IRQCHIP, KVM_SET_PIT2, KVM_GET_MSRS,
	KVM_SET_CLOCK, KVM_GET_DIRTY_LOG, KVM_CLEAR_DIRTY_LOG, GMVM_PAGEMAP_SCAN,
	KVM_IRQ_LINE, TCSETS,
};

static const int fuzz_calls[] = {
	SCMP_SYS(tgkill), SCMP_SYS(timer_settime), SCMP_SYS(timer_delete),
	SCMP_SYS(openat), SCMP_SYS(close), SCMP_SYS(pread64), SCMP_SYS(lseek),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(wait4), SCMP_SYS(pause),
	SCMP_SYS(exit_group), SCMP_SYS(getppid), SCMP_SYS(close_range),
	SCMP_SYS(fcntl),	/* open_regular(): --input back to blocking */
};

static const unsigned long uffd_ioctls[] = {
	UFFDIO_COPY, UFFDIO_ZEROPAGE, UFFDIO_CONTINUE, UFFDIO_WAKE,
	UFFDIO_UNREGISTER, TCSETS,
};

static const int uffd_calls[] = { SCMP_SYS(poll), SCMP_SYS(ppoll) };

/* The fault watchdog: the userfaultfd's fdinfo and RAM's residency. */
static const unsigned long watch_ioctls[] = {
	UFFDIO_UNREGISTER, UFFDIO_WAKE, TCSETS,
};

static const int watch_calls[] = {
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(pread64), SCMP_SYS(mincore),
};

/*
 * What the ASan/UBSan runtime does on any thread: tear down its alternate
 * signal stack when the thread ends, read /proc/self/maps for a report, and
 * at exit stop the world to look for leaks (a tracer thread that ptraces the
 * others). Only in sanitizer builds (configure --enable-sanitizers), never
 * in one that runs guests for real.
 */
static const int sanitizer_calls[] = {
#ifdef GMVM_SANITIZERS
	SCMP_SYS(sigaltstack), SCMP_SYS(open), SCMP_SYS(openat),
	SCMP_SYS(close), SCMP_SYS(readlink), SCMP_SYS(newfstatat),
	SCMP_SYS(fstat), SCMP_SYS(prlimit64), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(exit_group), SCMP_SYS(prctl), SCMP_SYS(getppid),
	SCMP_SYS(clone), SCMP_SYS(getdents64), SCMP_SYS(getdents),
	SCMP_SYS(ptrace), SCMP_SYS(wait4), SCMP_SYS(kill), SCMP_SYS(tgkill),
	SCMP_SYS(process_vm_readv), SCMP_SYS(lseek), SCMP_SYS(pipe2),
#endif
	SCMP_SYS(restart_syscall),	/* keeps the array non-empty */
};

int seccomp_parse_mode(const char *s, enum seccomp_mode *mode)
{
	if (!strcmp(s, "kill"))
		*mode = SECCOMP_MODE_KILL;
	else if (!strcmp(s, "log"))
		*mode = SECCOMP_MODE_LOG;
	else if (!strcmp(s, "off"))
		*mode = SECCOMP_MODE_OFF;
	else
		return -EINVAL;
	return 0;
}

/* Append s to line at *n (async-signal-safe, bounded). */
static void append(char *line, size_t size, size_t *n, const char *s)
{
	while (*s && *n + 1 < size)
		line[(*n)++] = *s++;
}

/* Async-signal-safe: names prepared beforehand, write(2) to say it. */
static void sigsys_handler(int sig, siginfo_t *si, void *ctx)
{
	char line[200], num[16];
	const char *name = si->si_syscall >= 0 && si->si_syscall < SYSCALL_NAMES &&
			   syscall_names[si->si_syscall] ?
			   syscall_names[si->si_syscall] : NULL;
	size_t n = 0;

	(void)ctx;
	if (!name) {
		int v = si->si_syscall, i = sizeof(num) - 1;

		num[i] = '\0';
		do
			num[--i] = '0' + v % 10;
		while ((v /= 10) && i);
		name = num + i;
	}
	append(line, sizeof(line), &n, "gmvm: error: seccomp: the ");
	append(line, sizeof(line), &n, thread_label);
	append(line, sizeof(line), &n, " thread called ");
	append(line, sizeof(line), &n, name);
	append(line, sizeof(line), &n, ", which its filter forbids\n");
	if (write(STDERR_FILENO, line, n) < 0)
		n = 0;
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int seccomp_setup(enum seccomp_mode mode, struct err *e)
{
	struct sigaction sa = { .sa_sigaction = sigsys_handler,
				.sa_flags = SA_SIGINFO };

	seccomp_mode = mode;
	if (mode != SECCOMP_MODE_KILL)
		return 0;
	for (int i = 0; i < SYSCALL_NAMES; i++)
		syscall_names[i] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, i);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return err_set(e, errno, "sigaction(SIGSYS): %s", strerror(errno));
	return 0;
}

static int allow_calls(scmp_filter_ctx ctx, const int *calls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);

		if (ret)
			return ret;
	}
	return 0;
}

static int allow_ioctls(scmp_filter_ctx ctx, const unsigned long *reqs,
			size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* Spelt out: SCMP_A1_64() leaves datum_b to be zeroed implicitly. */
		struct scmp_arg_cmp req = {
			.arg = 1, .op = SCMP_CMP_EQ, .datum_a = reqs[i],
		};
		int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					   req);

		if (ret)
			return ret;
	}
	return 0;
}

/* mmap and mprotect, never executable memory. */
static int allow_memory(scmp_filter_ctx ctx)
{
	int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				   SCMP_A2_64(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));

	if (!ret)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				       SCMP_A2_64(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	return ret;
}

/*
 * process_vm_readv of gmvm itself only: minor faults fill RAM's file from
 * the snapshot's with it, so that a file shrinking underfoot is an error,
 * not SIGBUS. (The sanitizer runtime has it without limits already.)
 */
static int allow_fuzz_helper(scmp_filter_ctx ctx)
{
	/* Spelt out, as in allow_ioctls(). */
	struct scmp_arg_cmp flags = {
		.arg = 0, .op = SCMP_CMP_EQ, .datum_a = FUZZ_HELPER_CLONE_FLAGS, .datum_b = 0,
	};
	struct scmp_arg_cmp pdeathsig = {
		.arg = 0, .op = SCMP_CMP_EQ, .datum_a = PR_SET_PDEATHSIG, .datum_b = 0,
	};
	int ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, flags);

	return ret ? ret : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
					    pdeathsig);
}

static int allow_own_memory_reads(scmp_filter_ctx ctx)
{
#ifdef GMVM_SANITIZERS
	(void)ctx;
	return 0;
#else
	struct scmp_arg_cmp self = {
		.arg = 0, .op = SCMP_CMP_EQ, .datum_a = (uint32_t)getpid(),
	};

	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(process_vm_readv), 1,
				self);
#endif
}

/* The devices' own calls (device_ops.syscalls), each on its own fd. */
static int allow_device_calls(scmp_filter_ctx ctx, const struct device_syscall *calls,
			      unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct scmp_arg_cmp fd = {
			.arg = 0, .op = SCMP_CMP_EQ, .datum_a = (uint32_t)calls[i].fd,
		};
		int ret = calls[i].fd < 0 ?
			  seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i].nr, 0) :
			  seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i].nr, 1, fd);

		if (ret)
			return ret;
	}
	return 0;
}

static int build_filter(scmp_filter_ctx ctx, enum thread_kind kind)
{
	int ret = allow_calls(ctx, common_calls, ARRAY_SIZE(common_calls));

	if (!ret)
		ret = allow_calls(ctx, sanitizer_calls, ARRAY_SIZE(sanitizer_calls));
	if (!ret)
		ret = allow_memory(ctx);
	if (ret)
		return ret;
	switch (kind) {
	case THREAD_MAIN:
		ret = allow_calls(ctx, main_calls, ARRAY_SIZE(main_calls));
		return ret ? ret : allow_ioctls(ctx, main_ioctls, ARRAY_SIZE(main_ioctls));
	case THREAD_VCPU:
		ret = allow_calls(ctx, vcpu_calls, ARRAY_SIZE(vcpu_calls));
		return ret ? ret : allow_ioctls(ctx, vcpu_ioctls, ARRAY_SIZE(vcpu_ioctls));
	case THREAD_UFFD:
		ret = allow_calls(ctx, uffd_calls, ARRAY_SIZE(uffd_calls));
		if (!ret)
			ret = allow_own_memory_reads(ctx);
		return ret ? ret : allow_ioctls(ctx, uffd_ioctls, ARRAY_SIZE(uffd_ioctls));
	case THREAD_WATCH:
		ret = allow_calls(ctx, watch_calls, ARRAY_SIZE(watch_calls));
		return ret ? ret : allow_ioctls(ctx, watch_ioctls, ARRAY_SIZE(watch_ioctls));
	case THREAD_FUZZ:
		ret = allow_calls(ctx, fuzz_calls, ARRAY_SIZE(fuzz_calls));
		if (!ret)
			ret = allow_fuzz_helper(ctx);
		return ret ? ret : allow_ioctls(ctx, fuzz_ioctls, ARRAY_SIZE(fuzz_ioctls));
	}
	return -EINVAL;
}

#ifdef GMVM_TEST_HOOKS
/* Tests: make this kind of thread break its own rules, once it has them. */
static void seccomp_test_hook(enum thread_kind kind)
{
	const char *want = getenv("GMVM_SECCOMP_TEST");
	char buf[1];
	struct iovec iov = { buf, 1 };

	if (want && !strcmp(want, kind_names[kind]))
		syscall(SYS_uname, &(struct utsname){ 0 });
	/* A device's call on an fd not its own. */
	if (want && kind == THREAD_MAIN && !strcmp(want, "main-preadv"))
		syscall(SYS_preadv, 0, &iov, 1, 0, 0);
}
#else
static void seccomp_test_hook(enum thread_kind kind)
{
	(void)kind;
}
#endif

static int seccomp_install_with(enum thread_kind kind, const struct device_syscall *calls,
				unsigned int n, struct err *e)
{
	scmp_filter_ctx ctx;
	int ret;

	thread_label = kind_names[kind];
	if (seccomp_mode == SECCOMP_MODE_OFF)
		return 0;
	ctx = seccomp_init(seccomp_mode == SECCOMP_MODE_KILL ? SCMP_ACT_TRAP :
			   SCMP_ACT_LOG);
	if (!ctx)
		return err_set(e, ENOMEM, "seccomp_init failed");
	ret = build_filter(ctx, kind);
	if (!ret)
		ret = allow_device_calls(ctx, calls, n);
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret)
		return err_set(e, -ret, "cannot install the %s thread's seccomp filter: %s",
			       kind_names[kind], strerror(-ret));
	seccomp_test_hook(kind);
	return 0;
}

int seccomp_install(enum thread_kind kind, struct err *e)
{
	return seccomp_install_with(kind, NULL, 0, e);
}

int seccomp_install_main(const struct device_syscall *calls, unsigned int n,
			 struct err *e)
{
	return seccomp_install_with(THREAD_MAIN, calls, n, e);
}

int uffd_thread_confine(struct err *e)
{
	return seccomp_install(THREAD_UFFD, e);
}

int watch_thread_confine(struct err *e)
{
	return seccomp_install(THREAD_WATCH, e);
}
