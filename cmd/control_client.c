// SPDX-License-Identifier: MIT
/*
 * Clients of a running gmvm's control socket: `gmvm pause|resume|snapshot|
 * balloon|stats|status|stop --control SOCK`. Each sends one request line, prints the
 * reply, and exits 0 when the reply says ok, 1 when it does not.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "log.h"
#include "util.h"

#define CONTROL_REPLY_MAX (1 << 20)
#define CONTROL_TIMEOUT_MS 120000

static int control_connect(const char *path, struct err *e)
{
	struct sockaddr_un addr;
	int fd = unix_socket(path, "--control", 0, &addr, e);

	if (fd < 0)
		return fd;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int ret = err_set(e, errno, "--control %s: %s (is gmvm running with --control?)",
				  path, strerror(errno));

		close(fd);
		return ret;
	}
	return fd;
}

static int control_read_line(int fd, char *reply, size_t size, struct err *e)
{
	size_t len = 0;

	while (len + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, CONTROL_TIMEOUT_MS) == 0)
			return err_set(e, ETIMEDOUT, "no reply from gmvm");
		n = recv(fd, reply + len, size - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_set(e, EPIPE, "gmvm closed the connection without a reply");
		len += n;
		reply[len] = '\0';
		if (memchr(reply, '\n', len)) {
			*strchr(reply, '\n') = '\0';
			return 0;
		}
	}
	return err_set(e, E2BIG, "reply longer than %zu bytes", size);
}

int control_request(const char *path, const char *request, char *reply,
		    size_t size, struct err *e)
{
	int fd = control_connect(path, e);
	int ret;

	if (fd < 0)
		return fd;
	ret = write_full(fd, request, strlen(request));
	if (!ret)
		ret = write_full(fd, "\n", 1);
	if (ret)
		ret = err_set(e, -ret, "--control %s: %s", path, strerror(-ret));
	else
		ret = control_read_line(fd, reply, size, e);
	close(fd);
	return ret;
}

static const char client_usage[] =
	"Usage: gmvm status|pause|resume|stats|stop --control SOCK\n"
	"       gmvm snapshot --control SOCK [--pause-after] DIR\n"
	"       gmvm balloon --control SOCK PAGES\n"
	"Send one request to a gmvm serving --control SOCK and print its reply.\n"
	"\n"
	"  -c, --control SOCK   the running gmvm's control socket\n"
	"      --pause-after    snapshot: leave the VM paused afterwards\n"
	"  PAGES                balloon: the balloon's target, in 4 KiB pages\n"
	"  -h, --help           show this help\n"
	"\n"
	"Exit status: 0 when gmvm did it, 1 when it refused or could not be\n"
	"reached, 2 on bad usage.\n";

/* DIR as an absolute path: gmvm's working directory may not be ours. */
static char *absolute_dir(const char *dir)
{
	char cwd[PATH_MAX], *abs;

	if (dir[0] == '/')
		return strdup(dir);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	abs = malloc(strlen(cwd) + strlen(dir) + 2);
	if (abs)
		sprintf(abs, "%s/%s", cwd, dir);
	return abs;
}

/* One request, from the command line. */
struct client_request {
	const char *cmd;
	const char *dir;	/* snapshot */
	bool pause_after;
	bool balloon;
	unsigned long pages;	/* balloon */
};

static char *client_build(const struct client_request *r)
{
	json_object *req = json_object_new_object();
	char *text, *abs = NULL;

	json_object_object_add(req, "cmd", json_object_new_string(r->cmd));
	if (r->dir) {
		abs = absolute_dir(r->dir);
		if (!abs) {
			json_object_put(req);
			return NULL;
		}
		json_object_object_add(req, "dir", json_object_new_string(abs));
		json_object_object_add(req, "pause_after",
				       json_object_new_boolean(r->pause_after));
	}
	if (r->balloon)
		json_object_object_add(req, "pages", json_object_new_int64(r->pages));
	text = strdup(json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(req);
	free(abs);
	return text;
}

/* Print the reply; returns 0, or -EPROTO / -EPERM with e set. */
static int client_report(const char *cmd, const char *reply, struct err *e)
{
	json_object *r = json_tokener_parse(reply), *ok, *err;
	int ret = 0;

	if (!r || !json_object_object_get_ex(r, "ok", &ok)) {
		ret = err_set(e, EPROTO, "%s: gmvm sent something that is not a reply: %.200s",
			      cmd, reply);
	} else if (json_object_get_boolean(ok)) {
		puts(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		json_object_object_get_ex(r, "error", &err);
		ret = err_set(e, EPERM, "%s: %s", cmd,
			      err ? json_object_get_string(err) : "refused");
	}
	json_object_put(r);
	return ret;
}

/* The command line's errors: main names the command. */
static int client_usage_error(struct err *e, const char *what, const char *arg)
{
	if (arg)
		err_set(e, EINVAL, "%s '%s'", what, arg);
	else
		err_set(e, EINVAL, "%s", what);
	return err_mark(e, ERR_USAGE);
}

int cmd_control(int argc, char **argv, struct err *e)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "pause-after", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct client_request r = { .cmd = argv[0],
				    .balloon = !strcmp(argv[0], "balloon") };
	const char *cmd = r.cmd, *path = NULL, *arg = NULL;
	bool snapshot = !strcmp(cmd, "snapshot"), needs_arg = snapshot || r.balloon;
	char *request, *reply;
	int opt, ret;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(client_usage, stdout);
			return 0;
		}
		if (opt == 'c')
			path = optarg;
		else if (opt == 'p' && snapshot)
			r.pause_after = true;
		else
			return client_usage_error(e, "bad option", argv[optind - 1]);
	}
	if (needs_arg && optind < argc)
		arg = argv[optind++];
	if (!path || optind < argc || (needs_arg && !arg))
		return client_usage_error(e,
			!path ? "--control SOCK is required" :
			snapshot && !arg ? "the snapshot directory is required" :
			r.balloon && !arg ? "the number of pages is required" :
			"unexpected argument", NULL);
	if (snapshot)
		r.dir = arg;
	if (r.balloon && parse_uint(arg, 0, UINT32_MAX, &r.pages, e)) {
		err_prefix(e, "pages");
		return err_mark(e, ERR_USAGE);
	}
	request = client_build(&r);
	reply = malloc(CONTROL_REPLY_MAX);
	if (!request || !reply)
		ret = err_set(e, ENOMEM, "%s: out of memory", cmd);
	else if (control_request(path, request, reply, CONTROL_REPLY_MAX, e))
		ret = err_prefix(e, "%s", cmd);
	else
		ret = client_report(cmd, reply, e);
	free(request);
	free(reply);
	return ret;
}
