// SPDX-License-Identifier: MIT
/* gmvm: a small KVM monitor. Subcommand dispatch; the only place that exits. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"

#include "config.h"

#ifdef GMVM_TEST_HOOKS
const char gmvm_version[] = PACKAGE_VERSION " (with test hooks)";
#else
const char gmvm_version[] = PACKAGE_VERSION;
#endif

static const char main_usage[] =
	"Usage: gmvm COMMAND [OPTION]...\n"
	"A small KVM virtual machine monitor with guest_memfd RAM.\n"
	"\n"
	"Commands:\n"
	"  run       boot a kernel in a new VM\n"
	"  restore   resume a VM from a snapshot\n"
	"  inspect   check a snapshot and print what it holds\n"
	"  fuzz      fuzz guest code from a snapshot (AFL++'s forkserver)\n"
	"  status, pause, resume, snapshot, stats, stop, balloon\n"
	"            requests to a running gmvm's --control socket\n"
	"  caps      show what this host offers (KVM, guest_memfd, userfaultfd)\n"
	"  help      show this help\n"
	"  version   show the version\n"
	"\n"
	"'gmvm COMMAND --help' describes each command.\n";

/* Exit statuses (README, "Exit status"); a guest may also choose its own. */
#define EXIT_OK 0
#define EXIT_FAILURE_RUNTIME 1
#define EXIT_BAD_INPUT 2

/* The one place a class of error becomes an exit status. */
static const int exit_status_of[] = {
	[ERR_RUNTIME] = EXIT_FAILURE_RUNTIME,
	[ERR_USAGE] = EXIT_BAD_INPUT,
	[ERR_INPUT] = EXIT_BAD_INPUT,
	[ERR_UNSUPPORTED] = EXIT_BAD_INPUT,
};

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, struct err *e);
} commands[] = {
	{ "run", cmd_run },
	{ "caps", cmd_caps },
	{ "restore", cmd_restore },
	{ "inspect", cmd_inspect },
	{ "fuzz", cmd_fuzz },
	{ "pause", cmd_control },
	{ "resume", cmd_control },
	{ "snapshot", cmd_control },
	{ "stats", cmd_control },
	{ "balloon", cmd_control },
	{ "status", cmd_control },
	{ "stop", cmd_control },
};

static int run_command(unsigned int i, int argc, char **argv)
{
	struct err e = { 0 };
	int status = commands[i].fn(argc, argv, &e);

	if (status >= 0)
		return status;
	if (e.cls == ERR_USAGE)
		log_error("%s: %s (see gmvm %s --help)", argv[0], e.msg, argv[0]);
	else
		log_error("%s", e.msg);
	return exit_status_of[e.cls];
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	/* A closed stdout must surface as EPIPE, not kill the monitor. */
	signal(SIGPIPE, SIG_IGN);
	if (!cmd || !strcmp(cmd, "help") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "-h")) {
		fputs(main_usage, cmd ? stdout : stderr);
		return cmd ? EXIT_OK : EXIT_BAD_INPUT;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version") ||
	    !strcmp(cmd, "-V")) {
		printf("gmvm %s\n", gmvm_version);
		return EXIT_OK;
	}
	for (unsigned int i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return run_command(i, argc - 1, argv + 1);
	log_error("unknown command '%s' (see gmvm --help)", cmd);
	return EXIT_BAD_INPUT;
}
