"""Test environment, loaded as a pytest plugin (-p) so it is set before Django reads settings."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key")
os.environ.setdefault("DEBUG", "0")
os.environ.pop("COMETAPI_KEY", None)  # tests always run against the offline provider or mocks
# Jobs run inside the test that submits them, unless a test asks for the durable backend.
os.environ["TASKS_BACKEND"] = "django.tasks.backends.immediate.ImmediateBackend"
