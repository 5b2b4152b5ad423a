"""CONTAINERS=1 ALLOW_START=1 ALLOW_STOP=1 with POST=0 (LinuxServer
semantics): start and stop work; create, delete, restart and kill do
not."""

import pytest

from conftest import marker
from harness import checks, rawhttp

# PID 1 of the container leaves promptly on SIGTERM.
POLITE = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]


@pytest.fixture
def proxy(start_dspd, tap):
	return start_dspd(env={"CONTAINERS": "1", "ALLOW_START": "1",
	    "ALLOW_STOP": "1", "POST": "0"}, upstream=tap.listen_path)


def test_start_and_stop(proxy, docker_cli, engine, containers):
	name, _ = containers.run(POLITE, start=False)
	proc = docker_cli.run(proxy.url, ["start", name])
	assert proc.returncode == 0, proc.stderr
	engine.wait_running(name, True)
	proc = docker_cli.run(proxy.url, ["stop", "-t", "5", name])
	assert proc.returncode == 0, proc.stderr
	assert engine.inspect(name)["State"]["Running"] is False


def test_create_refused(proxy, tap, docker_cli, engine):
	name = marker()
	proc = docker_cli.run(proxy.url, ["create", "--network", "none",
	    "--name", name, "dsp-busybox:latest"])
	checks.cli_denial(proc, "containers")
	assert not tap.saw(name)
	assert engine.inspect(name) is None


def test_delete_refused(proxy, tap, docker_cli, engine, containers):
	name, _ = containers.run(POLITE, start=False)
	proc = docker_cli.run(proxy.url, ["rm", name])
	checks.cli_denial(proc, "containers")
	assert not checks.sent_request(tap, "DELETE", name)
	assert engine.inspect(name) is not None


@pytest.mark.parametrize("action", ["restart", "kill", "pause"])
def test_other_actions_refused(proxy, tap, engine, containers, action):
	name, _ = containers.run(POLITE)
	resp = rawhttp.exchange(proxy.host, proxy.port, "POST",
	    "/v1.41/containers/%s/%s" % (name, action))
	checks.denial(resp, "containers")
	assert not checks.sent_request(tap, "POST", name + "/" + action)
	info = engine.inspect(name)
	assert info["State"]["Running"] and not info["State"]["Paused"]
	assert info["RestartCount"] == 0
