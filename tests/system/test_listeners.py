"""Where dspd listens and whom it admits: several listeners at once, TCP
over IPv4 and IPv6, unix sockets with a mode and a group, the ready file,
--allow-from for TCP clients and --allow-uid/--allow-gid for unix ones."""

import grp
import os
import pwd
import socket
import stat
import subprocess
import time

import pytest

from conftest import NO_STATE, TEST_USER, marker
from harness import checks, rawhttp



def have_ipv6_loopback():
	try:
		with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
			s.bind(("::1", 0))
		return True
	except OSError:
		return False


def ping_unix(path):
	with rawhttp.RawConn(unix=path) as conn:
		conn.send(rawhttp.request("GET", "/_ping"))
		return conn.read_response()


def ping_tcp(host, port):
	return rawhttp.exchange(host, port, "GET", "/_ping")


def ping_as(user, path):
	"""GET /_ping on a unix socket from a process running as user."""
	code = ("import socket,sys\n"
	    "s=socket.socket(socket.AF_UNIX)\n"
	    "s.settimeout(5)\n"
	    "s.connect(sys.argv[1])\n"
	    "s.sendall(b'GET /_ping HTTP/1.1\\r\\nHost: x\\r\\n"
	    "Connection: close\\r\\n\\r\\n')\n"
	    "d=b''\n"
	    "while True:\n"
	    "  c=s.recv(65536)\n"
	    "  if not c: break\n"
	    "  d+=c\n"
	    "sys.stdout.write(d.decode('latin-1'))\n")
	return subprocess.run(["setpriv", "--reuid", str(user.pw_uid),
	    "--regid", str(user.pw_gid), "--clear-groups", "/usr/bin/python3",
	    "-c", code, path], capture_output=True, text=True, timeout=20)


def test_several_listeners_and_ready_file(start_dspd, workdir):
	path = os.path.join(workdir, "d.sock")
	listen = ["tcp://127.0.0.1:0", "unix://" + path]
	if have_ipv6_loopback():
		listen.append("tcp://[::1]:0")
	proxy = start_dspd(listen=listen)

	# One line per listener, in URL form, with the port really bound.
	assert len(proxy.addresses) == len(listen), proxy.addresses
	assert "unix://" + path in proxy.addresses
	for addr in proxy.addresses:
		if addr.startswith("tcp://["):
			host, port = addr[7:].rsplit(":", 1)
			resp = ping_tcp(host.strip("[]"), int(port))
		elif addr.startswith("tcp://"):
			host, port = addr[6:].rsplit(":", 1)
			assert int(port) != 0
			resp = ping_tcp(host, int(port))
		else:
			resp = ping_unix(addr[7:])
		assert (resp.status, resp.body) == (200, b"OK"), (addr, resp)


def test_listen_from_environment(start_dspd, dspd_bin, workdir):
	# DSP_LISTEN takes a comma-separated list when no -l is given.
	path = os.path.join(workdir, "env.sock")
	ready = os.path.join(workdir, "env-ready")
	env = {"DSP_LISTEN": "tcp://127.0.0.1:0, unix://" + path,
	    "DSP_READY_FILE": ready, "PATH": "/usr/bin:/bin"}
	env.update(NO_STATE)
	proc = subprocess.Popen([dspd_bin, "--socket-path", "/nonexistent"],
	    env=env, stderr=subprocess.PIPE)
	try:
		for _ in range(250):
			if os.path.exists(ready):
				break
			assert proc.poll() is None, proc.stderr.read()
			time.sleep(0.02)
		with open(ready) as f:
			lines = f.read().split()
		assert len(lines) == 2 and "unix://" + path in lines, lines
		# No engine behind it: a clear 502, not a hang or a reset.
		resp = ping_unix(path)
		checks.dsp_reply(resp, 502)
	finally:
		proc.terminate()
		assert proc.wait(10) == 0


def test_unix_socket_mode_and_group(start_dspd, workdir):
	group = grp.getgrnam("daemon")
	path = os.path.join(workdir, "g.sock")
	start_dspd(listen=["unix://%s?mode=0640&group=daemon" % path])
	st = os.stat(path)
	assert stat.S_ISSOCK(st.st_mode)
	assert stat.S_IMODE(st.st_mode) == 0o640
	assert st.st_gid == group.gr_gid


def test_unix_socket_bad_option_stops_start(dspd_bin, workdir):
	path = os.path.join(workdir, "bad.sock")
	proc = subprocess.run([dspd_bin, "-l", "unix://%s?mode=999" % path],
	    capture_output=True, text=True, timeout=10, env=NO_STATE)
	assert proc.returncode == 1
	assert "mode=999" in proc.stderr


def test_second_dspd_on_same_unix_path_refused(start_dspd, dspd_bin,
    workdir):
	path = os.path.join(workdir, "one.sock")
	start_dspd(listen=["unix://" + path])
	proc = subprocess.run([dspd_bin, "-l", "unix://" + path],
	    capture_output=True, text=True, timeout=10, env=NO_STATE)
	assert proc.returncode == 1
	assert path in proc.stderr and "in use" in proc.stderr, proc.stderr
	# The first one still serves on its socket.
	assert ping_unix(path).status == 200


def test_stale_unix_socket_replaced(start_dspd, workdir):
	# A socket file left by a dspd that died is not an obstacle.
	path = os.path.join(workdir, "stale.sock")
	s = socket.socket(socket.AF_UNIX)
	s.bind(path)
	s.close()
	start_dspd(listen=["unix://" + path])
	assert ping_unix(path).status == 200


def test_allow_from_refuses_other_networks(start_dspd, tap):
	proxy = start_dspd(args=["--allow-from", "10.0.0.0/8",
	    "--allow-from", "192.168.0.0/16"], upstream=tap.listen_path)
	m = marker()
	resp = rawhttp.exchange(proxy.host, proxy.port, "GET", "/_ping?m=" + m)
	checks.dsp_reply(resp, 403)
	assert "not admitted" in resp.json()["message"]
	assert not tap.saw(m)


def test_allow_from_admits_its_network(start_dspd):
	proxy = start_dspd(env={"DSP_ALLOW_FROM": "10.0.0.0/8,127.0.0.0/8"})
	assert ping_tcp(proxy.host, proxy.port).status == 200


def test_allow_from_bad_network_stops_start(dspd_bin):
	proc = subprocess.run([dspd_bin, "--allow-from", "127.0.0.1/33"],
	    capture_output=True, text=True, timeout=10, env=NO_STATE)
	assert proc.returncode == 1
	assert "--allow-from" in proc.stderr and "127.0.0.1/33" in proc.stderr


def test_allow_uid_on_unix_socket(start_dspd, workdir, test_user):
	os.chmod(workdir, 0o755)
	path = os.path.join(workdir, "u.sock")
	start_dspd(listen=["unix://%s?mode=0666" % path],
	    args=["--allow-uid", TEST_USER])
	# The named user is admitted; root, not in the list, is not.
	out = ping_as(test_user, path)
	assert out.returncode == 0, out.stderr
	assert out.stdout.startswith("HTTP/1.1 200 "), out.stdout
	resp = ping_unix(path)
	checks.dsp_reply(resp, 403)


def test_allow_gid_on_unix_socket(start_dspd, workdir, test_user):
	os.chmod(workdir, 0o755)
	path = os.path.join(workdir, "gid.sock")
	start_dspd(listen=["unix://%s?mode=0666" % path],
	    args=["--allow-gid", "0"])
	out = ping_as(test_user, path)
	assert out.stdout.startswith("HTTP/1.1 403 "), out.stdout
	assert "not admitted" in out.stdout
	assert ping_unix(path).status == 200


def test_ipv6_listener_dual_stack(start_dspd):
	# "[::]" takes IPv4 clients too, as the images' "[::]:2375 v4v6".
	if not have_ipv6_loopback():
		pytest.skip("no IPv6 loopback on this machine")
	proxy = start_dspd(listen=["tcp://[::]:0"])
	port = int(proxy.addresses[0].rsplit(":", 1)[1])
	assert ping_tcp("127.0.0.1", port).status == 200
	assert ping_tcp("::1", port).status == 200


def test_disable_ipv6_listens_on_ipv4(start_dspd):
	proxy = start_dspd(listen=["tcp://[::]:0"], env={"DISABLE_IPV6": "1"})
	assert proxy.addresses[0].startswith("tcp://0.0.0.0:"), \
	    proxy.addresses
	port = int(proxy.addresses[0].rsplit(":", 1)[1])
	assert ping_tcp("127.0.0.1", port).status == 200


def test_unknown_listen_scheme_stops_start(dspd_bin):
	with pytest.raises(subprocess.CalledProcessError) as e:
		subprocess.run([dspd_bin, "-l", "udp://127.0.0.1:1"],
		    capture_output=True, text=True, timeout=10, env=NO_STATE,
		    check=True)
	assert e.value.returncode == 1
	assert "udp://127.0.0.1:1" in e.value.stderr


def test_exits_when_listener_cannot_bind(start_dspd, dspd_bin):
	proxy = start_dspd()
	proc = subprocess.run([dspd_bin, "-l", "tcp://127.0.0.1:%d" %
	    proxy.port], capture_output=True, text=True, timeout=10, env=NO_STATE)
	assert proc.returncode == 1
	assert "in use" in proc.stderr, proc.stderr
