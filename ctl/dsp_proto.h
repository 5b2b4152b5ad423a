/*
 * The control protocol between dspd and its clients (dspctl, dsptui,
 * scripts): names, version and limits that both ends must agree on.
 *
 * Every message is one JSON object on one line ended by "\n", at most
 * DSP_LINE_MAX bytes before the newline, with no duplicate keys.  On
 * connect dspd greets:
 *
 *	{"dsp": "dspd", "version": "0.1.0", "protocol": 1,
 *	 "access": "write"}			("read" on --control-ro)
 *
 * A request names itself and carries an id, echoed by its one reply:
 *
 *	{"id": 7, "request": "set", "access": {"containers": "read"}}
 *	{"id": 7, "result": {"revision": 12}}
 *	{"id": 7, "error": {"code": "read_only", "message": "..."}}
 *
 * The id is an integer from 0 to 2^53 - 1 or a string of 1 to
 * DSP_ID_MAX characters from [A-Za-z0-9._:-]; an error about a line
 * whose id could not be read has "id": null.  After a subscribe,
 * events arrive between replies:
 *
 *	{"event": "access", "subscription": 3, "row": {...}}
 *	{"event": "dropped", "subscription": 3, "count": 17}	(lossy)
 *	{"event": "closed", "reason": "..."}	(then dspd closes)
 */

#ifndef DSP_PROTO_H
#define DSP_PROTO_H

/* Raised whenever a change would break a client of an older version. */
#define DSP_PROTOCOL_VERSION	1
/* What the greeting's "dsp" member says. */
#define DSP_GREETING_NAME	"dspd"

/* Bytes of one message, newline excluded. */
#define DSP_LINE_MAX		65536
/* Characters of a string id. */
#define DSP_ID_MAX		64
/* Bytes of a change's reason. */
#define DSP_REASON_MAX		256
/* Bytes of a client filter (an address:port or "uid=N pid=N"). */
#define DSP_FILTER_MAX		128
/* Seconds a grant or a bypass may ask for, at most (dspd caps bypass). */
#define DSP_FOR_MAX		(366LL * 24 * 3600)
/* Seconds of a bypass when the request does not say. */
#define DSP_BYPASS_DEFAULT	900
/* Revisions a history request returns when it does not say. */
#define DSP_HISTORY_DEFAULT	20
/* Revisions a history request may ask for. */
#define DSP_HISTORY_MAX		1000
/* Rows a denials request returns when it does not say, and at most. */
#define DSP_DENIALS_DEFAULT	50
#define DSP_DENIALS_MAX		1000
/* Bytes of a check request's method. */
#define DSP_CHECK_METHOD_MAX	31
/* Default path of the control socket. */
#define DSP_CONTROL_PATH	"/run/dsp/control.sock"

/* Requests. */
#define DSP_REQ_PING		"ping"		/* dspd and the engine up? */
#define DSP_REQ_STATUS		"status"	/* mode, counters, health */
#define DSP_REQ_GROUPS		"groups"	/* the policy in force */
#define DSP_REQ_SET		"set"		/* change access, overrides */
#define DSP_REQ_HISTORY		"history"	/* list revisions */
#define DSP_REQ_DIFF		"diff"		/* compare two revisions */
#define DSP_REQ_REVERT		"revert"	/* a revision's state again */
#define DSP_REQ_ROLLBACK	"rollback"	/* start the emergency bypass */
#define DSP_REQ_RESTORE		"restore"	/* end it */
#define DSP_REQ_DENIALS		"denials"	/* query refused requests */
#define DSP_REQ_SUBSCRIBE	"subscribe"	/* live access events */
#define DSP_REQ_CHECK		"check"		/* judge a request, dry */

/* Events. */
#define DSP_EVENT_ACCESS	"access"
#define DSP_EVENT_DROPPED	"dropped"
#define DSP_EVENT_CLOSED	"closed"

/* Error codes. */
#define DSP_ERR_MALFORMED	"malformed"	/* not a JSON object, bad id */
#define DSP_ERR_TOO_LARGE	"too_large"	/* over DSP_LINE_MAX; closed */
#define DSP_ERR_UNKNOWN		"unknown_request"
#define DSP_ERR_ARGUMENT	"bad_argument"	/* member missing, bad, extra */
#define DSP_ERR_READ_ONLY	"read_only"	/* a change on --control-ro */
#define DSP_ERR_DENIED		"not_allowed"	/* peer's uid and gid refused */
#define DSP_ERR_BUSY		"busy"		/* too many clients or jobs */
#define DSP_ERR_NO_DATABASE	"no_database"	/* dspd runs with --db none */
#define DSP_ERR_NOT_FOUND	"not_found"	/* no such revision */
#define DSP_ERR_TOO_LONG	"too_long"	/* bypass over --max-bypass */
#define DSP_ERR_FAILED		"failed"	/* the change was not made */
#define DSP_ERR_CONFLICT	"conflict"	/* already subscribed */

#endif /* DSP_PROTO_H */
