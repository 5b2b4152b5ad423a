"""The harness checked on its own, against the engine alone (no dspd):
if these fail, the other system tests' verdicts mean nothing."""

import socket

from conftest import marker
from harness import rawhttp
from harness.engine import IMAGE


def test_engine_serves_busybox_image(engine, containers):
	name, _ = containers.run(["sh", "-c", "echo hello-from-busybox"])
	info = engine.wait_running(name, running=False)
	assert info["State"]["ExitCode"] == 0
	status, _, logs = engine.api("GET", "/containers/%s/logs?stdout=1" %
	    name)
	assert status == 200
	assert b"hello-from-busybox" in logs
	assert engine.api_json("GET", "/images/%s/json" % IMAGE)["Config"][
	    "Cmd"] == ["sh"]


def test_tap_relays_and_records(tap):
	seen, unseen = marker(), marker()
	with rawhttp.RawConn(unix=tap.listen_path) as conn:
		conn.send(rawhttp.request("GET", "/_ping?m=" + seen))
		resp = conn.read_response()
	assert resp.status == 200 and resp.body == b"OK"
	assert tap.saw(seen)
	assert not tap.saw(unseen)


def test_tap_honours_half_close(tap):
	# The engine answers a request whose sender has shut its write side.
	with rawhttp.RawConn(unix=tap.listen_path) as conn:
		conn.send(rawhttp.request("GET", "/version",
		    [("Connection", "close")]))
		conn.shutdown_write()
		resp = conn.read_response()
		assert resp.status == 200
		assert "ApiVersion" in resp.json()
		assert conn.wait_closed(5)


def test_raw_parser_reads_chunked_and_pipelined(engine):
	# Two pipelined requests in one write, the second chunked (logs of a
	# missing container is 404 JSON; /containers/json is chunked or not).
	with rawhttp.RawConn(unix=engine.socket) as conn:
		conn.send(rawhttp.request("GET", "/_ping") +
		    rawhttp.request("GET", "/containers/json?all=1"))
		first = conn.read_response()
		second = conn.read_response()
	assert (first.status, first.body) == (200, b"OK")
	assert second.status == 200 and isinstance(second.json(), list)


def test_unix_socket_path_is_short(engine):
	assert len(engine.socket) < 107
	s = socket.socket(socket.AF_UNIX)
	s.settimeout(2)
	s.connect(engine.socket)
	s.close()
