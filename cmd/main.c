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
	"  status, pause, resume, snapshot, stats, stop, balloon\n"
	"            requests to a running gmvm's --control socket\n"
	"  caps      show what this host offers (KVM, guest_memfd, userfaultfd)\n"
	"  help      show this help\n"
	"  version   show the version\n"
	"\n"
	"'gmvm COMMAND --help' describes each command.\n";

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "run", cmd_run },
	{ "caps", cmd_caps },
	{ "restore", cmd_restore },
	{ "inspect", cmd_inspect },
	{ "pause", cmd_control },
	{ "resume", cmd_control },
	{ "snapshot", cmd_control },
	{ "stats", cmd_control },
	{ "balloon", cmd_control },
	{ "status", cmd_control },
	{ "stop", cmd_control },
};

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	/* A closed stdout must surface as EPIPE, not kill the monitor. */
	signal(SIGPIPE, SIG_IGN);
	if (!cmd || !strcmp(cmd, "help") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "-h")) {
		fputs(main_usage, cmd ? stdout : stderr);
		return cmd ? EXIT_GUEST_OK : EXIT_BAD_INPUT;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version") ||
	    !strcmp(cmd, "-V")) {
		printf("gmvm %s\n", gmvm_version);
		return EXIT_GUEST_OK;
	}
	for (unsigned int i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	log_error("unknown command '%s' (see gmvm --help)", cmd);
	return EXIT_BAD_INPUT;
}
