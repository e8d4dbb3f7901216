// SPDX-License-Identifier: MIT
/* `gmvm caps`: what this host offers and what gmvm would do with it. */
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

int cmd_caps(int argc, char **argv)
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
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(caps_usage, stdout);
			return EXIT_GUEST_OK;
		default:
			log_error("caps: unknown option '%s' (see gmvm caps --help)",
				  argv[optind - 1]);
			return EXIT_BAD_INPUT;
		}
	}
	if (optind < argc) {
		log_error("caps: unexpected argument '%s'", argv[optind]);
		return EXIT_BAD_INPUT;
	}
	caps_probe(&caps);
	if (json)
		return caps_print_json(&caps) ? EXIT_FAILURE_RUNTIME : 0;
	caps_print_text(&caps);
	return EXIT_GUEST_OK;
}
