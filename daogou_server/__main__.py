"""``python -m daogou_server run``: the whole assistant (see :mod:`daogou_server.launcher`)."""
import sys

from daogou_server.launcher import run

if __name__ == "__main__":
    if sys.argv[1:2] != ["run"]:
        sys.exit("usage: python -m daogou_server run [--model M] [--rasa-port P] [--action-port P] [--api-port P]")
    sys.exit(run(sys.argv[2:]))
