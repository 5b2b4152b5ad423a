/*
 * The connection to the Docker engine's unix socket.  One serves one
 * client connection, is kept between its exchanges while the engine keeps
 * it alive, and is never reused after an error.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dspd.h"

static void
upstream_read_cb(struct bufferevent *bev, void *arg)
{
	session_upstream_readable(arg);
}

static void
upstream_write_cb(struct bufferevent *bev, void *arg)
{
	session_upstream_drained(arg);
}

static void
upstream_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;
	int		 err = EVUTIL_SOCKET_ERROR();

	if (what & BEV_EVENT_CONNECTED) {
		s->up_connected = 1;
		session_upstream_connected(s);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		session_upstream_closed(s, 0);
		return;
	}
	if (what & BEV_EVENT_ERROR)
		session_upstream_closed(s, err != 0 ? err : EIO);
}

/*
 * Start connecting to the engine; the session hears of success or failure
 * through its callbacks, or at once from the return value (-1, errno set)
 * when the socket is missing.
 */
int
upstream_connect(struct session *s)
{
	struct sockaddr_un	 sun;
	const char		*path = dspd.config->socket_path;

	if (listener_unix_addr(path, &sun) != 0)
		return (-1);

	s->up_bev = bufferevent_socket_new(dspd.base, -1,
	    BEV_OPT_CLOSE_ON_FREE);
	if (s->up_bev == NULL)
		return (-1);
	bufferevent_setcb(s->up_bev, upstream_read_cb, upstream_write_cb,
	    upstream_event_cb, s);
	bufferevent_setwatermark(s->up_bev, EV_READ, 0, RELAY_HIGH_WATER);
	bufferevent_setwatermark(s->up_bev, EV_WRITE, RELAY_HIGH_WATER / 2, 0);
	s->up_connected = 0;
	s->up_eof = 0;
	s->up_shut = 0;
	if (bufferevent_socket_connect(s->up_bev, (struct sockaddr *)&sun,
	    sizeof(sun)) != 0) {
		if (errno == 0)
			errno = ECONNREFUSED;
		upstream_close(s);
		return (-1);
	}
	bufferevent_enable(s->up_bev, EV_READ | EV_WRITE);
	return (0);
}

void
upstream_close(struct session *s)
{
	int	 saved = errno;

	if (s->up_bev != NULL) {
		bufferevent_free(s->up_bev);
		s->up_bev = NULL;
	}
	s->up_connected = 0;
	s->up_eof = 0;
	s->up_shut = 0;
	errno = saved;
}
