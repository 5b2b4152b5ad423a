"""The alert rules in contrib/alerts.yml: Prometheus (promtool) accepts
them, and each alert fires on the series it is meant for and on no
other (tests/alerts/alerts.test.yml)."""

import os
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
RULES = os.path.join(REPO, "contrib", "alerts.yml")
RULE_TESTS = os.path.join(REPO, "tests", "alerts", "alerts.test.yml")
PROMTOOL = shutil.which("promtool")


@pytest.fixture
def promtool():
	if PROMTOOL is None:
		pytest.skip("promtool not installed (Debian's prometheus "
		    "package; contrib/install-deps.sh installs it)")
	return PROMTOOL


def run(argv):
	return subprocess.run(argv, capture_output=True, text=True,
	    timeout=60, cwd=REPO)


def test_rules_check(promtool):
	out = run([promtool, "check", "rules", RULES])
	assert out.returncode == 0, out.stdout + out.stderr
	assert "SUCCESS: 6 rules found" in out.stdout, out.stdout


def test_rules_unit_tests(promtool):
	out = run([promtool, "test", "rules", RULE_TESTS])
	assert out.returncode == 0, out.stdout + out.stderr
	assert "SUCCESS" in out.stdout, out.stdout


def test_every_alert_has_a_unit_test():
	# An alert added without a case in the unit tests is caught here.
	with open(RULES) as f:
		alerts = {l.split(":", 1)[1].strip() for l in f
		    if l.strip().startswith("- alert:")}
	with open(RULE_TESTS) as f:
		tested = {l.split(":", 1)[1].strip() for l in f
		    if l.strip().startswith("alertname:")}
	assert alerts and alerts == tested, (alerts, tested)
