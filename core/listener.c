/*
 * The sockets dspd listens on: TCP (IPv4, IPv6, dual-stack) and unix
 * sockets with a mode and group, accept paused while descriptors run out,
 * and the ready file that tells a supervisor where they are bound.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dspd.h"

/* Connections the kernel queues before dspd accepts them. */
#define LISTEN_BACKLOG		511
/* Mode of a unix listener when its address does not say. */
#define UNIX_DEFAULT_MODE	0660
/* The first descriptor a service manager passes (systemd's protocol). */
#define PASSED_FDS_START	3
/* Most descriptors dspd takes from LISTEN_FDS. */
#define PASSED_FDS_MAX		64
/* Bytes of one name in LISTEN_FDNAMES (systemd allows 255). */
#define PASSED_NAME_MAX		256

/* A listening socket a service manager handed over, checked. */
struct passed_fd {
	int	 fd;
	int	 family;
	char	 name[PASSED_NAME_MAX];	/* from LISTEN_FDNAMES, or "" */
};

static struct listeners	 listeners = TAILQ_HEAD_INITIALIZER(listeners);
static struct event	*accept_retry;
static int		 accept_paused;
static struct passed_fd	 passed[PASSED_FDS_MAX];
static size_t		 npassed;

static void	listener_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	listener_error_cb(struct evconnlistener *, void *);

/* Bring accepting back after a descriptor shortage. */
static void
listener_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	struct listener	*l;

	accept_paused = 0;
	TAILQ_FOREACH(l, &listeners, entry)
		evconnlistener_enable(l->ev);
	log_info("accepting connections again");
}

/*
 * Out of descriptors: accepting again at once would spin on the same
 * error, so every listener waits a little while sessions close.
 */
static void
listener_error_cb(struct evconnlistener *ev, void *arg)
{
	struct timeval	 tv = { 0, ACCEPT_RETRY_MSEC * 1000 };
	int		 err = EVUTIL_SOCKET_ERROR();

	if (err != EMFILE && err != ENFILE && err != ENOBUFS &&
	    err != ENOMEM) {
		log_warnx("accept: %s", strerror(err));
		return;
	}
	listener_pause_all();
	if (!accept_paused)
		log_warnx("accept paused for %d ms: %s", ACCEPT_RETRY_MSEC,
		    strerror(err));
	accept_paused = 1;
	evtimer_add(accept_retry, &tv);
}

static void
listener_accept_cb(struct evconnlistener *ev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	session_accept(arg, fd, sa, salen);
}

void
listener_pause_all(void)
{
	struct listener	*l;

	TAILQ_FOREACH(l, &listeners, entry)
		evconnlistener_disable(l->ev);
}

/*
 * Wrap a bound, listening socket in libevent and remember it; origin
 * says where the socket came from when dspd did not open it itself.
 */
static int
listener_add(struct event_base *base, int fd, int family, const char *name,
    const char *unix_path, const char *origin)
{
	struct listener	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return (-1);
	l->family = family;
	l->name = strdup(name);
	l->unix_path = unix_path != NULL ? strdup(unix_path) : NULL;
	if (l->name == NULL || (unix_path != NULL && l->unix_path == NULL))
		goto fail;
	evutil_make_socket_nonblocking(fd);
	l->ev = evconnlistener_new(base, listener_accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (l->ev == NULL)
		goto fail;
	evconnlistener_set_error_cb(l->ev, listener_error_cb);
	TAILQ_INSERT_TAIL(&listeners, l, entry);
	log_info("listening on %s%s", name, origin);
	return (0);

fail:
	free(l->name);
	free(l->unix_path);
	free(l);
	return (-1);
}

/* A bound address in the URL form of --listen and the ready file. */
static void
listener_format(const struct sockaddr_storage *ss, socklen_t sslen,
    char *name, size_t namelen)
{
	const struct sockaddr_un	*sun;
	char				 bound[INET6_ADDRSTRLEN];
	size_t				 plen;

	switch (ss->ss_family) {
	case AF_INET6:
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->
		    sin6_addr, bound, sizeof(bound));
		snprintf(name, namelen, "tcp://[%s]:%u", bound,
		    ntohs(((const struct sockaddr_in6 *)ss)->sin6_port));
		break;
	case AF_INET:
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    bound, sizeof(bound));
		snprintf(name, namelen, "tcp://%s:%u", bound,
		    ntohs(((const struct sockaddr_in *)ss)->sin_port));
		break;
	default:
		sun = (const struct sockaddr_un *)ss;
		plen = sslen > offsetof(struct sockaddr_un, sun_path) ?
		    sslen - offsetof(struct sockaddr_un, sun_path) : 0;
		if (plen == 0)
			snprintf(name, namelen, "unix://");
		else if (sun->sun_path[0] == '\0')	/* abstract: @name */
			snprintf(name, namelen, "unix://@%.*s", (int)plen - 1,
			    sun->sun_path + 1);
		else
			snprintf(name, namelen, "unix://%.*s", (int)strnlen(
			    sun->sun_path, plen), sun->sun_path);
		break;
	}
}

/* Listen on tcp://HOST:PORT; "[::]" is dual-stack unless IPv6 is off. */
static int
listener_open_tcp(struct event_base *base, const char *addr, int no_ipv6)
{
	struct addrinfo		 hints, *res = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen = sizeof(ss);
	char			 host[256], port[16];
	char			 name[300];
	const char		*colon, *h = addr;
	size_t			 hlen;
	int			 fd = -1, one = 1, zero = 0, rc;

	if (*h == '[') {
		colon = strstr(h, "]:");
		if (colon == NULL)
			goto bad;
		h++;
		hlen = (size_t)(colon - h);
		colon++;
	} else {
		colon = strrchr(h, ':');
		if (colon == NULL)
			goto bad;
		hlen = (size_t)(colon - h);
	}
	if (hlen >= sizeof(host) || strlen(colon + 1) >= sizeof(port) ||
	    colon[1] == '\0')
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	if (no_ipv6 && strcmp(host, "::") == 0)
		snprintf(host, sizeof(host), "0.0.0.0");

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = no_ipv6 ? AF_INET : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(hlen ? host : NULL, port, &hints, &res)) != 0) {
		fprintf(stderr, "dspd: listen %s: %s\n", addr,
		    gai_strerror(rc));
		return (-1);
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd == -1 && errno == EAFNOSUPPORT && !no_ipv6 &&
	    strcmp(host, "::") == 0) {
		/* A kernel without IPv6: all addresses are IPv4 ones. */
		freeaddrinfo(res);
		log_info("listen %s: no IPv6 in this kernel, IPv4 only", addr);
		return (listener_open_tcp(base, addr, 1));
	}
	if (fd == -1)
		goto syserr;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1)
		goto syserr;

	listener_format(&ss, sslen, name, sizeof(name));
	freeaddrinfo(res);
	if (listener_add(base, fd, ss.ss_family, name, NULL, "") != 0) {
		close(fd);
		return (-1);
	}
	return (0);

syserr:
	fprintf(stderr, "dspd: listen %s: %s\n", addr, strerror(errno));
	if (fd != -1)
		close(fd);
	if (res != NULL)
		freeaddrinfo(res);
	return (-1);
bad:
	fprintf(stderr, "dspd: listen tcp://%s: not HOST:PORT\n", addr);
	return (-1);
}

/* The address of a unix socket path; -1 (ENAMETOOLONG) if it does not fit. */
int
listener_unix_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return (0);
}

/*
 * Refuse a unix path that another live process serves; remove a stale
 * socket left by a dspd that died.  Anything that is not a socket stays.
 */
static int
listener_clear_unix(const char *path)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd, rc;

	if (lstat(path, &st) == -1)
		return (errno == ENOENT ? 0 : -1);
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return (-1);
	}
	if (listener_unix_addr(path, &sun) != 0)
		return (-1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		errno = EADDRINUSE;
		return (-1);
	}
	return (unlink(path));
}

/*
 * Bind and listen on a unix socket with its mode and group set before
 * anyone can connect: the socket is never open wider than asked, not
 * even briefly.  Returns the descriptor, or -1 with errno set and no
 * file left behind.
 */
int
listener_bind_unix(const char *path, mode_t mode, gid_t gid, int backlog)
{
	struct sockaddr_un	 sun;
	mode_t			 old;
	int			 fd, saved;

	if (listener_unix_addr(path, &sun) != 0)
		return (-1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		umask(old);
		close(fd);
		errno = saved;
		return (-1);
	}
	umask(old);
	if ((gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) == -1) ||
	    chmod(path, mode) == -1 || listen(fd, backlog) == -1) {
		saved = errno;
		unlink(path);
		close(fd);
		errno = saved;
		return (-1);
	}
	return (fd);
}

/* Listen on unix:///PATH[?mode=0660&group=NAME]. */
static int
listener_open_unix(struct event_base *base, const char *spec)
{
	struct sockaddr_un	 sun;
	struct group		*gr;
	char			 path[sizeof(sun.sun_path)], name[300];
	char			 opts[256], *opt, *save, *end;
	const char		*q;
	unsigned long		 mode = UNIX_DEFAULT_MODE;
	gid_t			 gid = (gid_t)-1;
	size_t			 plen;
	int			 fd = -1;

	q = strchr(spec, '?');
	plen = q != NULL ? (size_t)(q - spec) : strlen(spec);
	if (plen == 0 || spec[0] != '/' || plen >= sizeof(path)) {
		fprintf(stderr, "dspd: listen unix://%s: not an absolute "
		    "path of at most %zu bytes\n", spec, sizeof(path) - 1);
		return (-1);
	}
	memcpy(path, spec, plen);
	path[plen] = '\0';
	if (q != NULL) {
		snprintf(opts, sizeof(opts), "%s", q + 1);
		for (opt = strtok_r(opts, "&", &save); opt != NULL;
		    opt = strtok_r(NULL, "&", &save)) {
			if (strncmp(opt, "mode=", 5) == 0) {
				errno = 0;
				mode = strtoul(opt + 5, &end, 8);
				if (opt[5] == '\0' || *end != '\0' ||
				    mode > 0777)
					goto badopt;
			} else if (strncmp(opt, "group=", 6) == 0) {
				if ((gr = getgrnam(opt + 6)) != NULL)
					gid = gr->gr_gid;
				else {
					gid = (gid_t)strtoul(opt + 6, &end, 10);
					if (opt[6] == '\0' || *end != '\0')
						goto badopt;
				}
			} else
				goto badopt;
		}
	}

	if (listener_clear_unix(path) == -1)
		goto syserr;
	if ((fd = listener_bind_unix(path, (mode_t)mode, gid,
	    LISTEN_BACKLOG)) == -1)
		goto syserr;
	snprintf(name, sizeof(name), "unix://%s", path);
	if (listener_add(base, fd, AF_UNIX, name, path, "") != 0) {
		unlink(path);
		goto syserr;
	}
	return (0);

syserr:
	fprintf(stderr, "dspd: listen unix://%s: %s\n", path,
	    strerror(errno));
	if (fd != -1)
		close(fd);
	return (-1);
badopt:
	fprintf(stderr, "dspd: listen unix://%s: bad option '%s' (mode=OCTAL "
	    "or group=NAME)\n", spec, opt);
	return (-1);
}

/* Check that a passed descriptor is a listening TCP or unix socket. */
static int
listener_check_passed(int fd, struct passed_fd *p, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	int			 type, listening;
	socklen_t		 olen = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) == -1) {
		snprintf(err, errlen, "LISTEN_FDS: descriptor %d is not a "
		    "socket: %s", fd, strerror(errno));
		return (-1);
	}
	olen = sizeof(listening);
	if (type != SOCK_STREAM || getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN,
	    &listening, &olen) == -1 || !listening) {
		snprintf(err, errlen, "LISTEN_FDS: descriptor %d is not a "
		    "listening stream socket", fd);
		return (-1);
	}
	memset(&ss, 0, sizeof(ss));
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6 &&
	    ss.ss_family != AF_UNIX)) {
		snprintf(err, errlen, "LISTEN_FDS: descriptor %d is not a "
		    "TCP or unix socket", fd);
		return (-1);
	}
	/* The service manager hands them over inheritable. */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		snprintf(err, errlen, "LISTEN_FDS: descriptor %d: %s", fd,
		    strerror(errno));
		return (-1);
	}
	p->fd = fd;
	p->family = ss.ss_family;
	return (0);
}

/* Split LISTEN_FDNAMES into the passed sockets' names, if it fits them. */
static void
listener_passed_names(const char *names)
{
	const char	*p = names, *colon;
	size_t		 i, len;

	for (i = 0; i < npassed; i++) {
		colon = strchr(p, ':');
		len = colon != NULL ? (size_t)(colon - p) : strlen(p);
		if (len >= PASSED_NAME_MAX || (colon == NULL) !=
		    (i == npassed - 1))
			goto mismatch;
		memcpy(passed[i].name, p, len);
		passed[i].name[len] = '\0';
		p = colon != NULL ? colon + 1 : p + len;
	}
	return;

mismatch:
	log_warnx("LISTEN_FDNAMES does not name the %zu passed sockets: "
	    "names ignored", npassed);
	for (i = 0; i < npassed; i++)
		passed[i].name[0] = '\0';
}

/*
 * Take the listening sockets a service manager handed over the way
 * systemd does: LISTEN_PID must be dspd's pid, LISTEN_FDS counts the
 * descriptors from 3, LISTEN_FDNAMES may name them.  The variables are
 * removed whatever they say, so that no program dspd might start takes
 * the descriptors for its own.
 */
int
listener_take_passed(char *err, size_t errlen)
{
	const char	*pid_s, *fds_s, *names;
	char		*end;
	long long	 pid, n;
	size_t		 i;
	int		 rc = -1;

	pid_s = getenv("LISTEN_PID");
	fds_s = getenv("LISTEN_FDS");
	names = getenv("LISTEN_FDNAMES");
	npassed = 0;
	if (fds_s == NULL) {
		rc = 0;
		goto out;
	}
	errno = 0;
	pid = pid_s != NULL ? strtoll(pid_s, &end, 10) : 0;
	if (pid_s == NULL || *pid_s == '\0' || *end != '\0' || errno != 0 ||
	    pid != (long long)getpid()) {
		log_info("LISTEN_FDS ignored: LISTEN_PID %s is not dspd's "
		    "pid %ld", pid_s != NULL ? pid_s : "(unset)",
		    (long)getpid());
		rc = 0;
		goto out;
	}
	errno = 0;
	n = strtoll(fds_s, &end, 10);
	if (*fds_s == '\0' || *end != '\0' || errno != 0 || n < 0 ||
	    n > PASSED_FDS_MAX) {
		snprintf(err, errlen, "LISTEN_FDS: '%s' is not a count from 0 "
		    "to %d", fds_s, PASSED_FDS_MAX);
		goto out;
	}
	for (i = 0; i < (size_t)n; i++) {
		memset(&passed[i], 0, sizeof(passed[i]));
		if (listener_check_passed(PASSED_FDS_START + (int)i,
		    &passed[i], err, errlen) != 0)
			goto out;
	}
	npassed = (size_t)n;
	if (names != NULL)
		listener_passed_names(names);
	rc = 0;

out:
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (rc);
}

/* Serve a passed socket; at exit it is closed, its path left in place. */
static int
listener_open_passed(struct event_base *base, const struct passed_fd *p)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 name[300], origin[PASSED_NAME_MAX + 64];

	memset(&ss, 0, sizeof(ss));
	if (getsockname(p->fd, (struct sockaddr *)&ss, &len) == -1) {
		fprintf(stderr, "dspd: passed descriptor %d: %s\n", p->fd,
		    strerror(errno));
		return (-1);
	}
	listener_format(&ss, len, name, sizeof(name));
	snprintf(origin, sizeof(origin), " (descriptor %d%s%s from the "
	    "service manager)", p->fd, p->name[0] != '\0' ? ", " : "",
	    p->name);
	/* The service manager owns a unix socket's path: it stays. */
	if (listener_add(base, p->fd, p->family, name, NULL, origin) != 0) {
		fprintf(stderr, "dspd: passed descriptor %d: out of memory\n",
		    p->fd);
		return (-1);
	}
	return (0);
}

/*
 * Open every listener, or none: a failure undoes the rest.  Sockets a
 * service manager passed are served first; when it passed some and no
 * --listen or DSP_LISTEN was given, they are the only ones, so a socket
 * unit alone decides where dspd listens.
 */
int
listener_open_all(struct event_base *base, const struct config *cf)
{
	size_t		 i;
	const char	*a;
	int		 rc;

	if ((accept_retry = evtimer_new(base, listener_resume_cb, NULL)) ==
	    NULL)
		return (-1);
	for (i = 0; i < npassed; i++) {
		if (listener_open_passed(base, &passed[i]) != 0) {
			listener_close_all();
			return (-1);
		}
	}
	if (npassed > 0 && cf->listen_default) {
		npassed = 0;
		return (0);
	}
	npassed = 0;
	for (i = 0; i < cf->nlisten; i++) {
		a = cf->listen[i];
		if (strncmp(a, "tcp://", 6) == 0)
			rc = listener_open_tcp(base, a + 6, cf->disable_ipv6);
		else if (strncmp(a, "unix://", 7) == 0)
			rc = listener_open_unix(base, a + 7);
		else {
			fprintf(stderr, "dspd: listen %s: use tcp://HOST:PORT "
			    "or unix:///PATH\n", a);
			rc = -1;
		}
		if (rc != 0) {
			listener_close_all();
			return (-1);
		}
	}
	return (0);
}

/* Write the bound addresses, one a line, in place all at once. */
int
listener_write_ready(const char *path)
{
	struct listener	*l;
	char		 tmp[4096];
	FILE		*f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return (-1);
	if ((f = fopen(tmp, "w")) == NULL)
		return (-1);
	TAILQ_FOREACH(l, &listeners, entry)
		fprintf(f, "%s\n", l->name);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return (-1);
	}
	return (0);
}

/* The bound address of the i-th listener, URL form; NULL past the last. */
const char *
listener_name(size_t i)
{
	struct listener	*l;

	TAILQ_FOREACH(l, &listeners, entry)
		if (i-- == 0)
			return (l->name);
	return (NULL);
}

void
listener_close_all(void)
{
	struct listener	*l;

	while ((l = TAILQ_FIRST(&listeners)) != NULL) {
		TAILQ_REMOVE(&listeners, l, entry);
		evconnlistener_free(l->ev);
		if (l->unix_path != NULL)
			unlink(l->unix_path);
		free(l->unix_path);
		free(l->name);
		free(l);
	}
	if (accept_retry != NULL) {
		event_free(accept_retry);
		accept_retry = NULL;
	}
}
