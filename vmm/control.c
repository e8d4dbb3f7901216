// SPDX-License-Identifier: MIT
/*
 * Control socket server. Each connection buffers bytes up to a newline; a
 * line is one JSON request, parsed with json-c, answered with one JSON line.
 * Lines longer than CONTROL_LINE_MAX, or that are not JSON objects, get an
 * error reply; the connection stays usable.
 *
 * Stuck clients never keep the owner out: with every slot taken, a new
 * connection takes the slot of the one idle longest, which is told so and
 * closed; that is logged at most once a second (log_limit), with how
 * many there were. The socket is the owner's only (mode 0600).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "snapshot.h"
#include "util.h"
#include "vm.h"

#define CONTROL_MAX_CONNS 16

struct control_conn {
	struct event_source src;
	struct control_server *srv;
	uint64_t active_ns;		/* last request or accept */
	char buf[CONTROL_LINE_MAX];
	size_t len;
	bool overflow;			/* dropping the rest of a long line */
};

struct control_server {
	struct vm *vm;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct event_source listen;
	struct control_conn *conns[CONTROL_MAX_CONNS];
	struct log_limit evict_log;
};

static json_object *reply_ok(void)
{
	json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(true));
	return r;
}

static json_object *reply_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static json_object *reply_error(const char *fmt, ...)
{
	json_object *r = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(r, "ok", json_object_new_boolean(false));
	json_object_object_add(r, "error", json_object_new_string(msg));
	return r;
}

static const char *vm_state_name(struct vm *vm)
{
	return vm_is_paused(vm) ? "paused" : "running";
}

static json_object *control_status(struct vm *vm)
{
	json_object *r = reply_ok();

	json_object_object_add(r, "state", json_object_new_string(vm_state_name(vm)));
	json_object_object_add(r, "vcpus", json_object_new_int(vm->nr_vcpus));
	json_object_object_add(r, "memory_bytes", json_object_new_uint64(vm->mem.size));
	json_object_object_add(r, "memory_backend",
			       json_object_new_string(vm->mem.backend->name));
	return r;
}

static json_object *control_snapshot(struct vm *vm, json_object *req)
{
	json_object *dir, *pause_after;
	struct err e = { 0 };
	bool after = false;
	json_object *r;

	if (!json_object_object_get_ex(req, "dir", &dir) ||
	    !json_object_is_type(dir, json_type_string))
		return reply_error("snapshot needs \"dir\", a string");
	if (json_object_object_get_ex(req, "pause_after", &pause_after)) {
		if (!json_object_is_type(pause_after, json_type_boolean))
			return reply_error("\"pause_after\" must be true or false");
		after = json_object_get_boolean(pause_after);
	}
	if (json_object_get_string(dir)[0] != '/')
		return reply_error("\"dir\" must be an absolute path");
	if (vm_snapshot(vm, json_object_get_string(dir), after, &e))
		return reply_error("%s", e.msg);
	log_info("snapshot written to %s", json_object_get_string(dir));
	r = reply_ok();
	json_object_object_add(r, "dir", json_object_new_string(json_object_get_string(dir)));
	json_object_object_add(r, "state", json_object_new_string(vm_state_name(vm)));
	return r;
}

static json_object *control_pause_resume(struct vm *vm, json_object *req)
{
	json_object *cmd, *r;

	json_object_object_get_ex(req, "cmd", &cmd);
	if (!strcmp(json_object_get_string(cmd), "pause"))
		vm_pause(vm);
	else
		vm_resume(vm);
	r = reply_ok();
	json_object_object_add(r, "state", json_object_new_string(vm_state_name(vm)));
	return r;
}

static json_object *control_stats(struct vm *vm, json_object *req)
{
	json_object *r = reply_ok();

	(void)req;
	json_object_object_add(r, "stats", vm_stats_object(vm));
	return r;
}

static json_object *control_stop_vm(struct vm *vm, json_object *req)
{
	(void)req;
	log_info("control: stop requested");
	vm_request_exit(vm, 0);
	return reply_ok();
}

static json_object *control_status_req(struct vm *vm, json_object *req)
{
	(void)req;
	return control_status(vm);
}

/* Every request, as main.c lists the commands. */
static const struct control_cmd {
	const char *name;
	json_object *(*serve)(struct vm *vm, json_object *req);
} control_cmds[] = {
	{ "status", control_status_req },
	{ "pause", control_pause_resume },
	{ "resume", control_pause_resume },
	{ "snapshot", control_snapshot },
	{ "stats", control_stats },
	{ "stop", control_stop_vm },
};

/*
 * A request no entry of the table serves: a device's own ("balloon"),
 * asked of every device; NULL when none knows it.
 */
static json_object *control_device_request(struct vm *vm, const char *cmd,
					   json_object *req)
{
	json_object *r = reply_ok();
	struct err e = { 0 };

	for (unsigned int i = 0; i < vm->nr_devices; i++) {
		struct device *dev = vm->devices[i];
		int ret;

		if (!dev->ops->control)
			continue;
		ret = dev->ops->control(dev, cmd, req, r, &e);
		if (ret > 0)
			continue;
		if (ret < 0) {
			json_object_put(r);
			return reply_error("%s", e.msg);
		}
		return r;
	}
	json_object_put(r);
	/* A kind of device that serves it, but this VM has none. */
	for (unsigned int i = 0; i < device_table_len; i++)
		if (device_table[i]->control_cmd && !strcmp(device_table[i]->control_cmd, cmd))
			return reply_error("%s", device_table[i]->control_missing);
	return NULL;
}

static json_object *control_dispatch(struct vm *vm, json_object *req)
{
	char names[256] = "";
	json_object *cmd, *r;
	const char *c;

	if (!json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "cmd", &cmd) ||
	    !json_object_is_type(cmd, json_type_string))
		return reply_error("a request is a JSON object with a \"cmd\" string");
	c = json_object_get_string(cmd);
	for (size_t i = 0; i < ARRAY_SIZE(control_cmds); i++) {
		if (!strcmp(c, control_cmds[i].name))
			return control_cmds[i].serve(vm, req);
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 i ? ", " : "", control_cmds[i].name);
	}
	r = control_device_request(vm, c, req);
	if (r)
		return r;
	for (unsigned int i = 0; i < device_table_len; i++)
		if (device_table[i]->control_cmd)
			snprintf(names + strlen(names), sizeof(names) - strlen(names),
				 ", %s", device_table[i]->control_cmd);
	return reply_error("unknown request \"%.64s\" (%s)", c, names);
}

static void control_conn_close(struct control_conn *c)
{
	struct control_server *srv = c->srv;

	for (unsigned int i = 0; i < CONTROL_MAX_CONNS; i++)
		if (srv->conns[i] == c)
			srv->conns[i] = NULL;
	event_loop_remove(&srv->vm->loop, &c->src);
	close(c->src.fd);
	free(c);
}

static int control_reply(struct control_conn *c, json_object *r)
{
	const char *text = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(text);
	int ret = 0;

	if (send(c->src.fd, text, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    send(c->src.fd, "\n", 1, MSG_NOSIGNAL) != 1)
		ret = -EIO;
	json_object_put(r);
	return ret;
}

static int control_line(struct control_conn *c, const char *line)
{
	json_object *req = json_tokener_parse(line);
	json_object *r;

	r = req ? control_dispatch(c->srv->vm, req) :
		  reply_error("not JSON: %.64s", line);
	json_object_put(req);
	return control_reply(c, r);
}

/* Serve every complete line in the buffer. */
static int control_lines(struct control_conn *c)
{
	char *nl;

	while ((nl = memchr(c->buf, '\n', c->len))) {
		size_t used = nl - c->buf + 1;
		int ret = 0;

		*nl = '\0';
		if (c->overflow)
			c->overflow = false;
		else if (used > 1)
			ret = control_line(c, c->buf);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		if (ret)
			return ret;
	}
	if (c->len == sizeof(c->buf)) {
		c->len = 0;
		if (!c->overflow &&
		    control_reply(c, reply_error("request longer than %d bytes",
						 CONTROL_LINE_MAX)))
			return -EIO;
		c->overflow = true;
	}
	return 0;
}

static void control_conn_event(struct event_source *src, uint32_t events)
{
	struct control_conn *c = src->opaque;
	ssize_t n;

	(void)events;
	c->active_ns = time_now_ns();
	n = recv(src->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || (c->len += n, control_lines(c)))
		control_conn_close(c);
}

/* Every slot is taken: free the one idle longest. Returns its slot. */
static unsigned int control_evict_idlest(struct control_server *srv)
{
	unsigned int idlest = 0, held;

	for (unsigned int i = 1; i < CONTROL_MAX_CONNS; i++)
		if (srv->conns[i]->active_ns < srv->conns[idlest]->active_ns)
			idlest = i;
	control_reply(srv->conns[idlest],
		      reply_error("closed: %d connections were open and this one was idle longest",
				  CONTROL_MAX_CONNS));
	control_conn_close(srv->conns[idlest]);
	if (log_limit_pass(&srv->evict_log, &held))
		log_warn("control: %u idle connection(s) closed to let new ones in (%d open at most)",
			 held + 1, CONTROL_MAX_CONNS);
	return idlest;
}

static void control_accept(struct event_source *src, uint32_t events)
{
	struct control_server *srv = src->opaque;
	struct control_conn *c;
	unsigned int slot;
	int fd;

	(void)events;
	fd = accept4(src->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	for (slot = 0; slot < CONTROL_MAX_CONNS && srv->conns[slot]; slot++)
		;
	if (slot == CONTROL_MAX_CONNS)
		slot = control_evict_idlest(srv);
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->srv = srv;
	c->active_ns = time_now_ns();
	c->src = (struct event_source){ fd, control_conn_event, c };
	if (event_loop_add(&srv->vm->loop, &c->src, EPOLLIN)) {
		close(fd);
		free(c);
		return;
	}
	srv->conns[slot] = c;
}

static int control_listen(struct vm *vm, const char *path, struct err *e)
{
	struct control_server *srv;
	struct sockaddr_un addr;
	int fd, ret;

	fd = unix_socket(path, "--control", SOCK_NONBLOCK, &addr, e);
	if (fd < 0)
		return fd;
	ret = unix_socket_claim(&addr, "--control", e);
	if (ret) {
		close(fd);
		return ret;
	}
	/* bind() gives the file this mode (less the umask): the owner's only. */
	if (fchmod(fd, 0600) < 0 ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(fd, 8) < 0) {
		ret = err_set(e, errno, "--control %s: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		close(fd);
		unlink(path);
		return err_set(e, ENOMEM, "out of memory");
	}
	srv->vm = vm;
	strcpy(srv->path, path);
	srv->listen = (struct event_source){ fd, control_accept, srv };
	vm->control = srv;
	ret = event_loop_add(&vm->loop, &srv->listen, EPOLLIN);
	return ret ? err_set(e, -ret, "epoll: %s", strerror(-ret)) : 0;
}

int control_start(struct vm *vm, const char *path, struct err *e)
{
	/* A path that cannot be served is the user's to change. */
	return control_listen(vm, path, e) ? err_mark_input(e) : 0;
}

void control_stop(struct vm *vm)
{
	struct control_server *srv = vm->control;

	if (!srv)
		return;
	for (unsigned int i = 0; i < CONTROL_MAX_CONNS; i++)
		if (srv->conns[i])
			control_conn_close(srv->conns[i]);
	event_loop_remove(&vm->loop, &srv->listen);
	close(srv->listen.fd);
	unlink(srv->path);
	free(srv);
	vm->control = NULL;
}
