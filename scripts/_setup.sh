# Shared by scripts/run and scripts/test: a virtualenv in .venv with the project installed.
# Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    echo "error: Python 3.11 or newer is needed (apt-get install python3 python3-venv)" >&2
    exit 1
}

setup_venv() {  # $1: pip extras, e.g. "dev" or ""
    local extras="${1:-}" spec="." stamp
    [ -n "$extras" ] && spec=".[$extras]"
    if [ ! -x .venv/bin/python ]; then
        echo "creating virtualenv in .venv"
        "$(find_python)" -m venv .venv
    fi
    stamp=".venv/.installed-${extras:-base}-$(sha256sum pyproject.toml | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        echo "installing the project and its dependencies ($spec)"
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
        rm -f .venv/.installed-"${extras:-base}"-*
        touch "$stamp"
    fi
}

# Debian tools some tests and commands use (espeak-ng and sox make IVR prompt audio). Installed
# when missing and this runs as root with apt-get; otherwise the tests needing them say so and skip.
ensure_system_packages() {  # $@: Debian packages, each providing a command of the same name
    local missing=() package
    for package in "$@"; do
        command -v "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing ${missing[*]} (apt-get)"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null ||
            echo "warning: could not install ${missing[*]}; tests that need them will be skipped" >&2
    else
        echo "note: ${missing[*]} not installed (apt-get install ${missing[*]}); tests that need them will be skipped" >&2
    fi
}

# Browser libraries of the consoles (SIP.js, ECharts) from the npm registry, as package-lock.json
# pins them; served from node_modules, never from a CDN. Re-installed when the lock file changes.
setup_node() {
    local stamp
    command -v npm >/dev/null 2>&1 || ensure_system_packages npm
    if ! command -v npm >/dev/null 2>&1; then
        echo "warning: npm not found (apt-get install npm): the softphone and the charts will be missing" >&2
        return 0
    fi
    stamp="node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        echo "installing the consoles' browser libraries (npm ci)"
        npm ci --no-audit --no-fund --loglevel=error >/dev/null
        touch "$stamp"
    fi
}

# Debian packages that provide no command of their own name (fonts), checked with dpkg.
ensure_debian_packages() {  # $@: Debian packages
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    ensure_system_packages "${missing[@]}"
}

install_hashed() {  # $1: a requirements file whose pins carry hashes; re-installs when the file changes
    local name stamp
    name="$(basename "$1" .txt)"
    stamp=".venv/.installed-$name-$(sha256sum "$1" | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        echo "installing $1 (hash-checked)"
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$1"
        rm -f .venv/.installed-"$name"-*
        touch "$stamp"
    fi
}
