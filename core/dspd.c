/*
 * dspd: the filtering proxy for the Docker Engine API.  This file starts
 * it: configuration, descriptor limit, listeners, signals, the loop, and
 * the drain that SIGTERM begins.
 */

#include <sys/resource.h>

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dspd.h"

struct daemon	 dspd;

/* Raise the soft descriptor limit to the hard one: each client needs two. */
static void
dspd_raise_nofile(void)
{
	struct rlimit	 rl;
	rlim_t		 was;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit");
		return;
	}
	was = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			log_warn("setrlimit");
			return;
		}
	}
	log_info("descriptor limit %llu (was %llu)",
	    (unsigned long long)rl.rlim_cur, (unsigned long long)was);
}

/* The drain time is over: whatever is left is closed. */
static void
dspd_drain_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	log_info("drain time over, closing %zu connections", dspd.nsessions);
	session_close_all();
	event_base_loopexit(dspd.base, NULL);
}

/*
 * SIGTERM or SIGINT: stop accepting, close idle connections and streams
 * at once, and give finite exchanges the drain time to end.
 */
static void
dspd_signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct timeval	 tv;

	if (dspd.draining) {
		log_info("second signal, closing now");
		session_close_all();
		event_base_loopexit(dspd.base, NULL);
		return;
	}
	log_info("signal %d, draining", (int)sig);
	dspd.draining = 1;
	listener_close_all();
	session_drain_all();
	if (dspd.nsessions == 0) {
		event_base_loopexit(dspd.base, NULL);
		return;
	}
	tv.tv_sec = dspd.config->drain_timeout_ms / 1000;
	tv.tv_usec = (dspd.config->drain_timeout_ms % 1000) * 1000;
	dspd.drain_timer = evtimer_new(dspd.base, dspd_drain_timeout_cb, NULL);
	if (dspd.drain_timer == NULL || evtimer_add(dspd.drain_timer, &tv))
		event_base_loopexit(dspd.base, NULL);
}

/*
 * Become the user of --user, with its own group and at most the one
 * extra group of --group (the engine socket's): nothing else of root's.
 */
static int
dspd_drop_privileges(const struct config *cf, char *err, size_t errlen)
{
	gid_t	 groups[1];
	size_t	 ngroups = 0;

	if (!cf->run_as)
		return (0);
	if (geteuid() != 0) {
		if (cf->run_uid == geteuid() && !cf->run_group_set)
			return (0);
		snprintf(err, errlen, "--user and --group need dspd started "
		    "as root (it runs as uid %u)", (unsigned int)geteuid());
		return (-1);
	}
	if (cf->run_group_set)
		groups[ngroups++] = cf->run_group;
	if (setgroups(ngroups, groups) == -1 ||
	    setresgid(cf->run_gid, cf->run_gid, cf->run_gid) == -1 ||
	    setresuid(cf->run_uid, cf->run_uid, cf->run_uid) == -1) {
		snprintf(err, errlen, "cannot become uid %u gid %u: %s",
		    (unsigned int)cf->run_uid, (unsigned int)cf->run_gid,
		    strerror(errno));
		return (-1);
	}
	/* A process that can take root back has not given it up. */
	if (cf->run_uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		snprintf(err, errlen, "still able to become root after "
		    "switching to uid %u", (unsigned int)cf->run_uid);
		return (-1);
	}
	if (cf->run_group_set)
		log_info("running as uid %u gid %u, extra group %u",
		    (unsigned int)cf->run_uid, (unsigned int)cf->run_gid,
		    (unsigned int)cf->run_group);
	else
		log_info("running as uid %u gid %u, no extra group",
		    (unsigned int)cf->run_uid, (unsigned int)cf->run_gid);
	return (0);
}

int
main(int argc, char **argv)
{
	struct config	 cf;
	struct event	*ev_term, *ev_int;
	char		 err[512];

	if (config_load(&cf, argc, argv) != 0)
		return (1);
	log_init(cf.log_format, cf.use_syslog, cf.log_level);
	/* Before any thread starts: it changes the environment. */
	if (listener_take_passed(err, sizeof(err)) != 0) {
		fprintf(stderr, "dspd: %s\n", err);
		config_free(&cf);
		return (1);
	}
	signal(SIGPIPE, SIG_IGN);
	/* A full disk under a file size limit is the store's error to see. */
	signal(SIGXFSZ, SIG_IGN);
	dspd_raise_nofile();

	memset(&dspd, 0, sizeof(dspd));
	dspd.config = &cf;
	TAILQ_INIT(&dspd.sessions);
	if ((dspd.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	/*
	 * Listeners first, while dspd may still be root (a port below 1024,
	 * a socket in a root-owned folder); then the user of --user opens
	 * the store and the control sockets, so it can reopen them later.
	 */
	if (listener_open_all(dspd.base, &cf) != 0)
		goto fail_listeners;
	if (dspd_drop_privileges(&cf, err, sizeof(err)) != 0) {
		fprintf(stderr, "dspd: %s\n", err);
		goto fail_runtime;
	}
	if (runtime_open(dspd.base, &cf, err, sizeof(err)) != 0) {
		fprintf(stderr, "dspd: %s\n", err);
		goto fail_runtime;
	}
	if (control_open(dspd.base, &cf, err, sizeof(err)) != 0) {
		fprintf(stderr, "dspd: %s\n", err);
		goto fail_control;
	}
	if (metrics_open(dspd.base, &cf, err, sizeof(err)) != 0) {
		fprintf(stderr, "dspd: %s\n", err);
		goto fail_metrics;
	}
	ev_term = evsignal_new(dspd.base, SIGTERM, dspd_signal_cb, NULL);
	ev_int = evsignal_new(dspd.base, SIGINT, dspd_signal_cb, NULL);
	if (ev_term == NULL || ev_int == NULL || evsignal_add(ev_term, NULL) ||
	    evsignal_add(ev_int, NULL))
		fatalx("cannot watch signals");
	log_info("dspd %s forwarding to %s, policy revision %u", DSPD_VERSION,
	    cf.socket_path, cf.policy.revision);
	if (cf.ready_file != NULL && listener_write_ready(cf.ready_file) != 0)
		fatal("ready file %s", cf.ready_file);

	event_base_dispatch(dspd.base);

	session_close_all();
	listener_close_all();
	metrics_close();
	control_close();
	runtime_close();
	if (dspd.drain_timer != NULL)
		event_free(dspd.drain_timer);
	event_free(ev_term);
	event_free(ev_int);
	event_base_free(dspd.base);
	if (cf.ready_file != NULL)
		unlink(cf.ready_file);
	config_free(&cf);
	log_info("exiting");
	return (0);

fail_metrics:
	control_close();
fail_control:
	runtime_close();
fail_runtime:
	listener_close_all();
fail_listeners:
	event_base_free(dspd.base);
	config_free(&cf);
	return (1);
}
