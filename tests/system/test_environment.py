"""The HAProxy images' variables: a bad value stops dspd at start with a
non-zero status and the variable's name; the accepted spellings of a
boolean mean what they say."""

import pytest

from conftest import marker
from harness import checks, rawhttp
from harness.dspd import run_to_exit


@pytest.mark.parametrize("name,value", [
	("CONTAINERS", "maybe"),
	("POST", "enable"),
	("ALLOW_START", "yes please"),
	("LOG_LEVEL", "loud"),
])
def test_bad_value_stops_start(dspd_bin, workdir, name, value):
	rc, err = run_to_exit(dspd_bin, workdir, env={name: value})
	assert rc is not None and rc != 0, err
	assert rc == 1, err
	assert name in err, err


@pytest.mark.parametrize("value,allowed", [
	("1", True), ("true", True), ("YES", True), ("True", True),
	("2", True), ("0", False), ("false", False), ("No", False),
])
def test_boolean_spellings(start_dspd, tap, value, allowed):
	proxy = start_dspd(env={"CONTAINERS": value},
	    upstream=tap.listen_path)
	m = marker()
	resp = rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/containers/json?m=" + m)
	if allowed:
		assert resp.status == 200, resp
		assert tap.saw(m)
	else:
		checks.denial(resp, "containers")
		assert not tap.saw(m)


def test_environment_of_the_shell_does_not_leak(start_dspd, tap,
    monkeypatch):
	# The harness itself: a CONTAINERS=1 in the invoking shell must not
	# reach the dspd under test.
	monkeypatch.setenv("CONTAINERS", "1")
	proxy = start_dspd(upstream=tap.listen_path)
	resp = rawhttp.exchange(proxy.host, proxy.port, "GET",
	    "/containers/json")
	checks.denial(resp, "containers")
