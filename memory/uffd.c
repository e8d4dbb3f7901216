// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest_mem.h"
#include "uffd.h"

#define USERFAULTFD_DEV "/dev/userfaultfd"

/* A bare userfaultfd, API not yet negotiated. */
static int uffd_create(struct err *e)
{
	int fd, dev;

	fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0)
		return fd;
	if (errno != EPERM)
		return err_set(e, errno, "userfaultfd: %s", strerror(errno));
	/*
	 * Without CAP_SYS_PTRACE and vm.unprivileged_userfaultfd, the device
	 * node grants faults from kernel mode (KVM's) to whoever may open it.
	 */
	dev = open(USERFAULTFD_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return err_set(e, EPERM,
			       "userfaultfd is not permitted, and %s cannot be opened: %s",
			       USERFAULTFD_DEV, strerror(errno));
	fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
	close(dev);
	if (fd < 0)
		return err_set(e, errno, "%s: USERFAULTFD_IOC_NEW: %s",
			       USERFAULTFD_DEV, strerror(errno));
	return fd;
}

static int uffd_api(int fd, uint64_t features, uint64_t *got, struct err *e)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };

	if (ioctl(fd, UFFDIO_API, &api) < 0)
		return err_set(e, errno, "UFFDIO_API (features %#llx): %s",
			       (unsigned long long)features, strerror(errno));
	*got = api.features;
	return 0;
}

int uffd_supported_features(uint64_t *features, struct err *e)
{
	int fd = uffd_create(e);
	int ret;

	if (fd < 0)
		return fd;
	/* With no features asked for, the kernel reports all it has. */
	ret = uffd_api(fd, 0, features, e);
	close(fd);
	return ret;
}

bool uffd_available(void)
{
	struct err e = { 0 };
	uint64_t features;

	return uffd_supported_features(&features, &e) == 0;
}

int uffd_open(uint64_t wanted, uint64_t *features, struct err *e)
{
	uint64_t supported;
	int fd, ret;

	ret = uffd_supported_features(&supported, e);
	if (ret)
		return ret;
	fd = uffd_create(e);
	if (fd < 0)
		return fd;
	/* The kernel answers with all it has, not what was enabled. */
	ret = uffd_api(fd, wanted & supported, &supported, e);
	if (ret) {
		close(fd);
		return ret;
	}
	*features = wanted & supported;
	return fd;
}

int uffd_register(int uffd, void *addr, uint64_t len, uint64_t mode,
		  uint64_t *ioctls)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = mode,
	};

	if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0)
		return -errno;
	if (ioctls)
		*ioctls = reg.ioctls;
	return 0;
}

bool uffd_probe_mem(const struct guest_mem *mem, bool minor, char *why,
		    size_t len)
{
	uint64_t mode = UFFDIO_REGISTER_MODE_MISSING |
			(minor ? UFFDIO_REGISTER_MODE_MINOR : 0);
	const char *what = minor ? "MISSING|MINOR" : "MISSING";
	uint64_t features;
	struct err e = { 0 };
	int uffd, ret;

	uffd = uffd_open(UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_MINOR_SHMEM,
			 &features, &e);
	if (uffd < 0) {
		snprintf(why, len, "%.200s", e.msg);
		return false;
	}
	/* Closing the userfaultfd undoes the registration. */
	ret = uffd_register(uffd, mem->base, mem->size, mode, NULL);
	close(uffd);
	if (ret)
		snprintf(why, len, "userfaultfd cannot register %s memory (%s) here: %s",
			 mem->backend->name, what, strerrorname_np(-ret) ?
			 strerrorname_np(-ret) : strerror(-ret));
	else
		snprintf(why, len, "userfaultfd %s registration works on %s memory",
			 what, mem->backend->name);
	return ret == 0;
}
