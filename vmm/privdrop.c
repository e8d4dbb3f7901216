// SPDX-License-Identifier: MIT
/*
 * Dropping privileges once /dev/kvm, images, disks, taps and sockets are
 * open, before any other thread exists (capabilities are per thread, and a
 * thread's seccomp filter would refuse the set*id calls glibc broadcasts):
 * chroot if asked, then the group and user if asked, then every capability
 * in every set, and no_new_privs.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

static int privdrop_chroot(const char *dir, struct err *e)
{
	if (chdir(dir) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return err_set(e, errno, "--chroot %s: %s", dir, strerror(errno));
	return 0;
}

static int privdrop_ids(const struct privdrop *p, struct err *e)
{
	if (p->set_gid) {
		if (setgroups(0, NULL) < 0)
			return err_set(e, errno, "setgroups: %s", strerror(errno));
		if (setresgid(p->gid, p->gid, p->gid) < 0)
			return err_set(e, errno, "--gid %u: %s", (unsigned int)p->gid,
				       strerror(errno));
	}
	if (p->set_uid && setresuid(p->uid, p->uid, p->uid) < 0)
		return err_set(e, errno, "--uid %u: %s", (unsigned int)p->uid,
			       strerror(errno));
	return 0;
}

/*
 * Empty the bounding and ambient sets. Needs CAP_SETPCAP, so before the
 * user changes; an unprivileged gmvm has nothing there to drop.
 */
static int privdrop_bounding(struct err *e)
{
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL &&
		    errno != EPERM)
			return err_set(e, errno, "PR_CAPBSET_DROP: %s", strerror(errno));
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	return 0;
}

/* Empty the effective, permitted and inheritable sets. */
static int privdrop_caps(struct err *e)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };

	if (syscall(SYS_capset, &hdr, data) < 0)
		return err_set(e, errno, "capset: %s", strerror(errno));
	return 0;
}

int privdrop_apply(const struct privdrop *p, struct err *e)
{
	int ret = 0;

	if (p->chroot_dir)
		ret = privdrop_chroot(p->chroot_dir, e);
	if (!ret)
		ret = privdrop_bounding(e);
	if (!ret)
		ret = privdrop_ids(p, e);
	if (!ret)
		ret = privdrop_caps(e);
	if (!ret && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		ret = err_set(e, errno, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if (!ret)
		log_debug("privileges dropped%s%s", p->chroot_dir ? ", chrooted" : "",
			  p->set_uid ? ", user changed" : "");
	return ret;
}
