// SPDX-License-Identifier: MIT
/* Attaching to an existing tap device by name (lib/tuntap.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tuntap.h"

static int tap_attach_error(int errnum, const char *name, struct err *e)
{
	switch (errnum) {
	case EINVAL:
		return err_set(e, errnum, "not a tap device, or a multi-queue one");
	case EBUSY:
		return err_set(e, errnum, "in use by another process");
	case EPERM:
		return err_set(e, errnum, "not allowed to attach to it (owner or group)");
	default:
		return err_set(e, errnum, "TUNSETIFF %s: %s", name, strerror(errnum));
	}
}

/*
 * TUNSETIFF would create a missing tap (gone again when gmvm ends, and
 * connected to nothing), so the name must be there before and still the
 * same device after.
 */
static int tap_attach(int fd, const char *name, int vnet_hdr_len, struct err *e)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	unsigned int index = if_nametoindex(name);

	if (!index)
		return err_set(e, ENODEV, "no such network device (create it first: ip tuntap add dev %s mode tap)",
			       name);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return tap_attach_error(errno, name, e);
	if (if_nametoindex(name) != index)
		return err_set(e, ENODEV, "replaced or removed while being opened");
	if (ioctl(fd, TUNSETVNETHDRSZ, &vnet_hdr_len) < 0)
		return err_set(e, errno, "TUNSETVNETHDRSZ: %s", strerror(errno));
	/* A persistent tap keeps offloads an earlier user turned on. */
	if (ioctl(fd, TUNSETOFFLOAD, 0) < 0)
		return err_set(e, errno, "TUNSETOFFLOAD: %s", strerror(errno));
	return 0;
}

int tap_open(const char *name, int vnet_hdr_len, struct err *e)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return err_set(e, errno, "/dev/net/tun: %s", strerror(errno));
	if (tap_attach(fd, name, vnet_hdr_len, e)) {
		close(fd);
		return -e->errnum;
	}
	return fd;
}

