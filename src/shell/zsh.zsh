# codex-local: a plain `codex` honours local mode. Add to ~/.zshrc: eval "$(codex-local shell-init zsh)"
codex() {
  command __CODEX_LOCAL__ run -- "$@"
}
