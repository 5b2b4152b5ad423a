"""Requests whose meaning could differ between dspd and dockerd, sent as
raw bytes through a recording tap: each gets the right status, and a
refused one never reaches the engine (its unique marker is not in what
dspd sent upstream)."""

import pytest

from conftest import marker
from harness import checks, rawhttp

WIDE = {"CONTAINERS": "1", "POST": "1"}


def raw_exchange(proxy, data, method="GET"):
	with rawhttp.RawConn(proxy.host, proxy.port) as conn:
		conn.send(data)
		resp = conn.read_response(method)
		closed = conn.wait_closed(3)
	return resp, closed


# Targets whose path dspd cannot check the way dockerd would route it,
# sent where the policy would allow the plain form: 400, then close.
BAD_TARGETS = [
	("dotdot", "/containers/{m}/../json"),
	("dotdot-versioned", "/v1.41/containers/{m}/../../_ping"),
	("encoded-dotdot", "/containers/{m}/%2e%2e/json"),
	("encoded-dotdot-upper", "/containers/{m}/%2E%2E/json"),
	("half-encoded-dotdot", "/containers/{m}/.%2e/json"),
	("dot", "/containers/./json?m={m}"),
	("double-slash", "/containers//{m}/json"),
	("leading-double-slash", "//containers/json?m={m}"),
	("fragment", "/_ping?m={m}#frag"),
	("fragment-in-path", "/_ping#{m}"),
	("absolute-form", "http://localhost/_ping?m={m}"),
	("bad-escape", "/containers/{m}%zz/json"),
]


@pytest.mark.parametrize("target", [t for _, t in BAD_TARGETS],
    ids=[i for i, _ in BAD_TARGETS])
def test_bad_target_400(start_dspd, tap, target):
	proxy = start_dspd(env=WIDE, upstream=tap.listen_path)
	m = marker()
	resp, closed = raw_exchange(proxy, rawhttp.request("GET",
	    target.format(m=m)))
	checks.dsp_reply(resp, 400)
	assert closed, "connection left open after 400"
	assert not any(tap.sent_bytes())


def _post(m, framing, body):
	head = "POST /containers/create?name=%s HTTP/1.1\r\nHost: x\r\n" \
	    "Content-Type: application/json\r\n" % m
	return (head + framing + "\r\n").encode() + body


# Framings two parsers could read two ways: 400, then close.
BAD_FRAMINGS = [
	("cl-and-te", lambda m: _post(m, "Content-Length: 2\r\n"
	    "Transfer-Encoding: chunked\r\n",
	    b"2\r\n{}\r\n0\r\n\r\n")),
	("te-and-cl", lambda m: _post(m, "Transfer-Encoding: chunked\r\n"
	    "Content-Length: 2\r\n", b"2\r\n{}\r\n0\r\n\r\n")),
	("two-content-lengths", lambda m: _post(m, "Content-Length: 2\r\n"
	    "Content-Length: 2\r\n", b"{}")),
	("differing-content-lengths", lambda m: _post(m,
	    "Content-Length: 2\r\nContent-Length: 3\r\n", b"{} ")),
	("bare-lf-request-line", lambda m: ("GET /_ping?m=%s HTTP/1.1\n"
	    "Host: x\r\n\r\n" % m).encode()),
	("bare-lf-header", lambda m: ("GET /_ping?m=%s HTTP/1.1\r\n"
	    "Host: x\nX-A: b\r\n\r\n" % m).encode()),
	("bare-lf-end", lambda m: ("GET /_ping?m=%s HTTP/1.1\r\n"
	    "Host: x\r\n\n" % m).encode()),
	("obs-fold", lambda m: ("GET /_ping?m=%s HTTP/1.1\r\nHost: x\r\n"
	    "X-Folded: a\r\n b\r\n\r\n" % m).encode()),
	("space-before-colon", lambda m: ("GET /_ping?m=%s HTTP/1.1\r\n"
	    "Host : x\r\n\r\n" % m).encode()),
]


@pytest.mark.parametrize("build", [b for _, b in BAD_FRAMINGS],
    ids=[i for i, _ in BAD_FRAMINGS])
def test_bad_framing_400(start_dspd, tap, build):
	proxy = start_dspd(env=WIDE, upstream=tap.listen_path)
	m = marker()
	resp, closed = raw_exchange(proxy, build(m))
	checks.dsp_reply(resp, 400)
	assert closed, "connection left open after 400"
	assert not any(tap.sent_bytes())


def test_encoded_letter_in_group_refused(start_dspd, tap):
	proxy = start_dspd(env={"CONTAINERS": "0"}, upstream=tap.listen_path)
	m = marker()
	resp, _ = raw_exchange(proxy, rawhttp.request("GET",
	    "/c%6fntainers/json?m=" + m))
	checks.denial(resp, "containers")
	assert not tap.saw(m)


def test_encoded_letter_in_group_allowed(start_dspd, tap):
	proxy = start_dspd(env={"CONTAINERS": "1"}, upstream=tap.listen_path)
	m = marker()
	resp, _ = raw_exchange(proxy, rawhttp.request("GET",
	    "/c%6fntainers/json?m=" + m))
	assert resp.status == 200, resp
	assert isinstance(resp.json(), list)
	assert tap.saw(m)


def test_encoded_version_prefix(start_dspd, tap):
	proxy = start_dspd(upstream=tap.listen_path)
	m = marker()
	resp, _ = raw_exchange(proxy, rawhttp.request("GET",
	    "/v1%2e41/_ping?m=" + m))
	assert (resp.status, resp.body) == (200, b"OK"), resp
	assert tap.saw(m)


def test_encoded_version_prefix_still_checked(start_dspd, tap):
	proxy = start_dspd(upstream=tap.listen_path)
	m = marker()
	resp, _ = raw_exchange(proxy, rawhttp.request("GET",
	    "/v1%2e41/containers/json?m=" + m))
	checks.denial(resp, "containers")
	assert not tap.saw(m)


def test_pipelined_allowed_denied_allowed(start_dspd, tap):
	proxy = start_dspd(upstream=tap.listen_path)
	m1, m2, m3 = marker(), marker(), marker()
	with rawhttp.RawConn(proxy.host, proxy.port) as conn:
		conn.send(rawhttp.request("GET", "/_ping?m=" + m1) +
		    rawhttp.request("GET", "/info?m=" + m2) +
		    rawhttp.request("GET", "/version?m=" + m3))
		r1 = conn.read_response()
		r2 = conn.read_response()
		r3 = conn.read_response()
	assert (r1.status, r1.body) == (200, b"OK"), r1
	checks.denial(r2, "info")
	assert r3.status == 200 and "ApiVersion" in r3.json(), r3
	assert tap.saw(m1) and tap.saw(m3)
	assert not tap.saw(m2)


def test_upgrade_refused_by_engine_then_pipelined(start_dspd, tap):
	# The engine answers an exec start with Upgrade: tcp on a missing
	# exec with a plain 404 and keeps the connection: the bytes after it
	# are requests again and are checked one by one.
	proxy = start_dspd(env={"CONTAINERS": "1", "POST": "1", "EXEC": "1"},
	    upstream=tap.listen_path)
	m1, m2, m3 = marker(), marker(), marker()
	with rawhttp.RawConn(proxy.host, proxy.port) as conn:
		conn.send(rawhttp.request("POST", "/v1.41/exec/%s/start" % m1,
		    [("Connection", "Upgrade"), ("Upgrade", "tcp"),
		    ("Content-Type", "application/json")],
		    b'{"Detach":false,"Tty":false}') +
		    rawhttp.request("GET", "/info?m=" + m2) +
		    rawhttp.request("GET", "/_ping?m=" + m3))
		r1 = conn.read_response("POST", timeout=10)
		r2 = conn.read_response()
		r3 = conn.read_response()
	assert r1.status == 404 and "No such exec" in r1.json()["message"], r1
	checks.denial(r2, "info")
	assert (r3.status, r3.body) == (200, b"OK"), r3
	assert tap.saw(m1) and tap.saw(m3)
	assert not tap.saw(m2)


@pytest.mark.parametrize("pipelined", ["none", "denied", "allowed"])
def test_upgrade_answered_until_close(start_dspd, tap, pipelined):
	# dockerd answers an attach on a missing container with a 404 whose
	# body ends at close (no length): the client gets all of it, then the
	# close; a request pipelined behind it is never forwarded.
	proxy = start_dspd(env={"CONTAINERS": "1", "POST": "1", "EXEC": "1"},
	    upstream=tap.listen_path)
	m1, m2 = marker(), marker()
	extra = {"none": b"",
	    "denied": rawhttp.request("GET", "/info?m=" + m2),
	    "allowed": rawhttp.request("GET", "/_ping?m=" + m2)}[pipelined]
	with rawhttp.RawConn(proxy.host, proxy.port) as conn:
		conn.send(rawhttp.request("POST", "/v1.41/containers/%s/attach"
		    "?stream=1&stdout=1" % m1, [("Connection", "Upgrade"),
		    ("Upgrade", "tcp")]) + extra)
		r1 = conn.read_response("POST", timeout=10)
		assert conn.wait_closed(3)
	assert r1.status == 404, r1
	assert b"No such container" in r1.body, r1
	assert tap.saw(m1)
	assert not tap.saw(m2)


def test_refused_body_drained_before_close(start_dspd, tap):
	# A refused request whose body is still coming: the client reads the
	# whole 403 and may go on sending (a docker build context) without a
	# reset; the connection then ends with a plain close.
	proxy = start_dspd(upstream=tap.listen_path)
	m = marker()
	piece = b"x" * 65536
	with rawhttp.RawConn(proxy.host, proxy.port, timeout=10) as conn:
		conn.send(rawhttp.request("POST", "/v1.41/build?t=" + m,
		    [("Content-Type", "application/x-tar"),
		    ("Content-Length", str(5 * 1024 * 1024))]) + piece)
		resp = conn.read_response("POST")
		checks.denial(resp, "build")
		assert (resp.header("Connection") or "").lower() == "close"
		for _ in range(8):
			conn.send(piece)
		# A plain close (FIN) after the drain, not a reset.
		conn.sock.settimeout(5)
		try:
			rest = conn.sock.recv(4096)
		except ConnectionResetError:
			rest = None
		assert rest == b"", "connection reset, not closed: %r" % rest
	assert not any(tap.sent_bytes())
