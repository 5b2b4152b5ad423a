"""The metrics page (--metrics) of a real dspd in front of the session's
dockerd: off unless asked for; a scrape before and after some requests
shows the counters moved by exactly those requests; the exposition is
one that Prometheus reads (promtool, and a strict reader here); labels
come from fixed sets whatever the clients send; the engine, store,
bypass and stream gauges follow what happens."""

import os
import re
import shutil
import socket
import stat
import subprocess
import time

import pytest

from harness import rawhttp
from harness.control import Dspctl
from harness.dspd import run_to_exit

PROMTOOL = shutil.which("promtool")
POLL_TIMEOUT = 10.0	# seconds for an asynchronous change to show
METRICS_LOG = re.compile(r"metrics on (tcp://[^/\s]+|unix://\S+)")

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"')
SAMPLE = re.compile(r"(%s)(?:\{([^}]*)\})? (\S+)" % NAME)
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def parse(text):
	"""Read an exposition strictly: every sample under its own family's
	HELP and TYPE, no series twice, every value a number.  Returns
	{family: {"type", "help", "samples": {(name, labels): value}}}."""
	assert text.endswith("\n"), text[-200:]
	families = {}
	current = None
	for line in text[:-1].split("\n"):
		if line.startswith("# HELP "):
			name, _, help_text = line[7:].partition(" ")
			assert re.fullmatch(NAME, name), line
			assert name not in families, "family twice: " + name
			assert help_text, line
			families[name] = {"help": help_text, "type": None,
			    "samples": {}}
			current = name
			continue
		if line.startswith("# TYPE "):
			name, _, typ = line[7:].partition(" ")
			assert name == current, "TYPE not after its HELP: " + line
			assert families[name]["type"] is None, line
			assert typ in ("counter", "gauge", "histogram"), line
			families[name]["type"] = typ
			continue
		assert not line.startswith("#") and line, repr(line)
		m = SAMPLE.fullmatch(line)
		assert m, "not a sample line: %r" % line
		name, labels, value = m.groups()
		assert current is not None and families[current]["type"], line
		family = name
		if families[current]["type"] == "histogram":
			for suffix in HISTOGRAM_SUFFIXES:
				if name == current + suffix:
					family = current
		assert family == current, "%s under family %s" % (name, current)
		pairs = {}
		if labels:
			for item in split_labels(labels):
				lm = LABEL.fullmatch(item)
				assert lm, "bad label %r in %r" % (item, line)
				assert lm.group(1) not in pairs, line
				pairs[lm.group(1)] = lm.group(2)
		key = (name, tuple(sorted(pairs.items())))
		samples = families[current]["samples"]
		assert key not in samples, "series twice: " + line
		samples[key] = float(value)
	return families


def split_labels(text):
	"""Split a{x="1",y="2"}'s label text at the commas between pairs."""
	items, start, quoted, escaped = [], 0, False, False
	for i, c in enumerate(text):
		if escaped:
			escaped = False
		elif c == "\\":
			escaped = True
		elif c == '"':
			quoted = not quoted
		elif c == "," and not quoted:
			items.append(text[start:i])
			start = i + 1
	items.append(text[start:])
	return items


def series(fams, family, name=None):
	"""{labels dict as a sorted tuple: value} of one family's samples
	named name (the family's own name by default)."""
	name = name or family
	return {labels: v for (n, labels), v in
	    fams.get(family, {"samples": {}})["samples"].items() if n == name}


def value(fams, family, name=None, **labels):
	"""One sample's value; 0 when the series is not there (counters are
	shown once they move)."""
	return series(fams, family, name).get(tuple(sorted(labels.items())),
	    0.0)


def deltas(before, after, family, name=None):
	"""The series of a family that moved between two scrapes."""
	b, a = series(before, family, name), series(after, family, name)
	moved = {}
	for key in set(a) | set(b):
		d = a.get(key, 0.0) - b.get(key, 0.0)
		if d != 0:
			moved[key] = d
	return moved


def labels(**kw):
	return tuple(sorted(kw.items()))


def metrics_address(proxy):
	"""Where this dspd serves its metrics, from its log."""
	m = METRICS_LOG.search(proxy.stderr())
	assert m, proxy.stderr()
	return m.group(1)


def http_get(address, target, method="GET"):
	"""One request to the metrics page; the response."""
	if address.startswith("unix://"):
		conn = rawhttp.RawConn(unix=address[len("unix://"):])
	else:
		host, _, port = address[len("tcp://"):].rpartition(":")
		conn = rawhttp.RawConn(host.strip("[]"), int(port))
	with conn:
		conn.send(rawhttp.request(method, target))
		return conn.read_response(method)


def scrape_text(proxy):
	resp = http_get(metrics_address(proxy), "/metrics")
	assert resp.status == 200, resp
	ctype = resp.header("Content-Type")
	assert ctype.startswith("text/plain; version=0.0.4"), ctype
	return resp.body.decode("utf-8")


def scrape(proxy):
	"""Read the metrics page: parsed strictly, and checked by promtool
	when it is installed."""
	text = scrape_text(proxy)
	fams = parse(text)
	if PROMTOOL:
		out = subprocess.run([PROMTOOL, "check", "metrics"],
		    input=text, capture_output=True, text=True, timeout=30)
		assert out.returncode == 0, out.stdout + out.stderr + text
	return fams


def wait_for(proxy, check, timeout=POLL_TIMEOUT):
	"""Scrape until check(families) holds; the last scrape."""
	deadline = time.monotonic() + timeout
	while True:
		fams = scrape(proxy)
		if check(fams) or time.monotonic() > deadline:
			return fams
		time.sleep(0.1)


def raw_exchange(proxy, method, target, headers=()):
	"""One request with Connection: close, read to the end: the bytes
	sent, the bytes received, and the status."""
	req = rawhttp.request(method, target, [("Connection", "close")] +
	    list(headers))
	got = b""
	with socket.create_connection((proxy.host, proxy.port),
	    timeout=10) as s:
		s.sendall(req)
		while True:
			data = s.recv(65536)
			if not data:
				break
			got += data
	status = int(got.split(b" ", 2)[1])
	return len(req), len(got), status


def tcp_listeners(pid):
	"""Listening TCP sockets that a process holds."""
	inodes = set()
	fd_dir = "/proc/%d/fd" % pid
	for fd in os.listdir(fd_dir):
		try:
			link = os.readlink(os.path.join(fd_dir, fd))
		except OSError:
			continue
		if link.startswith("socket:["):
			inodes.add(link[8:-1])
	found = []
	for table in ("/proc/net/tcp", "/proc/net/tcp6"):
		with open(table) as f:
			for line in f.readlines()[1:]:
				cols = line.split()
				if cols[3] == "0A" and cols[9] in inodes:
					found.append(cols[1])
	return found


@pytest.fixture
def metrics_dspd(start_dspd):
	"""Factory: a dspd with --metrics on a free loopback port."""
	def start(env=None, args=(), **kw):
		return start_dspd(env=env, args=["--metrics",
		    "tcp://127.0.0.1:0"] + list(args), **kw)
	return start


def test_metrics_off_by_default(start_dspd):
	# Without --metrics the one TCP socket is the proxy's: no port for
	# metrics, nothing said about them.  With it, one more.
	proxy = start_dspd()
	assert len(tcp_listeners(proxy.proc.pid)) == 1
	assert "metrics" not in proxy.stderr()
	with_metrics = start_dspd(args=["--metrics", "tcp://127.0.0.1:0"])
	ports = tcp_listeners(with_metrics.proc.pid)
	assert len(ports) == 2, ports
	assert metrics_address(with_metrics).startswith("tcp://127.0.0.1:")


def test_counters_move_by_exactly_the_requests(metrics_dspd):
	# One refused and one allowed request between two scrapes: the
	# requests, denials, bytes and histogram move by those two and by
	# nothing else.  Scrapes are not requests.
	proxy = metrics_dspd()
	before = scrape(proxy)
	sent_d, got_d, status_d = raw_exchange(proxy, "GET",
	    "/containers/json")
	assert status_d == 403
	sent_a, got_a, status_a = raw_exchange(proxy, "GET", "/_ping")
	assert status_a == 200
	after = scrape(proxy)

	assert deltas(before, after, "dsp_requests_total") == {
	    labels(group="containers", action="containers.list",
	    verdict="deny", status="4xx"): 1,
	    labels(group="ping", action="ping.check", verdict="allow",
	    status="2xx"): 1}
	assert deltas(before, after, "dsp_denials_total") == {
	    labels(group="containers", action="containers.list"): 1}
	assert deltas(before, after, "dsp_request_bytes_total") == {
	    labels(group="containers"): sent_d, labels(group="ping"): sent_a}
	assert deltas(before, after, "dsp_response_bytes_total") == {
	    labels(group="containers"): got_d, labels(group="ping"): got_a}
	assert deltas(before, after, "dsp_request_duration_seconds",
	    "dsp_request_duration_seconds_count") == {
	    labels(group="containers"): 1, labels(group="ping"): 1}
	assert deltas(before, after, "dsp_engine_errors_total") == {}


def test_histogram_is_cumulative_and_counts_every_request(metrics_dspd):
	proxy = metrics_dspd(env={"INFO": "1"})
	for target in ("/_ping", "/info", "/containers/json", "/version",
	    "/nowhere", "/_ping"):
		raw_exchange(proxy, "GET", target)
	fams = scrape(proxy)
	h = "dsp_request_duration_seconds"
	assert fams[h]["type"] == "histogram"
	requests = {}
	for key, v in series(fams, "dsp_requests_total").items():
		group = dict(key)["group"]
		requests[group] = requests.get(group, 0) + v
	assert requests == {"ping": 2, "info": 1, "containers": 1,
	    "version": 1, "unknown": 1}, requests
	counts = {dict(k)["group"]: v for k, v in
	    series(fams, h, h + "_count").items()}
	assert counts == requests
	sums = series(fams, h, h + "_sum")
	buckets = series(fams, h, h + "_bucket")
	for group, count in counts.items():
		row = sorted(((float(dict(k)["le"]), v) for k, v in
		    buckets.items() if dict(k)["group"] == group))
		assert row[-1] == (float("inf"), count), row
		values = [v for _, v in row]
		assert values == sorted(values), row
		assert sums[labels(group=group)] >= 0
	# Every exchange here takes well under ten seconds.
	assert sum(v for k, v in buckets.items()
	    if dict(k)["le"] == "10") == sum(requests.values())


def test_labels_never_carry_clients_or_paths(metrics_dspd):
	# Forty requests from forty client addresses to forty paths nobody
	# knows: one series, and no address or path in the page.
	proxy = metrics_dspd()
	raw_exchange(proxy, "GET", "/warmup")
	before = scrape(proxy)
	for i in range(40):
		with socket.create_connection((proxy.host, proxy.port),
		    timeout=10, source_address=("127.0.0.%d" % (i + 2), 0)) \
		    as s:
			s.sendall(rawhttp.request("GET", "/probe%d/x?q=%d" % (i,
			    i), [("Connection", "close")]))
			while s.recv(65536):
				pass
	text = scrape_text(proxy)
	after = parse(text)
	assert set(series(after, "dsp_requests_total")) == \
	    set(series(before, "dsp_requests_total"))
	assert deltas(before, after, "dsp_requests_total") == {
	    labels(group="unknown", action="unknown", verdict="deny",
	    status="4xx"): 40}
	assert "probe" not in text
	assert "127.0.0." not in text


def test_refused_before_a_decision_has_verdict_none(metrics_dspd):
	# A malformed target is refused before the catalogue sees it.
	proxy = metrics_dspd()
	before = scrape(proxy)
	resp = rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/containers/../info")
	assert resp.status == 400
	after = scrape(proxy)
	assert deltas(before, after, "dsp_requests_total") == {
	    labels(group="unknown", action="unknown", verdict="none",
	    status="4xx"): 1}
	assert deltas(before, after, "dsp_denials_total") == {}


def test_engine_up_follows_the_socket(metrics_dspd, workdir):
	# A socket file that nothing listens on: the engine is down, and a
	# request's 502 counts as an engine error.
	path = os.path.join(workdir, "dead.sock")
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.bind(path)
	s.close()
	down = metrics_dspd(upstream=path)
	fams = scrape(down)
	assert fams["dsp_engine_up"]["type"] == "gauge"
	assert value(fams, "dsp_engine_up") == 0
	_, _, status = raw_exchange(down, "GET", "/_ping")
	assert status == 502
	after = scrape(down)
	assert deltas(fams, after, "dsp_engine_errors_total") == {
	    labels(kind="connect"): 1}

	# No file at all: down too.
	gone = metrics_dspd(upstream=os.path.join(workdir, "missing.sock"))
	assert value(scrape(gone), "dsp_engine_up") == 0

	# The session's engine: up.
	up = metrics_dspd()
	assert value(scrape(up), "dsp_engine_up") == 1


def test_bypass_gauges_during_rollback(metrics_dspd, dspctl_bin):
	proxy = metrics_dspd()
	ctl = Dspctl(dspctl_bin, proxy.control_path)
	fams = scrape(proxy)
	assert value(fams, "dsp_bypass_active") == 0
	assert value(fams, "dsp_bypass_remaining_seconds") == 0

	ctl.ok("rollback", "--for", "10m", "--yes")
	fams = scrape(proxy)
	assert value(fams, "dsp_bypass_active") == 1
	left = value(fams, "dsp_bypass_remaining_seconds")
	assert 590 <= left <= 600, left
	# A request the policy refuses goes through, counted as bypass.
	_, _, status = raw_exchange(proxy, "GET", "/info")
	assert status == 200
	after = scrape(proxy)
	assert deltas(fams, after, "dsp_requests_total") == {
	    labels(group="info", action="info.inspect", verdict="bypass",
	    status="2xx"): 1}
	assert deltas(fams, after, "dsp_denials_total") == {}

	ctl.ok("restore")
	fams = scrape(proxy)
	assert value(fams, "dsp_bypass_active") == 0
	assert value(fams, "dsp_bypass_remaining_seconds") == 0


def test_policy_revision_follows_changes(metrics_dspd, dspctl_bin):
	proxy = metrics_dspd()
	ctl = Dspctl(dspctl_bin, proxy.control_path)
	before = value(scrape(proxy), "dsp_policy_revision")
	status = ctl.json("status")
	assert before == status["revision"] and before >= 1, status
	ctl.ok("allow", "containers", "--reason", "metrics test")
	assert value(scrape(proxy), "dsp_policy_revision") == before + 1


def test_connections_and_streams_by_kind(metrics_dspd, workdir):
	# An idle TCP connection and an /events stream on the unix listener.
	path = os.path.join(workdir, "d.sock")
	proxy = metrics_dspd(listen=("tcp://127.0.0.1:0", "unix://" + path))
	fams = scrape(proxy)
	assert value(fams, "dsp_connections", transport="tcp") == 0
	assert value(fams, "dsp_connections", transport="unix") == 0
	assert series(fams, "dsp_streams") == {}

	idle = socket.create_connection((proxy.host, proxy.port), timeout=10)
	events = rawhttp.RawConn(unix=path)
	try:
		events.send(rawhttp.request("GET", "/events"))
		assert events.read_head().status == 200
		fams = wait_for(proxy, lambda f: value(f, "dsp_connections",
		    transport="tcp") == 1)
		assert value(fams, "dsp_connections", transport="tcp") == 1
		assert value(fams, "dsp_connections", transport="unix") == 1
		assert series(fams, "dsp_streams") == {
		    labels(group="events", action="events.watch"): 1}
	finally:
		idle.close()
		events.close()
	fams = wait_for(proxy, lambda f: value(f, "dsp_connections",
	    transport="tcp") + value(f, "dsp_connections",
	    transport="unix") == 0)
	assert value(fams, "dsp_connections", transport="tcp") == 0
	assert value(fams, "dsp_connections", transport="unix") == 0
	assert series(fams, "dsp_streams") == {}


def test_spliced_attach_is_a_stream(metrics_dspd, containers):
	proxy = metrics_dspd(env={"CONTAINERS": "1", "EXEC": "1",
	    "POST": "1"})
	name, _ = containers.run(["sleep", "600"])
	conn = rawhttp.RawConn(proxy.host, proxy.port)
	try:
		conn.send(rawhttp.request("POST", "/containers/%s/attach"
		    "?stream=1&stdout=1" % name, [("Connection", "Upgrade"),
		    ("Upgrade", "tcp")]))
		assert conn.read_head().status == 101
		fams = scrape(proxy)
		assert series(fams, "dsp_streams") == {
		    labels(group="exec", action="exec.attach"): 1}
	finally:
		conn.close()
	# A client's close only half-closes a splice: the stream ends
	# when the container's side does too.
	containers.engine.remove_container(name)
	fams = wait_for(proxy, lambda f: series(f, "dsp_streams") == {})
	assert series(fams, "dsp_streams") == {}
	assert value(fams, "dsp_requests_total", group="exec",
	    action="exec.attach", verdict="allow", status="1xx") == 1


def test_store_rows_written(metrics_dspd):
	proxy = metrics_dspd()
	before = scrape(proxy)
	for _ in range(7):
		raw_exchange(proxy, "GET", "/_ping")
	written = value(before, "dsp_store_rows_written_total")
	fams = wait_for(proxy, lambda f: value(f,
	    "dsp_store_rows_written_total") >= written + 7)
	assert value(fams, "dsp_store_rows_written_total") == written + 7
	assert value(fams, "dsp_store_rows_dropped_total") == 0
	assert value(fams, "dsp_store_degraded") == 0
	assert fams["dsp_store_queue_rows"]["type"] == "gauge"


def test_store_degraded_and_rows_dropped(start_dspd, workdir):
	# Under a file size limit the database cannot grow: the store is
	# degraded and the rows it loses are counted.
	db = os.path.join(workdir, "full.db")
	start_dspd(args=["--db", db]).stop()
	size = os.path.getsize(db)
	proxy = start_dspd(args=["--db", db, "--metrics",
	    "tcp://127.0.0.1:0"], wrap=["prlimit", "--fsize=%d" % (size +
	    4096), "--"])
	deadline = time.monotonic() + 30
	while value(scrape(proxy), "dsp_store_degraded") != 1:
		assert time.monotonic() < deadline, proxy.stderr()
		for _ in range(50):
			raw_exchange(proxy, "GET", "/info")
	fams = scrape(proxy)
	assert value(fams, "dsp_store_rows_dropped_total") > 0
	assert "store degraded" in proxy.stderr()


def test_no_database_no_store_metrics(start_dspd):
	proxy = start_dspd(env={"DSP_DB": "none", "DSP_METRICS":
	    "tcp://127.0.0.1:0"})
	fams = scrape(proxy)
	assert not [f for f in fams if f.startswith("dsp_store_")]
	assert value(fams, "dsp_engine_up") == 1


def test_only_get_metrics_and_root(metrics_dspd):
	proxy = metrics_dspd()
	address = metrics_address(proxy)
	root = http_get(address, "/")
	assert root.status == 200 and b"/metrics" in root.body
	assert http_get(address, "/metrics/x").status == 404
	assert http_get(address, "/containers/json").status == 404
	head = http_get(address, "/metrics", "HEAD")
	assert head.status == 200 and head.body == b""
	for method in ("POST", "PUT", "DELETE"):
		resp = http_get(address, "/metrics", method)
		assert resp.status == 405, resp
		assert resp.header("Allow") == "GET, HEAD", resp


def test_metrics_on_unix_socket(start_dspd, workdir):
	path = os.path.join(workdir, "metrics.sock")
	proxy = start_dspd(args=["--metrics", "unix://" + path])
	assert metrics_address(proxy) == "unix://" + path
	assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
	fams = scrape(proxy)
	assert value(fams, "dsp_engine_up") == 1
	proxy.stop()
	assert not os.path.exists(path)


@pytest.mark.parametrize("args,env,named", [
	(["--metrics", "http://127.0.0.1:9375"], {}, "--metrics"),
	(["--metrics", "tcp://127.0.0.1"], {}, "metrics"),
	([], {"DSP_METRICS": "9375"}, "DSP_METRICS"),
])
def test_bad_metrics_address_stops_the_start(dspd_bin, workdir, args, env,
    named):
	rc, err = run_to_exit(dspd_bin, workdir, env=dict(env, DSP_DB="none",
	    DSP_CONTROL_SOCKET="none"), args=args)
	assert rc == 1, err
	assert named in err, err


def test_metrics_port_in_use_stops_the_start(start_dspd, dspd_bin,
    workdir):
	first = start_dspd(args=["--metrics", "tcp://127.0.0.1:0"])
	address = metrics_address(first)
	rc, err = run_to_exit(dspd_bin, os.path.join(workdir, "second"),
	    env={"DSP_DB": "none", "DSP_CONTROL_SOCKET": "none"},
	    args=["--metrics", address])
	assert rc == 1, err
	assert "metrics" in err, err
