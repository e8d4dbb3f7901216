// SPDX-License-Identifier: MIT
/*
 * hide_host: run a program on a host that seems to lack some features, so
 * that tests reach gmvm's fallbacks on a host that has them.
 *
 *   hide_host [--hide FEATURE[,FEATURE]...] [--deny-ioctl REQUEST[:ERRNO]]...
 *             -- PROGRAM [ARG]...
 *
 * FEATURE: gmem (no guest_memfd), memory2 (no KVM_SET_USER_MEMORY_REGION2,
 * as on Debian 12's 6.1), uffd-minor (userfaultfd without minor faults, as
 * before 5.13), uffd (no userfaultfd system call), linux-6.1 (gmem,memory2)
 * or none. --deny-ioctl makes ioctl(fd, REQUEST,
 * ...) fail with ERRNO, a number or a name such as ENOTTY (the default) or
 * EINVAL. Bad arguments: exit 2; PROGRAM cannot be run: exit 127.
 *
 * A seccomp filter does it, for the program's threads and children too. This
 * process becomes the program, which so keeps its pid. The filter itself
 * answers what needs only an errno or a 0; what needs the arguments read
 * (uffd-minor) goes to a supervisor by user notification. The supervisor is
 * forked before the filter is loaded, so it is not subject to it, and exits
 * once no task uses the filter any more.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvm_abi.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define HIDE_GMEM (1u << 0)
#define HIDE_MEMORY2 (1u << 1)
#define HIDE_UFFD_MINOR (1u << 2)
#define HIDE_UFFD (1u << 3)

/* Every MINOR feature bit <linux/userfaultfd.h> knows of. */
#define UFFD_MINOR_FEATURES \
	((__u64)UFFD_FEATURE_MINOR_HUGETLBFS | UFFD_FEATURE_MINOR_SHMEM)

/* The kernel compares ioctl requests as unsigned int. */
#define REQ_MASK 0xffffffffull
#define NO_CAP (-1L)

static const struct {
	const char *name;
	unsigned int hide;
} features[] = {
	{ "gmem", HIDE_GMEM }, { "memory2", HIDE_MEMORY2 },
	{ "uffd-minor", HIDE_UFFD_MINOR }, { "uffd", HIDE_UFFD },
	{ "linux-6.1", HIDE_GMEM | HIDE_MEMORY2 }, { "none", 0 },
};

/*
 * ERRNO(0) makes the call return 0 without running it: what a kernel that
 * does not know a capability answers to KVM_CHECK_EXTENSION. Only the
 * hidden capabilities trap; the others are checked as usual.
 */
static const struct {
	unsigned int hide;
	uint32_t action;
	unsigned long long request;
	long cap; /* KVM_CHECK_EXTENSION's argument, or NO_CAP */
} rules[] = {
	{ HIDE_GMEM, SCMP_ACT_ERRNO(0), KVM_CHECK_EXTENSION, KVM_CAP_GUEST_MEMFD },
	{ HIDE_GMEM, SCMP_ACT_ERRNO(0), KVM_CHECK_EXTENSION,
	  KVM_CAP_GUEST_MEMFD_FLAGS },
	{ HIDE_GMEM, SCMP_ACT_ERRNO(ENOTTY), KVM_CREATE_GUEST_MEMFD, NO_CAP },
	{ HIDE_MEMORY2, SCMP_ACT_ERRNO(0), KVM_CHECK_EXTENSION,
	  KVM_CAP_USER_MEMORY2 },
	{ HIDE_MEMORY2, SCMP_ACT_ERRNO(ENOTTY), KVM_SET_USER_MEMORY_REGION2,
	  NO_CAP },
	{ HIDE_UFFD_MINOR, SCMP_ACT_NOTIFY, UFFDIO_API, NO_CAP },
	{ HIDE_UFFD_MINOR, SCMP_ACT_NOTIFY, UFFDIO_REGISTER, NO_CAP },
	{ HIDE_UFFD_MINOR, SCMP_ACT_ERRNO(EINVAL), UFFDIO_CONTINUE, NO_CAP },
};

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("hide_host: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void __attribute__((noreturn)) usage(void)
{
	die("usage: hide_host [--hide FEATURE[,FEATURE]...] [--deny-ioctl REQUEST[:ERRNO]]... -- PROGRAM [ARG]...\n"
	    "FEATURE: gmem, memory2, uffd-minor, uffd, linux-6.1 (gmem,memory2), none");
}

static unsigned int parse_features(char *list)
{
	unsigned int hide = 0;
	char *name, *save;
	size_t i;

	for (name = strtok_r(list, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < ARRAY_LEN(features); i++)
			if (!strcmp(name, features[i].name))
				break;
		if (i == ARRAY_LEN(features))
			die("unknown feature '%s' (gmem, memory2, uffd-minor, uffd, linux-6.1, none)",
			    name);
		hide |= features[i].hide;
	}
	return hide;
}

static int parse_errno(const char *s)
{
	char *end;
	long v;

	for (int i = 1; i < 4096; i++)
		if (strerrorname_np(i) && !strcmp(s, strerrorname_np(i)))
			return i;
	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *end || end == s || v <= 0 || v > 4095)
		die("bad errno '%s'", s);
	return (int)v;
}

static int add_ioctl(scmp_filter_ctx ctx, uint32_t action,
		     unsigned long long request, long cap)
{
	struct scmp_arg_cmp cmp[] = {
		SCMP_A1(SCMP_CMP_MASKED_EQ, REQ_MASK, request),
		SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)cap, 0),
	};

	return seccomp_rule_add_array(ctx, action, SCMP_SYS(ioctl),
				      cap == NO_CAP ? 1 : 2, cmp);
}

static void add_deny(scmp_filter_ctx ctx, char *spec)
{
	unsigned long long request;
	char *colon = strchr(spec, ':'), *end;
	int err = ENOTTY, ret;

	if (colon) {
		*colon = '\0';
		err = parse_errno(colon + 1);
	}
	errno = 0;
	request = strtoull(spec, &end, 0);
	if (errno || *end || end == spec || request > REQ_MASK)
		die("bad ioctl request '%s'", spec);
	ret = add_ioctl(ctx, SCMP_ACT_ERRNO(err), request, NO_CAP);
	if (ret == -EEXIST)
		die("ioctl %#llx is denied twice with different errnos", request);
	if (ret)
		die("cannot deny ioctl %#llx: %s", request, strerror(-ret));
}

static int add_hidden(scmp_filter_ctx ctx, unsigned int hide)
{
	int ret = 0;

	for (size_t i = 0; i < ARRAY_LEN(rules) && !ret; i++)
		if (hide & rules[i].hide)
			ret = add_ioctl(ctx, rules[i].action, rules[i].request,
					rules[i].cap);
	/* gmvm opens /dev/userfaultfd only after EPERM: no need to hide it. */
	if (!ret && (hide & HIDE_UFFD))
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
				       SCMP_SYS(userfaultfd), 0);
	return ret;
}

/* --- The supervisor: answers the notifications of the program's filter */

static void __attribute__((noreturn)) sup_die(const char *what)
{
	fprintf(stderr, "hide_host: supervisor: %s: %s\n", what, strerror(errno));
	_exit(1);
}

/* An internal failure: say so (unless the thread is gone), answer EIO. */
static void sup_fail(int nfd, const struct seccomp_notif *req,
		     struct seccomp_notif_resp *resp, const char *what)
{
	int err = errno;

	if (!seccomp_notify_id_valid(nfd, req->id))
		fprintf(stderr, "hide_host: thread %u: %s: %s (answered EIO)\n",
			req->pid, what, strerror(err));
	resp->error = -EIO;
}

/* Our own copy of the notified thread's file descriptor args[0]. */
static int sup_target_fd(int nfd, const struct seccomp_notif *req)
{
	char path[64], line[128];
	int tgid = 0, pidfd, fd = -1;
	FILE *f;

	/* pidfd_open wants a process; the notification names a thread. */
	snprintf(path, sizeof(path), "/proc/%u/status", req->pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	pidfd = syscall(SYS_pidfd_open, tgid, 0);
	if (pidfd < 0)
		return -1;
	/* The thread still waits, so the Tgid read was its own. */
	if (seccomp_notify_id_valid(nfd, req->id))
		errno = ESRCH;
	else
		fd = syscall(SYS_pidfd_getfd, pidfd, (int)req->data.args[0], 0);
	close(pidfd);
	return fd;
}

/*
 * UFFDIO_API as a kernel before 5.13 answers it: run here on the program's
 * userfaultfd, the MINOR features neither accepted nor reported. A signal
 * handled between the ioctl and our answer restarts the call, which then
 * finds the API done (EINVAL): notifications cannot be atomic, and gmvm's
 * threads that do this get no handled signals.
 */
static void sup_uffdio_api(int nfd, const struct seccomp_notif *req,
			   struct seccomp_notif_resp *resp, int mem)
{
	off_t addr = (off_t)req->data.args[2];
	struct uffdio_api api;
	int fd;

	if (pread(mem, &api, sizeof(api), addr) != sizeof(api)) {
		resp->error = -EFAULT;
		return;
	}
	if (api.features & UFFD_MINOR_FEATURES) {
		/* An unknown feature: the kernel zeroes the struct. */
		memset(&api, 0, sizeof(api));
		resp->error = -EINVAL;
	} else {
		fd = sup_target_fd(nfd, req);
		if (fd < 0) {
			if (errno == EBADF) /* as the kernel would say */
				resp->error = -EBADF;
			else
				sup_fail(nfd, req, resp, "pidfd_getfd");
			return;
		}
		resp->val = ioctl(fd, UFFDIO_API, &api);
		if (resp->val < 0)
			resp->error = -errno;
		close(fd);
		api.features &= ~UFFD_MINOR_FEATURES;
	}
	if (pwrite(mem, &api, sizeof(api), addr) != sizeof(api))
		resp->error = -EFAULT;
}

/*
 * UFFDIO_REGISTER: MINOR mode is refused as unknown, the rest runs as usual
 * (on the struct as it is then, maybe changed since: fine for a test shim,
 * never for a sandbox). Memory we cannot read: the kernel says EFAULT.
 */
static void sup_uffdio_register(const struct seccomp_notif *req,
				struct seccomp_notif_resp *resp, int mem)
{
	struct uffdio_register reg;

	if (pread(mem, &reg, sizeof(reg), (off_t)req->data.args[2]) ==
		    sizeof(reg) && (reg.mode & UFFDIO_REGISTER_MODE_MINOR))
		resp->error = -EINVAL;
	else
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
}

static void sup_answer(int nfd, struct seccomp_notif *req,
		       struct seccomp_notif_resp *resp)
{
	unsigned long long request;
	char path[64];
	int mem;

	/* The kernel wants it zeroed; libseccomp 2.5 does not do it. */
	memset(req, 0, sizeof(*req));
	if (seccomp_notify_receive(nfd, req)) {
		/* ENOENT: the thread went away (a signal) before we looked. */
		if (errno != ENOENT)
			sup_die("seccomp_notify_receive");
		return;
	}
	request = req->data.args[1] & REQ_MASK;
	memset(resp, 0, sizeof(*resp));
	resp->id = req->id;
	resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	if (req->data.nr == __NR_ioctl &&
	    (request == (UFFDIO_API & REQ_MASK) ||
	     request == (UFFDIO_REGISTER & REQ_MASK))) {
		resp->flags = 0;
		snprintf(path, sizeof(path), "/proc/%u/mem", req->pid);
		mem = open(path, O_RDWR | O_CLOEXEC);
		/* Checked after the open: the pid might have been reused. */
		if (mem < 0 || seccomp_notify_id_valid(nfd, req->id))
			sup_fail(nfd, req, resp, "/proc/PID/mem");
		else if (request == (UFFDIO_API & REQ_MASK))
			sup_uffdio_api(nfd, req, resp, mem);
		else
			sup_uffdio_register(req, resp, mem);
		if (mem >= 0)
			close(mem);
	}
	/* This fails only if the thread is gone: nobody to answer. */
	seccomp_notify_respond(nfd, resp);
}

/* One byte, with fd (if >= 0) attached; returns the fd received or -1. */
static int pass_fd(int sock, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u = { 0 };
	char byte = 0;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	if (fd >= 0) {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(fd));
		return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? fd : -1;
	}
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

static void __attribute__((noreturn)) supervise(int sock, pid_t prog)
{
	static const int ignored[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	struct seccomp_notif_resp *resp;
	struct seccomp_notif *req;
	struct pollfd pfd[2];
	pid_t self = getpid();
	int null, fd;

	/* timeout(1) signals the whole group: keep answering while it ends. */
	for (size_t i = 0; i < ARRAY_LEN(ignored); i++)
		signal(ignored[i], SIG_IGN);
	/*
	 * None of the caller's files but stderr, or a shell's $(...) or Bats
	 * (fd 3) would wait for us too; the socket moves to fd 3.
	 */
	fd = fcntl(sock, F_DUPFD_CLOEXEC, 3);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    (fd != 3 && dup2(fd, 3) < 0))
		_exit(1);
	close_range(4, ~0u, 0);
	sock = 3;
	pfd[1].fd = syscall(SYS_pidfd_open, prog, 0);
	pfd[1].events = POLLIN;
	if (pfd[1].fd < 0)
		sup_die("pidfd_open");
	if (write(sock, &self, sizeof(self)) != sizeof(self))
		_exit(1);
	pfd[0].fd = pass_fd(sock, -1);
	pfd[0].events = POLLIN;
	if (pfd[0].fd < 0)
		_exit(0); /* the filter was not loaded: nothing to answer */
	close(sock);
	if (seccomp_notify_alloc(&req, &resp))
		sup_die("seccomp_notify_alloc");
	for (;;) {
		if (poll(pfd, 2, -1) < 0) /* no handlers, so no EINTR */
			sup_die("poll");
		/*
		 * The program is gone (its children may not be): let go of
		 * its stderr, so that whoever reads it sees EOF and reaps it,
		 * which ends the filter's last use.
		 */
		if (pfd[1].revents) {
			dup2(0, 2);
			close(pfd[1].fd);
			pfd[1].fd = -1;
		}
		if (pfd[0].revents & POLLIN)
			sup_answer(pfd[0].fd, req, resp);
		else if (pfd[0].revents)
			_exit(0); /* POLLHUP: no task uses the filter */
	}
}

/*
 * Forked twice, so that it is not the program's child (a program reaping
 * all its children would wait for it); returns our end of its socket.
 */
static int start_supervisor(void)
{
	pid_t prog = getpid(), child, sup;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair: %s", strerror(errno));
	child = fork();
	if (child < 0)
		die("fork: %s", strerror(errno));
	if (!child) {
		close(sv[0]);
		sup = fork();
		if (!sup)
			supervise(sv[1], prog);
		_exit(sup < 0);
	}
	close(sv[1]);
	waitpid(child, NULL, 0);
	if (read(sv[0], &sup, sizeof(sup)) != sizeof(sup))
		die("the supervisor did not start");
	/* Yama's ptrace_scope 1 would keep it out of our memory. */
	prctl(PR_SET_PTRACER, sup, 0, 0, 0);
	return sv[0];
}

int main(int argc, char **argv)
{
	unsigned int hide = 0;
	scmp_filter_ctx ctx;
	int i, ret, sock = -1, nfd;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	/* Other ABIs (i386, x32) pass untouched rather than being killed. */
	if (!ctx || seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW))
		die("seccomp_init failed");
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--hide") && i + 1 < argc)
			hide |= parse_features(argv[++i]);
		else if (!strcmp(argv[i], "--deny-ioctl") && i + 1 < argc)
			add_deny(ctx, argv[++i]);
		else
			usage();
	}
	if (i + 1 >= argc)
		usage();
	ret = add_hidden(ctx, hide);
	if (ret == -EEXIST)
		die("a --deny-ioctl request is also one that --hide answers otherwise");
	if (ret)
		die("cannot build the seccomp filter: %s", strerror(-ret));
	if (hide & HIDE_UFFD_MINOR)
		sock = start_supervisor();
	ret = seccomp_load(ctx);
	if (ret)
		die("cannot install the seccomp filter: %s", strerror(-ret));
	if (sock >= 0) {
		nfd = seccomp_notify_fd(ctx);
		if (nfd < 0 || pass_fd(sock, nfd) < 0)
			die("cannot pass the notification fd to the supervisor");
		close(nfd);
		close(sock);
	}
	seccomp_release(ctx);
	execvp(argv[i + 1], argv + i + 1);
	fprintf(stderr, "hide_host: %s: %s\n", argv[i + 1], strerror(errno));
	return 127;
}
