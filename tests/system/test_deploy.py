"""Deployment: dspd given its listening sockets the way systemd gives
them, the systemd units and what `make install` puts where, the compose
and stack files as their own tools read them, and the container image
built and run on the real engine."""

import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import urllib.parse
import uuid

import pytest

from conftest import CLIS, DSPD_BIN, NO_STATE, REPO
from harness import checks, image, rawhttp
from harness.dspd import CLEAN_PATH, Dspd, DspdExited

try:
	import yaml
except ImportError:		# python3-yaml comes with docker-compose
	yaml = None

LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
    "harness", "socketact.py")
SOCKET_ACTIVATE = "/usr/bin/systemd-socket-activate"
SYSTEMD_ANALYZE = "/usr/bin/systemd-analyze"
DOCKER_COMPOSE = "/usr/bin/docker-compose"
DOCKERFILE = os.path.join(REPO, "contrib", "Dockerfile")
COMPOSE_FILE = os.path.join(REPO, "contrib", "compose", "docker-compose.yml")
STACK_FILE = os.path.join(REPO, "contrib", "swarm", "docker-stack.yml")

TOOL_TIMEOUT = 120.0		# seconds for compose, stack config, analyze
INSTALL_TIMEOUT = 900.0		# seconds for make install (it may build)
BUILD_TIMEOUT = 300.0		# seconds for docker build
HEALTH_TIMEOUT = 45.0		# seconds until the container is healthy
UP_TIMEOUT = 20.0		# seconds until a container's dspd answers
STOP_LIMIT = 8.0		# seconds docker stop may take (it waits 10)
PORT_TRIES = 3			# free ports tried for systemd-socket-activate
# The 30 variables of the HAProxy images: the image must set none.
HAPROXY_VARS = ("ALLOW_RESTARTS ALLOW_STOP ALLOW_START AUTH BUILD COMMIT "
    "CONFIGS CONTAINERS DISABLE_IPV6 DISTRIBUTION EVENTS EXEC GRPC IMAGES "
    "INFO LOG_LEVEL NETWORKS NODES PING PLUGINS POST SECRETS SERVICES "
    "SESSION SOCKET_PATH SWARM SYSTEM TASKS VERSION VOLUMES").split()
# Sanitizer runtimes: a sanitizer build links them, a release does not.
SANITIZER_PACKAGES = re.compile(r"^lib(asan|ubsan|lsan|tsan)\d+$")
SANITIZER_REPORT = re.compile(r"ERROR: \w+Sanitizer|runtime error: ")


def ping_unix(path, method="GET", target="/_ping", body=b"", headers=None):
	with rawhttp.RawConn(unix=path) as conn:
		conn.send(rawhttp.request(method, target, headers, body))
		return conn.read_response(method)


def ping_url(addr):
	"""GET /_ping at an address of the ready file."""
	u = urllib.parse.urlsplit(addr)
	if u.scheme == "unix":
		return ping_unix(u.path)
	return rawhttp.exchange(u.hostname, u.port, "GET", "/_ping")


def assert_pong(resp, where):
	assert (resp.status, resp.body) == (200, b"OK"), (where, resp)


# ---- sockets handed over as systemd does (LISTEN_FDS) -------------------

@pytest.fixture
def activated(request, engine, dspd_bin, workdir):
	"""Factory: dspd started by the launcher with the sockets it binds;
	stopped at teardown, its log printed if the test failed."""
	started = []

	def start(launcher_args, listen=(), env=None, args=()):
		where = os.path.join(workdir, "act%d" % len(started))
		d = Dspd(dspd_bin, where, engine.socket,
		    dict(NO_STATE, **(env or {})), args, listen,
		    ["/usr/bin/python3", LAUNCHER] + list(launcher_args) +
		    ["--"])
		started.append(d)
		return d.start()

	yield start
	for d in started:
		d.stop()
	rep = getattr(request.node, "rep_call", None)
	if rep is not None and rep.failed:
		for d in started:
			print("---- dspd %s (exit %s) ----\n%s" % (
			    " ".join(d.argv), d.rc, d.stderr()[-4000:]))
	reports = [r for r in (d.memory_errors() for d in started) if r]
	assert not reports, "\n".join(reports)


def test_passed_sockets_replace_the_default(activated, workdir):
	"""Sockets passed and no --listen: dspd serves those and only those,
	names them in its log, and leaves a passed unix socket's path to the
	service manager that made it."""
	path = os.path.join(workdir, "api.sock")
	d = activated(["--tcp", "127.0.0.1:0", "--unix", path,
	    "--names", "api:local"])

	# Exactly the two passed sockets: not the default 127.0.0.1:2375.
	assert len(d.addresses) == 2, d.addresses
	assert d.addresses[0].startswith("tcp://127.0.0.1:"), d.addresses
	assert not d.addresses[0].endswith(":2375"), d.addresses
	assert d.addresses[1] == "unix://" + path, d.addresses
	for addr in d.addresses:
		assert_pong(ping_url(addr), addr)
	log = d.stderr()
	assert "descriptor 3, api from the service manager" in log, log
	assert "descriptor 4, local from the service manager" in log, log

	assert d.stop() == 0
	# systemd made the path and removes it, not dspd.
	assert stat.S_ISSOCK(os.lstat(path).st_mode)


def test_passed_sockets_and_listen(activated, workdir):
	"""With --listen as well, dspd serves the passed socket and its own."""
	d = activated(["--tcp", "127.0.0.1:0"], listen=["tcp://127.0.0.1:0"])
	assert len(d.addresses) == 2, d.addresses
	assert d.addresses[0] != d.addresses[1]
	for addr in d.addresses:
		assert_pong(ping_url(addr), addr)


def test_sockets_for_another_pid_ignored(activated, workdir):
	"""LISTEN_PID of another process: the descriptors are not dspd's."""
	d = activated(["--wrong-pid", "--tcp", "127.0.0.1:0"],
	    listen=["tcp://127.0.0.1:0"])
	assert len(d.addresses) == 1, d.addresses
	assert_pong(ping_url(d.addresses[0]), d.addresses[0])
	assert "LISTEN_FDS ignored" in d.stderr()


@pytest.mark.parametrize("launcher_args,needle", [
	(["--udp", "127.0.0.1:0"], "descriptor 3 is not a listening stream"),
	(["--bound-only", "127.0.0.1:0"],
	    "descriptor 3 is not a listening stream"),
	(["--file", "/etc/hostname"], "descriptor 3 is not a socket"),
	(["--tcp", "127.0.0.1:0", "--fds", "2"], "descriptor 4 is not a"),
	(["--tcp", "127.0.0.1:0", "--fds", "x"], "'x' is not a count"),
], ids=["udp", "not-listening", "file", "count-too-high", "count-bad"])
def test_bad_passed_descriptor_refused(activated, launcher_args, needle):
	"""Anything but a listening TCP or unix stream socket stops the start
	with exit status 1 and a message naming LISTEN_FDS."""
	with pytest.raises(DspdExited) as e:
		activated(launcher_args)
	assert e.value.rc == 1
	assert "LISTEN_FDS" in e.value.stderr and needle in e.value.stderr, \
	    e.value.stderr


def socket_activate(addresses, name, argv, out):
	"""systemd-socket-activate listening on the addresses, to start argv
	with them on the first connection; its own session, so that the
	group can be stopped."""
	env = dict(NO_STATE, PATH=CLEAN_PATH)
	cmd = [SOCKET_ACTIVATE, "--fdname=" + name]
	for addr in addresses:
		cmd += ["-l", addr]
	# It passes on only the variables it is told to.
	for var in ("DSP_DB", "DSP_CONTROL_SOCKET", "ASAN_OPTIONS",
	    "UBSAN_OPTIONS", "LSAN_OPTIONS"):
		if var in os.environ:
			env[var] = os.environ[var]
		if var in env:
			cmd += ["-E", var]
	return subprocess.Popen(cmd + argv, stdin=subprocess.DEVNULL,
	    stdout=out, stderr=subprocess.STDOUT, env=env,
	    start_new_session=True)


def stop_group(proc, timeout=10.0):
	"""SIGTERM a process group started by socket_activate; its output."""
	if proc is None:
		return ""
	try:
		os.killpg(proc.pid, signal.SIGTERM)
	except ProcessLookupError:
		pass
	try:
		out = proc.communicate(timeout=timeout)[0]
	except subprocess.TimeoutExpired:
		os.killpg(proc.pid, signal.SIGKILL)
		out = proc.communicate(timeout=timeout)[0]
	return (out or b"").decode(errors="replace")


@pytest.mark.skipif(not os.access(SOCKET_ACTIVATE, os.X_OK),
    reason="systemd-socket-activate (package systemd) not installed")
def test_systemd_socket_activate(engine, dspd_bin, workdir):
	"""systemd's own tool: it listens, and on the first connection starts
	dspd with the socket, which answers that very connection."""
	path = os.path.join(workdir, "api.sock")
	ready = os.path.join(workdir, "ready")
	proc = socket_activate([path], "api", [dspd_bin, "--ready-file",
	    ready, "--socket-path", engine.socket], subprocess.PIPE)
	try:
		deadline = time.monotonic() + 10
		while not os.path.exists(path):
			assert proc.poll() is None, proc.communicate()[0]
			assert time.monotonic() < deadline, "no socket"
			time.sleep(0.05)
		# dspd does not run yet: this connection starts it.
		assert not os.path.exists(ready)
		assert_pong(ping_unix(path), path)
		with open(ready) as f:
			assert f.read().split() == ["unix://" + path]
	finally:
		log = stop_group(proc)
	assert "(descriptor 3, api from the service manager)" in log, log
	assert not SANITIZER_REPORT.search(log), log


# ---- make install and the systemd units ---------------------------------

@pytest.fixture(scope="module")
def installed():
	"""`make install DESTDIR=` of the build dspd comes from: the tree the
	image is made of, and where the units are read."""
	build = os.path.dirname(os.path.dirname(os.path.abspath(DSPD_BIN)))
	if not os.path.exists(os.path.join(build, "Makefile")):
		pytest.skip("%s is not in a configured build tree" % DSPD_BIN)
	dest = tempfile.mkdtemp(prefix="dsp-inst-", dir="/tmp")
	try:
		r = subprocess.run(["make", "-C", build, "-s", "install",
		    "DESTDIR=" + dest], capture_output=True, text=True,
		    timeout=INSTALL_TIMEOUT)
		assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
		prefix = subprocess.run(["make", "-C", build, "-s",
		    "--no-print-directory", "-f", "Makefile", "-f", "-",
		    "print-prefix"], input="print-prefix:\n\t@echo $(prefix)\n",
		    capture_output=True, text=True, timeout=60).stdout.strip()
		yield dest, prefix
	finally:
		shutil.rmtree(dest, ignore_errors=True)


def test_make_install_places(installed):
	"""Programs, man pages, completion and units where their tools look."""
	dest, prefix = installed
	root = dest + prefix
	for rel, mode in (("sbin/dspd", 0o111), ("bin/dspctl", 0o111),
	    ("share/man/man8/dspd.8", 0), ("share/man/man8/dspctl.8", 0),
	    ("share/bash-completion/completions/dspctl", 0),
	    ("lib/systemd/system/dspd.service", 0),
	    ("lib/systemd/system/dspd.socket", 0),
	    ("lib/sysusers.d/dsp.conf", 0)):
		path = os.path.join(root, rel)
		assert os.path.isfile(path), "make install left no %s" % rel
		assert os.stat(path).st_mode & mode == mode, rel
	# The completion is bash's: sourcing it defines a function for dspctl.
	r = subprocess.run(["bash", "-c", "source %s && complete -p dspctl" %
	    os.path.join(root, "share/bash-completion/completions/dspctl")],
	    capture_output=True, text=True, timeout=30)
	assert r.returncode == 0 and "dspctl" in r.stdout, r
	# The user the service runs as is declared for systemd-sysusers.
	with open(os.path.join(root, "lib/sysusers.d/dsp.conf")) as f:
		entries = [l.split() for l in f if l.strip() and
		    not l.startswith("#")]
	assert ["u", "dsp"] == entries[0][:2], entries


def unit_settings(path):
	"""Section.Key -> [values] of a unit file."""
	settings = {}
	section = None
	with open(path) as f:
		for line in f:
			line = line.strip()
			if not line or line.startswith(("#", ";")):
				continue
			if line.startswith("["):
				section = line.strip("[]")
				continue
			key, _, value = line.partition("=")
			settings.setdefault("%s.%s" % (section, key),
			    []).append(value)
	return settings


def test_service_unit(installed, dspd_bin, workdir):
	"""dspd.service runs the installed dspd hardened, as a user of its own
	in the docker group, with the folders dspd uses by default."""
	dest, prefix = installed
	unit = os.path.join(dest + prefix, "lib/systemd/system/dspd.service")
	s = unit_settings(unit)
	assert s["Service.ExecStart"][0].split()[0] == prefix + "/sbin/dspd"
	assert s["Service.User"] == ["dsp"]
	assert "docker" in s["Service.SupplementaryGroups"][0].split()
	assert s["Service.NoNewPrivileges"] == ["yes"]
	assert s["Service.ProtectSystem"] == ["strict"]
	assert int(s["Service.LimitNOFILE"][0]) >= 65536
	# StateDirectory and RuntimeDirectory are the folders of dspd's own
	# defaults for the database and the control socket.
	usage = subprocess.run([dspd_bin, "--help"], capture_output=True,
	    text=True, timeout=10).stdout
	db = re.search(r"DSP_DB, default (\S+)\]", usage).group(1)
	control = re.search(r"DSP_CONTROL_SOCKET, default (\S+)\]",
	    usage).group(1)
	assert os.path.dirname(db) == "/var/lib/" + \
	    s["Service.StateDirectory"][0]
	assert os.path.dirname(control) == "/run/" + \
	    s["Service.RuntimeDirectory"][0]

	if not os.access(SYSTEMD_ANALYZE, os.X_OK):
		pytest.skip("systemd-analyze not installed: no hardening score")
	# systemd's own score of the sandbox: 0 is best, 10 worst; "OK" is
	# below 5.  The threshold is in tenths.
	r = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=true",
	    "--threshold=25", "--no-pager", unit], capture_output=True,
	    text=True, timeout=TOOL_TIMEOUT)
	m = re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout)
	assert m, r.stdout[-2000:] + r.stderr
	print("systemd-analyze security: exposure %s" % m.group(1))
	assert r.returncode == 0 and float(m.group(1)) <= 2.5, r.stdout[-3000:]
	# systemd reads every line without a complaint (it warns and goes
	# on for an unknown key or value), and finds the program: the copy
	# checked names the installed dspd under DESTDIR.
	copy = os.path.join(workdir, "dspd.service")
	with open(unit) as f, open(copy, "w") as out:
		out.write(f.read().replace("ExecStart=" + prefix,
		    "ExecStart=" + dest + prefix))
	shutil.copy(os.path.join(os.path.dirname(unit), "dspd.socket"),
	    workdir)
	r = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", copy,
	    os.path.join(workdir, "dspd.socket")], capture_output=True,
	    text=True, timeout=TOOL_TIMEOUT)
	assert (r.returncode, r.stdout + r.stderr) == (0, ""), r


def listening_port(pid):
	"""The port of a TCP socket a process listens on, or None."""
	inodes = set()
	try:
		for fd in os.listdir("/proc/%d/fd" % pid):
			m = re.match(r"socket:\[(\d+)\]$", os.readlink(
			    "/proc/%d/fd/%s" % (pid, fd)))
			if m:
				inodes.add(m.group(1))
	except OSError:
		return None
	with open("/proc/net/tcp") as f:
		for line in f.readlines()[1:]:
			fields = line.split()
			# State 0A is LISTEN.
			if fields[3] == "0A" and fields[9] in inodes:
				return int(fields[1].split(":")[1], 16)
	return None


def test_socket_unit_starts_dspd_with_its_socket(installed, engine,
    dspd_bin, workdir):
	"""dspd.socket's ListenStream, handed to dspd by systemd's tool, is
	where dspd then listens (no --listen: the socket unit decides)."""
	dest, prefix = installed
	s = unit_settings(os.path.join(dest + prefix,
	    "lib/systemd/system/dspd.socket"))
	assert s["Socket.ListenStream"] == ["127.0.0.1:2375"]
	assert "Service.ExecStart" not in s
	if not os.access(SOCKET_ACTIVATE, os.X_OK):
		pytest.skip("systemd-socket-activate not installed")
	# The unit's address and name, in front of our own engine, on a free
	# port: the tool takes no port 0, so a port another process grabs
	# first means a new try.
	ready = os.path.join(workdir, "ready")
	name = s["Socket.FileDescriptorName"][0]
	proc = None
	try:
		for _ in range(PORT_TRIES):
			probe = socket.socket()
			probe.bind(("127.0.0.1", 0))
			port = probe.getsockname()[1]
			probe.close()
			proc = socket_activate(["127.0.0.1:%d" % port], name,
			    [dspd_bin, "--ready-file", ready, "--socket-path",
			    engine.socket], subprocess.PIPE)
			deadline = time.monotonic() + 10
			while proc.poll() is None and \
			    listening_port(proc.pid) != port:
				assert time.monotonic() < deadline, port
				time.sleep(0.05)
			if proc.poll() is None:
				break
			print(proc.communicate()[0].decode(errors="replace"))
		assert proc.poll() is None, "no free port in %d tries" % \
		    PORT_TRIES
		assert not os.path.exists(ready)	# not started yet
		assert_pong(rawhttp.exchange("127.0.0.1", port, "GET",
		    "/_ping"), port)
		with open(ready) as f:
			assert f.read().split() == ["tcp://127.0.0.1:%d" % port]
	finally:
		out = stop_group(proc)
	assert "descriptor 3, %s from the service manager" % name in out, out
	assert not SANITIZER_REPORT.search(out), out


# ---- compose and stack files --------------------------------------------

def test_compose_file():
	"""Debian's docker-compose reads the file; Traefik reaches dsp over an
	internal network and never mounts the socket."""
	if not os.access(DOCKER_COMPOSE, os.X_OK) or yaml is None:
		pytest.skip("docker-compose (Debian's package) not installed")
	env = {"PATH": CLEAN_PATH, "HOME": "/nonexistent"}
	r = subprocess.run([DOCKER_COMPOSE, "-f", COMPOSE_FILE, "config"],
	    capture_output=True, text=True, env=dict(env, DOCKER_GID="4242"),
	    timeout=TOOL_TIMEOUT)
	version = subprocess.run([DOCKER_COMPOSE, "version", "--short"],
	    capture_output=True, text=True, env=env, timeout=TOOL_TIMEOUT)
	print("docker-compose %s" % version.stdout.strip())
	assert r.returncode == 0, r.stderr
	cfg = yaml.safe_load(r.stdout)
	dsp, traefik = cfg["services"]["dsp"], cfg["services"]["traefik"]

	# Only dsp has the engine's socket, and the socket's group.
	sock = [v for v in dsp["volumes"] if "docker.sock" in str(v)]
	assert sock and str(sock[0]).startswith("/var/run/docker.sock:")
	assert not any("docker.sock" in str(v) for v in
	    traefik.get("volumes", []))
	assert [str(g) for g in dsp["group_add"]] == ["4242"]
	assert "--providers.docker.endpoint=tcp://dsp:2375" in \
	    traefik["command"]
	# dsp sits on the internal network alone, publishes no port (its
	# metrics stay there), and keeps its database on a volume.
	assert list(dsp["networks"]) == ["docker_api"]
	assert cfg["networks"]["docker_api"].get("internal") is True
	assert "docker_api" in traefik["networks"]
	assert "ports" not in dsp
	assert dsp["environment"]["DSP_METRICS"] == "tcp://[::]:9375"
	assert str(dsp["environment"]["CONTAINERS"]) == "1"
	assert str(dsp["environment"].get("POST", "0")) == "0"
	assert any(str(v).startswith("dsp-db:/var/lib/dsp") for v in
	    dsp["volumes"])
	assert "dsp-db" in cfg["volumes"]
	assert dsp["read_only"] is True
	assert any(t.startswith("/run/dsp") for t in dsp["tmpfs"])
	assert traefik["depends_on"]["dsp"]["condition"] == "service_healthy"

	# Without the group id the file says how to find it.
	r = subprocess.run([DOCKER_COMPOSE, "-f", COMPOSE_FILE, "config"],
	    capture_output=True, text=True, env=env, timeout=TOOL_TIMEOUT)
	assert r.returncode != 0 and "DOCKER_GID" in r.stderr and \
	    "/var/run/docker.sock" in r.stderr, r.stderr


def stack_cli():
	"""A docker CLI that has `stack config` (23 and later)."""
	for path, version in CLIS:
		r = subprocess.run([path, "stack", "config", "--help"],
		    capture_output=True, text=True, timeout=30,
		    env={"PATH": CLEAN_PATH, "HOME": "/nonexistent"})
		if r.returncode == 0:
			return path, version
	return None, None


def test_stack_file(engine):
	"""`docker stack config` reads the stack: dsp global on the managers
	with the Swarm provider's groups, the environment's policy at every
	start, the socket's group, and Traefik without the socket."""
	path, version = stack_cli()
	if path is None or yaml is None:
		pytest.skip("no docker CLI with `stack config` (needs 23+)")
	print("docker %s (%s) stack config" % (version, path))
	env = {"PATH": CLEAN_PATH, "HOME": tempfile.gettempdir(),
	    "DOCKER_CONFIG": tempfile.mkdtemp(prefix="dsp-cfg-", dir="/tmp"),
	    "DOCKER_HOST": "unix://" + engine.socket}
	try:
		r = subprocess.run([path, "stack", "config", "-c", STACK_FILE],
		    capture_output=True, text=True, timeout=TOOL_TIMEOUT,
		    env=dict(env, DOCKER_GID="4242"))
		missing = subprocess.run([path, "stack", "config", "-c",
		    STACK_FILE], capture_output=True, text=True,
		    timeout=TOOL_TIMEOUT, env=env)
	finally:
		shutil.rmtree(env["DOCKER_CONFIG"], ignore_errors=True)
	assert r.returncode == 0, r.stderr
	cfg = yaml.safe_load(r.stdout)
	dsp, traefik = cfg["services"]["dsp"], cfg["services"]["traefik"]

	assert dsp["deploy"]["mode"] == "global"
	assert "node.role == manager" in dsp["deploy"]["placement"][
	    "constraints"]
	envs = {k: str(v) for k, v in dsp["environment"].items()}
	for group in ("SERVICES", "NETWORKS", "TASKS", "NODES"):
		assert envs.get(group) == "1", (group, envs)
	assert envs.get("POST", "0") == "0"
	assert envs["DSP_POLICY_SOURCE"] == "env"
	# A stack has no group_add: the socket's group is the primary one.
	assert dsp["user"] == "65532:4242"
	assert any(v.get("source") == "/var/run/docker.sock" for v in
	    dsp["volumes"])
	assert not any("docker.sock" in str(v) for v in
	    traefik.get("volumes", []))
	assert "--providers.swarm.endpoint=tcp://dsp:2375" in \
	    traefik["command"]
	assert cfg["networks"]["docker_api"]["driver"] == "overlay"
	assert cfg["networks"]["docker_api"].get("internal") is True
	assert "ports" not in dsp
	assert missing.returncode != 0 and "DOCKER_GID" in missing.stderr


# ---- the container image ------------------------------------------------

def docker(engine, args, timeout=TOOL_TIMEOUT, env=None, check=True,
    cwd=None):
	"""A docker CLI command against the session's engine (Debian's CLI,
	the engine's own version, when both are installed)."""
	if not CLIS:
		pytest.skip("no docker CLI installed")
	path = CLIS[-1][0]
	e = {"PATH": CLEAN_PATH, "HOME": "/nonexistent",
	    "DOCKER_HOST": "unix://" + engine.socket,
	    "DOCKER_CONFIG": os.path.join(engine.root, "cli-config")}
	e.update(env or {})
	r = subprocess.run([path] + list(args), capture_output=True, text=True,
	    timeout=timeout, env=e, cwd=cwd)
	if check:
		assert r.returncode == 0, "docker %s: %s%s" % (" ".join(args),
		    r.stdout[-2000:], r.stderr[-3000:])
	return r


@pytest.fixture(scope="module")
def dsp_image(engine, installed):
	"""The shipped Dockerfile's runtime stage, built with the classic
	builder on a base assembled from the host's packages."""
	dest, prefix = installed
	if prefix != "/usr/local":
		pytest.skip("the image expects prefix /usr/local, the build "
		    "has %s" % prefix)
	programs = [os.path.join(dest + prefix, p) for p in ("sbin/dspd",
	    "bin/dspctl", "bin/dsptui") if os.path.exists(os.path.join(
	    dest + prefix, p))]
	packages = image.runtime_packages(programs)
	tag = "dsp-test-%s" % uuid.uuid4().hex[:10]
	ctx = tempfile.mkdtemp(prefix="dsp-img-", dir="/tmp")
	try:
		# The base: what the runtime-base stage would apt-get.
		status, _, data = engine.api("POST", "/images/create?" +
		    urllib.parse.urlencode([("fromSrc", "-"),
		    ("repo", tag + "-base"), ("tag", "latest"),
		    ("changes", "ENV PATH=/usr/local/sbin:/usr/local/bin:"
		    "/usr/sbin:/usr/bin:/sbin:/bin")]),
		    body=image.base_rootfs(packages),
		    headers={"Content-Type": "application/x-tar"})
		assert status == 200 and b'"error' not in data, data[-500:]
		# The build stage stands in for the compile: it holds the
		# installed tree where the runtime stage copies it from.
		head, stages = image.dockerfile_stages(DOCKERFILE)
		assert "runtime" in stages and "build" in stages
		shutil.copytree(dest, os.path.join(ctx, "dist"), symlinks=True)
		with open(os.path.join(ctx, "Dockerfile"), "w") as f:
			f.write("\n".join(head + ["FROM scratch AS build",
			    "COPY dist/ /dist/", ""] + stages["runtime"]) +
			    "\n")
		docker(engine, ["build", "-q", "--build-arg",
		    "BASE=%s-base:latest" % tag, "-t", tag + ":latest", ctx],
		    timeout=BUILD_TIMEOUT, env={"DOCKER_BUILDKIT": "0"})
		yield {"tag": tag + ":latest", "stages": stages,
		    "direct": image.runtime_packages(programs, direct=True)}
	finally:
		shutil.rmtree(ctx, ignore_errors=True)
		for name in (tag + ":latest", tag + "-base:latest"):
			engine.api("DELETE", "/images/%s?force=1" % name)
		engine.api("POST", "/images/prune?filters=%s" %
		    urllib.parse.quote('{"dangling":["true"]}'))


def test_dockerfile_installs_the_libraries(dsp_image):
	"""The runtime-base stage's apt-get names every package that holds a
	library the programs link, beyond those every Debian image has (apt
	brings what those libraries need in turn)."""
	needed = {p for p in dsp_image["direct"]
	    if not SANITIZER_PACKAGES.match(p)}
	needed -= image.essential_closure()
	listed = image.apt_packages(dsp_image["stages"]["runtime-base"])
	assert needed, dsp_image["direct"]
	assert needed <= listed, "missing from the Dockerfile: %s" % \
	    sorted(needed - listed)


# What the image's build stage compiles from: sources, never a host build.
SOURCE_SUFFIXES = (".c", ".h", ".am", ".ac", ".sh", ".in", ".8", ".1",
    ".bash")
BUILD_OUTPUTS = re.compile(r"(\.o|\.a|/config\.status|/config\.log|"
    r"^Makefile|/core/dspd|/ctl/dspctl|/tui/dsptui|"
    r"/contrib/systemd/dspd\.service)$")


def test_build_context(engine, workdir):
	"""The shipped Dockerfile's `COPY . .` receives every source file and
	none of a build made on the host (.dockerignore), as the engine's
	classic builder applies it."""
	tag = "dsp-ctx-%s" % uuid.uuid4().hex[:10]
	dockerfile = os.path.join(workdir, "Dockerfile.ctx")
	with open(dockerfile, "w") as f:
		f.write("FROM dsp-busybox:latest\nCOPY . /src\n"
		    "RUN cd /src && find . -type f > /files.txt\n")
	try:
		docker(engine, ["build", "-q", "-f", dockerfile, "-t", tag,
		    REPO], timeout=BUILD_TIMEOUT, env={"DOCKER_BUILDKIT": "0"})
		listing = docker(engine, ["run", "--rm", "--network", "none",
		    tag, "cat", "/files.txt"]).stdout.split()
	finally:
		engine.api("DELETE", "/images/%s?force=1" % tag)
	sent = {p[2:] for p in listing if p.startswith("./")}
	outputs = sorted(p for p in sent if BUILD_OUTPUTS.search("/" + p) or
	    BUILD_OUTPUTS.search(p))
	assert not outputs, "build outputs in the context: %s" % outputs[:20]
	sources = set()
	for top, dirs, files in os.walk(REPO):
		dirs[:] = [d for d in dirs if not d.startswith(".") and
		    d not in ("autom4te.cache", "fuzz-work", "build", "m4")]
		for name in files:
			rel = os.path.relpath(os.path.join(top, name), REPO)
			if name.endswith(SOURCE_SUFFIXES) and \
			    name != "Makefile.in" and rel != "aclocal.m4":
				sources.add(rel)
	assert "contrib/Dockerfile" in sent
	assert sources and sources <= sent, "sources left out: %s" % \
	    sorted(sources - sent)[:20]


def test_image_config(engine, dsp_image):
	"""Non-root, the health check, the port and the database volume; and
	none of the HAProxy images' variables set, so each one reaches dspd."""
	cfg = engine.api_json("GET", "/images/%s/json" %
	    dsp_image["tag"])["Config"]
	uid = cfg["User"].split(":")[0]
	assert uid and uid not in ("0", "root"), cfg["User"]
	assert cfg["Healthcheck"]["Test"][0] == "CMD"
	assert cfg["Healthcheck"]["Test"][1].endswith("/dspctl")
	assert cfg["Healthcheck"]["Test"][2:] == ["ping"]
	assert "2375/tcp" in cfg["ExposedPorts"]
	assert "/var/lib/dsp" in cfg["Volumes"]
	env = dict(e.split("=", 1) for e in cfg["Env"])
	assert env.get("DSP_LISTEN") == "tcp://[::]:2375"
	assert not set(env) & set(HAPROXY_VARS), env
	assert not [k for k in env if k.startswith("DSP_") and k not in
	    ("DSP_LISTEN",)], env


class Container:
	"""A container of the image, run with the compose file's settings."""

	def __init__(self, engine, tag, workdir, env, extra=()):
		self.engine = engine
		self.name = "dsp-img-" + uuid.uuid4().hex[:10]
		self.volume = self.name + "-db"
		self.sockdir = os.path.join(workdir, self.name)
		os.mkdir(self.sockdir)
		os.chown(self.sockdir, image.DSP_UID, image.DSP_UID)
		self.api_sock = os.path.join(self.sockdir, "dsp.sock")
		gid = os.stat(engine.socket).st_gid
		tmpfs = compose_tmpfs()
		args = ["run", "-d", "--name", self.name, "--network", "none",
		    "--read-only", "--tmpfs", tmpfs, "--cap-drop", "ALL",
		    "--security-opt", "no-new-privileges:true",
		    "--group-add", str(gid),
		    "-v", "%s:/var/lib/dsp" % self.volume,
		    "-v", "%s:/engine/docker.sock" % engine.socket,
		    "-v", "%s:/dsp-sock" % self.sockdir,
		    "-e", "SOCKET_PATH=/engine/docker.sock",
		    "-e", "DSP_LISTEN=tcp://[::]:2375,"
		    "unix:///dsp-sock/dsp.sock"]
		for k, v in env.items():
			args += ["-e", "%s=%s" % (k, v)]
		# Docker turns IPv6 off in a container without an IPv6
		# network; on again, its loopback has ::1 to test dual-stack.
		if os.path.exists("/proc/net/if_inet6"):
			args += ["--sysctl", "net.ipv6.conf.all.disable_ipv6=0",
			    "--sysctl", "net.ipv6.conf.lo.disable_ipv6=0"]
		self.args = args + list(extra) + [tag]

	def run(self):
		docker(self.engine, self.args)
		return self

	def inspect(self):
		return self.engine.api_json("GET", "/containers/%s/json" %
		    self.name)

	def logs(self):
		r = docker(self.engine, ["logs", self.name], check=False)
		return r.stdout + r.stderr

	def wait_unix(self, timeout=UP_TIMEOUT):
		deadline = time.monotonic() + timeout
		while time.monotonic() < deadline:
			state = self.inspect()["State"]
			assert state["Running"], (state, self.logs())
			if os.path.exists(self.api_sock):
				return
			time.sleep(0.1)
		raise AssertionError("no unix listener; logs:\n" + self.logs())

	def in_netns(self, host, port=2375):
		"""GET /_ping on the container's own network, from the host:
		the status and body, or the error."""
		pid = self.inspect()["State"]["Pid"]
		code = ("import socket,sys\n"
		    "try:\n"
		    "  s=socket.create_connection((sys.argv[1],%d),timeout=5)\n"
		    "  s.sendall(b'GET /_ping HTTP/1.1\\r\\nHost: x\\r\\n"
		    "Connection: close\\r\\n\\r\\n')\n"
		    "  d=b''\n"
		    "  while True:\n"
		    "    c=s.recv(4096)\n"
		    "    if not c: break\n"
		    "    d+=c\n"
		    "  head,_,body=d.partition(b'\\r\\n\\r\\n')\n"
		    "  print(head.split(b'\\r\\n')[0].decode(),body.decode())\n"
		    "except OSError as e:\n"
		    "  print('error', e.__class__.__name__)\n" % port)
		r = subprocess.run(["nsenter", "-t", str(pid), "-n",
		    "/usr/bin/python3", "-c", code, host], capture_output=True,
		    text=True, timeout=30)
		return r.stdout.strip() or r.stderr.strip()

	def wait_tcp(self, host, timeout=UP_TIMEOUT):
		deadline = time.monotonic() + timeout
		while True:
			out = self.in_netns(host)
			if not out.startswith("error") or \
			    time.monotonic() > deadline:
				return out
			time.sleep(0.2)

	def remove(self):
		self.engine.api("DELETE", "/containers/%s?force=1" % self.name)
		self.engine.api("DELETE", "/volumes/%s?force=1" % self.volume)


def compose_tmpfs():
	"""The compose file's tmpfs for /run/dsp, as docker run takes it."""
	if yaml is None:
		return "/run/dsp:uid=%d,gid=%d,mode=0700" % (image.DSP_UID,
		    image.DSP_UID)
	with open(COMPOSE_FILE) as f:
		cfg = yaml.safe_load(f)
	return [t for t in cfg["services"]["dsp"]["tmpfs"]
	    if t.startswith("/run/dsp")][0]


@pytest.fixture
def run_container(engine, dsp_image, workdir):
	made = []

	def run(env=None, extra=()):
		c = Container(engine, dsp_image["tag"], workdir, env or {},
		    extra)
		made.append(c)
		return c.run()

	yield run
	for c in made:
		logs = c.logs()
		c.remove()
		assert not SANITIZER_REPORT.search(logs), logs[-6000:]


def have_ipv6_in(c):
	pid = c.inspect()["State"]["Pid"]
	try:
		with open("/proc/%d/net/if_inet6" % pid) as f:
			return any(l.split()[-1] == "lo" for l in f)
	except OSError:
		return False


def test_container_serves_refuses_and_is_healthy(engine, run_container):
	"""The image as a compose file runs it: read-only root, tmpfs, the
	database on a volume, the socket's group; it answers /_ping, lists
	containers with CONTAINERS=1 through SOCKET_PATH, refuses a create,
	listens dual-stack on [::]:2375, turns healthy, and stops cleanly."""
	c = run_container({"CONTAINERS": "1", "LOG_LEVEL": "debug"},
	    ["--health-interval", "1s", "--health-start-period", "1s",
	    "--health-timeout", "5s"])
	c.wait_unix()

	assert_pong(ping_unix(c.api_sock), c.api_sock)
	resp = ping_unix(c.api_sock, target="/containers/json?all=1")
	assert resp.status == 200 and isinstance(resp.json(), list), resp
	assert c.name in json.dumps(resp.json())
	body = json.dumps({"Image": "dsp-busybox:latest"}).encode()
	resp = ping_unix(c.api_sock, "POST", "/containers/create", body,
	    [("Content-Type", "application/json")])
	message = checks.denial(resp, "containers")
	assert "POST=1" in message, message

	# Dual-stack: the same listener takes IPv4 and, where the container
	# has IPv6 on its loopback, IPv6.
	assert c.wait_tcp("127.0.0.1") == "HTTP/1.1 200 OK OK"
	if have_ipv6_in(c):
		assert c.in_netns("::1") == "HTTP/1.1 200 OK OK"
	else:
		print("no IPv6 on the container's loopback: IPv4 checked only")
	logs = c.logs()
	assert "listening on tcp://[::]:2375" in logs, logs
	assert "debug:" in logs, logs		# LOG_LEVEL reached dspd

	deadline = time.monotonic() + HEALTH_TIMEOUT
	while True:
		health = c.inspect()["State"]["Health"]
		if health["Status"] == "healthy" or \
		    time.monotonic() > deadline:
			break
		time.sleep(0.5)
	assert health["Status"] == "healthy", (health, c.logs())
	print("health check: %r" % health["Log"][-1])

	# Non-root, and the database lives in the volume.
	info = c.inspect()
	assert info["HostConfig"]["ReadonlyRootfs"] is True
	pid = info["State"]["Pid"]
	with open("/proc/%d/status" % pid) as f:
		uids = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
	assert uids[0] == str(image.DSP_UID), uids
	mount = engine.api_json("GET", "/volumes/%s" % c.volume)["Mountpoint"]
	db = os.path.join(mount, "dsp.db")
	assert os.path.isfile(db) and os.stat(db).st_uid == image.DSP_UID

	t0 = time.monotonic()
	docker(engine, ["stop", c.name], timeout=30)
	took = time.monotonic() - t0
	state = c.inspect()["State"]
	print("docker stop took %.1f s, exit status %d" % (took,
	    state["ExitCode"]))
	assert state["ExitCode"] == 0 and took < STOP_LIMIT, (state, took)


def test_container_ipv4_only(engine, run_container, workdir):
	"""DISABLE_IPV6=1 binds IPv4 only, as the HAProxy images do; where
	the kernel refuses IPv6 sockets, dspd falls back to IPv4 by itself."""
	c = run_container({"DISABLE_IPV6": "1"})
	c.wait_unix()
	assert c.wait_tcp("127.0.0.1") == "HTTP/1.1 200 OK OK"
	logs = c.logs()
	assert "listening on tcp://0.0.0.0:2375" in logs, logs
	if have_ipv6_in(c):
		assert c.in_netns("::1").startswith("error"), c.logs()

	# No IPv6 in the kernel, as a seccomp filter makes it: socket(2)
	# with AF_INET6 fails with EAFNOSUPPORT.
	profile = os.path.join(workdir, "no-ipv6.json")
	with open(profile, "w") as f:
		json.dump({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{
		    "names": ["socket"], "action": "SCMP_ACT_ERRNO",
		    "errnoRet": 97, "args": [{"index": 0, "value": 10,
		    "op": "SCMP_CMP_EQ"}]}]}, f)
	c = run_container({}, ["--security-opt", "seccomp=" + profile])
	c.wait_unix()
	assert c.wait_tcp("127.0.0.1") == "HTTP/1.1 200 OK OK"
	logs = c.logs()
	assert "no IPv6 in this kernel" in logs, logs
	assert "listening on tcp://0.0.0.0:2375" in logs, logs
