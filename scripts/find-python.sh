#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or explain and fail.
# Order: $XUEJI_PYTHON, python3.13/python3.12/python3 on PATH, then pyenv's versions folder
# (pyenv shims refuse versions that are not active, so we look at the real binaries).
set -u

is_ok() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

candidates=()
[ -n "${XUEJI_PYTHON:-}" ] && candidates+=("$XUEJI_PYTHON")
for name in python3.14 python3.13 python3.12 python3; do
    path="$(command -v "$name" 2>/dev/null || true)"
    [ -n "$path" ] && candidates+=("$path")
done
pyenv_root="${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}"
if [ -d "$pyenv_root/versions" ]; then
    while IFS= read -r dir; do
        for bin in "$dir"/bin/python3.1[2-9] "$dir"/bin/python3; do
            [ -x "$bin" ] && candidates+=("$bin")
        done
    done < <(ls -d "$pyenv_root"/versions/3.1[2-9]* 2>/dev/null | sort -rV)
fi

for candidate in "${candidates[@]}"; do
    if is_ok "$candidate"; then
        echo "$candidate"
        exit 0
    fi
done

cat >&2 <<MSG
Xueji needs Python 3.12 or newer (Django 6), and none was found.
Looked at: \$XUEJI_PYTHON, python3.14/3.13/3.12/python3 on PATH, and $pyenv_root/versions/3.12+.
Install one, for example:  pyenv install 3.13   or   apt-get install python3.13 python3.13-venv
or point XUEJI_PYTHON at an interpreter:  XUEJI_PYTHON=/path/to/python3.13 make run
MSG
exit 1
