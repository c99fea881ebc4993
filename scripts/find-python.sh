# Sourced by the scripts that create a venv: find_python prints a Python 3.13
# interpreter ($PYTHON313 if set, else python3.13 on PATH, pyenv's or the
# system's), or returns 1 when there is none.
find_python() {
  for candidate in "${PYTHON313:-}" python3.13 "$(command -v pyenv >/dev/null && pyenv root)"/versions/3.13*/bin/python3.13 /usr/local/bin/python3.13 /usr/bin/python3.13; do
    [ -n "$candidate" ] || continue
    if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}
