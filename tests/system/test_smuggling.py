"""Request shapes two HTTP readers could take two ways, in every place
they can appear: dot and encoded segments at each position of a path,
versioned and not; every framing of a body that a second parser could
split elsewhere, on a held create body and on a streamed one.  Each is
sent as raw bytes through the recording tap: dspd either refuses it
before the engine sees it, or passes exactly the request the engine
will route the way dspd judged it."""

import pytest

from conftest import marker
from harness import checks, rawhttp

WIDE = {"CONTAINERS": "1", "POST": "1"}

# The segments of a path dockerd routes to "inspect a container", with
# the version prefix the CLI puts in front, and without it.
PLAIN = ["containers", "{m}", "json"]
VERSIONED = ["v1.41"] + PLAIN

# Segments dockerd's router would clean away or redirect, each spelled
# plainly and percent-encoded: anywhere in a path they make it 400.
DOT_SEGMENTS = [
	("dotdot", ".."),
	("dot", "."),
	("empty", ""),
	("encoded-dotdot", "%2e%2e"),
	("encoded-dotdot-upper", "%2E%2E"),
	("half-encoded-dotdot", ".%2e"),
	("other-half-encoded-dotdot", "%2e."),
	("encoded-dot", "%2e"),
]


def _paths_with(segments, inserted):
	"""The path with `inserted` put at each position, first to last."""
	for at in range(len(segments) + 1):
		parts = segments[:at] + [inserted] + segments[at:]
		yield at, "/" + "/".join(parts)


def _one_per_connection(proxy, target):
	with rawhttp.RawConn(proxy.host, proxy.port) as conn:
		conn.send(rawhttp.request("GET", target))
		resp = conn.read_response()
		closed = conn.wait_closed(3)
	return resp, closed


@pytest.mark.parametrize("segments", [PLAIN, VERSIONED],
    ids=["unversioned", "versioned"])
@pytest.mark.parametrize("inserted", [s for _, s in DOT_SEGMENTS],
    ids=[i for i, _ in DOT_SEGMENTS])
def test_dot_segment_in_every_position(start_dspd, tap, segments, inserted):
	proxy = start_dspd(env=WIDE, upstream=tap.listen_path)
	for at, path in _paths_with(segments, inserted):
		m = marker()
		target = path.format(m=m)
		resp, closed = _one_per_connection(proxy, target)
		assert resp.status == 400, (at, target, resp)
		checks.dsp_reply(resp, 400)
		assert closed, "connection left open after 400: %s" % target
		assert not tap.saw(m), "reached the engine: %s" % target


def _encode_letter(segment):
	"""The segment with its first letter percent-encoded."""
	for i, c in enumerate(segment):
		if c.isalpha():
			return segment[:i] + "%%%02x" % ord(c) + segment[i + 1:]
	return segment


def _encoded_variants(segments):
	"""The path with one segment's letter encoded, for each segment, and
	with one '/' between two segments encoded as %2F."""
	for at in range(len(segments)):
		if segments[at] == "{m}":
			continue
		parts = list(segments)
		parts[at] = _encode_letter(parts[at])
		yield "letter@%d" % at, "/" + "/".join(parts)
	for at in range(1, len(segments)):
		yield "slash@%d" % at, "/" + "/".join(segments[:at]) + "%2F" + \
		    "/".join(segments[at:])


@pytest.mark.parametrize("segments", [PLAIN, VERSIONED],
    ids=["unversioned", "versioned"])
def test_encoded_segments_denied_like_plain(start_dspd, tap, segments):
	# With containers off, every spelling of an inspect is the same
	# inspect: refused by name, never sent.
	proxy = start_dspd(env={"CONTAINERS": "0"}, upstream=tap.listen_path)
	for where, path in _encoded_variants(segments):
		m = marker()
		target = path.format(m=m)
		resp, _ = _one_per_connection(proxy, target)
		assert resp.status == 403, (where, target, resp)
		checks.denial(resp, "containers")
		assert not tap.saw(m), "reached the engine: %s" % target


@pytest.mark.parametrize("segments", [PLAIN, VERSIONED],
    ids=["unversioned", "versioned"])
def test_encoded_segments_routed_like_plain(start_dspd, tap, segments):
	# With containers on, each spelling goes through, and the engine
	# routes it to the inspect dspd judged: its 404 names the container,
	# exactly as for the plain path.
	proxy = start_dspd(env={"CONTAINERS": "1"}, upstream=tap.listen_path)
	m = marker()
	plain = "/" + "/".join(segments).format(m=m)
	want, _ = _one_per_connection(proxy, plain)
	assert want.status == 404 and m in want.json()["message"], want
	for where, path in _encoded_variants(segments):
		target = path.format(m=m)
		resp, _ = _one_per_connection(proxy, target)
		assert resp.status == want.status, (where, target, resp)
		assert resp.json()["message"] == want.json()["message"], \
		    (where, target, resp)


def _create(m, framing, body):
	return ("POST /containers/create?name=%s HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: application/json\r\n%s\r\n" % (m, framing)
	    ).encode() + body


def _start(m, framing, body):
	# A container start: allowed by POST=1, its body streamed to the
	# engine rather than held like a create's.
	return ("POST /containers/%s/start HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: application/json\r\n%s\r\n" % (m, framing)
	    ).encode() + body


def _smuggled(m):
	"""A request hidden where a lax reader would see one."""
	return ("GET /info?hidden=%s HTTP/1.1\r\nHost: x\r\n\r\n" % m).encode()


# Head framings llhttp in strict mode and Go's server could read two
# ways, beyond those in test_framing.py: each 400 before any byte goes
# to the engine, whatever request carries them.
HEAD_FRAMINGS = [
	("empty-content-length", "Content-Length: \r\n", b"{}"),
	("signed-content-length", "Content-Length: +2\r\n", b"{}"),
	("hex-content-length", "Content-Length: 0x2\r\n", b"{}"),
	("list-content-length", "Content-Length: 2, 2\r\n", b"{}"),
	("space-in-content-length", "Content-Length: 2 2\r\n", b"{}"),
	("te-not-chunked", "Transfer-Encoding: gzip\r\n", b"{}"),
	("te-chunked-not-last", "Transfer-Encoding: chunked, gzip\r\n",
	    b"2\r\n{}\r\n0\r\n\r\n"),
	("te-bad-token", "Transfer-Encoding: xchunked\r\n",
	    b"2\r\n{}\r\n0\r\n\r\n"),
	("te-vertical-tab", "Transfer-Encoding:\x0bchunked\r\n",
	    b"2\r\n{}\r\n0\r\n\r\n"),
	("bare-cr-in-value", "X-A: a\rTransfer-Encoding: chunked\r\n"
	    "Content-Length: 2\r\n", b"{}"),
	("bare-cr-line-end", "X-A: a\rContent-Length: 2\r\n", b"{}"),
	("tab-before-colon", "Content-Length\t: 2\r\n", b"{}"),
	("nul-in-value", "X-A: a\x00b\r\nContent-Length: 2\r\n", b"{}"),
]

# Chunked bodies whose framing is wrong after the head was accepted.
BAD_CHUNKS = [
	("size-not-hex", b"zz\r\n{}\r\n0\r\n\r\n"),
	("size-negative", b"-2\r\n{}\r\n0\r\n\r\n"),
	("size-0x-prefix", b"0x2\r\n{}\r\n0\r\n\r\n"),
	("size-overflow", b"10000000000000002\r\n{}\r\n0\r\n\r\n"),
	("size-space-before", b" 2\r\n{}\r\n0\r\n\r\n"),
	("size-bare-lf", b"2\n{}\r\n0\r\n\r\n"),
	("data-without-crlf", b"2\r\n{}XX0\r\n\r\n"),
	("data-longer-than-size", b"2\r\n{}}\r\n0\r\n\r\n"),
	("last-chunk-bare-lf", b"2\r\n{}\r\n0\n\n"),
]


def _send_then_closed(proxy, data):
	"""Send data on a new connection: dspd's reply to its POST, and
	whether dspd closed the connection after it."""
	with rawhttp.RawConn(proxy.host, proxy.port) as conn:
		conn.send(data)
		resp = conn.read_response("POST")
		return resp, conn.wait_closed(3)


@pytest.mark.parametrize("build", [_create, _start], ids=["held", "streamed"])
@pytest.mark.parametrize("framing,body", [(f, b) for _, f, b in HEAD_FRAMINGS],
    ids=[i for i, _, _ in HEAD_FRAMINGS])
def test_head_framing_refused(start_dspd, tap, build, framing, body):
	proxy = start_dspd(env=WIDE, upstream=tap.listen_path)
	m, hidden = marker(), marker()
	resp, closed = _send_then_closed(proxy,
	    build(m, framing, body) + _smuggled(hidden))
	checks.dsp_reply(resp, 400)
	assert closed, "connection left open after 400"
	assert not tap.saw(m) and not tap.saw(hidden)


@pytest.mark.parametrize("body", [b for _, b in BAD_CHUNKS],
    ids=[i for i, _ in BAD_CHUNKS])
def test_bad_chunk_in_held_body(start_dspd, tap, body):
	# A held create body is read whole before anything is sent: a bad
	# chunk anywhere in it refuses the create, and nothing reaches the
	# engine.
	proxy = start_dspd(env=WIDE, upstream=tap.listen_path)
	m, hidden = marker(), marker()
	resp, closed = _send_then_closed(proxy,
	    _create(m, "Transfer-Encoding: chunked\r\n", body) +
	    _smuggled(hidden))
	checks.dsp_reply(resp, 400)
	assert closed, "connection left open after 400"
	assert not tap.saw(m) and not tap.saw(hidden)


@pytest.mark.parametrize("body", [b for _, b in BAD_CHUNKS],
    ids=[i for i, _ in BAD_CHUNKS])
def test_bad_chunk_in_streamed_body(start_dspd, tap, body):
	# A streamed body goes to the engine as it is checked: the head and
	# the chunks before the bad one may have gone, the bad chunk and
	# everything after it never do; the exchange ends with a close, so
	# the engine reads no second request from that connection.
	proxy = start_dspd(env=WIDE, upstream=tap.listen_path)
	m, hidden = marker(), marker()
	resp, closed = _send_then_closed(proxy,
	    _start(m, "Transfer-Encoding: chunked\r\n", body) +
	    _smuggled(hidden))
	# The engine has not answered yet when the bad chunk is read, so
	# the client still gets dspd's reason.
	assert "malformed request body" in checks.dsp_reply(resp, 400)
	assert closed, "connection left open after a bad chunk"
	assert not tap.saw(hidden)
	assert not any(body in sent for sent in tap.sent_bytes())


@pytest.mark.parametrize("target", ["/_ping", "/v1.41/version",
    "/containers/json"])
def test_upgrade_on_endpoint_that_does_not_hijack(start_dspd, tap, target):
	# Upgrade headers on a plain endpoint: the engine answers 200, not
	# 101, so the connection stays HTTP and the requests behind it are
	# judged one by one, the denied one never sent.
	proxy = start_dspd(env={"CONTAINERS": "1"}, upstream=tap.listen_path)
	m1, m2, m3 = marker(), marker(), marker()
	sep = "&" if "?" in target else "?"
	with rawhttp.RawConn(proxy.host, proxy.port) as conn:
		conn.send(rawhttp.request("GET", target + sep + "m=" + m1,
		    [("Connection", "Upgrade"), ("Upgrade", "tcp")]) +
		    rawhttp.request("GET", "/info?m=" + m2) +
		    rawhttp.request("GET", "/_ping?m=" + m3))
		r1 = conn.read_response()
		r2 = conn.read_response()
		r3 = conn.read_response()
	assert r1.status == 200, r1
	checks.denial(r2, "info")
	assert (r3.status, r3.body) == (200, b"OK"), r3
	assert tap.saw(m1) and tap.saw(m3)
	assert not tap.saw(m2)


# Request lines that llhttp reads one way and Go's server, dockerd's,
# refuses or reads another: runs of spaces, tabs, a missing version, a
# space inside the target.  {m} is the test's marker.
REQUEST_LINES = [
	("two-spaces-before-version", "GET /containers/json?m={m}  HTTP/1.1"),
	("two-spaces-after-method", "GET  /containers/json?m={m} HTTP/1.1"),
	("space-after-version", "GET /containers/json?m={m} HTTP/1.1 "),
	("word-after-version", "GET /containers/json?m={m} HTTP/1.1 x"),
	("tab-after-method", "GET\t/containers/json?m={m} HTTP/1.1"),
	("tab-before-version", "GET /containers/json?m={m}\tHTTP/1.1"),
	("no-version", "GET /containers/json?m={m}"),
	("space-in-target", "GET /containers/json?m={m} /info HTTP/1.1"),
]


@pytest.mark.parametrize("versioned", [False, True],
    ids=["unversioned", "versioned"])
@pytest.mark.parametrize("line", [l for _, l in REQUEST_LINES],
    ids=[i for i, _ in REQUEST_LINES])
def test_request_line_shapes_refused(start_dspd, tap, line, versioned):
	proxy = start_dspd(env=WIDE, upstream=tap.listen_path)
	m = marker()
	line = line.format(m=m)
	if versioned:
		line = line.replace("/containers/", "/v1.41/containers/", 1)
	with rawhttp.RawConn(proxy.host, proxy.port) as conn:
		conn.send(line.encode() + b"\r\nHost: x\r\n\r\n")
		resp = conn.read_response()
		closed = conn.wait_closed(3)
	assert "malformed request" in checks.dsp_reply(resp, 400)
	assert closed, "connection left open after 400"
	assert not tap.saw(m)
