// SPDX-License-Identifier: MIT
/* The privilege-drop options of run and restore. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "sandbox.h"

int parse_privdrop_option(struct privdrop *p, const char *name,
			  const char *arg, struct err *e)
{
	unsigned long id;

	if (!strcmp(name, "chroot")) {
		struct stat st;

		if (arg[0] != '/')
			return err_set(e, EINVAL, "--chroot %s: must be an absolute path", arg);
		/* Found out now, not once the VM is built. */
		if (stat(arg, &st) < 0)
			return err_set(e, errno, "--chroot %s: %s", arg, strerror(errno));
		if (!S_ISDIR(st.st_mode))
			return err_set(e, ENOTDIR, "--chroot %s: not a directory", arg);
		p->chroot_dir = arg;
		return 0;
	}
	/* (uid_t)-1 means "leave unchanged" to the kernel: refuse it. */
	if (parse_uint(arg, 0, 0xfffffffeul, &id, e))
		return err_prefix(e, "--%s", name);
	if (!strcmp(name, "uid")) {
		p->uid = id;
		p->set_uid = true;
	} else {
		p->gid = id;
		p->set_gid = true;
	}
	return 0;
}
