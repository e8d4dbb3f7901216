// SPDX-License-Identifier: MIT
/* `gmvm run`: boot a kernel in a new VM. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "log.h"
#include "sandbox.h"
#include "uffd.h"
#include "vm.h"

#define DEFAULT_MEMORY (128 * MIB)

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
	"      --boot-timer           report when the guest writes 123 to the boot-timer\n"
	"                             window at 0xc0000000\n"
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
	"      --disk PATH[,ro]       a virtio-blk disk on the raw image PATH (repeat\n"
	"                             for more, up to 8)\n"
	"      --net tap=NAME[,mac=MAC]\n"
	"                             a virtio-net device on the tap NAME (up to 4)\n"
	"      --rng                  a virtio-rng device (entropy from getrandom)\n"
	"      --balloon              a virtio-balloon device\n"
	"      --discovery MODE       how the guest finds virtio-mmio devices: cmdline\n"
	"                             (virtio_mmio.device= added to the command line,\n"
	"                             the default), acpi (LNRO0005 devices in the DSDT)\n"
	"                             or both\n"
	"      --chroot DIR           once everything is open, chroot into DIR\n"
	"      --uid UID, --gid GID   ... and run as this user and group (numbers)\n"
	"      --seccomp MODE         kill (default): a thread that makes a system call\n"
	"                             outside its allowlist dies, taking gmvm with it;\n"
	"                             log: allowed but logged by the kernel; off\n"
	"  -v, --verbose              more messages; twice for debugging\n"
	"  -q, --quiet                only warnings and errors\n"
	"  -h, --help                 show this help\n"
	"  -V, --version              show the version\n"
	"\n"
	"On a terminal, Ctrl-A x ends the VM and Ctrl-A Ctrl-A sends Ctrl-A.\n"
	"Exit status: 0 when the guest powers off or resets; the value it wrote to\n"
	"the debug-exit port 0xf4; 1 on a guest or monitor failure; 2 on bad usage\n"
	"or input; 128+N when stopped by signal N.\n";

/* run_parse() results besides 0 and -errno. */
enum {
	RUN_HELP = 1,
	RUN_VERSION,
};

enum {
	OPT_CPUS = 256,
	OPT_BACKEND,
	OPT_CONSOLE,
	OPT_BOOT_TIMER,
	OPT_SNAPSHOT_ON_REQUEST,
	OPT_THEN,
	OPT_CONTROL,
	OPT_LAZY_LOAD,
	OPT_STATS,
	OPT_RNG,
	OPT_DISCOVERY,
	OPT_DISK,
	OPT_NET,
	OPT_BALLOON,
	OPT_SECCOMP,
	OPT_CHROOT,
	OPT_UID,
	OPT_GID,
};

static const struct option run_options[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "cmdline", required_argument, NULL, 'c' },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "memory", required_argument, NULL, 'm' },
	{ "memory-backend", required_argument, NULL, OPT_BACKEND },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "boot-timer", no_argument, NULL, OPT_BOOT_TIMER },
	{ "snapshot-on-request", required_argument, NULL, OPT_SNAPSHOT_ON_REQUEST },
	{ "then", required_argument, NULL, OPT_THEN },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "lazy-load", no_argument, NULL, OPT_LAZY_LOAD },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "rng", no_argument, NULL, OPT_RNG },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "net", required_argument, NULL, OPT_NET },
	{ "balloon", no_argument, NULL, OPT_BALLOON },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "chroot", required_argument, NULL, OPT_CHROOT },
	{ "uid", required_argument, NULL, OPT_UID },
	{ "gid", required_argument, NULL, OPT_GID },
	{ "discovery", required_argument, NULL, OPT_DISCOVERY },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* What the command line said, beyond the VM's configuration. */
struct run_args {
	struct vm_config *cfg;
	bool then_given;
	enum seccomp_mode seccomp;
};

static int run_option(struct run_args *a, int opt, char *arg,
		      struct err *e)
{
	struct vm_config *cfg = a->cfg;
	unsigned long n;
	int ret;

	switch (opt) {
	case 'k':
		cfg->kernel_path = arg;
		return 0;
	case 'i':
		cfg->initrd_path = arg;
		return 0;
	case 'c':
		cfg->cmdline = arg;
		return 0;
	case OPT_CPUS:
		ret = parse_uint(arg, 1, VM_MAX_VCPUS, &n, e);
		cfg->nr_vcpus = n;
		return ret ? err_prefix(e, "--cpus") : 0;
	case 'm':
		ret = parse_size(arg, MIB, &cfg->mem_size, e);
		return ret ? err_prefix(e, "--memory") : 0;
	case OPT_BACKEND:
		cfg->backend = guest_mem_backend_find(arg);
		if (!cfg->backend)
			return err_set(e, EINVAL, "--memory-backend: unknown backend '%s' (gmem, memfd or anon)",
				       arg);
		return 0;
	case OPT_CONSOLE:
		if (!strcmp(arg, "serial"))
			cfg->console = CONSOLE_SERIAL;
		else if (!strcmp(arg, "none"))
			cfg->console = CONSOLE_NONE;
		else if (!strcmp(arg, "virtio"))
			cfg->console = CONSOLE_VIRTIO;
		else
			return err_set(e, EINVAL, "--console: unknown mode '%s' (serial, virtio or none)",
				       arg);
		cfg->virtio_console = cfg->console == CONSOLE_VIRTIO;
		return 0;
	case OPT_BOOT_TIMER:
		cfg->boot_timer = true;
		return 0;
	case OPT_CONTROL:
		cfg->control_path = arg;
		return 0;
	case OPT_LAZY_LOAD:
		cfg->lazy_load = true;
		return 0;
	case OPT_STATS:
		cfg->stats_path = arg;
		return 0;
	case OPT_RNG:
		cfg->rng = true;
		return 0;
	case OPT_BALLOON:
		cfg->balloon = true;
		return 0;
	case OPT_CHROOT:
	case OPT_UID:
	case OPT_GID:
		return parse_privdrop_option(&cfg->privdrop, opt == OPT_CHROOT ? "chroot" :
					     opt == OPT_UID ? "uid" : "gid", arg, e);
	case OPT_SECCOMP:
		if (seccomp_parse_mode(arg, &a->seccomp))
			return err_set(e, EINVAL, "--seccomp: unknown mode '%s' (kill, log or off)",
				       arg);
		return 0;
	case OPT_DISK:
		if (cfg->nr_disks == VM_MAX_DISKS)
			return err_set(e, EINVAL, "--disk: at most %d disks", VM_MAX_DISKS);
		if (parse_disk_spec(arg, &cfg->disks[cfg->nr_disks], e))
			return err_prefix(e, "--disk %s", arg);
		cfg->nr_disks++;
		return 0;
	case OPT_NET:
		if (cfg->nr_nets == VM_MAX_NETS)
			return err_set(e, EINVAL, "--net: at most %d network devices", VM_MAX_NETS);
		if (parse_net_spec(arg, &cfg->nets[cfg->nr_nets], e))
			return err_prefix(e, "--net %s", arg);
		cfg->nr_nets++;
		return 0;
	case OPT_DISCOVERY:
		if (!strcmp(arg, "cmdline"))
			cfg->discovery = DISCOVERY_CMDLINE;
		else if (!strcmp(arg, "acpi"))
			cfg->discovery = DISCOVERY_ACPI;
		else if (!strcmp(arg, "both"))
			cfg->discovery = DISCOVERY_BOTH;
		else
			return err_set(e, EINVAL, "--discovery: unknown mode '%s' (cmdline, acpi or both)",
				       arg);
		return 0;
	case OPT_SNAPSHOT_ON_REQUEST:
		cfg->snapshot_dir = arg;
		return 0;
	case OPT_THEN:
		if (!strcmp(arg, "stop"))
			cfg->snapshot_then_stop = true;
		else if (!strcmp(arg, "continue"))
			cfg->snapshot_then_stop = false;
		else
			return err_set(e, EINVAL, "--then: unknown action '%s' (stop or continue)",
				       arg);
		a->then_given = true;
		return 0;
	case 'v':
		log_set_level(log_get_level() < LOG_DEBUG ?
			      log_get_level() + 1 : LOG_DEBUG);
		return 0;
	case 'q':
		log_set_level(LOG_WARN);
		return 0;
	default:
		return err_set(e, EINVAL, "unknown option");
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

static int run_parse(struct vm_config *cfg, int argc, char **argv,
		     struct err *e)
{
	struct run_args a = { .cfg = cfg, .seccomp = SECCOMP_MODE_KILL };
	int opt, ret;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":k:i:c:m:vqhV", run_options,
				  NULL)) != -1) {
		if (opt == 'h')
			return RUN_HELP;
		if (opt == 'V')
			return RUN_VERSION;
		if (opt == '?')
			return err_set(e, EINVAL, "unknown option '%s'",
				       argv[optind - 1]);
		if (opt == ':')
			return err_set(e, EINVAL, "option '%s' needs a value",
				       argv[optind - 1]);
		ret = run_option(&a, opt, optarg, e);
		if (ret)
			return ret;
	}
	if (optind < argc)
		return err_set(e, EINVAL, "unexpected argument '%s'", argv[optind]);
	if (!cfg->kernel_path)
		return err_set(e, EINVAL, "--kernel is required");
	if (a.then_given && !cfg->snapshot_dir)
		return err_set(e, EINVAL, "--then needs --snapshot-on-request");
	if (seccomp_setup(a.seccomp, e))
		return -EINVAL;
	return run_check_memory(cfg->mem_size, e);
}

static int run_map_files(struct vm_config *cfg, struct err *e)
{
	if (boot_map_file(cfg->kernel_path, &cfg->kernel, &cfg->kernel_len, e))
		return err_prefix(e, "kernel %s", cfg->kernel_path);
	if (cfg->initrd_path &&
	    boot_map_file(cfg->initrd_path, &cfg->initrd, &cfg->initrd_len, e))
		return err_prefix(e, "initrd %s", cfg->initrd_path);
	return 0;
}

static void run_unmap_files(struct vm_config *cfg)
{
	boot_unmap_file(cfg->kernel, cfg->kernel_len);
	boot_unmap_file(cfg->initrd, cfg->initrd_len);
	cfg->kernel = cfg->initrd = NULL;
}

static void run_finish(struct vm *vm, int stats_fd)
{
	struct err e = { 0 };

	if (stats_fd >= 0 && vm_stats_write(vm, stats_fd, &e))
		log_error("%s", e.msg);
	if (stats_fd >= 0)
		close(stats_fd);
	uffd_handler_stop(vm->uffd);
	vm->uffd = NULL;
	vm_destroy(vm);
}

/* Returns the exit status. */
static int run_vm(struct vm_config *cfg)
{
	struct boot_image img;
	struct err e = { 0 };
	struct vm vm;
	int status = EXIT_FAILURE_RUNTIME, stats_fd = -1;

	if (vm_create(&vm, cfg, &e))
		goto fail;
	if (vm_check_config(&vm, cfg, &e) ||
	    (cfg->control_path && control_start(&vm, cfg->control_path, &e))) {
		status = EXIT_BAD_INPUT;
		goto fail;
	}
	/* Devices first: the command line and tables name them. */
	if (vm_create_memory(&vm, cfg, &e))
		goto fail;
	if (vm_setup_devices(&vm, cfg, &e)) {
		status = vm_setup_failure_status(&e);
		goto fail;
	}
	if (vm_load_kernel(&vm, cfg, &img, &e) ||
	    (cfg->lazy_load && vm_start_lazy_load(&vm, cfg, &img, &e))) {
		status = EXIT_BAD_INPUT;
		goto fail;
	}
	/* Lazy loading serves pages from the files for the VM's life. */
	if (!cfg->lazy_load)
		run_unmap_files(cfg);
	if (vm_create_vcpus(&vm, cfg, &e) || vm_set_boot_cpu(&vm, &img, &e))
		goto fail;
	if (cfg->stats_path && (stats_fd = vm_stats_open(cfg->stats_path, &e)) < 0) {
		status = EXIT_BAD_INPUT;
		goto fail;
	}
	status = vm_run(&vm);
	run_finish(&vm, stats_fd);
	return status;
fail:
	log_error("%s", e.msg);
	run_finish(&vm, stats_fd);
	return status;
}

int cmd_run(int argc, char **argv)
{
	struct vm_config cfg = {
		.cmdline = "",
		.nr_vcpus = 1,
		.mem_size = DEFAULT_MEMORY,
		.console = CONSOLE_SERIAL,
		.start_ns = time_now_ns(),
	};
	struct err e = { 0 };
	int ret, status;

	ret = run_parse(&cfg, argc, argv, &e);
	if (ret == RUN_HELP) {
		fputs(run_usage, stdout);
		return EXIT_GUEST_OK;
	}
	if (ret == RUN_VERSION) {
		printf("gmvm %s\n", gmvm_version);
		return EXIT_GUEST_OK;
	}
	if (ret < 0) {
		log_error("run: %s (see gmvm run --help)", e.msg);
		return EXIT_BAD_INPUT;
	}
	if (run_map_files(&cfg, &e)) {
		log_error("%s", e.msg);
		status = EXIT_BAD_INPUT;
	} else {
		status = run_vm(&cfg);
	}
	run_unmap_files(&cfg);
	return status;
}
