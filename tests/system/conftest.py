"""Fixtures of dsp's system tests.

One real dockerd for the session (private paths under /tmp, busybox image
imported), and for each test: a private folder, its own dspd, optionally a
recording tap between dspd and the engine, containers made directly on the
engine, and the docker CLIs that are installed.
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid

import pytest

from harness import cli as cli_mod
from harness.dspd import MEMORY_CHECKER, Dspd
from harness.engine import DOCKERD, BUSYBOX, Engine
from harness.tap import Tap

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DSPD_BIN = os.environ.get("DSPD_BIN") or os.path.join(REPO, "core", "dspd")
DSPCTL_BIN = os.environ.get("DSPCTL_BIN") or os.path.join(
    os.path.dirname(os.path.dirname(DSPD_BIN)), "ctl", "dspctl")
DSPTUI_BIN = os.environ.get("DSPTUI_BIN") or os.path.join(
    os.path.dirname(os.path.dirname(DSPD_BIN)), "tui", "dsptui")
CLIS = cli_mod.present()
SEEN = []		# lines for the summary: what the session ran against
# The environment of a dspd run by hand in a test: no database, no control
# socket, so that nothing is written outside the test's folders.
NO_STATE = {"DSP_DB": "none", "DSP_CONTROL_SOCKET": "none"}
# An unprivileged user for the tests where root would ignore file modes.
TEST_USER = "dsp-test-user"


def pytest_report_header(config):
	lines = ["dspd: %s%s" % (DSPD_BIN, "" if os.access(DSPD_BIN,
	    os.X_OK) else " (missing)")]
	if CLIS:
		lines.append("docker CLIs: " + ", ".join("%s %s" % (p, v)
		    for p, v in CLIS))
	else:
		lines.append("docker CLIs: none found")
	return lines


def pytest_terminal_summary(terminalreporter):
	terminalreporter.write_line("dspd under test: %s" % DSPD_BIN)
	for line in SEEN:
		terminalreporter.write_line(line)
	for path, version in CLIS:
		terminalreporter.write_line("docker CLI used: %s %s" %
		    (path, version))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
	# Kept on the item so fixtures can print dspd's log after a failure.
	outcome = yield
	rep = outcome.get_result()
	setattr(item, "rep_" + rep.when, rep)


def marker():
	"""A token that occurs in one request only."""
	return "dspmark" + uuid.uuid4().hex[:16]


@pytest.fixture(scope="session")
def engine():
	if os.geteuid() != 0:
		pytest.skip("dockerd needs root")
	for path in (DOCKERD, BUSYBOX, "/usr/bin/containerd"):
		if not os.access(path, os.X_OK):
			pytest.skip("%s not installed" % path)
	eng = Engine()
	try:
		eng.start()
		eng.import_busybox()
		v = eng.version()
		SEEN.append("engine: dockerd %s, API %s" % (v["Version"],
		    v["ApiVersion"]))
		yield eng
	finally:
		# Running containers make dockerd's stop slow: remove first.
		if eng.running():
			try:
				for c in eng.api_json("GET",
				    "/containers/json?all=1"):
					eng.remove_container(c["Id"])
			except Exception:
				pass
		eng.cleanup()


@pytest.fixture(scope="session")
def dspd_bin():
	if not os.access(DSPD_BIN, os.X_OK):
		pytest.fail("dspd binary %s is missing: build it with "
		    "`make core/dspd` or set DSPD_BIN" % DSPD_BIN)
	return DSPD_BIN


@pytest.fixture(scope="session")
def dspctl_bin():
	if not os.access(DSPCTL_BIN, os.X_OK):
		pytest.fail("dspctl binary %s is missing: build it with `make "
		    "ctl/dspctl` or set DSPCTL_BIN" % DSPCTL_BIN)
	return DSPCTL_BIN


@pytest.fixture(scope="session")
def dsptui_bin():
	if not os.access(DSPTUI_BIN, os.X_OK):
		pytest.fail("dsptui binary %s is missing: build it with `make "
		    "tui/dsptui` or set DSPTUI_BIN" % DSPTUI_BIN)
	return DSPTUI_BIN


@pytest.fixture
def workdir():
	path = tempfile.mkdtemp(prefix="dsp-t-", dir="/tmp")
	yield path
	shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def tap(engine, workdir):
	t = Tap(engine.socket, os.path.join(workdir, "tap.sock")).start()
	yield t
	t.stop()


@pytest.fixture
def start_dspd(request, engine, dspd_bin, workdir):
	"""Factory: start_dspd(env, args, upstream, listen, wrap) -> a ready
	Dspd; wrap is a command line put before dspd's (prlimit ...).

	upstream is the engine's socket unless a path (the tap's) is given.
	Every dspd is stopped at teardown; one that ended on its own fails
	the test.
	"""
	started = []

	def start(env=None, args=(), upstream=None, listen=None, wrap=()):
		n = len(started)
		d = Dspd(dspd_bin, os.path.join(workdir, "dspd%d" % n),
		    upstream or engine.socket, env, args,
		    listen or ("tcp://127.0.0.1:0",), wrap)
		started.append(d)
		return d.start()

	yield start
	died = [d for d in started if d.died()]
	for d in started:
		d.stop()
	rep = getattr(request.node, "rep_call", None)
	if died or (rep is not None and rep.failed):
		for d in started:
			print("---- dspd %s stderr (exit %s) ----\n%s" %
			    (" ".join(d.argv), d.rc, d.stderr()[-6000:]))
	if died:
		pytest.fail("dspd ended during the test, status %s" %
		    died[0].rc)
	# A sanitizer build or valgrind (DSP_VALGRIND=1) found a memory error.
	reports = [r for r in (d.memory_errors() for d in started) if r]
	if reports:
		pytest.fail("dspd's memory checker reported:\n" +
		    "\n".join(reports))


def sanitizer_log_files():
	"""Report files of ASan, LSan and UBSan when their options name a
	log_path (tests/run.sh sets one): they catch every dspd, also one a
	test runs directly."""
	files = set()
	for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
		for opt in os.environ.get(var, "").split(":"):
			if opt.startswith("log_path="):
				files.update(glob.glob(opt[len("log_path="):] +
				    ".*"))
	return files


@pytest.fixture(autouse=True)
def sanitizer_reports(request):
	"""Fail the test during which a sanitizer wrote a report; skip one
	that measures dspd's memory (marked rss) under a memory checker."""
	if MEMORY_CHECKER and request.node.get_closest_marker("rss"):
		pytest.skip("dspd's memory is measured on a plain build")
	before = sanitizer_log_files()
	yield
	new = sorted(sanitizer_log_files() - before)
	if new:
		text = []
		for path in new:
			with open(path, errors="replace") as f:
				text.append("---- %s\n%s" % (path, f.read()[:8000]))
		pytest.fail("sanitizer reports:\n" + "\n".join(text))


class Containers:
	"""Containers made directly on the engine, removed at teardown."""

	def __init__(self, engine):
		self.engine = engine
		self.names = []

	def run(self, cmd, start=True, **kw):
		name = "dsp-" + uuid.uuid4().hex[:12]
		self.names.append(name)
		cid = self.engine.create_container(name, cmd, start=start, **kw)
		return name, cid

	def cleanup(self):
		for name in self.names:
			try:
				self.engine.remove_container(name)
			except OSError:
				pass


@pytest.fixture
def containers(engine):
	c = Containers(engine)
	yield c
	c.cleanup()


@pytest.fixture(params=[p for p, _ in CLIS] or [None],
    ids=["docker-" + v.split("+")[0] for _, v in CLIS] or ["no-cli"])
def docker_cli(request, workdir):
	"""Each installed docker CLI, with a private DOCKER_CONFIG."""
	if request.param is None:
		pytest.skip("no docker CLI installed")
	version = dict(CLIS)[request.param]
	print("using %s %s" % (request.param, version))
	return cli_mod.DockerCLI(request.param, version,
	    os.path.join(workdir, "cli-config"))


@pytest.fixture
def test_user():
	"""An unprivileged user: root ignores file modes and credentials."""
	try:
		pwd.getpwnam(TEST_USER)
	except KeyError:
		subprocess.run(["useradd", "--system", "--no-create-home",
		    "--shell", "/usr/sbin/nologin", TEST_USER], check=True,
		    timeout=30)
	return pwd.getpwnam(TEST_USER)
