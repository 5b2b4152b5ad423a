"""dspd's own output: the log formats and levels, the rate limit on the
exchange lines, --help and --version, and errors in flags."""

import json
import os
import re
import subprocess
import time

from conftest import NO_STATE, REPO
from harness import rawhttp


def log_lines(proxy):
	return [l for l in proxy.stderr().splitlines() if l.strip()]


def wait_for(predicate, timeout=5.0):
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		if predicate():
			return True
		time.sleep(0.05)
	return predicate()


def test_json_log_lines(start_dspd):
	proxy = start_dspd(args=["--log-format", "json"])
	rawhttp.exchange(proxy.host, proxy.port, "GET", "/_ping")
	rawhttp.exchange(proxy.host, proxy.port, "GET", "/info")

	def exchanges():
		return [json.loads(l) for l in log_lines(proxy)
		    if '"exchange"' in l]
	assert wait_for(lambda: len(exchanges()) == 2), proxy.stderr()
	for line in log_lines(proxy):
		obj = json.loads(line)	# every line is one JSON object
		assert {"time", "level", "msg"} <= set(obj), obj
	ping, info = exchanges()
	assert ping["method"] == "GET" and ping["target"] == "/_ping"
	assert (ping["group"], ping["action"]) == ("ping", "ping.check")
	assert (ping["verdict"], ping["status"]) == ("allow", 200)
	assert ping["bytes_out"] > 0 and ping["close"] == "complete"
	assert ping["client"].startswith("127.0.0.1:")
	assert (info["group"], info["verdict"], info["status"]) == \
	    ("info", "deny", 403)


def test_log_level_from_image_variable(start_dspd):
	proxy = start_dspd(env={"LOG_LEVEL": "warning"})
	rawhttp.exchange(proxy.host, proxy.port, "GET", "/_ping")
	time.sleep(0.3)
	assert not [l for l in log_lines(proxy) if ": info: " in l], \
	    proxy.stderr()


def test_repeated_exchange_lines_suppressed(start_dspd):
	# A flood of denials from one client: a few lines, then a count of
	# what was held back, never one line per request.
	proxy = start_dspd()
	with rawhttp.RawConn(proxy.host, proxy.port) as conn:
		for _ in range(40):
			conn.send(rawhttp.request("GET", "/info"))
			assert conn.read_response().status == 403
	time.sleep(1.2)
	rawhttp.exchange(proxy.host, proxy.port, "GET", "/info")

	def counts():
		text = proxy.stderr()
		lines = re.findall(r" GET /info info info\.inspect deny ", text)
		held = re.findall(r"127\.0\.0\.1 deny: (\d+) similar lines "
		    r"suppressed", text)
		return len(lines), sum(int(n) for n in held)
	assert wait_for(lambda: sum(counts()) == 41), proxy.stderr()
	written, held = counts()
	assert written < 20 and held > 20, (written, held)


def test_help_lists_every_flag_and_twin(dspd_bin):
	out = subprocess.run([dspd_bin, "--help"], capture_output=True,
	    text=True, timeout=10, env=NO_STATE)
	assert out.returncode == 0
	flags = re.findall(r"--([a-z][a-z-]+)", out.stdout)
	twins = set(re.findall(r"\b(DSP_[A-Z_]+)\b", out.stdout))
	assert len(twins) >= 15, out.stdout
	assert {"listen", "socket-path", "ready-file", "allow-from",
	    "head-timeout", "max-clients", "drain-timeout"} <= set(flags)
	# The manual page and the README document every twin.
	with open(os.path.join(REPO, "core", "dspd.8")) as f:
		manual = f.read()
	with open(os.path.join(REPO, "README.md")) as f:
		readme = f.read()
	for twin in sorted(twins):
		assert twin in manual, "%s missing from dspd.8" % twin
		assert twin in readme, "%s missing from README.md" % twin


def test_version(dspd_bin):
	out = subprocess.run([dspd_bin, "--version"], capture_output=True,
	    text=True, timeout=10, env=NO_STATE)
	assert out.returncode == 0
	assert re.match(r"dspd \d+\.\d+", out.stdout), out.stdout


def test_bad_flag_value_names_the_flag(dspd_bin):
	out = subprocess.run([dspd_bin, "--head-timeout", "5x"],
	    capture_output=True, text=True, timeout=10, env=NO_STATE)
	assert out.returncode == 1
	assert "--head-timeout" in out.stderr and "'5x'" in out.stderr


def test_bad_twin_value_names_the_variable(dspd_bin):
	out = subprocess.run([dspd_bin], capture_output=True, text=True,
	    timeout=10, env=dict(NO_STATE, DSP_MAX_CLIENTS="lots"))
	assert out.returncode == 1
	assert "DSP_MAX_CLIENTS" in out.stderr and "'lots'" in out.stderr


def test_unknown_flag_refused(dspd_bin):
	out = subprocess.run([dspd_bin, "--no-such-flag"],
	    capture_output=True, text=True, timeout=10, env=NO_STATE)
	assert out.returncode == 1
	assert "usage" in out.stderr
