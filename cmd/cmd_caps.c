// SPDX-License-Identifier: MIT
/* `gmvm caps`: what this host offers and what gmvm would do with it. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "caps.h"
#include "cli.h"
#include "log.h"

static const char caps_usage[] =
	"Usage: gmvm caps [--json]\n"
	"Probe this host by trying things (create a VM, a guest_memfd, map it,\n"
	"register it with userfaultfd) and print what it offers and which restore\n"
	"strategy each memory backend would get.\n"
	"\n"
	"      --json     one JSON object instead of text\n"
	"  -h, --help     show this help\n";

int cmd_caps(int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct host_caps caps;
	bool json = false;
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(caps_usage, stdout);
			return 0;
		}
		if (opt != 'j') {
			err_set(e, EINVAL, "unknown option '%s'", argv[optind - 1]);
			return err_mark(e, ERR_USAGE);
		}
		json = true;
	}
	if (optind < argc) {
		err_set(e, EINVAL, "unexpected argument '%s'", argv[optind]);
		return err_mark(e, ERR_USAGE);
	}
	caps_probe(&caps);
	if (!json) {
		caps_print_text(&caps);
		return 0;
	}
	if (caps_print_json(&caps))
		return err_set(e, EIO, "caps: cannot write the JSON object");
	return 0;
}
