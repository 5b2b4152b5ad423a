"""CONTAINERS=1 with each docker CLI: reads work (ps, inspect, logs -f,
events that outlive every dsp timeout); writes, archive, export, attach
and build are refused with dspd's message, printed by the CLI, and never
reach the engine."""

import os
import time

import pytest

from conftest import marker
from harness import checks, rawhttp
from harness.cli import LineReader, stop_process

# Every dsp timeout short, to show that streams do not obey them.
SHORT_TIMEOUTS = ["--head-timeout", "1s", "--idle-timeout", "1s",
    "--connect-timeout", "1s"]
BUILD_CONTEXT = 5 * 1024 * 1024		# bytes of incompressible data
BUILD_TRIES = 10		# the failure is a race: give it chances


@pytest.fixture
def proxy(start_dspd, tap):
	return start_dspd(env={"CONTAINERS": "1"}, args=SHORT_TIMEOUTS,
	    upstream=tap.listen_path)


def test_ps(proxy, docker_cli, containers):
	name, _ = containers.run(["sleep", "600"])
	proc = docker_cli.run(proxy.url, ["ps", "--format", "{{.Names}}"])
	assert proc.returncode == 0, proc.stderr
	assert name in proc.stdout.split()


def test_inspect(proxy, docker_cli, containers):
	name, cid = containers.run(["true"], start=False)
	proc = docker_cli.run(proxy.url, ["inspect", "--format",
	    "{{.Id}} {{.Name}}", name])
	assert proc.returncode == 0, proc.stderr
	assert proc.stdout.split() == [cid, "/" + name]


def test_logs_follow_quiet_container(proxy, docker_cli, containers):
	# Output, four quiet seconds (past the 1 s idle timeout), output.
	first, second = marker(), marker()
	name, _ = containers.run(["sh", "-c", "echo %s; sleep 4; echo %s; "
	    "exec sleep 600" % (first, second)])
	proc = docker_cli.popen(proxy.url, ["logs", "-f", name])
	try:
		out = LineReader(proc.stdout)
		err = LineReader(proc.stderr)
		assert out.wait_for(first, 10), err.lines
		assert out.wait_for(second, 10), err.lines
		assert proc.poll() is None, "logs -f ended: %r" % err.lines
	finally:
		stop_process(proc)


def test_events_outlive_dsp_timeouts(proxy, docker_cli, engine,
    containers):
	proc = docker_cli.popen(proxy.url, ["events", "--filter",
	    "type=container"])
	try:
		out = LineReader(proc.stdout)
		err = LineReader(proc.stderr)
		time.sleep(5.5)
		assert proc.poll() is None, "events ended: %r" % err.lines
		name, _ = containers.run(["true"], start=False)
		line = out.wait_for(name, 10)
		assert line is not None, err.lines
		assert "create" in line
	finally:
		stop_process(proc)


def test_run_refused(proxy, tap, docker_cli, engine):
	name = marker()
	proc = docker_cli.run(proxy.url, ["run", "--rm", "--network", "none",
	    "--name", name, "dsp-busybox:latest", "true"])
	checks.cli_denial(proc, "containers")
	assert not tap.saw(name)
	assert engine.inspect(name) is None


def test_rm_refused(proxy, tap, docker_cli, engine, containers):
	name, _ = containers.run(["true"], start=False)
	proc = docker_cli.run(proxy.url, ["rm", name])
	checks.cli_denial(proc, "containers")
	assert not checks.sent_request(tap, "DELETE", name)
	assert engine.inspect(name) is not None


def test_cp_refused(proxy, tap, docker_cli, containers):
	name, _ = containers.run(["true"], start=False)
	proc = docker_cli.run(proxy.url, ["cp", name + ":/etc/passwd", "-"])
	checks.cli_denial(proc, "containers")
	assert "root:x:0:0" not in proc.stdout
	assert not tap.saw("/archive")


def test_export_refused(proxy, tap, docker_cli, containers, workdir):
	name, _ = containers.run(["true"], start=False)
	out = os.path.join(workdir, "export.tar")
	proc = docker_cli.run(proxy.url, ["export", "-o", out, name])
	checks.cli_denial(proc, "containers")
	assert not os.path.exists(out) or os.path.getsize(out) == 0
	assert not tap.saw("/export")


def test_attach_refused(proxy, tap, docker_cli, containers):
	name, _ = containers.run(["sleep", "600"])
	proc = docker_cli.run(proxy.url, ["attach", "--no-stdin", name],
	    timeout=30)
	# The CLI reads no body from a refused upgrade: it prints the status.
	out = proc.stdout + proc.stderr
	assert proc.returncode != 0, out
	assert "received 403" in out or "Error response from daemon" in out, \
	    out
	if "Error response from daemon" in out:
		checks.cli_denial(proc, "exec")
	# The same request, raw: dspd's JSON refusal names the group.
	resp = rawhttp.exchange(proxy.host, proxy.port, "POST",
	    "/v1.41/containers/%s/attach?stream=1&stdout=1" % name,
	    [("Connection", "Upgrade"), ("Upgrade", "tcp")])
	checks.denial(resp, "exec")
	assert not tap.saw("/attach")


def test_build_with_large_context_refused(proxy, tap, docker_cli, engine,
    workdir):
	# The refusal is read by the CLI while it still sends the context: it
	# prints the message, not a broken pipe or a reset.
	ctx = os.path.join(workdir, "context")
	os.makedirs(ctx)
	with open(os.path.join(ctx, "Dockerfile"), "w") as f:
		f.write("FROM dsp-busybox:latest\nCOPY blob /blob\n")
	with open(os.path.join(ctx, "blob"), "wb") as f:
		f.write(os.urandom(BUILD_CONTEXT))
	# Whether the client still writes when the refusal comes is a race:
	# try a few times, each must end with the message.
	for _ in range(BUILD_TRIES):
		tag = marker()
		proc = docker_cli.run(proxy.url, ["build", "-t", tag, ctx],
		    env={"DOCKER_BUILDKIT": "0"}, timeout=90)
		out = proc.stdout + proc.stderr
		for bad in ("broken pipe", "connection reset"):
			assert bad not in out, out
		checks.cli_denial(proc, "build")
		assert not tap.saw(tag)
		assert engine.api("GET", "/images/%s/json" % tag)[0] == 404
