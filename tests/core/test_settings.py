from __future__ import annotations

import pytest

from fleetcare.core.settings import Settings, SettingsError, reset_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("FLEETCARE_CONFIG", "FLEETCARE_DATA_DIR", "FLEETCARE_DATABASE_URL",
                 "FLEETCARE_BASE_URL", "FLEETCARE_JOBS_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    yield
    reset_settings()


def test_defaults_keep_everything_in_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("FLEETCARE_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'fleetcare.db'}"
    assert settings.resolved_jobs_backend == "sqlite"


def test_config_file_and_environment(monkeypatch, tmp_path):
    config = tmp_path / "fleetcare.toml"
    config.write_text('base_url = "https://psirt.example.com"\nmanufacturer_name = "ACME"\n'
                      'database_url = "postgresql://db.example/fleet"\n')
    monkeypatch.setenv("FLEETCARE_CONFIG", str(config))
    monkeypatch.setenv("FLEETCARE_MANUFACTURER_NAME", "ACME Devices")  # environment wins
    settings = Settings()
    assert settings.base_url == "https://psirt.example.com"
    assert settings.manufacturer_name == "ACME Devices"
    assert settings.resolved_database_url == "postgresql+psycopg://db.example/fleet"
    assert settings.resolved_jobs_backend == "postgres"


def test_config_file_in_data_dir_is_read(monkeypatch, tmp_path):
    (tmp_path / "fleetcare.toml").write_text('public_rate_limit = 7\n')
    monkeypatch.setenv("FLEETCARE_DATA_DIR", str(tmp_path))
    assert Settings().public_rate_limit == 7


def test_broken_config_file_names_the_problem(monkeypatch, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("base_url = \n")
    monkeypatch.setenv("FLEETCARE_CONFIG", str(config))
    with pytest.raises(SettingsError, match="not valid TOML"):
        Settings()
    monkeypatch.setenv("FLEETCARE_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(SettingsError, match="not a file"):
        Settings()


def test_secret_key_is_generated_once_and_private(tmp_path):
    settings = Settings(data_dir=tmp_path)
    key = settings.resolved_secret_key()
    assert len(key) > 40
    assert settings.resolved_secret_key() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
