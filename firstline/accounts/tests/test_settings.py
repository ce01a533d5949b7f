from django.core.management import call_command

from firstline import settings as shipped


def test_it_hashes_passwords_with_argon2():
    assert shipped.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_it_locks_out_after_repeated_failures():
    assert "axes" in shipped.INSTALLED_APPS and shipped.AXES_FAILURE_LIMIT == 5


def test_it_defaults_to_sqlite_wal_immediate_and_chinese():
    if shipped.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        options = shipped.DATABASES["default"]["OPTIONS"]
        assert options["transaction_mode"] == "IMMEDIATE"
        assert "journal_mode=WAL" in options["init_command"]
    assert shipped.LANGUAGE_CODE == "zh-hans" and shipped.TIME_ZONE == "Asia/Shanghai"


def test_the_production_settings_pass_the_deploy_check():
    """With FIRSTLINE_HTTPS=1 the shipped settings pass `check --deploy` (run in a fresh process)."""
    import os
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env |= {
        "FIRSTLINE_HTTPS": "1",
        "ALLOWED_HOSTS": "firstline.example.org",
        "SECRET_KEY": "x" * 20 + "-production-only-value-" + "y" * 30,
    }
    result = subprocess.run(
        [sys.executable, "-m", "firstline.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "no issues" in result.stdout


def test_the_system_check_passes():
    call_command("check")
