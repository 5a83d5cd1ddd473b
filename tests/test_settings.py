"""Settings read from the environment, and the production checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from imagegen.environment import database_from_url, env_bool, env_number

ROOT = Path(__file__).resolve().parent.parent


def test_sqlite_and_postgres_urls_become_database_settings() -> None:
    sqlite = database_from_url("sqlite:///data/studio.sqlite3")
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3"
    assert str(sqlite["NAME"]).endswith("data/studio.sqlite3")
    postgres = database_from_url("postgres://studio:p%40ss@db.internal:6543/images")
    assert postgres["ENGINE"] == "django.db.backends.postgresql"
    assert (postgres["USER"], postgres["PASSWORD"], postgres["HOST"], postgres["PORT"]) == (
        "studio",
        "p@ss",
        "db.internal",
        "6543",
    )
    assert postgres["NAME"] == "images"


def test_an_unknown_database_url_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured):
        database_from_url("mysql://x@y/z")


def test_bad_values_are_refused_with_the_variable_name(monkeypatch) -> None:
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        env_bool("SOME_FLAG", False)
    monkeypatch.setenv("SOME_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="SOME_NUMBER"):
        env_number("SOME_NUMBER", 1, int)


def run_manage(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env | environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRINT_SETTINGS = (
    "from django.conf import settings as s; "
    "print(s.SECRET_KEY, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
    "s.SECURE_HSTS_PRELOAD)"
)


def test_without_a_secret_key_one_is_made_once_in_a_file_only_its_owner_may_read(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "state" / "secret-key"

    first = run_manage("shell", "--no-imports", "-c", PRINT_SETTINGS, SECRET_KEY_FILE=str(key_file))
    again = run_manage("shell", "--no-imports", "-c", PRINT_SETTINGS, SECRET_KEY_FILE=str(key_file))

    assert first.returncode == 0, first.stderr
    key = first.stdout.split()[0]
    assert len(key) >= 50
    assert again.stdout.split()[0] == key
    assert key_file.read_text().strip() == key
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_the_secret_key_variable_wins_over_the_file(tmp_path: Path) -> None:
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        PRINT_SETTINGS,
        SECRET_KEY="x" * 60,
        SECRET_KEY_FILE=str(tmp_path / "k"),
    )
    assert result.stdout.split()[0] == "x" * 60
    assert not (tmp_path / "k").exists()


def test_a_key_file_others_may_read_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "secret-key"
    key_file.write_text("k" * 60)
    key_file.chmod(0o640)

    result = run_manage("check", SECRET_KEY_FILE=str(key_file))

    assert result.returncode != 0
    assert "chmod 600" in result.stderr


def test_processes_starting_together_all_get_the_same_new_key(tmp_path: Path) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from imagegen.serving.secret_key import secret_key_from_file

    key_file = tmp_path / "secret-key"
    with ProcessPoolExecutor(8) as pool:
        keys = set(pool.map(secret_key_from_file, [key_file] * 32))

    assert keys == {key_file.read_text().strip()}
    assert not [name for name in os.listdir(tmp_path) if name != "secret-key"]  # no leftovers


# The production environment of the README's "Running in production" (the variables that bear
# on `check --deploy`), behind a TLS-terminating proxy.
PRODUCTION = {
    "SECRET_KEY": "a-long-random-production-secret-key-" + "x" * 40,
    "ALLOWED_HOSTS": "studio.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://studio.example.org",
    "BEHIND_TLS_PROXY": "1",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
}


def test_the_deploy_check_is_clean_under_the_documented_production_settings() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_hsts_covers_subdomains_but_is_never_preloaded_unasked() -> None:
    result = run_manage("shell", "--no-imports", "-c", PRINT_SETTINGS, **PRODUCTION)
    assert result.stdout.split()[1:] == ["31536000", "True", "False"]

    preloaded = run_manage(
        "shell", "--no-imports", "-c", PRINT_SETTINGS, **PRODUCTION, SECURE_HSTS_PRELOAD="1"
    )
    assert preloaded.stdout.split()[1:] == ["31536000", "True", "True"]
    check = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert check.returncode == 0, check.stderr


def test_preload_is_refused_with_less_than_a_year_or_without_subdomains() -> None:
    short = {**PRODUCTION, "SECURE_HSTS_SECONDS": "3600", "SECURE_HSTS_PRELOAD": "1"}
    assert "SECURE_HSTS_PRELOAD needs" in run_manage("check", **short).stderr
    narrow = {**PRODUCTION, "SECURE_HSTS_INCLUDE_SUBDOMAINS": "0", "SECURE_HSTS_PRELOAD": "1"}
    assert "SECURE_HSTS_PRELOAD needs" in run_manage("check", **narrow).stderr


def test_the_deploy_check_warns_when_hsts_leaves_subdomains_out() -> None:
    narrow = {**PRODUCTION, "SECURE_HSTS_INCLUDE_SUBDOMAINS": "0"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **narrow)
    assert result.returncode != 0
    assert "security.W005" in result.stderr
