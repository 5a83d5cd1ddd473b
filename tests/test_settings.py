"""Settings read from the environment, and the production checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from imagegen.settings import database_from_url, env_bool, env_number

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


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = run_manage("check")
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_the_deploy_check_is_clean_under_production_settings() -> None:
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="a-long-random-production-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="studio.example.org",
        SECURE_SSL_REDIRECT="1",
        SECURE_HSTS_SECONDS="31536000",
    )
    assert result.returncode == 0, result.stderr
