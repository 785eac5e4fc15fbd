#!/usr/bin/env bash
# Print the path of a working Python 3.10 (Rasa 3.6 runs on nothing else), or fail with advice.
# Tries $PYTHON, python3.10 on PATH, pyenv's 3.10 builds, then common install locations.
set -u
works() { "$@" -c 'import sys, venv; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; }

candidates=()
[ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
candidates+=(python3.10)
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for dir in $(ls -d "$root"/versions/3.10.* 2>/dev/null | sort -rV); do candidates+=("$dir/bin/python3.10"); done
fi
candidates+=(/usr/bin/python3.10 /usr/local/bin/python3.10 /opt/homebrew/bin/python3.10)

for candidate in "${candidates[@]}"; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if works "$path"; then
    echo "$path"
    exit 0
  fi
done
echo "error: no working Python 3.10 found (Rasa 3.6 needs exactly 3.10)." >&2
echo "Install one (e.g. 'pyenv install 3.10.13' or your OS package python3.10) or set PYTHON=/path/to/python3.10." >&2
exit 1
