// SPDX-License-Identifier: MIT
/* `gmvm run`: boot a kernel in a new VM. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "fuzz.h"
#include "control.h"
#include "log.h"
#include "sandbox.h"
#include "uffd.h"
#include "vm.h"

#define DEFAULT_MEMORY (128 * MIB)

/* With the devices' options where the %s is (dev_options_help). */
static const char run_usage[] =
	"Usage: gmvm run --kernel FILE [OPTION]...\n"
	"Boot a kernel in a new VM, its serial console on stdin/stdout.\n"
	"\n"
	"  -k, --kernel FILE          kernel: ELF vmlinux (PVH note or 64-bit entry)\n"
	"                             or bzImage (boot protocol 2.12 or later)\n"
	"  -i, --initrd FILE          initial ramdisk\n"
	"  -c, --cmdline STRING       kernel command line\n"
	"      --cpus N               vCPUs, 1 to 64 (default 1)\n"
	"  -m, --memory SIZE          guest RAM with a K, M, G or T suffix; a bare\n"
	"                             number is MiB (default 128M)\n"
	"      --memory-backend NAME  gmem (guest_memfd), memfd or anon (default: gmem\n"
	"                             where the host offers it, else memfd)\n"
	"      --console MODE         serial (COM1 on stdin/stdout, the default), virtio\n"
	"                             (virtio-console, hvc0, on stdin/stdout) or none\n"
	"      --snapshot-on-request DIR\n"
	"                             when the guest writes to port 0x4f0, write a\n"
	"                             snapshot to DIR (which must not exist)\n"
	"      --then stop|continue   after that snapshot, stop gmvm (status 0) or let\n"
	"                             the guest go on (default: continue)\n"
	"      --control SOCK         serve control requests (pause, resume, snapshot,\n"
	"                             stats, status, stop) on the UNIX socket SOCK\n"
	"      --lazy-load            do not copy the kernel and initrd in: a uffd\n"
	"                             thread serves their pages on first touch\n"
	"                             (memfd and anon memory)\n"
	"      --stats FILE           write statistics as JSON to FILE at exit\n"
	"%s"	/* the devices' options */
	"      --discovery MODE       how the guest finds virtio-mmio devices: cmdline\n"
	"                             (virtio_mmio.device= added to the command line,\n"
	"                             the default), acpi (LNRO0005 devices in the DSDT)\n"
	"                             or both\n"
	"      --chroot DIR           once everything is open, chroot into DIR\n"
	"      --uid UID, --gid GID   ... and run as this user and group (numbers)\n"
	"      --seccomp MODE         kill (default): a thread that makes a system call\n"
	"                             outside its allowlist dies, taking gmvm with it;\n"
	"                             log: allowed but logged by the kernel; off\n"
	"      --async-teardown       report the exit before the kernel has torn the\n"
	"                             VM down and freed its RAM (a helper process\n"
	"                             finishes that after gmvm has exited)\n"
	"  -v, --verbose              more messages; twice for debugging\n"
	"  -q, --quiet                only warnings and errors\n"
	"  -h, --help                 show this help\n"
	"  -V, --version              show the version\n"
	"\n"
	"On a terminal, Ctrl-A x ends the VM and Ctrl-A Ctrl-A sends Ctrl-A.\n"
	"Exit status: 0 when the guest powers off or resets; the value it wrote to\n"
	"the debug-exit port 0xf4; 1 on a guest or monitor failure; 2 on bad usage\n"
	"or input; 128+N when stopped by signal N.\n";

enum {
	OPT_CPUS = OPT_COMMON_END,
	OPT_SNAPSHOT_ON_REQUEST,
	OPT_THEN,
	OPT_LAZY_LOAD,
	OPT_DISCOVERY,
	OPT_DEVICE,		/* the devices' options from here on */
};

static const struct option run_options[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "cmdline", required_argument, NULL, 'c' },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "memory", required_argument, NULL, 'm' },
	{ "snapshot-on-request", required_argument, NULL, OPT_SNAPSHOT_ON_REQUEST },
	{ "then", required_argument, NULL, OPT_THEN },
	{ "lazy-load", no_argument, NULL, OPT_LAZY_LOAD },
	{ "discovery", required_argument, NULL, OPT_DISCOVERY },
	{ "version", no_argument, NULL, 'V' },
	CLI_COMMON_OPTIONS,
};

/* What the command line said, beyond the VM's configuration. */
struct run_args {
	struct vm_config *cfg;
	struct vm_options common;
	bool then_given;
};

/* The options naming a word from a list. */
static int run_choice_option(struct run_args *a, int opt, const char *arg,
			     struct err *e)
{
	/* In the order of enum vm_discovery. */
	static const char *const discovery[] = { "cmdline", "acpi", "both" };
	static const char *const then[] = { "continue", "stop" };
	int i;

	if (opt == OPT_DISCOVERY) {
		i = parse_choice("--discovery", "mode", arg, discovery,
				 ARRAY_SIZE(discovery), e);
		if (i >= 0)
			a->cfg->dev.discovery = (enum vm_discovery)i;
	} else {
		i = parse_choice("--then", "action", arg, then, ARRAY_SIZE(then), e);
		a->cfg->snapshot.then_stop = i == 1;
		a->then_given = true;
	}
	return i < 0 ? i : 0;
}

static int run_option(void *ctx, int opt, char *arg, struct err *e)
{
	struct run_args *a = ctx;
	struct vm_config *cfg = a->cfg;
	unsigned long n;
	int ret;

	switch (opt) {
	case 'k':
		cfg->boot.kernel_path = arg;
		return 0;
	case 'i':
		cfg->boot.initrd_path = arg;
		return 0;
	case 'c':
		cfg->boot.cmdline = arg;
		return 0;
	case OPT_CPUS:
		ret = parse_uint(arg, 1, VM_MAX_VCPUS, &n, e);
		cfg->machine.nr_vcpus = n;
		return ret ? err_prefix(e, "--cpus") : 0;
	case 'm':
		ret = parse_size(arg, MIB, &cfg->machine.mem_size, e);
		return ret ? err_prefix(e, "--memory") : 0;
	case OPT_LAZY_LOAD:
		cfg->boot.lazy_load = true;
		return 0;
	case OPT_DISCOVERY:
	case OPT_THEN:
		return run_choice_option(a, opt, arg, e);
	case OPT_SNAPSHOT_ON_REQUEST:
		cfg->snapshot.dir = arg;
		return 0;
	default:
		if (opt >= OPT_DEVICE)
			return dev_config_option(&cfg->dev, dev_option_name(opt - OPT_DEVICE, false),
						 arg, false, e);
		return cli_common_option(&a->common, opt, arg, e);
	}
}

static int run_check_memory(uint64_t size, struct err *e)
{
	if (size == 0)
		return err_set(e, EINVAL, "--memory must not be 0");
	if (!IS_ALIGNED(size, PAGE_SIZE))
		return err_set(e, EINVAL, "--memory %llu bytes is not a multiple of 4 KiB",
			       (unsigned long long)size);
	if (size < GUEST_MEM_MIN_SIZE)
		return err_set(e, EINVAL, "--memory %llu KiB is below the minimum of %llu MiB",
			       (unsigned long long)(size / KIB),
			       (unsigned long long)(GUEST_MEM_MIN_SIZE / MIB));
	return 0;
}

/* Returns 0, 'h' or 'V' (help or version asked for), or -EINVAL. */
/*
 * --snapshot-on-request DIR is found wanting now, not when the guest asks:
 * DIR must not exist and its parent must be a directory (inside the
 * --chroot directory when there is one: that is where it is written).
 */
static int run_check_snapshot_dir(const char *dir, const char *chroot_dir,
				  struct err *e)
{
	char path[PATH_MAX], *slash;
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s%s", chroot_dir ? chroot_dir : "",
			     dir) >= sizeof(path))
		return err_set(e, ENAMETOOLONG, "--snapshot-on-request %s: name too long", dir);
	if (lstat(path, &st) == 0)
		return err_set(e, EEXIST, "--snapshot-on-request %s: already exists (a snapshot goes into a new directory)",
			       dir);
	slash = strrchr(path, '/');
	if (slash)
		*(slash == path ? slash + 1 : slash) = '\0';
	else
		strcpy(path, ".");
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_set(e, ENOENT, "--snapshot-on-request %s: %s is not a directory it can be made in",
			       dir, path);
	return 0;
}

static int run_parse(struct vm_config *cfg, int argc, char **argv,
		     struct err *e)
{
	struct run_args a = { .cfg = cfg };
	int ret;

	ret = cli_parse_with_devices(argc, argv, ":k:i:c:m:vqhV", run_options,
				     ARRAY_SIZE(run_options), OPT_DEVICE, false,
				     run_option, &a, e);
	if (ret)
		return ret;
	if (!cfg->boot.kernel_path)
		return err_set(e, EINVAL, "--kernel is required");
	if (a.then_given && !cfg->snapshot.dir)
		return err_set(e, EINVAL, "--then needs --snapshot-on-request");
	cfg->machine.backend = a.common.backend;
	cfg->machine.backend_explicit = a.common.backend != NULL;
	cfg->dev.console = a.common.console_given ? a.common.console : CONSOLE_SERIAL;
	cfg->dev.virtio_console = cfg->dev.console == CONSOLE_VIRTIO;
	cfg->control_path = a.common.control;
	cfg->stats_path = a.common.stats;
	cfg->sandbox.privdrop = a.common.privdrop;
	cfg->async_teardown = a.common.async_teardown;
	if (cfg->snapshot.dir &&
	    run_check_snapshot_dir(cfg->snapshot.dir, cfg->sandbox.privdrop.chroot_dir, e))
		return -EINVAL;
	cfg->sandbox.seccomp = a.common.seccomp;
	cfg->dev.snapshot_port = cfg->snapshot.dir != NULL;
	return run_check_memory(cfg->machine.mem_size, e);
}

static int run_map_files(struct vm_config *cfg, struct err *e)
{
	if (boot_map_file(cfg->boot.kernel_path, &cfg->boot.kernel, &cfg->boot.kernel_len, e))
		return err_prefix(e, "kernel %s", cfg->boot.kernel_path);
	if (cfg->boot.initrd_path &&
	    boot_map_file(cfg->boot.initrd_path, &cfg->boot.initrd, &cfg->boot.initrd_len, e))
		return err_prefix(e, "initrd %s", cfg->boot.initrd_path);
	return 0;
}

static void run_unmap_files(struct vm_config *cfg)
{
	boot_unmap_file(cfg->boot.kernel, cfg->boot.kernel_len);
	boot_unmap_file(cfg->boot.initrd, cfg->boot.initrd_len);
	cfg->boot.kernel = cfg->boot.initrd = NULL;
}

/* Write the stats, tear down; status 1 for a failed write (logged), else status. */
static int run_finish(struct vm *vm, int stats_fd, int status)
{
	struct err e = { 0 };

	if (stats_fd >= 0 && vm_stats_write(vm, stats_fd, vm->cfg->stats_path, &e)) {
		log_error("%s", e.msg);
		if (!status)
			status = VM_STATUS_FAILURE;
	}
	if (stats_fd >= 0)
		close(stats_fd);
	vm_stop_fault_service(vm);
	vm_destroy(vm);
	return status;
}

/* The exit status of the run, or -errno with e set and classed. */
static int run_vm(struct vm_config *cfg, struct err *e)
{
	struct boot_image img;
	struct vm vm;
	int stats_fd = -1;

	vm_init(&vm);
	if (vm_create(&vm, cfg, e) || vm_check_config(&vm, cfg, e) ||
	    (cfg->control_path && control_start(&vm, cfg->control_path, e)) ||
	    /* Devices first: the command line and tables name them. */
	    vm_create_memory(&vm, cfg, e) ||
	    (cfg->machine.fuzz && vm_fuzz_boot(&vm, e)) ||
	    vm_setup_devices(&vm, cfg, e) ||
	    vm_load_kernel(&vm, cfg, &img, e) ||
	    (cfg->boot.lazy_load && vm_start_lazy_load(&vm, cfg, &img, e)))
		goto fail;
	/* Lazy loading serves pages from the files for the VM's life. */
	if (!cfg->boot.lazy_load)
		run_unmap_files(cfg);
	if (vm_create_vcpus(&vm, cfg, e) || vm_set_boot_cpu(&vm, &img, e) ||
	    (cfg->stats_path && (stats_fd = vm_stats_open(cfg->stats_path, e)) < 0))
		goto fail;
	return run_finish(&vm, stats_fd, vm_run(&vm));
fail:
	run_finish(&vm, -1, 0);
	return -e->errnum;
}

/*
 * gmvm fuzz -- RUN-OPTIONS: boot as gmvm run would, and snapshot into dir
 * (which the caller checked) where the guest first asks for an input; then
 * stop. Returns the run's exit status or -errno with e set and classed.
 */
int cmd_run_fuzz_boot(int argc, char **argv, const char *dir, struct err *e)
{
	struct vm_config cfg = {
		.boot.cmdline = "",
		.machine.nr_vcpus = 1,
		.machine.mem_size = DEFAULT_MEMORY,
		.machine.fuzz = true,
		.dev.console = CONSOLE_SERIAL,
		.start_ns = time_now_ns(),
	};
	int ret;

	ret = run_parse(&cfg, argc, argv, e);
	if (ret > 0)
		return err_set(e, EINVAL, "after --: the options of gmvm run, without --help or --version");
	if (ret < 0)
		return err_mark(e, ERR_USAGE);
	if (cfg.snapshot.dir) {
		err_set(e, EINVAL, "after --: --snapshot-on-request: gmvm fuzz takes the snapshot itself, into --snapshot");
		return err_mark(e, ERR_USAGE);
	}
	cfg.snapshot.dir = dir;
	cfg.snapshot.then_stop = true;
	/* stdin may be AFL++'s input file: the guest gets none of it. */
	if (cfg.dev.console == CONSOLE_SERIAL)
		cfg.dev.console = CONSOLE_OUTPUT;
	if (seccomp_setup(cfg.sandbox.seccomp, e))
		return err_prefix(e, "seccomp");
	ret = run_map_files(&cfg, e) ? err_mark_input(e) : run_vm(&cfg, e);
	run_unmap_files(&cfg);
	return ret;
}

int cmd_run(int argc, char **argv, struct err *e)
{
	struct vm_config cfg = {
		.boot.cmdline = "",
		.machine.nr_vcpus = 1,
		.machine.mem_size = DEFAULT_MEMORY,
		.dev.console = CONSOLE_SERIAL,
		.start_ns = time_now_ns(),
	};
	int ret;

	ret = run_parse(&cfg, argc, argv, e);
	if (ret == 'h') {
		cli_print_usage(run_usage, false);
		return 0;
	}
	if (ret == 'V') {
		printf("gmvm %s\n", gmvm_version);
		return 0;
	}
	if (ret < 0)
		return err_mark(e, ERR_USAGE);
	if (seccomp_setup(cfg.sandbox.seccomp, e))
		return err_prefix(e, "seccomp");
	ret = run_map_files(&cfg, e) ? err_mark_input(e) : run_vm(&cfg, e);
	run_unmap_files(&cfg);
	return ret;
}
