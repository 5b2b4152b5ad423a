/*
 * libdspclient: the client side of dspd's control socket, for dspctl,
 * dsptui and tests.  It connects, checks the greeting, sends requests
 * with ids and reads replies and events one line at a time.  Messages
 * are jansson objects; the protocol itself is in dsp_proto.h.
 */

#ifndef DSPCLIENT_H
#define DSPCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dsp_proto.h"

/*
 * Bytes of one message from dspd: replies may be longer than requests
 * (a thousand access rows).
 */
#define CLIENT_REPLY_MAX	(32 * 1024 * 1024)
/* Milliseconds to wait for the greeting after connecting. */
#define CLIENT_GREETING_MSEC	5000

/* What went wrong, so that a caller can pick its exit status. */
enum client_failure {
	CLIENT_UNREACHABLE = 1,	/* no dspd answers on the socket */
	CLIENT_PROTOCOL,	/* it answered something unexpected */
	CLIENT_REFUSED,		/* it answered with an error */
	CLIENT_TIMEOUT,		/* no answer in time */
	CLIENT_CLOSED		/* it closed the connection */
};

struct client_error {
	enum client_failure	 failure;
	char			 code[32];	/* dspd's code, when refused */
	char			 message[512];
};

struct client;

int		 client_connect(const char *, struct client **,
		     struct client_error *);
int		 client_open_fd(int, struct client **, struct client_error *);
void		 client_close(struct client *);
int		 client_fd(const struct client *);
int		 client_read_only(const struct client *);
const char	*client_server_version(const struct client *);
int		 client_send(struct client *, const char *, json_t *,
		     uint64_t *, struct client_error *);
int		 client_read(struct client *, int, json_t **,
		     struct client_error *);
int		 client_call(struct client *, const char *, json_t *, int,
		     json_t **, struct client_error *);

int		 client_parse_duration(const char *, long long *);
size_t		 client_format_duration(long long, char *, size_t);
size_t		 client_format_time(double, char *, size_t);

/*
 * selftest.c (dspctl only): the operator's checks and the clients' calls
 * that dspctl selftest asks dspd to judge.
 */

struct selftest_call {
	const char	*method;
	const char	*target;
	const char	*body;		/* JSON, or NULL for none */
};

struct selftest_check {
	const char	*name;
	const char	*method;
	const char	*target;
	const char	*body;
	int		 expect_allow;	/* else it must be refused */
};

struct selftest_client {
	const char			*client;	/* "traefik" */
	const char			*use;		/* "docker provider" */
	int				 optional;	/* a feature */
	const struct selftest_call	*calls;
	size_t				 ncalls;
};

const struct selftest_check	*selftest_checks(size_t *);
const struct selftest_call	*selftest_reads(size_t *);
const struct selftest_client	*selftest_clients(size_t *);

#endif /* DSPCLIENT_H */
