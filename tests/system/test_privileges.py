"""dspd without root: switched to a user by --user and --group after
binding its listeners, or started as that user by a service manager.
Either way it holds only the engine socket's group, and it refuses to
make a control socket every local user could connect to."""

import grp
import os
import subprocess
import time

import pytest

from harness import checks, rawhttp

# A group standing for the engine socket's ("docker" on a host).
SOCKET_GROUP = "dsp-test-sock"


@pytest.fixture
def socket_group():
	try:
		grp.getgrnam(SOCKET_GROUP)
	except KeyError:
		subprocess.run(["groupadd", "--system", SOCKET_GROUP],
		    check=True, timeout=30)
	return grp.getgrnam(SOCKET_GROUP)


@pytest.fixture
def group_socket(tap, workdir, socket_group):
	"""The engine behind a socket only root and SOCKET_GROUP may use,
	as dockerd's socket is root:docker 0660."""
	os.chmod(workdir, 0o711)
	os.chown(tap.listen_path, 0, socket_group.gr_gid)
	os.chmod(tap.listen_path, 0o660)
	return tap.listen_path


def _own_state_dir(workdir, user):
	"""The folder start_dspd gives its first dspd (database, control
	socket, ready file), owned by the user dspd will run as."""
	path = os.path.join(workdir, "dspd0")
	os.makedirs(path, exist_ok=True)
	os.chown(path, user.pw_uid, user.pw_gid)
	return path


def _credentials(pid):
	"""Real, effective, saved uids and gids and the extra groups."""
	out = {}
	with open("/proc/%d/status" % pid) as f:
		for line in f:
			key, _, value = line.partition(":")
			if key in ("Uid", "Gid", "Groups"):
				out[key] = [int(v) for v in value.split()]
	return out


def test_user_and_group_after_binding(start_dspd, workdir, test_user,
    socket_group, group_socket):
	_own_state_dir(workdir, test_user)
	proxy = start_dspd(env={"CONTAINERS": "1"}, upstream=group_socket,
	    args=["--user", test_user.pw_name, "--group", SOCKET_GROUP])
	creds = _credentials(proxy.proc.pid)
	assert creds["Uid"][:3] == [test_user.pw_uid] * 3, creds
	assert creds["Gid"][:3] == [test_user.pw_gid] * 3, creds
	assert creds["Groups"] == [socket_group.gr_gid], creds
	# The engine is reached through the group, and the policy holds.
	resp = rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/containers/json")
	assert resp.status == 200 and isinstance(resp.json(), list), resp
	checks.denial(rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/info"), "info")
	# The database it opened as that user is that user's.
	assert os.stat(proxy.db_path).st_uid == test_user.pw_uid
	assert "running as uid %d" % test_user.pw_uid in proxy.stderr()


def test_user_without_the_group_cannot_reach_engine(start_dspd, workdir,
    test_user, group_socket):
	_own_state_dir(workdir, test_user)
	proxy = start_dspd(upstream=group_socket,
	    args=["--user", test_user.pw_name])
	assert _credentials(proxy.proc.pid)["Groups"] == []
	resp = rawhttp.exchange(proxy.host, proxy.port, "GET", "/_ping")
	message = checks.dsp_reply(resp, 502)
	assert "permission denied" in message.lower(), message


def test_started_unprivileged_by_service_manager(dspd_bin, workdir,
    test_user, socket_group, group_socket):
	# What systemd's User= and SupplementaryGroups= do: dspd starts as
	# the user and never was root.
	state = _own_state_dir(workdir, test_user)
	ready = os.path.join(state, "ready")
	argv = ["setpriv", "--reuid=%d" % test_user.pw_uid,
	    "--regid=%d" % test_user.pw_gid,
	    "--groups=%d" % socket_group.gr_gid, dspd_bin,
	    "-l", "tcp://127.0.0.1:0", "--ready-file", ready,
	    "--socket-path", group_socket, "--db", state + "/dsp.db",
	    "--control", state + "/control.sock"]
	proc = subprocess.Popen(argv, env={"PATH": "/usr/bin:/bin",
	    "CONTAINERS": "1"}, stderr=subprocess.PIPE)
	try:
		host, port = _wait_ready(proc, ready)
		resp = rawhttp.exchange(host, port, "GET", "/containers/json")
		assert resp.status == 200 and isinstance(resp.json(), list), \
		    resp
		st = os.stat(state + "/control.sock")
		assert st.st_uid == test_user.pw_uid
		assert st.st_mode & 0o777 == 0o600, oct(st.st_mode)
	finally:
		proc.terminate()
		_, err = proc.communicate(timeout=10)
	assert proc.returncode == 0, err.decode()


def _wait_ready(proc, ready, timeout=10.0):
	"""The address of a dspd started outside start_dspd, once ready."""
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		if proc.poll() is not None:
			raise AssertionError("dspd exited %s: %s" % (proc.returncode,
			    proc.stderr.read().decode()))
		if os.path.exists(ready):
			with open(ready) as f:
				line = f.readline().strip()
			if line.startswith("tcp://"):
				host, port = line[6:].rsplit(":", 1)
				return host, int(port)
		time.sleep(0.05)
	raise AssertionError("dspd not ready in %.0fs" % timeout)


def _start_fails(dspd_bin, workdir, args):
	proc = subprocess.run([dspd_bin, "-l", "tcp://127.0.0.1:0", "--db",
	    "none"] + args, env={"PATH": "/usr/bin:/bin"}, capture_output=True,
	    text=True, timeout=20)
	assert proc.returncode == 1, proc
	# One line says why, after dspd's ordinary log lines.
	lines = [l for l in proc.stderr.splitlines() if l.startswith("dspd: ")]
	assert len(lines) == 1, proc.stderr
	return lines[0]


@pytest.mark.parametrize("mode", ["0666", "0662", "0777", "0602"])
def test_world_writable_control_socket_refused(dspd_bin, workdir, mode):
	path = os.path.join(workdir, "control.sock")
	line = _start_fails(dspd_bin, workdir,
	    ["--control", path + "?mode=" + mode])
	assert "every local user" in line and path in line, line
	assert not os.path.exists(path)


def test_group_control_socket_accepted(start_dspd, workdir, socket_group):
	path = os.path.join(workdir, "group-control.sock")
	proxy = start_dspd(args=["--control",
	    path + "?mode=0660&group=" + SOCKET_GROUP])
	st = os.stat(path)
	assert st.st_mode & 0o777 == 0o660 and st.st_gid == socket_group.gr_gid
	assert proxy.running()


def test_group_needs_user(dspd_bin, workdir):
	line = _start_fails(dspd_bin, workdir, ["--group", "root"])
	assert "--group" in line and "--user" in line, line


def test_unknown_user_refused(dspd_bin, workdir):
	line = _start_fails(dspd_bin, workdir, ["--user", "no-such-user-dsp"])
	assert "no-such-user-dsp" in line and "user" in line, line
