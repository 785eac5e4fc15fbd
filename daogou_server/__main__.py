"""``python -m daogou_server run|shell``: the whole assistant, or the terminal chat (see :mod:`daogou_server.launcher`)."""
import sys

from daogou_server.launcher import run, shell

COMMANDS = {"run": run, "shell": shell}

if __name__ == "__main__":
    if sys.argv[1:2] not in ([name] for name in COMMANDS):
        sys.exit("usage: python -m daogou_server run|shell [--model M] [--rasa-port P] [--action-port P] [--api-port P] [--profile default|production]")
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
