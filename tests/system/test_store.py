"""The SQLite store behind dspd: the access log people query with the
sqlite3 CLI, the policy kept across restarts by the environment rule,
one dspd per database, and a database that cannot be written."""

import os
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import marker
from harness import rawhttp
from harness.control import Dspctl
from harness.dspd import DspdExited

SQLITE3 = "/usr/bin/sqlite3"


def sql(db, query):
	"""Rows of a query run with the sqlite3 CLI, read-only, as a user
	would; each row a list of strings."""
	if not os.access(SQLITE3, os.X_OK):
		pytest.skip("sqlite3 CLI not installed")
	out = subprocess.run([SQLITE3, "-readonly", "-separator", "|", db,
	    query], capture_output=True, text=True, timeout=20, check=True)
	return [line.split("|") for line in out.stdout.splitlines() if line]


def wait_rows(db, query, n, timeout=10.0):
	deadline = time.monotonic() + timeout
	while True:
		rows = sql(db, query)
		if len(rows) >= n or time.monotonic() > deadline:
			return rows
		time.sleep(0.2)


def wait_degraded(proxy, timeout=15.0, poke=False):
	"""Wait until dspd says its store is degraded; with poke, send a
	denied request now and then so that rows keep coming."""
	deadline = time.monotonic() + timeout
	while "store degraded" not in proxy.stderr():
		assert time.monotonic() < deadline, proxy.stderr()
		if poke:
			rawhttp.exchange(proxy.host, proxy.port, "GET", "/info")
		time.sleep(0.3)


def wait_rows_again(proxy, db, timeout=15.0):
	"""Send marked requests until one of them is in the access log."""
	m = marker()
	deadline = time.monotonic() + timeout
	while True:
		rawhttp.exchange(proxy.host, proxy.port, "GET", "/info?m=" + m)
		if sql(db, "SELECT count(*) FROM access_log WHERE target "
		    "LIKE '%%%s%%'" % m) != [["0"]]:
			return
		assert time.monotonic() < deadline, proxy.stderr()
		time.sleep(0.5)


def test_denials_queried_with_sqlite3(start_dspd):
	proxy = start_dspd()
	m = marker()
	for path in ("/info?m=" + m, "/containers/json?m=" + m, "/_ping"):
		rawhttp.exchange(proxy.host, proxy.port, "GET", path)
	rows = wait_rows(proxy.db_path, "SELECT grp, action, target, status, "
	    "client, time_utc FROM denials WHERE target LIKE '%%%s%%' "
	    "ORDER BY id" % m, 2)
	assert [r[:4] for r in rows] == [
	    ["info", "info.inspect", "/info?m=" + m, "403"],
	    ["containers", "containers.list", "/containers/json?m=" + m,
	    "403"]], rows
	assert rows[0][4].startswith("127.0.0.1:")
	assert rows[0][5].startswith(time.strftime("%Y-", time.gmtime()))
	rows = sql(proxy.db_path, "SELECT DISTINCT verdict, policy_verdict "
	    "FROM access_log WHERE target LIKE '%%%s%%'" % m)
	assert rows == [["deny", "deny"]], rows
	# Allowed requests are in the log, not among the denials.
	rows = wait_rows(proxy.db_path, "SELECT verdict, status, "
	    "close_reason, bytes_out > 0 FROM access_log WHERE path = "
	    "'/_ping'", 1)
	assert rows == [["allow", "200", "complete", "1"]], rows


def test_readme_queries_work_as_written(start_dspd):
	# The README's example queries run against a real database.
	proxy = start_dspd()
	rawhttp.exchange(proxy.host, proxy.port, "GET", "/info")
	wait_rows(proxy.db_path, "SELECT 1 FROM denials", 1)
	with open(os.path.join(os.path.dirname(__file__), "..", "..",
	    "README.md")) as f:
		readme = f.read()
	queries = [block.split("```", 1)[0] for block in
	    readme.split("```sql\n")[1:]]
	assert len(queries) >= 3, queries
	for q in queries:
		sql(proxy.db_path, q)	# raises on an error
	assert sql(proxy.db_path, queries[0])[0][1] == "info"
	# And the manual page's, in its literal displays.
	with open(os.path.join(os.path.dirname(__file__), "..", "..",
	    "core", "dspd.8")) as f:
		manual = f.read()
	shown = [block.split("\n.Ed", 1)[0] for block in
	    manual.split(".Bd -literal -offset indent\n")[1:]]
	shown = [q for q in shown if q.startswith("SELECT")]
	assert len(shown) >= 3, shown
	for q in shown:
		sql(proxy.db_path, q)
	assert sql(proxy.db_path, shown[0])[0][1] == "info"


def test_revision_kept_across_restart(start_dspd, workdir):
	db = os.path.join(workdir, "keep.db")
	env = {"CONTAINERS": "1"}
	start_dspd(env=env, args=["--db", db]).stop()
	first = sql(db, "SELECT number, source, actor FROM revisions")
	assert first == [["1", "env", "env"]], first
	# The same environment, spelled differently: no new revision.
	proxy = start_dspd(env={"CONTAINERS": "true"}, args=["--db", db])
	assert sql(db, "SELECT count(*) FROM revisions") == [["1"]]
	resp = rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/containers/json")
	assert resp.status == 200
	proxy.stop()

	# A changed environment is applied as a new revision.
	proxy = start_dspd(env={"CONTAINERS": "0", "INFO": "1"},
	    args=["--db", db])
	rows = sql(db, "SELECT number, source FROM revisions ORDER BY number")
	assert rows == [["1", "env"], ["2", "env"]], rows
	now = dict((r[0], r[1]) for r in sql(db, "SELECT name, value FROM "
	    "policy_now WHERE kind = 'access'"))
	assert now["containers"] == "off" and now["info"] == "read", now
	assert rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/containers/json").status == 403
	assert rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/info").status == 200


def test_policy_source_env_applies_every_start(start_dspd, workdir):
	db = os.path.join(workdir, "env.db")
	start_dspd(env={"INFO": "1"}, args=["--db", db]).stop()
	proxy = start_dspd(env={"INFO": "1", "DSP_POLICY_SOURCE": "env"},
	    args=["--db", db])
	assert rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/info").status == 200
	# Same state: nothing new to record, but the environment rules.
	assert sql(db, "SELECT count(*) FROM revisions") == [["1"]]


def test_second_dspd_on_same_database_refused(start_dspd, workdir):
	db = os.path.join(workdir, "one.db")
	first = start_dspd(args=["--db", db])
	with pytest.raises(DspdExited) as e:
		start_dspd(args=["--db", db])
	assert e.value.rc == 1
	lines = [l for l in e.value.stderr.splitlines() if "dspd:" in l]
	assert len(lines) == 1 and db in lines[0] and "in use" in lines[0], \
	    e.value.stderr
	assert rawhttp.exchange(first.host, first.port, "GET",
	    "/_ping").status == 200


def test_database_from_newer_dsp_refused(start_dspd, workdir):
	db = os.path.join(workdir, "new.db")
	start_dspd(args=["--db", db]).stop()
	with sqlite3.connect(db) as c:
		c.execute("PRAGMA user_version = 999")
	with pytest.raises(DspdExited) as e:
		start_dspd(args=["--db", db])
	assert e.value.rc == 1
	assert "newer" in e.value.stderr and "999" in e.value.stderr


def test_kill_9_then_clean_start(start_dspd, workdir):
	db = os.path.join(workdir, "kill.db")
	proxy = start_dspd(args=["--db", db])
	for _ in range(50):
		rawhttp.exchange(proxy.host, proxy.port, "GET", "/info")
	proxy.signal(signal.SIGKILL)
	proxy.wait(5)
	proxy = start_dspd(args=["--db", db])
	assert rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/_ping").status == 200
	assert sql(db, "PRAGMA integrity_check") == [["ok"]]


def test_full_disk_keeps_serving(start_dspd, workdir, engine):
	# Under a file size limit the database cannot grow: dspd still
	# serves at once, says the store is degraded, counts what it lost.
	db = os.path.join(workdir, "full.db")
	start_dspd(args=["--db", db]).stop()
	size = os.path.getsize(db)
	argv = ["prlimit", "--fsize=%d" % (size + 4096), "--"]
	proxy = start_dspd(args=["--db", db], wrap=argv)
	for _ in range(400):
		resp = rawhttp.exchange(proxy.host, proxy.port, "GET", "/info")
		assert resp.status == 403
	wait_degraded(proxy)
	assert rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/_ping").status == 200


def test_guard_relaxations_are_revisioned(start_dspd, workdir, engine):
	# The create guard's relaxations are part of the policy: stored with
	# each revision, and a change of them is a new revision.
	db = os.path.join(workdir, "guard.db")
	env = {"CONTAINERS": "1", "POST": "1"}
	proxy = start_dspd(env=env, args=["--db", db, "--allow-bind", "/srv"])
	state = sql(db, "SELECT json_extract(state, '$.guard.\"allow-bind\"'),"
	    " json_extract(state, '$.guard.\"allow-privileged\"') FROM "
	    "policy_revision ORDER BY number DESC LIMIT 1")
	assert state == [['["/srv"]', "0"]], state
	body = b'{"Image": "dsp-busybox", "HostConfig": {"Privileged": true}}'
	resp = rawhttp.exchange(proxy.host, proxy.port, "POST",
	    "/containers/create", [("Content-Type", "application/json")], body)
	assert resp.status == 403, resp
	proxy.stop()

	# Same flags: no new revision.  A relaxation added: a new one, in
	# force at once.
	start_dspd(env=env, args=["--db", db, "--allow-bind", "/srv"]).stop()
	assert sql(db, "SELECT count(*) FROM revisions") == [["1"]]
	name = marker()
	proxy = start_dspd(env=env, args=["--db", db, "--allow-bind", "/srv",
	    "--allow-privileged"])
	assert sql(db, "SELECT count(*) FROM revisions") == [["2"]]
	resp = rawhttp.exchange(proxy.host, proxy.port, "POST",
	    "/containers/create?name=" + name,
	    [("Content-Type", "application/json")], body)
	try:
		assert resp.status == 201, resp
	finally:
		engine.remove_container(name)


def test_unwritable_database_degrades_and_recovers(start_dspd, workdir,
    tap, test_user):
	# dspd as an unprivileged user (root ignores file modes) over a
	# database it may not write: traffic is served, the store says it is
	# degraded and counts what it loses, and writes again once it can.
	user = test_user
	os.chmod(workdir, 0o755)
	os.chmod(tap.listen_path, 0o666)
	home = os.path.join(workdir, "dspd1")
	os.makedirs(home)
	os.chown(home, user.pw_uid, user.pw_gid)
	dbdir = os.path.join(workdir, "db")
	os.makedirs(dbdir)
	db = os.path.join(dbdir, "ro.db")
	start_dspd(args=["--db", db]).stop()	# made by root, dspd0
	for name in os.listdir(dbdir):
		os.chown(os.path.join(dbdir, name), user.pw_uid, user.pw_gid)
	os.chown(dbdir, user.pw_uid, user.pw_gid)
	os.chmod(db, 0o444)

	proxy = start_dspd(args=["--db", db], upstream=tap.listen_path,
	    wrap=["setpriv", "--reuid", str(user.pw_uid), "--regid",
	    str(user.pw_gid), "--clear-groups"])
	for _ in range(20):
		assert rawhttp.exchange(proxy.host, proxy.port, "GET",
		    "/info").status == 403
	assert rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/_ping").status == 200
	wait_degraded(proxy)

	os.chmod(db, 0o644)
	wait_rows_again(proxy, db)
	assert "store writing again" in proxy.stderr()



def test_runtime_change_kept_then_overridden(start_dspd, workdir,
    dspctl_bin):
	db = os.path.join(workdir, "rt.db")
	proxy = start_dspd(env={"CONTAINERS": "1"}, args=["--db", db])
	Dspctl(dspctl_bin, proxy.control_path).ok("allow", "info", "--reason", "dashboard")
	proxy.stop()

	# Same environment: the database wins, the runtime change stays.
	proxy = start_dspd(env={"CONTAINERS": "1"}, args=["--db", db])
	assert rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/info").status == 200
	proxy.stop()

	# A changed environment is applied and says what it undid.
	proxy = start_dspd(env={"CONTAINERS": "0"}, args=["--db", db])
	assert rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/info").status == 403
	err = proxy.stderr()
	line = [l for l in err.splitlines() if "overrides a runtime change"
	    in l and "access.info" in l]
	assert line and " warn: " in line[0] and "root" in line[0], err
	rows = sql(db, "SELECT source, reason FROM revisions ORDER BY number")
	assert [r[0] for r in rows] == ["env", "dspctl", "env"], rows
	assert "access.info" in rows[2][1], rows


def test_grant_expired_while_stopped(start_dspd, workdir, dspctl_bin):
	db = os.path.join(workdir, "grant.db")
	proxy = start_dspd(args=["--db", db])
	Dspctl(dspctl_bin, proxy.control_path).ok("allow", "info", "--for", "2s")
	assert rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/info").status == 200
	proxy.stop()
	time.sleep(2.5)
	proxy = start_dspd(args=["--db", db])
	assert rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/info").status == 403
	rows = sql(db, "SELECT source, actor FROM revisions ORDER BY number "
	    "DESC LIMIT 1")
	assert rows == [["expiry", "expiry"]], rows


def test_database_locked_by_another_process(start_dspd, workdir):
	# Another program holds the database's write lock: dspd serves on,
	# counts what it cannot write, and writes again once it is let go.
	db = os.path.join(workdir, "locked.db")
	proxy = start_dspd(args=["--db", db])
	holder = sqlite3.connect(db, timeout=1, isolation_level=None)
	holder.execute("BEGIN EXCLUSIVE")
	try:
		for _ in range(50):
			assert rawhttp.exchange(proxy.host, proxy.port, "GET",
			    "/info").status == 403
		wait_degraded(proxy, poke=True)
	finally:
		holder.execute("ROLLBACK")
		holder.close()
	wait_rows_again(proxy, db)


def test_kill_9_during_changes(start_dspd, workdir, dspctl_bin):
	# kill -9 while policy changes are being committed: the database
	# opens with the last committed policy, whole.
	db = os.path.join(workdir, "burst.db")
	proxy = start_dspd(args=["--db", db])
	ctl = Dspctl(dspctl_bin, proxy.control_path)
	procs = [subprocess.Popen(ctl.argv([verb, "info"]),
	    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
	    for verb in ("allow", "deny") * 10]
	time.sleep(0.05)
	proxy.signal(signal.SIGKILL)
	proxy.wait(5)
	for p in procs:
		p.wait(10)
	assert sql(db, "PRAGMA integrity_check") == [["ok"]]
	last = sql(db, "SELECT json_extract(state, '$.access.info') FROM "
	    "policy_revision ORDER BY number DESC LIMIT 1")[0][0]
	proxy = start_dspd(args=["--db", db])
	want = 200 if last == "read" else 403
	assert rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/info").status == want, last


def test_stored_bypass_holds_across_restart_until_deadline(start_dspd,
    workdir, dspctl_bin):
	# A bypass outlives a restart of dspd, but not its wall-clock end.
	db = os.path.join(workdir, "bypass.db")
	proxy = start_dspd(args=["--db", db])
	Dspctl(dspctl_bin, proxy.control_path).ok("rollback", "--for", "4s",
	    "--group", "info", "--yes")
	assert rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/info").status == 200
	proxy.stop()
	proxy = start_dspd(args=["--db", db])
	resp = rawhttp.exchange(proxy.host, proxy.port, "GET", "/info")
	assert resp.status == 200, resp
	deadline = time.monotonic() + 10
	while rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/info").status != 403:
		assert time.monotonic() < deadline, proxy.stderr()
		time.sleep(0.3)
	# Rows reach the database within a flush time of their request.
	rows = wait_rows(db, "SELECT verdict, policy_verdict FROM access_log "
	    "WHERE path = '/info' AND verdict = 'deny'", 1)
	assert ["deny", "deny"] in rows, rows
	rows = sql(db, "SELECT verdict, policy_verdict FROM access_log "
	    "WHERE path = '/info' ORDER BY id")
	assert ["bypass", "deny"] in rows, rows
