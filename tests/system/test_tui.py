"""dsptui in a tmux window of 80x24 against a real dspd in front of the
real engine, driven by keys and read back from the screen: denials are
marked in the live list (with colours or without, in UTF-8 or ASCII);
a toggle on the groups panel is a revision that lets the next docker
command through and shows in the history; the rollback screen refuses a
wrong phrase and with the right one puts dspd in bypass with a countdown
until restore; the read-only socket and a refused user are explained;
a dspd restarted under the TUI is found again."""

import os
import re
import signal
import time

import pytest

from conftest import CLIS, marker
from harness import cli as cli_mod
from harness import rawhttp
from harness.control import Control
from harness.tui import Tui

CROSS = "\u2717"	# the denial marker in UTF-8
PHRASE = "switch off the filter"


@pytest.fixture
def tui(dsptui_bin, workdir):
	"""Factory: tui(socket_path, term=, lang=, user=) -> a started Tui
	whose tmux server is killed at teardown."""
	started = []

	def start(socket_path, **kw):
		n = len(started)
		path = os.path.join(workdir, "tui%d" % n)
		os.makedirs(path, exist_ok=True)
		os.chmod(path, 0o755)
		t = Tui(dsptui_bin, socket_path, path, **kw).start()
		started.append(t)
		return t
	yield start
	for t in started:
		print("---- dsptui screen at the end ----\n" + t.text())
		t.stop()


def get(proxy, path):
	return rawhttp.exchange(proxy.host, proxy.port, "GET", path)


def connected(lines):
	return lines[0].startswith("dspd ") and (" ENFORCE " in lines[0] or
	    " BYPASS " in lines[0])


def row_of(lines, target):
	"""The list line of the request for target, or None.  At 80
	columns the target column holds 15 cells: a longer target shows its
	first 14 and a '>' that says it was cut."""
	shown = target if len(target) <= 15 else target[:14] + ">"
	for line in lines[4:-1]:
		if shown in line:
			return line
	return None


def group_rows(lines):
	"""The words of each group line; none unless the panel is shown."""
	head = [i for i, l in enumerate(lines) if l.strip().startswith(
	    "GROUP") and "ACCESS" in l]
	if not head:
		return []
	rows = []
	for line in lines[head[0] + 1:-1]:
		words = line.replace("*", " ").split()
		if len(words) >= 3:
			rows.append(words)
	return rows


def access_on_screen(lines, group):
	for words in group_rows(lines):
		if words[0] == group:
			return words[2]
	return None


def select_group(t, group):
	"""Open the groups panel and move the cursor onto group."""
	t.keys("2")
	lines = t.wait_for(lambda l: access_on_screen(l, group) is not None,
	    what="the groups panel with " + group)
	names = [w[0] for w in group_rows(lines)]
	for _ in range(names.index(group)):
		t.keys("Down")


def test_denied_request_is_marked(start_dspd, tui):
	proxy = start_dspd()
	t = tui(proxy.control_path)
	lines = t.wait_for(connected, what="the header of a connected dspd")
	assert len(lines) == 24 and max(len(l) for l in lines) <= 80
	assert "engine up" in lines[0] and "db ok" in lines[0], lines[0]
	target = "/containers/json?" + marker()
	assert get(proxy, target).status == 403
	assert get(proxy, "/_ping").status == 200
	lines = t.wait_for(lambda l: row_of(l, target) is not None and
	    row_of(l, "/_ping") is not None, what="both requests")
	denied, allowed = row_of(lines, target), row_of(lines, "/_ping")
	assert denied.startswith(CROSS + " "), denied
	assert " containers " in denied and " deny " in denied, denied
	assert " 403 " in denied, denied
	assert not allowed.startswith(CROSS), allowed
	assert " allow " in allowed and " 200 " in allowed, allowed
	# Newest at the bottom.
	assert lines.index(allowed) > lines.index(denied)
	# The header counts it among the denials of the last minute.
	t.wait_for(lambda l: re.search(r" [1-9]\d* denied/1m", l[0]),
	    what="a denial counted in the header")

	# Denied only hides the allowed row; the record has every field.
	t.keys("d")
	lines = t.wait_for(lambda l: row_of(l, "/_ping") is None,
	    what="the allowed row filtered out")
	assert row_of(lines, target) is not None
	t.keys("x", "Up", "Up", "Enter")
	lines = t.wait_for("policy_verdict", what="the request's record")
	text = "\n".join(lines)
	assert "containers.list" in text and target[:60] in text, text
	t.keys("q")
	t.wait_for("PAUSED", what="the paused list after the record")


def test_header_counts_denials_from_before_it_started(start_dspd, tui):
	"""The header's count of the last minute is dspd's, so a console
	opened after an incident shows it at once."""
	proxy = start_dspd()
	for path in ("/containers/json", "/info"):
		assert get(proxy, path).status == 403
	t = tui(proxy.control_path)
	t.wait_for(lambda l: connected(l) and " 2 denied/1m" in l[0],
	    what="the two earlier denials in the header")


def test_vt100_ascii_marker(start_dspd, tui):
	proxy = start_dspd()
	t = tui(proxy.control_path, term="vt100", lang="C")
	t.wait_for(connected, what="the header")
	target = "/info?" + marker()
	assert get(proxy, target).status == 403
	lines = t.wait_for(lambda l: row_of(l, target) is not None,
	    what="the denied request")
	line = row_of(lines, target)
	assert line.startswith("! ") and " deny " in line, line
	assert all(ord(c) < 128 for c in "\n".join(lines))


def test_toggle_containers_then_docker_ps(start_dspd, tui):
	if not CLIS:
		pytest.skip("no docker CLI installed")
	path, version = CLIS[0]
	proxy = start_dspd()
	docker = cli_mod.DockerCLI(path, version, os.path.join(
	    os.path.dirname(proxy.workdir), "cli-config"))
	proc = docker.run(proxy.url, ["ps"])
	assert proc.returncode != 0 and "containers" in proc.stderr, \
	    proc.stderr

	t = tui(proxy.control_path)
	t.wait_for(connected, what="the header")
	select_group(t, "containers")
	t.keys("Space")
	lines = t.wait_for(lambda l: access_on_screen(l, "containers") ==
	    "read", what="containers read")
	assert "policy revision" in lines[-1], lines[-1]
	proc = docker.run(proxy.url, ["ps"])
	assert proc.returncode == 0, proc.stderr

	# The revision: made from the TUI by this uid, shown in history.
	with Control(proxy.control_path) as c:
		rev = c.result("history", limit=1)["revisions"][0]
	assert rev["source"] == "dsptui" and rev["uid"] == os.getuid(), rev
	t.keys("3")
	lines = t.wait_for(lambda l: any(re.match(r"\s*%d .*dsptui" %
	    rev["revision"], x) for x in l), what="the revision in history")
	assert "(%d)" % os.getuid() in "\n".join(lines)
	t.keys("Enter")
	lines = t.wait_for("access.containers", what="the diff")
	assert any("off -> read" in l for l in lines), "\n".join(lines)

	# Revert to the first revision, after a confirmation.
	t.keys("q", "Down", "r")
	t.wait_for("state of revision 1", what="the confirmation")
	t.keys("y")
	t.wait_for(lambda l: any(re.match(r"\s*%d .*dsptui +reverted" %
	    (rev["revision"] + 1), x) for x in l), what="the revert")
	proc = docker.run(proxy.url, ["ps"])
	assert proc.returncode != 0 and "containers" in proc.stderr, \
	    proc.stderr


def test_grant_shows_time_left(start_dspd, tui):
	proxy = start_dspd()
	t = tui(proxy.control_path)
	t.wait_for(connected, what="the header")
	with Control(proxy.control_path) as c:
		c.result("set", access={"images": "read"}, **{"for": 600})
	t.keys("2")
	lines = t.wait_for(lambda l: access_on_screen(l, "images") == "read",
	    what="images read")
	line = [l for l in lines if l[2:].startswith("images ")][0]
	m = re.search(r"read until \d\d:\d\d:\d\d, (\d+)m (\d+)s left", line)
	assert m, line
	assert 590 <= int(m.group(1)) * 60 + int(m.group(2)) <= 600, line


def test_dangerous_toggle_asks_first(start_dspd, tui):
	proxy = start_dspd()
	t = tui(proxy.control_path)
	t.wait_for(connected, what="the header")
	select_group(t, "exec")
	t.keys("Space")
	t.wait_for("Give exec read access?", what="the confirmation")
	t.keys("n")
	t.wait_for("nothing changed", what="the cancellation")
	with Control(proxy.control_path) as c:
		groups = c.result("groups")["groups"]
	assert {g["group"]: g["access"] for g in groups}["exec"] == "off"
	t.keys("Space")
	t.wait_for("Give exec read access?", what="the confirmation")
	t.keys("y")
	t.wait_for(lambda l: access_on_screen(l, "exec") == "read",
	    what="exec read")


def bypass_left(line):
	m = re.search(r"BYPASS ((\d+)m)? ?((\d+)s)? left", line)
	assert m, line
	return int(m.group(2) or 0) * 60 + int(m.group(4) or 0)


def test_rollback_phrase_countdown_restore(start_dspd, tui):
	proxy = start_dspd()
	t = tui(proxy.control_path)
	t.wait_for(connected, what="the header")
	assert get(proxy, "/containers/json").status == 403

	# A wrong phrase changes nothing.
	t.keys("b")
	t.wait_for("EMERGENCY ROLLBACK", what="the rollback screen")
	assert "holds root on this host" in t.text()
	t.keys("Enter")
	t.wait_for("Type \"%s\"" % PHRASE, what="the phrase prompt")
	t.type("switch off the filtre")
	t.keys("Enter")
	lines = t.wait_for("nothing changed", what="the refusal")
	assert " ENFORCE " in lines[0], lines[0]
	with Control(proxy.control_path) as c:
		assert c.result("status")["mode"] == "enforcing"
	assert get(proxy, "/containers/json").status == 403

	# Another key than Enter on the first step cancels too.
	t.keys("b")
	t.wait_for("EMERGENCY ROLLBACK", what="the rollback screen")
	t.keys("Escape")
	t.wait_for("rollback cancelled", what="the cancellation")

	# The right phrase, 5 minutes: BYPASS and a countdown in the header.
	t.keys("b")
	t.wait_for("EMERGENCY ROLLBACK", what="the rollback screen")
	t.keys("1", "Enter")
	t.wait_for("Type \"%s\"" % PHRASE, what="the phrase prompt")
	t.type(PHRASE)
	t.keys("Enter")
	lines = t.wait_for(lambda l: " BYPASS " in l[0], what="BYPASS")
	first = bypass_left(lines[0])
	assert 280 <= first <= 300, lines[0]
	lines = t.wait_for(lambda l: " BYPASS " in l[0] and
	    bypass_left(l[0]) < first, what="the countdown going down")
	with Control(proxy.control_path) as c:
		st = c.result("status")
	assert st["mode"] == "bypass", st
	assert get(proxy, "/containers/json").status == 200

	# R restores at once.
	t.keys("R")
	lines = t.wait_for(lambda l: " ENFORCE " in l[0], what="ENFORCE")
	with Control(proxy.control_path) as c:
		assert c.result("status")["mode"] == "enforcing"
	assert get(proxy, "/containers/json").status == 403


def test_reconnects_after_dspd_restart(start_dspd, tui):
	proxy = start_dspd()
	control = proxy.control_path
	t = tui(control)
	t.wait_for(connected, what="the header")
	proxy.stop()
	t.wait_for(lambda l: "dspd went away" in l[0], what="dspd gone")
	# The new dspd on the same control socket, with its own database.
	proxy2 = start_dspd(args=["--control", control])
	t.wait_for(connected, what="the header again")
	target = "/images/json?" + marker()
	assert get(proxy2, target).status == 403
	t.wait_for(lambda l: row_of(l, target) is not None,
	    what="a request of the new dspd")


def test_read_only_socket(start_dspd, tui, workdir):
	ro = os.path.join(workdir, "ro.sock")
	proxy = start_dspd(args=["--control-ro", ro])
	t = tui(ro)
	lines = t.wait_for(connected, what="the header")
	assert "read-only: changes need the other socket" in lines[1], \
	    lines[1]
	target = "/volumes?" + marker()
	assert get(proxy, target).status == 403
	t.wait_for(lambda l: row_of(l, target) is not None,
	    what="the denied request")
	select_group(t, "containers")
	t.keys("Space")
	t.wait_for("changes need the other socket", what="the refusal")
	t.keys("b")
	lines = t.wait_for(lambda l: "changes need" in l[-1] or
	    "changes need" in l[-2], what="no rollback screen")
	assert "EMERGENCY ROLLBACK" not in "\n".join(lines)
	with Control(proxy.control_path) as c:
		assert c.result("status")["revision"] == 1


def test_refused_user_is_told_which_socket(start_dspd, tui, test_user,
    workdir):
	os.chmod(workdir, 0o755)
	proxy = start_dspd()
	os.chmod(proxy.workdir, 0o755)
	t = tui(proxy.control_path, user=test_user)
	lines = t.wait_for("no permission on", what="the refusal")
	text = " ".join(l.strip() for l in lines)
	assert proxy.control_path in text.replace(" ", "") or \
	    proxy.control_path in text, text
	assert "needs root" in text, text
	assert "dspd 0.1" not in lines[0], lines[0]

	# The file's mode lets it in: dspd's own check of the uid says no.
	os.chmod(proxy.control_path, 0o666)
	lines = t.wait_for("dspd refuses uid %d" % test_user.pw_uid,
	    what="dspd's refusal")
	assert "--control-allow-uid" in " ".join(lines)


def test_resize_help_and_quit(start_dspd, tui):
	proxy = start_dspd()
	t = tui(proxy.control_path)
	t.wait_for(connected, what="the header")
	t.resize(120, 40)
	lines = t.wait_for(lambda l: len(l) == 40 and "p pause" in l[39],
	    what="the bottom line at line 40")
	assert connected(lines)
	t.resize(80, 24)
	t.wait_for(lambda l: len(l) == 24 and "p pause" in l[23],
	    what="the bottom line at line 24")
	t.keys("?")
	t.wait_for("dsptui keys", what="the keys")
	t.keys("q")
	t.wait_for(lambda l: "p pause" in l[-1], what="the list again")
	t.keys("q")
	assert t.exit_status() == 0


def test_heavy_traffic_stays_responsive(start_dspd, tui):
	"""Requests from several connections for a few seconds: the list
	keeps up with the newest rows and keys are answered meanwhile."""
	import threading

	proxy = start_dspd()
	t = tui(proxy.control_path)
	t.wait_for(connected, what="the header")
	stop = threading.Event()

	def flood():
		while not stop.is_set():
			with rawhttp.RawConn(proxy.host, proxy.port) as c:
				for _ in range(200):
					c.send(b"GET /_ping HTTP/1.1\r\n"
					    b"Host: d\r\n\r\n")
					c.read_response()
	threads = [threading.Thread(target=flood) for _ in range(4)]
	for th in threads:
		th.start()
	try:
		t.wait_for(lambda l: re.search(r" [1-9]\d* req/s", l[0]),
		    what="a request rate")
		start = time.monotonic()
		t.keys("?")
		t.wait_for("dsptui keys", timeout=3, what="the keys, quickly")
		answered = time.monotonic() - start
		t.keys("q")
	finally:
		stop.set()
		for th in threads:
			th.join()
	assert answered < 3
	marked = "/info?" + marker()
	assert get(proxy, marked).status == 403
	t.wait_for(lambda l: row_of(l, marked) is not None,
	    what="the newest request after the flood")
