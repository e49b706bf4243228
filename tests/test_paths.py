"""Where gemchat's files go: everything in the data directory, except the API key file the user may choose.

The config directory is each test's own (the autouse `config_home` fixture sets $XDG_CONFIG_HOME).
"""

from __future__ import annotations

from pathlib import Path

from gemchat.paths import config_dir, key_file_path


def test_the_key_file_is_in_the_config_directory_and_nothing_is_created_to_say_where(
        config_home: Path, tmp_path: Path) -> None:
    assert config_dir() == config_home / "gemchat"
    assert key_file_path(tmp_path / "data") == config_home / "gemchat" / "api-key"
    assert list(config_home.iterdir()) == []  # asking where is not making it


def test_no_key_file_is_offered_when_the_data_directory_holds_the_config_directory(
        config_home: Path, tmp_path: Path) -> None:
    """`--data-dir ~/.config` or `--data-dir ~/.config/gemchat`: the key would be among the data's files."""
    assert key_file_path(config_home) is None
    assert key_file_path(config_home / "gemchat") is None
    link = tmp_path / "link-to-config"
    link.symlink_to(config_home)
    assert key_file_path(link) is None  # the same folder by another name
    # A data directory inside the config folder does not hold the key file: allowed.
    assert key_file_path(config_home / "gemchat" / "data") == config_home / "gemchat" / "api-key"
