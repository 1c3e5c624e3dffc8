"""Settings stay documented and production stays strict."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_environment_variable_the_settings_read_is_in_env_example():
    settings_text = (ROOT / "spreekuur" / "settings.py").read_text()
    read = set(re.findall(r'env(?:_bool|_int|_list)?\("([A-Z_]+)"', settings_text))
    read |= set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', settings_text))
    example = (ROOT / ".env.example").read_text()

    missing = sorted(name for name in read if not re.search(rf"^#?\s*{name}=", example, re.M))

    assert read, "the pattern found no variables at all"
    assert missing == []


def test_production_refuses_to_start_without_its_secrets(tmp_path):
    env = {"SPREEKUUR_ENV": "production", "SPREEKUUR_VAR_DIR": str(tmp_path), "PATH": "/usr/bin"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']="
            "'spreekuur.settings'; from django.conf import settings; settings.SECRET_KEY",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_deploy_check_passes_with_production_settings(tmp_path):
    from cryptography.fernet import Fernet

    env = {
        "PATH": "/usr/bin:/bin",
        "SPREEKUUR_ENV": "production",
        "SPREEKUUR_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "x" * 20 + "-not-a-real-key-but-long-and-random-enough-0123456789",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "spreekuur.example.nl",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "DATABASE_URL": "sqlite:///" + str(tmp_path / "db.sqlite3"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
