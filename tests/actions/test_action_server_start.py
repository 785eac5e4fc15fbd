"""The action server starts without Rasa's engine or TensorFlow: every start would pay seconds for them."""
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_importing_every_action_loads_neither_rasa_nor_tensorflow():
    code = ("import importlib, pkgutil, sys, actions\n"
            "for module in pkgutil.iter_modules(actions.__path__): importlib.import_module(f'actions.{module.name}')\n"
            "print(sorted({'rasa', 'tensorflow', 'keras'} & set(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_the_action_server_keeps_an_idle_connection_open_longer_than_the_rasa_servers_pool():
    """Rasa's client pools a connection for 15 s; a server that closed it after Sanic's default 5 s
    made concurrent shoppers' actions fail ("Cannot write to closing transport")."""
    import http.client
    import os
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "SANIC_KEEP_ALIVE_TIMEOUT"}
    server = subprocess.Popen([sys.executable, "-m", "actions.serve", "--port", str(port)], cwd=PROJECT_ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/health")
                assert connection.getresponse().read()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the action server did not start"
                time.sleep(0.5)
        time.sleep(7)  # idle past Sanic's default keep-alive of 5 s
        connection.request("GET", "/health")  # the same connection: it must still be open
        response = connection.getresponse()
        assert response.status == 200
        connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
