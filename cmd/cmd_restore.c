// SPDX-License-Identifier: MIT
/*
 * `gmvm restore`: a VM from a snapshot directory. The restore strategy is
 * probed, not assumed: lazy (a uffd thread serves guest RAM from the memory
 * file on first touch) when this host can register the chosen backend's
 * memory with userfaultfd, else eager (the file is copied in before any
 * vCPU runs). An explicit --restore lazy the host cannot honour is refused.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "sandbox.h"
#include "restore.h"
#include "snapshot.h"
#include "uffd.h"
#include "vm.h"

/* With the devices' options where the %s is (dev_options_help). */
static const char restore_usage[] =
	"Usage: gmvm restore --snapshot DIR [OPTION]...\n"
	"Resume a VM from a snapshot directory made by `gmvm snapshot` or\n"
	"--snapshot-on-request.\n"
	"\n"
	"  -s, --snapshot DIR         the snapshot (vmstate and memory files)\n"
	"      --restore MODE         lazy: guest RAM is served on first touch by a\n"
	"                             userfaultfd thread; eager: copied in first;\n"
	"                             file: a private copy-on-write mapping of the\n"
	"                             memory file (pages read stay shared with\n"
	"                             other clones); auto (default): lazy where the\n"
	"                             host can register the backend's memory, else\n"
	"                             file, else eager\n"
	"      --memory-backend NAME  gmem, memfd or anon (default: the snapshot's;\n"
	"                             memfd for a gmem one where the host has none)\n"
	"      --uffd-mode MODE       lazy: missing (UFFDIO_COPY on first touch) or\n"
	"                             minor (fill the backing file in the background,\n"
	"                             UFFDIO_CONTINUE on touch; shared backends);\n"
	"                             auto (default): missing, or minor where only\n"
	"                             that registers\n"
	"      --fault-around N       pages filled per fault, a power of two up to 512\n"
	"                             (default 16)\n"
	"      --no-background        lazy: fill only what the guest touches\n"
	"      --record-working-set   lazy: write the order of faulted pages to\n"
	"                             DIR/workingset at exit (implies --no-background)\n"
	"      --prefetch             lazy: fill DIR/workingset's pages first;\n"
	"                             file: read them ahead\n"
	"      --uffd-socket SOCK     lazy: hand the userfaultfd and the memory layout\n"
	"                             to an external handler listening on SOCK\n"
	"%s"	/* the devices' options */
	"      --recorded-resources   reopen the disks and taps the snapshot recorded\n"
	"                             instead (one VM of that snapshot at a time)\n"
	"      --verify               check guest RAM against the snapshot's memory\n"
	"                             checksums before any vCPU runs (an eager\n"
	"                             restore: auto picks it, lazy is refused)\n"
	"      --fault-timeout SECONDS\n"
	"                             lazy: a fault on guest RAM not served within\n"
	"                             SECONDS (1 to 3600, default 10) ends gmvm with\n"
	"                             status 1, naming it\n"
	"      --control SOCK         serve control requests on the UNIX socket SOCK\n"
	"      --stats FILE           write statistics as JSON to FILE at exit\n"
	"      --console MODE         where stdin/stdout go: serial, virtio (a VM that\n"
	"                             has a virtio console) or none; default: the\n"
	"                             console the snapshot's guest used\n"
	"      --seccomp MODE         kill (default), log or off, as for gmvm run\n"
	"      --chroot DIR, --uid UID, --gid GID\n"
	"                             drop privileges as for gmvm run\n"
	"      --async-teardown       exit before the VM is torn down, as for gmvm run\n"
	"  -v, --verbose              more messages; twice for debugging\n"
	"  -q, --quiet                only warnings and errors\n"
	"  -h, --help                 show this help\n"
	"\n"
	"Exit status as for gmvm run; 2 also when the snapshot is damaged or does\n"
	"not fit the options.\n";

enum {
	OPT_RESTORE = OPT_COMMON_END,
	OPT_FAULT_AROUND,
	OPT_NO_BACKGROUND,
	OPT_RECORD,
	OPT_PREFETCH,
	OPT_UFFD_SOCKET,
	OPT_UFFD_MODE,
	OPT_FAULT_TIMEOUT,
	OPT_RECORDED,
	OPT_VERIFY,
	OPT_DEVICE,		/* the devices' options from here on */
};

static const struct option restore_options[] = {
	{ "snapshot", required_argument, NULL, 's' },
	{ "restore", required_argument, NULL, OPT_RESTORE },
	{ "fault-around", required_argument, NULL, OPT_FAULT_AROUND },
	{ "no-background", no_argument, NULL, OPT_NO_BACKGROUND },
	{ "record-working-set", no_argument, NULL, OPT_RECORD },
	{ "prefetch", no_argument, NULL, OPT_PREFETCH },
	{ "uffd-socket", required_argument, NULL, OPT_UFFD_SOCKET },
	{ "uffd-mode", required_argument, NULL, OPT_UFFD_MODE },
	{ "fault-timeout", required_argument, NULL, OPT_FAULT_TIMEOUT },
	{ "recorded-resources", no_argument, NULL, OPT_RECORDED },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	CLI_COMMON_OPTIONS,
};

static int parse_fault_around(const char *arg, unsigned int *out, struct err *e)
{
	unsigned long n;

	if (parse_uint(arg, 1, 512, &n, e))
		return err_prefix(e, "--fault-around");
	if (n & (n - 1))
		return err_set(e, EINVAL, "--fault-around: %lu is not a power of two", n);
	*out = n;
	return 0;
}

static int restore_option(void *ctx, int opt, char *arg, struct err *e)
{
	static const char *const modes[] = { "auto", "lazy", "eager", "file" };
	static const char *const uffd_modes[] = { "auto", "missing", "minor" };
	struct restore_opts *o = ctx;
	unsigned long n;
	int i;

	switch (opt) {
	case 's':
		o->dir = arg;
		return 0;
	case OPT_RESTORE:
		/* In the order of enum restore_mode. */
		i = parse_choice("--restore", "mode", arg, modes, ARRAY_SIZE(modes), e);
		o->mode = i < 0 ? o->mode : (enum restore_mode)i;
		return i < 0 ? i : 0;
	case OPT_UFFD_MODE:
		/* In the order of enum restore_uffd_mode. */
		i = parse_choice("--uffd-mode", "mode", arg, uffd_modes,
				 ARRAY_SIZE(uffd_modes), e);
		o->uffd_mode = i < 0 ? o->uffd_mode : (enum restore_uffd_mode)i;
		return i < 0 ? i : 0;
	case OPT_FAULT_AROUND:
		return parse_fault_around(arg, &o->fault_around, e);
	case OPT_NO_BACKGROUND:
		o->no_background = true;
		return 0;
	case OPT_RECORD:
		o->record = true;
		return 0;
	case OPT_PREFETCH:
		o->prefetch = true;
		return 0;
	case OPT_UFFD_SOCKET:
		o->uffd_socket = arg;
		return 0;
	case OPT_RECORDED:
		o->recorded_resources = true;
		return 0;
	case OPT_VERIFY:
		o->verify = true;
		return 0;
	case OPT_FAULT_TIMEOUT:
		if (parse_uint(arg, 1, VM_FAULT_TIMEOUT_MAX_S, &n, e))
			return err_prefix(e, "--fault-timeout");
		o->fault_timeout_ns = n * 1000000000ull;
		return 0;
	default:
		if (opt >= OPT_DEVICE) {
			const char *name = dev_option_name(opt - OPT_DEVICE, true);

			if (!o->resource_option)
				o->resource_option = name;
			return dev_config_option(&o->given, name, arg, true, e);
		}
		return cli_common_option(&o->common, opt, arg, e);
	}
}

/* Options that cannot go together, whatever the snapshot. */
static int restore_check_opts(const struct restore_opts *o, struct err *e)
{
	bool file = o->mode == RESTORE_MODE_FILE;
	bool needs_lazy = (o->prefetch && !file) || o->record || o->uffd_socket;

	if (!o->dir)
		return err_set(e, EINVAL, "--snapshot is required");
	if (file && (o->record || o->uffd_socket || o->uffd_mode != RESTORE_UFFD_AUTO ||
		     o->no_background))
		return err_set(e, EINVAL, "--restore file maps guest RAM from the memory file, with no userfaultfd: %s does not apply",
			       o->record ? "--record-working-set" : o->uffd_socket ?
			       "--uffd-socket" : o->uffd_mode != RESTORE_UFFD_AUTO ?
			       "--uffd-mode" : "--no-background");
	if (file && o->common.backend)
		return err_set(e, EINVAL, "--restore file maps guest RAM from the memory file: --memory-backend %s does not apply",
			       o->common.backend->name);
	/* A lazy restore brings RAM in after the guest starts: nothing to check. */
	if (o->verify && (needs_lazy || o->mode == RESTORE_MODE_LAZY ||
			  o->uffd_mode != RESTORE_UFFD_AUTO))
		return err_set(e, EINVAL, "--verify checks all of guest RAM before the guest runs, which needs an eager restore: %s asks for a lazy one",
			       o->mode == RESTORE_MODE_LAZY ? "--restore lazy" :
			       o->prefetch ? "--prefetch" : o->record ? "--record-working-set" :
			       o->uffd_socket ? "--uffd-socket" : "--uffd-mode");
	if (needs_lazy && o->mode == RESTORE_MODE_EAGER)
		return err_set(e, EINVAL, "%s needs a lazy restore, not --restore eager",
			       o->prefetch ? "--prefetch" : o->record ?
			       "--record-working-set" : "--uffd-socket");
	if (o->uffd_socket && (o->prefetch || o->record))
		return err_set(e, EINVAL, "with --uffd-socket the external handler serves faults: --prefetch and --record-working-set do not apply");
	if (o->uffd_mode == RESTORE_UFFD_MINOR && o->mode == RESTORE_MODE_EAGER)
		return err_set(e, EINVAL, "--uffd-mode minor needs a lazy restore, not --restore eager");
	if (o->uffd_mode == RESTORE_UFFD_MINOR && o->uffd_socket)
		return err_set(e, EINVAL, "--uffd-mode minor does not apply to an external handler (--uffd-socket)");
	if (o->prefetch && o->record)
		return err_set(e, EINVAL, "--prefetch and --record-working-set do not go together");
	if (o->recorded_resources && o->resource_option)
		return err_set(e, EINVAL, "--recorded-resources reopens the snapshot's disks and taps: --%s does not go with it",
			       o->resource_option);
	return 0;
}

static int restore_parse(struct restore_opts *o, int argc, char **argv,
			 struct err *e)
{
	/* Its own options, then the host resources the devices take. */
	int ret = cli_parse_with_devices(argc, argv, ":s:vqh", restore_options,
					 ARRAY_SIZE(restore_options), OPT_DEVICE, true,
					 restore_option, o, e);

	if (ret)
		return ret;
	return restore_check_opts(o, e) ? err_mark(e, ERR_USAGE) : 0;
}

int cmd_restore(int argc, char **argv, struct err *e)
{
	struct restore_opts o = {
		.mode = RESTORE_MODE_AUTO,
		.fault_around = UFFD_DEFAULT_FAULT_AROUND,
		.start_ns = time_now_ns(),
	};
	int ret;

	ret = restore_parse(&o, argc, argv, e);
	if (ret > 0) {
		cli_print_usage(restore_usage, true);
		return 0;
	}
	if (ret < 0)
		return ret;
	if (seccomp_setup(o.common.seccomp, e))
		return err_prefix(e, "seccomp");
	return restore_vm(&o, e);
}
