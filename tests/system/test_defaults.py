"""With no variable set, dspd behaves like the HAProxy image's defaults:
PING, VERSION and EVENTS on, every other group refused with a JSON 403
that names the group, and a refused request never reaches the engine."""

import time

import pytest

from conftest import marker
from harness import checks, rawhttp

PREFIXES = ["", "/v1.41"]


@pytest.fixture
def proxy(start_dspd, tap):
	return start_dspd(upstream=tap.listen_path)


@pytest.mark.parametrize("prefix", PREFIXES, ids=["bare", "versioned"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_ping_allowed(proxy, tap, prefix, method):
	m = marker()
	resp = rawhttp.exchange(proxy.host, proxy.port, method,
	    "%s/_ping?m=%s" % (prefix, m))
	assert resp.status == 200, resp
	if method == "GET":
		assert resp.body == b"OK"
	else:
		assert resp.body == b""
	assert tap.saw(m)


@pytest.mark.parametrize("prefix", PREFIXES, ids=["bare", "versioned"])
def test_version_allowed(proxy, tap, engine, prefix):
	m = marker()
	resp = rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "%s/version?m=%s" % (prefix, m))
	assert resp.status == 200, resp
	assert resp.json()["ApiVersion"] == engine.version()["ApiVersion"]
	assert tap.saw(m)


def test_events_allowed(proxy, tap, containers):
	# A bounded window that holds an event we caused.
	since = int(time.time()) - 1
	name, _ = containers.run(["true"], start=False)
	until = int(time.time()) + 1
	m = marker()
	resp = rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/events?since=%d&until=%d&m=%s" % (since, until, m), timeout=10)
	assert resp.status == 200, resp
	assert name.encode() in resp.body
	assert tap.saw(m)


@pytest.mark.parametrize("prefix", PREFIXES, ids=["bare", "versioned"])
@pytest.mark.parametrize("path,group", [
	("/containers/json", "containers"),
	("/info", "info"),
	("/secrets", "secrets"),
])
def test_other_groups_refused(proxy, tap, prefix, path, group):
	m = marker()
	resp = rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "%s%s?m=%s" % (prefix, path, m))
	checks.denial(resp, group)
	assert not tap.saw(m)


def test_head_of_refused_group_refused(proxy, tap):
	# HEAD reads like GET: refused alike, and without a body.
	m = marker()
	resp = rawhttp.exchange(proxy.host, proxy.port, "HEAD",
	    "/info?m=" + m)
	assert resp.status == 403, resp
	assert resp.body == b""
	assert not tap.saw(m)


def test_refusal_keeps_connection_usable(proxy, tap):
	# A refused request without a body leaves the connection open for
	# the next one, which is served.
	m1, m2 = marker(), marker()
	with rawhttp.RawConn(proxy.host, proxy.port) as conn:
		conn.send(rawhttp.request("GET", "/info?m=" + m1))
		checks.denial(conn.read_response(), "info")
		conn.send(rawhttp.request("GET", "/_ping?m=" + m2))
		resp = conn.read_response()
	assert (resp.status, resp.body) == (200, b"OK")
	assert not tap.saw(m1) and tap.saw(m2)
