// SPDX-License-Identifier: MIT
/*
 * deny_ioctl: run a program with one ioctl request refused, to pretend the
 * host lacks a feature (e.g. KVM_CREATE_GUEST_MEMFD on a host that has it).
 *
 *   deny_ioctl REQUEST[:ERRNO] -- PROGRAM [ARG]...
 *
 * REQUEST is the ioctl request number (0xc040aed4 for KVM_CREATE_GUEST_MEMFD);
 * ERRNO is a number or one of ENOTTY, EINVAL, EOPNOTSUPP, EPERM, ENOSYS
 * (default ENOTTY). A seccomp filter makes every ioctl(fd, REQUEST, ...) of
 * the program and its children fail with that errno; everything else runs
 * as usual.
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const struct {
	const char *name;
	int value;
} errnos[] = {
	{ "ENOTTY", ENOTTY },
	{ "EINVAL", EINVAL },
	{ "EOPNOTSUPP", EOPNOTSUPP },
	{ "EPERM", EPERM },
	{ "ENOSYS", ENOSYS },
};

static void usage(void)
{
	fputs("Usage: deny_ioctl REQUEST[:ERRNO] -- PROGRAM [ARG]...\n", stderr);
	exit(2);
}

static int parse_errno(const char *s)
{
	char *end;
	long v;

	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(s, errnos[i].name))
			return errnos[i].value;
	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *end || end == s || v <= 0 || v > 4095) {
		fprintf(stderr, "deny_ioctl: bad errno '%s'\n", s);
		exit(2);
	}
	return (int)v;
}

int main(int argc, char **argv)
{
	unsigned long long request;
	int err = ENOTTY, ret;
	char *spec, *colon, *end;
	scmp_filter_ctx ctx;

	if (argc < 4 || strcmp(argv[2], "--"))
		usage();
	spec = argv[1];
	colon = strchr(spec, ':');
	if (colon) {
		*colon = '\0';
		err = parse_errno(colon + 1);
	}
	errno = 0;
	request = strtoull(spec, &end, 0);
	if (errno || *end || end == spec || request > 0xffffffffull) {
		fprintf(stderr, "deny_ioctl: bad ioctl request '%s'\n", spec);
		return 2;
	}

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		fputs("deny_ioctl: seccomp_init failed\n", stderr);
		return 2;
	}
	/* The kernel compares the request as an unsigned int: mask the upper half. */
	ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), SCMP_SYS(ioctl), 1,
			       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffull, request));
	if (!ret)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret) {
		fprintf(stderr, "deny_ioctl: cannot install the seccomp filter: %s\n",
			strerror(-ret));
		return 2;
	}
	execvp(argv[3], argv + 3);
	fprintf(stderr, "deny_ioctl: %s: %s\n", argv[3], strerror(errno));
	return 127;
}
