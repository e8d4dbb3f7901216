// SPDX-License-Identifier: MIT
/*
 * --async-teardown: let gmvm's exit status reach its parent before the
 * kernel has finished tearing the VM down.
 *
 * Closing the last reference to a VM with an in-kernel irqchip costs 7-24
 * ms on the hosts measured (kvm_destroy_vm), and freeing guest RAM costs in
 * proportion to it; both happen in the exiting process, so whoever waits
 * for gmvm waits for them. Here a small process shares gmvm's address
 * space (CLONE_VM) and holds one reference to the VM file: when gmvm
 * exits, its own references go, the waiter is told, and the last ones —
 * the VM, then the memory — are dropped when the helper sees gmvm gone
 * and exits. QEMU's -async-teardown works the same way.
 *
 * The helper keeps nothing but the VM and the read end of a pipe whose
 * write end only gmvm holds (end of file: gmvm has exited, however it
 * ended), blocks every signal it can, and runs in seccomp strict mode
 * (read, write, exit). It touches no shared data: raw system calls only,
 * on its own stack.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "vm.h"

#define TEARDOWN_STACK_SIZE 16384

struct teardown_fds {
	int vm_fd;
	int lifeline;	/* read end of the pipe */
};

static struct teardown_fds teardown_fds;
static uint8_t teardown_stack[TEARDOWN_STACK_SIZE] __attribute__((aligned(16)));

/* close_range() over everything but the two kept descriptors. */
static void teardown_close_others(int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	if (lo > 0)
		syscall(SYS_close_range, 0, lo - 1, 0);
	if (hi > lo + 1)
		syscall(SYS_close_range, lo + 1, hi - 1, 0);
	syscall(SYS_close_range, hi + 1, ~0u, 0);
}

static int teardown_helper(void *arg)
{
	const struct teardown_fds *f = arg;
	uint64_t all = ~0ull;
	char c;

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, sizeof(all));
	teardown_close_others(f->vm_fd, f->lifeline);
	syscall(SYS_prctl, PR_SET_NAME, "gmvm-teardown", 0, 0, 0);
	/*
	 * End of file (or any failure: leaving early only drops this
	 * process's references, gmvm keeps its own) ends the wait.
	 */
	if (syscall(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) == 0)
		while (syscall(SYS_read, f->lifeline, &c, 1) > 0)
			;
	/* The VM, then the address space, go with this exit. */
	syscall(SYS_exit, 0);
	return 0;
}

int vm_async_teardown_start(int vm_fd, struct err *e)
{
	int pipefd[2];
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return err_set(e, errno, "--async-teardown: pipe: %s", strerror(errno));
	teardown_fds = (struct teardown_fds){ vm_fd, pipefd[0] };
	/* No exit signal: gmvm never waits for it; init reaps it. */
	pid = clone(teardown_helper, teardown_stack + sizeof(teardown_stack),
		    CLONE_VM, &teardown_fds);
	close(pipefd[0]);
	if (pid < 0) {
		int err = errno;

		close(pipefd[1]);
		return err_set(e, err, "--async-teardown: cannot start the helper process: %s",
			       strerror(err));
	}
	/* pipefd[1] stays open until gmvm exits: the helper's lifeline. */
	log_debug("async teardown: helper process %d holds the VM", (int)pid);
	return 0;
}
