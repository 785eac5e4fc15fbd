"""The production profile's configuration, without starting it: what the launcher builds and the nginx config it
writes (checked by nginx itself). tests/production/test_production_stack.py starts it for real."""
from __future__ import annotations

import re
import subprocess

from daogou_server.launcher import _arguments, banner, config_from_env
from daogou_server.nginx import check_config, nginx_binary
from daogou_server.production import ProductionSettings
from daogou_server.stack import PROJECT_ROOT, StackConfig, servers


def production_config(tmp_path, **kwargs) -> StackConfig:
    settings = {"rasa_token": "rasa-secret", "api_token": "api-secret", **kwargs}
    return StackConfig(rasa_model=tmp_path / "model.tar.gz", var_dir=tmp_path, production=ProductionSettings.free(),
                       **settings)


def test_the_launcher_builds_the_production_profile_on_the_usual_ports(tmp_path, monkeypatch):
    monkeypatch.setenv("DAOGOU_VAR_DIR", str(tmp_path))
    config = config_from_env(_arguments("run", ["--profile", "production"]))
    assert config.profile == "production" and config.production.store_dir == tmp_path / "postgres"
    assert (config.rasa_port, config.action_port, config.api_port) == (5005, 5055, 8000)  # nginx listens there
    assert config_from_env(_arguments("run", [])).production is None
    text = banner(config)
    assert "behind nginx" in text and config.rasa_token in text and str(config.production.redis_port) in text


def test_two_of_each_server_on_loopback_then_nginx_in_front(tmp_path):
    config = production_config(tmp_path, host="0.0.0.0")
    specs = servers(config)
    assert [s.name for s in specs] == ["actions-1", "actions-2", "rasa-1", "rasa-2", "shop-api-1", "shop-api-2", "nginx"]
    backends = {port for ports in (config.production.rasa_ports, config.production.action_ports,
                                   config.production.api_ports) for port in ports}
    for spec in specs[:-1]:
        command = list(spec.command)
        binds = [command[i + 1] for i, arg in enumerate(command) if arg in ("--interface", "--host")]
        assert "127.0.0.1" in spec.health_url and set(binds) <= {"127.0.0.1"}  # only nginx faces out
        assert spec.env["DAOGOU_DATABASE_URL"].startswith("postgresql://")
        assert spec.env["DAOGOU_TRACKER_DB_URL"] == config.production.database_url("rasa")
        assert spec.env["DAOGOU_ACTION_URL"] == f"http://127.0.0.1:{config.action_port}/webhook"  # through nginx
    for spec in specs[2:4]:
        assert str(PROJECT_ROOT / "endpoints.production.yml") in spec.command
    nginx_conf = (tmp_path / "nginx" / "nginx.conf").read_text()
    assert {int(port) for port in re.findall(r"server 127\.0\.0\.1:(\d+)", nginx_conf)} == backends
    assert f"listen 0.0.0.0:{config.rasa_port};" in nginx_conf


def test_rasa_reads_its_token_whole_even_when_it_starts_with_a_dash(tmp_path):
    """secrets.token_urlsafe starts one token in 64 with "-": as a separate argument Rasa took it for an option."""
    from rasa.__main__ import create_argument_parser

    config = StackConfig(rasa_model=tmp_path / "model.tar.gz", var_dir=tmp_path, rasa_token="-dash-secret",
                         api_token="api-secret")
    for profile in (config, production_config(tmp_path, rasa_token="-dash-secret")):
        rasa = [spec for spec in servers(profile) if spec.name.startswith("rasa")]
        assert rasa and all(create_argument_parser().parse_args(list(spec.command[1:])).auth_token == "-dash-secret"
                            for spec in rasa)


def test_the_nginx_config_retries_only_requests_a_dead_backend_never_received(tmp_path):
    servers(production_config(tmp_path))
    conf = (tmp_path / "nginx" / "nginx.conf").read_text()
    assert "proxy_next_upstream error timeout http_502 http_503;" in conf
    assert "non_idempotent" not in conf  # a message a server died handling is never handled twice
    assert "access_log off;" in conf  # request lines carry shopper ids and tokens
    assert re.search(r"upstream rasa_socketio \{\s+ip_hash;", conf)  # socket.io sessions stay on their server


def test_nginx_itself_accepts_the_config_and_names_the_line_of_a_broken_one(tmp_path):
    servers(production_config(tmp_path))
    path = tmp_path / "nginx" / "nginx.conf"
    check_config(path)
    path.write_text(path.read_text().replace("proxy_pass", "proxy_passs", 1))
    try:
        check_config(path)
    except ValueError as error:
        assert "proxy_passs" in str(error) and "nginx.conf:" in str(error)
    else:
        raise AssertionError("nginx accepted a broken config")
    assert subprocess.run([nginx_binary(), "-v"], capture_output=True).returncode == 0
