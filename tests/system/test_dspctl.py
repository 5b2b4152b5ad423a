"""dspctl and the control socket against a running dspd in front of the
real engine: a change takes effect on the next request without a
restart and is in the history first; the read-only socket and a user
who is not allowed are refused; the emergency rollback asks before it
acts, lets refused requests through while it lasts, and ends with the
sessions it alone let in; bad messages cost only their own client;
subscribers see live traffic, and one that does not keep up costs dspd
nothing."""

import json
import os
import socket
import stat
import subprocess
import threading
import time
import uuid

import pytest

from conftest import marker
from harness import checks, rawhttp
from harness.control import Control, Dspctl
from harness.dspd import DspdExited

EXPIRY_WAIT = 10.0	# seconds a grant or bypass of 2 s may take to end
EVENT_PAD = 2000	# bytes of padding that make each access event large


@pytest.fixture
def proxy_ctl(start_dspd, dspctl_bin):
	"""Factory: a dspd (start_dspd's arguments) and a dspctl for it."""
	def start(env=None, args=(), **kw):
		proxy = start_dspd(env=env, args=args, **kw)
		return proxy, Dspctl(dspctl_bin, proxy.control_path)
	return start


def get(proxy, path):
	return rawhttp.exchange(proxy.host, proxy.port, "GET", path)


def wait_status(proxy, path, status, timeout=EXPIRY_WAIT):
	"""Poll until GET path answers status; the last response."""
	deadline = time.monotonic() + timeout
	while True:
		resp = get(proxy, path)
		if resp.status == status or time.monotonic() > deadline:
			return resp
		time.sleep(0.2)


def volume_create(proxy, name):
	body = json.dumps({"Name": name}).encode()
	return rawhttp.exchange(proxy.host, proxy.port, "POST",
	    "/volumes/create", [("Content-Type", "application/json")], body)


@pytest.fixture
def volumes(engine):
	"""Names of volumes a test may create, removed at teardown."""
	names = []

	def new():
		names.append("dsp-" + uuid.uuid4().hex[:12])
		return names[-1]
	yield new
	for name in names:
		engine.api("DELETE", "/volumes/" + name + "?force=1")


def test_allow_takes_effect_and_is_in_history(proxy_ctl):
	proxy, ctl = proxy_ctl()
	checks.denial(get(proxy, "/containers/json"), "containers")
	reason = "ticket " + marker()
	out = ctl.ok("allow", "containers", "--reason", reason)
	assert "containers: read" in out, out
	# The next request, on the same dspd: no restart.
	assert get(proxy, "/containers/json").status == 200
	revs = ctl.json("history")["revisions"]
	assert revs[0]["reason"] == reason, revs
	assert revs[0]["uid"] == 0 and revs[0]["source"] == "dspctl", revs
	table = ctl.ok("history")
	line = [l for l in table.splitlines() if reason in l]
	assert line and "uid 0" in line[0], table
	# Write access was not given by a read grant.
	resp = rawhttp.exchange(proxy.host, proxy.port, "POST",
	    "/containers/create", [("Content-Type", "application/json")],
	    b'{"Image":"dsp-busybox"}')
	checks.denial(resp, "containers")


def test_deny_takes_effect(proxy_ctl):
	proxy, ctl = proxy_ctl(env={"CONTAINERS": "1"})
	assert get(proxy, "/containers/json").status == 200
	out = ctl.ok("deny", "containers")
	assert "containers: off" in out, out
	checks.denial(get(proxy, "/containers/json"), "containers")
	groups = {g["group"]: g["access"] for g in ctl.json("groups")["groups"]}
	assert groups["containers"] == "off"
	assert groups["ping"] == "read"


def test_action_override(proxy_ctl):
	proxy, ctl = proxy_ctl(env={"CONTAINERS": "1"})
	start = "/containers/dsp-none-%s/start" % marker()

	def post(path):
		return rawhttp.exchange(proxy.host, proxy.port, "POST", path)
	checks.denial(post(start), "containers")
	# The name dspd's 403 gives: dspctl allow --action start.
	ctl.ok("allow", "--action", "start")
	assert post(start).status == 404	# the engine's: no such container
	# exec is a group and an action: a bare name is the group.
	ctl.ok("allow", "--action", "exec", "--yes")
	ctl.ok("deny", "--action", "logs")
	groups = ctl.json("groups")
	over = {o["action"]: o["override"] for o in groups["overrides"]}
	assert (over["start"], over["exec"], over["logs"]) == \
	    ("allow", "allow", "deny"), over
	access = {g["group"]: g["access"] for g in groups["groups"]}
	assert access["exec"] == "off", access
	checks.denial(get(proxy, "/containers/x/logs?stdout=1"), "containers")
	assert ctl.run("allow", "--action", "containers")[0] == 2
	assert ctl.run("allow", "containers", "--action", "start")[0] == 2


def test_write_needs_confirmation(proxy_ctl, volumes):
	proxy, ctl = proxy_ctl(env={"VOLUMES": "1"})
	name = volumes()
	checks.denial(volume_create(proxy, name), "volumes")
	# Without a terminal and without --yes nothing changes.
	rc, out, err = ctl.run("allow", "volumes", "--write")
	assert rc == 1, (out, err)
	assert "confirmation" in err and "nothing changed" in err, err
	assert len(err.strip().splitlines()) == 1, err
	checks.denial(volume_create(proxy, name), "volumes")
	# A wrong answer on a terminal changes nothing either.
	rc, out, err = ctl.run_tty(["allow", "volumes", "--write"], b"no\n")
	assert rc == 1 and "cancelled" in err, (out, err)
	ctl.ok("allow", "volumes", "--write", "--yes")
	assert volume_create(proxy, name).status == 201
	rc, out, err = ctl.run_tty(["allow", "exec"], b"yes\n")
	assert rc == 0, (out, err)


def test_grant_for_expires(proxy_ctl):
	proxy, ctl = proxy_ctl()
	out = ctl.ok("allow", "info", "--for", "2s", "--reason", "debug")
	assert "until" in out, out
	assert get(proxy, "/info").status == 200
	grants = ctl.json("groups")["grants"]
	assert [(g["group"], g["access"]) for g in grants] == \
	    [("info", "read")], grants
	resp = wait_status(proxy, "/info", 403)
	checks.denial(resp, "info")
	revs = ctl.json("history")["revisions"]
	assert revs[0]["source"] == "expiry", revs
	assert ctl.json("groups")["grants"] == []


def test_diff_and_revert(proxy_ctl):
	proxy, ctl = proxy_ctl()
	first = ctl.json("history")["revisions"][0]["revision"]
	ctl.ok("allow", "containers")
	ctl.ok("allow", "images")
	assert get(proxy, "/images/json").status == 200
	changes = ctl.json("diff", str(first))["changes"]
	assert {(c["key"], c["before"], c["after"]) for c in changes} == {
	    ("access.containers", "off", "read"),
	    ("access.images", "off", "read")}, changes
	assert "access.images" in ctl.ok("diff", str(first), str(first + 2))
	out = ctl.ok("revert", str(first))
	assert "state of revision %d" % first in out, out
	checks.denial(get(proxy, "/images/json"), "images")
	checks.denial(get(proxy, "/containers/json"), "containers")
	revs = ctl.json("history")["revisions"]
	assert revs[0]["reason"] == "revert to revision %d" % first, revs
	rc, out, err = ctl.run("revert", "999")
	assert rc == 1 and "999" in err, (out, err)
	rc, out, err = ctl.run("diff", "x")
	assert rc == 2, (out, err)


def test_status_counts_denials_of_the_last_minute(proxy_ctl):
	proxy, ctl = proxy_ctl()
	for path in ("/containers/json", "/info", "/images/json"):
		assert get(proxy, path).status == 403
	assert get(proxy, "/_ping").status == 200
	st = ctl.json("status")
	assert (st["requests"], st["denials"], st["denials_1m"]) == \
	    (4, 3, 3), st
	assert "4, 3 denied (3 in the last minute)" in ctl.ok("status")


def test_without_database(proxy_ctl):
	proxy, ctl = proxy_ctl(args=["--db", "none"])
	before = ctl.json("status")["revision"]
	ctl.ok("allow", "containers")
	assert get(proxy, "/containers/json").status == 200
	assert ctl.json("status")["revision"] == before + 1
	assert "none (--db none)" in ctl.ok("status")
	for args in (["history"], ["diff", "1"], ["revert", "1"], ["denials"]):
		rc, out, err = ctl.run(*args)
		assert rc == 1 and "without a database" in err, (args, err)


def test_two_changes_at_once_both_land(proxy_ctl):
	proxy, ctl = proxy_ctl()
	names = ["containers", "images", "networks", "volumes"]
	procs = [subprocess.Popen(ctl.argv(["allow", n]),
	    stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in names]
	for p in procs:
		_, err = p.communicate(timeout=30)
		assert p.returncode == 0, err
	groups = {g["group"]: g["access"] for g in ctl.json("groups")["groups"]}
	assert [groups[n] for n in names] == ["read"] * 4, groups
	revs = ctl.json("history")["revisions"]
	assert len({r["revision"] for r in revs}) == len(names) + 1


def test_read_only_socket(proxy_ctl, workdir):
	ro = os.path.join(workdir, "ro.sock")
	proxy, ctl = proxy_ctl(args=["--control-ro", ro])
	rc, out, err = ctl.run("allow", "containers", socket_path=ro)
	assert rc == 1, (out, err)
	assert "read-only" in err, err
	checks.denial(get(proxy, "/containers/json"), "containers")
	assert "enforcing" in ctl.ok("status", socket_path=ro)
	with Control(ro) as c:
		assert c.greeting["access"] == "read"
		for name, members in (("set", {"access": {"exec": "write"}}),
		    ("rollback", {}), ("restore", {}), ("revert",
		    {"revision": 1})):
			msg = c.call(name, **members)
			assert msg["error"]["code"] == "read_only", msg
		assert c.result("ping")["dspd"] == "up"
	assert get(proxy, "/exec/x/json").status == 403


def open_to(path, mode):
	"""Let another user reach path: traverse each folder above it."""
	os.chmod(path, mode)
	d = os.path.dirname(path)
	while d != "/":
		st = os.stat(d)
		os.chmod(d, stat.S_IMODE(st.st_mode) | 0o011)
		d = os.path.dirname(d)


def test_uid_not_allowed_refused(proxy_ctl, workdir, test_user):
	# The socket's group lets this user connect: only the credential
	# check stands between this user and the policy.
	sock = os.path.join(workdir, "open.sock")
	proxy, ctl = proxy_ctl(args=["--control", sock +
	    "?mode=0660&group=%d" % test_user.pw_gid])
	ctl.socket_path = sock
	open_to(sock, 0o660)
	rc, out, err = ctl.run("allow", "containers", user=test_user)
	assert rc == 1, (out, err)
	assert "uid %d may not" % test_user.pw_uid in err, err
	assert len(err.strip().splitlines()) == 1, err
	checks.denial(get(proxy, "/containers/json"), "containers")
	assert "refused" in proxy.stderr()


@pytest.mark.parametrize("by", ["uid", "gid"])
def test_read_only_allowed_user_only_watches(proxy_ctl, workdir, test_user,
    by):
	# Both sockets' modes let this user connect; it is on the read-only
	# socket's allow-list only: it watches there and is refused on the
	# read-write socket, by its credentials, not by the file mode.
	rw = os.path.join(workdir, "rw.sock")
	ro = os.path.join(workdir, "ro.sock")
	who = test_user.pw_uid if by == "uid" else test_user.pw_gid
	proxy, ctl = proxy_ctl(args=[
	    "--control", rw + "?mode=0660&group=%d" % test_user.pw_gid,
	    "--control-ro", ro + "?mode=0660&group=%d" % test_user.pw_gid,
	    "--control-ro-allow-" + by, str(who)])
	open_to(rw, 0o660)
	open_to(ro, 0o660)
	out = ctl.ok("status", socket_path=ro, user=test_user)
	assert "enforcing" in out, out
	rc, out, err = ctl.run("allow", "containers", socket_path=ro,
	    user=test_user)
	assert rc == 1 and "read-only" in err, (out, err)
	for args in (["status"], ["allow", "containers"]):
		rc, out, err = ctl.run(*args, socket_path=rw, user=test_user)
		assert rc == 1, (args, out, err)
		assert "uid %d may not" % test_user.pw_uid in err, err
		assert "--control-ro-allow-uid" not in err, err
	checks.denial(get(proxy, "/containers/json"), "containers")
	assert ctl.json("status", socket_path=rw)["revision"] == 1


def test_allowed_uid_recorded(proxy_ctl, workdir, test_user):
	sock = os.path.join(workdir, "open.sock")
	proxy, ctl = proxy_ctl(args=["--control", sock +
	    "?mode=0660&group=%d" % test_user.pw_gid,
	    "--control-allow-uid", str(test_user.pw_uid)])
	ctl.socket_path = sock
	open_to(sock, 0o660)
	ctl.ok("allow", "containers", "--reason", "as a user",
	    user=test_user)
	assert get(proxy, "/containers/json").status == 200
	rev = ctl.json("history")["revisions"][0]
	assert rev["uid"] == test_user.pw_uid, rev
	assert rev["actor"] == test_user.pw_name, rev


def test_socket_file_mode_refuses(proxy_ctl, test_user):
	proxy, ctl = proxy_ctl()
	assert stat.S_IMODE(os.stat(proxy.control_path).st_mode) == 0o600
	open_to(proxy.control_path, 0o600)
	rc, out, err = ctl.run("status", user=test_user)
	assert rc == 1, (out, err)
	assert "Permission denied" in err, err


def test_control_socket_claimed_once(proxy_ctl, start_dspd, workdir):
	sock = os.path.join(workdir, "one.sock")
	first, ctl = proxy_ctl(args=["--control", sock])
	ctl.socket_path = sock
	with pytest.raises(DspdExited) as e:
		start_dspd(args=["--control", sock])
	assert e.value.rc == 1
	assert "another dspd holds" in e.value.stderr, e.value.stderr
	# The first one still answers on it.
	assert ctl.json("ping")["engine"] == "up"


def test_control_socket_stale_or_foreign(start_dspd, dspctl_bin, workdir):
	# A socket left behind by a dspd that died: removed, then served.
	stale = os.path.join(workdir, "stale.sock")
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.bind(stale)
	s.close()
	start_dspd(args=["--control", stale])
	assert Dspctl(dspctl_bin, stale).json("ping")["dspd"] == "up"
	# Something that is not a socket is left alone.
	plain = os.path.join(workdir, "plain")
	with open(plain, "w") as f:
		f.write("keep")
	with pytest.raises(DspdExited) as e:
		start_dspd(args=["--control", plain])
	assert e.value.rc == 1 and "not a socket" in e.value.stderr
	with open(plain) as f:
		assert f.read() == "keep"


def test_bad_messages_cost_only_their_client(proxy_ctl):
	proxy, ctl = proxy_ctl()
	with Control(proxy.control_path) as bystander, \
	    Control(proxy.control_path) as c:
		assert c.greeting["protocol"] == 1
		assert c.greeting["dsp"] == "dspd"
		for line, code in ((b"hello", "malformed"),
		    (b"[1,2]", "malformed"), (b'{"request":"ping"}',
		    "malformed"), (b'{"id":1,"request":"reboot"}',
		    "unknown_request"), (b'{"id":2,"request":"ping","x":0}',
		    "bad_argument"), (b'{"id":3,"id":3,"request":"ping"}',
		    "malformed")):
			c.send_raw(line + b"\n")
			msg = c.read()
			assert msg["error"]["code"] == code, (line, msg)
			assert msg["error"]["message"], msg
		# Still served after those.
		assert c.result("ping")["dspd"] == "up"
		# 64 KiB is the most a message may be; one byte more closes.
		msg = b'{"id":7,"request":"ping"}'
		c.send_raw(msg + b" " * (65536 - len(msg)) + b"\n")
		assert c.reply(7)["result"]["dspd"] == "up"
		msg = b'{"id":8,"request":"ping"}'
		c.send_raw(msg + b" " * (65537 - len(msg)) + b"\n")
		assert c.read()["error"]["code"] == "too_large"
		assert c.closed()
		assert c.events[0] == {"event": "closed",
		    "reason": "message too large"}, c.events
		# The other client, the proxy and dspctl carry on.
		assert bystander.result("ping")["engine"] == "up"
		assert get(proxy, "/_ping").status == 200
		assert "dspd up, engine up" in ctl.ok("ping")
	with Control(proxy.control_path) as c:
		c.send_raw(b"{" + b" " * 70000)
		assert c.read()["error"]["code"] == "too_large"
		assert c.closed()
	assert get(proxy, "/_ping").status == 200


def test_rollback_refused_without_confirmation(proxy_ctl):
	proxy, ctl = proxy_ctl()
	for typed in (b"yes\n", b"switch off the filte\n", b"\x04"):
		rc, out, err = ctl.run_tty(["rollback"], typed)
		assert rc == 1, (typed, out, err)
		assert "EMERGENCY ROLLBACK" in out, out
		assert "nothing changed" in err, err
	rc, out, err = ctl.run("rollback")
	assert rc == 1 and "terminal" in err, (out, err)
	assert ctl.json("status")["mode"] == "enforcing"
	checks.denial(get(proxy, "/info"), "info")


def test_rollback_lets_through_and_restore_ends_it(proxy_ctl, volumes):
	proxy, ctl = proxy_ctl()
	name = volumes()
	m = marker()
	rc, out, err = ctl.run_tty(["rollback", "--for", "10m", "--reason",
	    m], b"switch off the filter\n")
	assert rc == 0, (out, err)
	assert "BYPASS in force" in out, out
	status = ctl.json("status")
	assert status["mode"] == "bypass", status
	assert status["bypass"]["scope"] == "all", status
	assert volume_create(proxy, name).status == 201
	rows = ctl.json("denials", "--bypass")["rows"]
	row = [r for r in rows if r["path"] == "/volumes/create"]
	assert row and row[0]["verdict"] == "bypass", rows
	assert row[0]["policy_verdict"] == "deny", row
	table = ctl.ok("denials", "--bypass")
	assert "POST /volumes/create" in table, table
	out = ctl.ok("restore")
	assert "bypass ended" in out, out
	checks.denial(get(proxy, "/info"), "info")
	assert "no bypass" in ctl.ok("restore")


def test_rollback_deadline_restores(proxy_ctl):
	proxy, ctl = proxy_ctl()
	ctl.ok("rollback", "--for", "2s", "--group", "info", "--yes")
	assert get(proxy, "/info").status == 200
	# The scope is the info group only.
	checks.denial(get(proxy, "/containers/json"), "containers")
	checks.denial(wait_status(proxy, "/info", 403), "info")
	assert ctl.json("status")["mode"] == "enforcing"


def test_rollback_beyond_max_bypass_refused(proxy_ctl):
	proxy, ctl = proxy_ctl(args=["--max-bypass", "1m"])
	rc, out, err = ctl.run("rollback", "--for", "5m", "--yes")
	assert rc == 1, (out, err)
	assert "--max-bypass" in err, err
	# dspd's own check, whatever the client does.
	with Control(proxy.control_path) as c:
		msg = c.call("rollback", **{"for": 300})
		assert msg["error"]["code"] == "too_long", msg
	assert ctl.json("status")["mode"] == "enforcing"
	checks.denial(get(proxy, "/info"), "info")


def exec_session(proxy, cid):
	"""An exec of cat opened through dspd: the spliced connection."""
	body = json.dumps({"Cmd": ["cat"], "AttachStdin": True,
	    "AttachStdout": True}).encode()
	resp = rawhttp.exchange(proxy.host, proxy.port, "POST",
	    "/containers/%s/exec" % cid, [("Content-Type",
	    "application/json")], body)
	assert resp.status == 201, resp
	eid = resp.json()["Id"]
	conn = rawhttp.RawConn(proxy.host, proxy.port)
	conn.send(rawhttp.request("POST", "/exec/%s/start" % eid,
	    [("Content-Type", "application/json"), ("Connection", "Upgrade"),
	    ("Upgrade", "tcp")], b'{"Detach":false,"Tty":false}'))
	head = conn.read_head()
	assert head.status == 101, head
	return conn


def test_restore_closes_bypass_sessions(proxy_ctl, containers):
	proxy, ctl = proxy_ctl(env={"CONTAINERS": "1"})
	_, cid = containers.run(["sleep", "600"])
	ctl.ok("rollback", "--for", "10m", "--yes")
	conn = exec_session(proxy, cid)
	try:
		assert not conn.wait_closed(0.5)
		ctl.ok("restore")
		assert conn.wait_closed(5.0)
	finally:
		conn.close()
	resp = rawhttp.exchange(proxy.host, proxy.port, "POST",
	    "/containers/%s/exec" % cid, [("Content-Type",
	    "application/json")], b'{"Cmd":["true"]}')
	checks.denial(resp, "exec")


def wait_subscribed(ctl, n=1, timeout=10.0):
	"""Wait until dspd counts n subscribers: events sent before would
	be missed."""
	deadline = time.monotonic() + timeout
	while ctl.json("status")["control"]["subscribers"] < n:
		assert time.monotonic() < deadline, "no subscriber"
		time.sleep(0.05)


def read_tail(proc, needle, timeout=10.0):
	"""Lines of a running dspctl tail up to the one holding needle."""
	lines = []
	done = threading.Event()

	def reader():
		for line in proc.stdout:
			lines.append(line)
			if needle in line:
				break
		done.set()
	threading.Thread(target=reader, daemon=True).start()
	done.wait(timeout)
	return lines


def test_tail_shows_live_events(proxy_ctl):
	proxy, ctl = proxy_ctl()
	proc = subprocess.Popen(ctl.argv(["tail"]), stdout=subprocess.PIPE,
	    stderr=subprocess.PIPE, text=True)
	try:
		wait_subscribed(ctl)
		m = marker()
		get(proxy, "/info?m=" + m)
		lines = read_tail(proc, m)
		assert lines and m in lines[-1], lines
		assert "deny" in lines[-1] and "403" in lines[-1], lines
		assert "info.inspect" in lines[-1], lines
		m2 = marker()
		get(proxy, "/_ping?m=" + m2)
		lines = read_tail(proc, m2)
		assert lines and "allow" in lines[-1] and "200" in lines[-1], \
		    lines
	finally:
		proc.terminate()
		proc.wait(10)
	assert proc.returncode == 0


def test_tail_denied_only(proxy_ctl):
	proxy, ctl = proxy_ctl()
	proc = subprocess.Popen(ctl.argv(["--json", "tail", "--denied"]),
	    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
	try:
		wait_subscribed(ctl)
		allowed, denied = marker(), marker()
		get(proxy, "/_ping?m=" + allowed)
		get(proxy, "/info?m=" + denied)
		lines = read_tail(proc, denied)
	finally:
		proc.terminate()
		proc.wait(10)
	rows = [json.loads(l) for l in lines]
	assert rows and rows[-1]["target"] == "/info?m=" + denied, rows
	assert not any(allowed in r["target"] for r in rows), rows


def test_denials_lists_a_denied_request(proxy_ctl):
	proxy, ctl = proxy_ctl()
	m = marker()
	get(proxy, "/containers/json?m=" + m)
	get(proxy, "/_ping?m=" + m)
	deadline = time.monotonic() + 10
	while True:
		rows = ctl.json("denials", "--since", "1h")["rows"]
		if any(m in r["target"] for r in rows) or \
		    time.monotonic() > deadline:
			break
		time.sleep(0.2)
	mine = [r for r in rows if m in r["target"]]
	assert len(mine) == 1, rows
	assert mine[0]["action"] == "containers.list"
	assert mine[0]["status"] == 403 and mine[0]["verdict"] == "deny"
	table = ctl.ok("denials", "--group", "containers")
	assert "/containers/json?m=" + m in table, table
	assert "no denials" in ctl.ok("denials", "--group", "volumes")


def test_ping_and_exit_statuses(proxy_ctl, start_dspd, dspctl_bin,
    workdir):
	proxy, ctl = proxy_ctl()
	assert ctl.run("ping")[0] == 0
	# dspd up, the engine not: a health check must fail.
	down = start_dspd(upstream=os.path.join(workdir, "no-engine.sock"))
	rc, out, err = Dspctl(dspctl_bin, down.control_path).run("ping")
	assert rc == 1 and "engine does not answer" in err, (out, err)
	# No dspd at all: the status of its own.
	rc, out, err = Dspctl(dspctl_bin, os.path.join(workdir,
	    "none.sock")).run("ping")
	assert rc == 3 and "cannot reach dspd" in err, (out, err)
	assert len(err.strip().splitlines()) == 1, err
	assert ctl.run("frobnicate")[0] == 2
	assert ctl.run("allow")[0] == 2
	assert ctl.run("allow", "containers", "--for", "soon")[0] == 2
	rc, out, err = ctl.run("allow", "nosuchgroup")
	assert rc == 2 and "nosuchgroup" in err, (out, err)


def flood(proxy, count, pad=EVENT_PAD):
	"""count allowed requests with large targets on one connection."""
	with rawhttp.RawConn(proxy.host, proxy.port) as conn:
		for i in range(count):
			conn.send(rawhttp.request("GET", "/_ping?pad=%s&n=%d" %
			    ("x" * pad, i)))
			assert conn.read_response().status == 200


def rss_kib(pid):
	with open("/proc/%d/status" % pid) as f:
		for line in f:
			if line.startswith("VmRSS:"):
				return int(line.split()[1])
	raise AssertionError("no VmRSS")


@pytest.mark.rss
def test_lossless_subscriber_that_never_reads_is_cut_off(proxy_ctl):
	# No access log: the store's queue is not what is measured here.
	proxy, ctl = proxy_ctl(args=["--access-log", "off"])
	flood(proxy, 500)
	before = rss_kib(proxy.proc.pid)
	c = Control(proxy.control_path, rcvbuf=4096)
	try:
		assert c.result("subscribe", mode="lossless")["mode"] == \
		    "lossless"
		# About 25 MB of events for a reader that takes none.
		flood(proxy, 10000)
		after = rss_kib(proxy.proc.pid)
		assert after - before < 12 * 1024, (before, after)
		assert c.closed(20.0)
	finally:
		c.close()
	assert get(proxy, "/_ping").status == 200
	assert "cut off: a lossless subscriber" in proxy.stderr()
	assert ctl.json("status")["control"]["subscribers"] == 0


def test_lossless_subscriber_told_why(proxy_ctl):
	proxy, ctl = proxy_ctl()
	c = Control(proxy.control_path, rcvbuf=4096)
	try:
		sub = c.request("subscribe")
		assert c.reply(sub)["result"]["mode"] == "lossless"
		flood(proxy, 1500)
		assert c.closed(20.0)
	finally:
		c.close()
	access = [e for e in c.events if e.get("event") == "access"]
	assert access and all(e["subscription"] == sub for e in access)
	# Lossless up to the cut: every event in order, none skipped.
	ns = [int(e["row"]["target"].rsplit("=", 1)[1]) for e in access]
	assert ns == list(range(len(ns))), ns[:5]
	assert c.events[-1]["event"] == "closed", c.events[-1]
	assert "too slow" in c.events[-1]["reason"]


def test_lossy_subscriber_gets_drop_counts(proxy_ctl):
	proxy, ctl = proxy_ctl()
	c = Control(proxy.control_path, rcvbuf=4096)
	try:
		sub = c.request("subscribe", mode="lossy")
		assert c.reply(sub)["result"]["mode"] == "lossy"
		flood(proxy, 4000)
		m = marker()
		get(proxy, "/_ping?last=" + m)
		dropped = 0
		deadline = time.monotonic() + 20
		while time.monotonic() < deadline:
			ev = c.read()
			assert ev["subscription"] == sub, ev
			if ev["event"] == "dropped":
				dropped += ev["count"]
			elif m in ev["row"]["target"]:
				break
		else:
			pytest.fail("the newest event never came")
		assert dropped > 0
		# Still subscribed and answering.
		assert c.result("ping")["dspd"] == "up"
	finally:
		c.close()


def test_groups_show_guard_relaxations(proxy_ctl):
	# The create guard's relaxations are part of the policy dspctl shows.
	proxy, ctl = proxy_ctl(args=["--allow-bind", "/srv", "--allow-cap",
	    "net_admin"])
	guard = ctl.json("groups")["guard"]
	assert guard["allow-bind"] == ["/srv"], guard
	assert guard["allow-cap"] == ["NET_ADMIN"], guard
	assert guard["allow-privileged"] is False, guard
	table = ctl.ok("groups")
	assert "CREATE GUARD" in table
	line = [l for l in table.splitlines() if l.startswith("allow-bind")]
	assert line and line[0].split() == ["allow-bind", "/srv"], table
