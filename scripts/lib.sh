# Shared by the scripts: idempotent installs of what the build and the tests need.
# Tools live under $MER_TOOLS (default ~/.cache/mer/tools), outside the clone, so a second
# run on the same machine reuses them.

MER_TOOLS="${MER_TOOLS:-$HOME/.cache/mer/tools}"
export PATH="$MER_TOOLS/bin:$MER_TOOLS/npm/node_modules/.bin:$PATH"

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132

log() { printf '\n== %s\n' "$*" >&2; }

# `step NAME CMD...` runs CMD under a heading and records its wall time for `step_report`.
MER_STEPS=()
step() {
  local name=$1 start=$SECONDS
  shift
  log "$name"
  "$@"
  MER_STEPS+=("$(printf '%6d s  %s' $((SECONDS - start)) "$name")")
}

# Prints the wall time of every step so far.
step_report() {
  log "wall time per step"
  printf '%s\n' "${MER_STEPS[@]}" >&2
}

# `install_tool OPT_LEVEL ARGS...`: `cargo install` at that optimisation level, without LTO,
# in a build folder the tools share, so a bare machine spends minutes, not a quarter hour,
# on them. cargo's timings of each install stay in that folder's cargo-timings/.
install_tool() {
  local opt=$1
  shift
  CARGO_PROFILE_RELEASE_LTO=false \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt" \
    CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_TARGET_DIR="$MER_TOOLS/build" \
    cargo install --timings --root "$MER_TOOLS" "$@"
}

# The wasm-bindgen version Cargo.lock resolved (the CLI must match it exactly).
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_web_tools() {
  ensure_wasm_target
  local wb
  wb="$(wasm_bindgen_version)"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wb" ]; then
    log "installing wasm-bindgen-cli $wb (a few minutes)"
    # Only the `wasm-bindgen` binary, without the TLS stack its test runner downloads with.
    install_tool 1 wasm-bindgen-cli --version "=$wb" --no-default-features --bin wasm-bindgen
  fi
  if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
    log "installing trunk $TRUNK_VERSION (several minutes)"
    # Offline builds need neither TLS nor the update check, and trunk only orchestrates (the
    # work is cargo's and wasm-bindgen's): unoptimised.
    install_tool 0 trunk --version "$TRUNK_VERSION" --locked --no-default-features
  fi
  if [ "$(wasm-opt --version 2>/dev/null | awk '{print $3}')" != "$BINARYEN_VERSION" ]; then
    log "installing wasm-opt from npm's binaryen@$BINARYEN_VERSION"
    mkdir -p "$MER_TOOLS/npm"
    npm install --silent --no-audit --no-fund --prefix "$MER_TOOLS/npm" "binaryen@$BINARYEN_VERSION"
  fi
}

# `trunk build` offline with the pinned tools above, crates fetched first; the arguments
# choose the mode (`--release` for the published site) and where it goes.
build_site() {
  ensure_web_tools
  cargo fetch --locked
  trunk build --offline "$@"
}

# Debian packages the tests need and this machine lacks: Mesa's lavapipe (wgpu without a GPU)
# and Chromium with chromedriver (the browser test).
missing_system_packages() {
  ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || echo mesa-vulkan-drivers
  command -v chromium >/dev/null || echo chromium
  command -v chromedriver >/dev/null || echo chromium-driver
}

# The command that runs apt here ("" as root, "sudo" where it asks no password); fails,
# naming the packages, where neither can install what is missing.
apt_runner() {
  local missing
  missing="$(missing_system_packages | tr '\n' ' ')"
  [ -z "$missing" ] || [ "$(id -u)" = 0 ] && return 0
  sudo -n true 2>/dev/null || { echo "install these Debian packages first: $missing" >&2; return 1; }
  echo sudo
}

ensure_system_packages() {
  local missing sudo
  mapfile -t missing < <(missing_system_packages)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    sudo="$(apt_runner)"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # The browser test starts this Chromium.
  export CHROMIUM="${CHROMIUM:-$(command -v chromium)}"
  # wgpu's Vulkan loader wants a runtime directory.
  export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/mer-runtime-$(id -u)}"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
}
