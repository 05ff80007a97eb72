# codex-local: a plain `codex` honours local mode. Add to ~/.bashrc: eval "$(codex-local shell-init bash)"
codex() {
  command __CODEX_LOCAL__ run -- "$@"
}
