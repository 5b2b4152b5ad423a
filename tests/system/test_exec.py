"""CONTAINERS=1 POST=1 EXEC=1: docker exec with and without -i works
through dspd (101 and a byte splice that honours half-close); with
EXEC=0 exec is refused before it reaches the engine."""

import pytest

from conftest import marker
from harness import checks


@pytest.fixture
def running(containers):
	name, _ = containers.run(["sleep", "600"])
	return name


def test_exec_without_stdin(start_dspd, docker_cli, running):
	proxy = start_dspd(env={"CONTAINERS": "1", "POST": "1", "EXEC": "1"})
	word = marker()
	proc = docker_cli.run(proxy.url, ["exec", running, "echo", word],
	    timeout=30)
	assert proc.returncode == 0, proc.stderr
	assert proc.stdout == word + "\n"


def test_exec_with_stdin(start_dspd, docker_cli, running):
	proxy = start_dspd(env={"CONTAINERS": "1", "POST": "1", "EXEC": "1"})
	word = marker()
	proc = docker_cli.run(proxy.url, ["exec", "-i", running, "cat"],
	    input=word + "\n", timeout=30)
	assert proc.returncode == 0, proc.stderr
	assert proc.stdout == word + "\n"


def test_exec_exit_status_relayed(start_dspd, docker_cli, running):
	proxy = start_dspd(env={"CONTAINERS": "1", "POST": "1", "EXEC": "1"})
	proc = docker_cli.run(proxy.url, ["exec", running, "sh", "-c",
	    "exit 7"], timeout=30)
	assert proc.returncode == 7, proc.stderr


def test_exec_refused_without_exec(start_dspd, tap, docker_cli, running):
	proxy = start_dspd(env={"CONTAINERS": "1", "POST": "1", "EXEC": "0"},
	    upstream=tap.listen_path)
	word = marker()
	proc = docker_cli.run(proxy.url, ["exec", running, "echo", word],
	    timeout=30)
	checks.cli_denial(proc, "exec")
	assert word not in proc.stdout
	assert not tap.saw(word)
	assert not checks.sent_request(tap, "POST", "/exec")
